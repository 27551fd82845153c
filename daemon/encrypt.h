/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ENCRYPT request's work (encrypt.c). */
#ifndef LKD_ENCRYPT_H
#define LKD_ENCRYPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "latchkey/format.h"
struct daemon;

/*
 * Encrypt the empty directory path for uid (v1: with a legacy v1 policy)
 * under a new key, wrapped with uid's P, and add it to uid's index. P comes
 * from the login slot opened with w, or, when w is NULL, is the one held
 * for the user. peer and charge_uid as for protector_unwrap. The directory
 * is left unlocked and P held. Returns 0 and *ret_key_id, or -errno
 * (outcome.h lists them); *ret_why a static text for the client.
 */
int daemon_encrypt_root(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid,
                        const char *path, bool v1, const uint8_t *w, uint8_t ret_key_id[LK_KEY_ID_SIZE],
                        const char **ret_why);

#endif
