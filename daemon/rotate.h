/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rotation of a protector key (rotate.c). */
#ifndef LKD_ROTATE_H
#define LKD_ROTATE_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "latchkey/format.h"
#include "protector.h"
struct daemon;

/*
 * ROTATE: uid's protector key P, taken as protector_open_from does (from
 * the slot of kind from opened with w_from, or the P held when from is 0),
 * is replaced by a fresh P': a new protector file with a login slot (kdf,
 * w_login) and, when escrow.pub exists, an escrow slot; every indexed
 * root's wrapped K is resealed under P' (format.h §4 for the crash-safe
 * order). A held P becomes P'. Returns 0 or -errno (outcome.h lists
 * them); *ret_why explains a failure; *ret_roots and *ret_flags (LK_ROT_F_*)
 * describe a success.
 */
int daemon_rotate(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                  const uint8_t *w_from, const struct lk_kdf_params *kdf,
                  const uint8_t w_login[LK_WRAP_KEY_SIZE], unsigned *ret_roots, uint32_t *ret_flags,
                  const char **ret_why);
/* At start-up: finish or undo rotations a crash interrupted. */
void daemon_rotation_recover(struct daemon *d);

#endif
