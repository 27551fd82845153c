/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rotation of a protector key (rotate.c). */
#ifndef LKD_ROTATE_H
#define LKD_ROTATE_H

#include <stdint.h>

#include "latchkey/format.h"
#include "protector.h"
struct daemon;
struct user;

/*
 * Rotate uid's protector key: pr (opened with p_old) becomes a new file with
 * a fresh P', a login slot (kdf, w_login) and, when escrow.pub exists, an
 * escrow slot; every indexed root's wrapped K is resealed under P' (format.h
 * §4 for the crash-safe order). u->p (if held) becomes P'. Returns 0 or
 * -errno; *ret_why explains a failure; *ret_roots and *ret_flags
 * (LK_ROT_F_*) describe a success.
 */
int daemon_rotate(struct daemon *d, struct user *u, const struct lk_protector *pr,
                  const uint8_t p_old[LK_PROTECTOR_KEY_SIZE], const struct lk_kdf_params *kdf,
                  const uint8_t w_login[LK_WRAP_KEY_SIZE], unsigned *ret_roots, uint32_t *ret_flags,
                  const char **ret_why);
/* At start-up: finish or undo rotations a crash interrupted. */
void daemon_rotation_recover(struct daemon *d);

#endif
