/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate's requests to latchkeyd. Each returns 0, or an exit code after
 * printing why. */
#ifndef LK_CTL_MIGRATE_DAEMON_H
#define LK_CTL_MIGRATE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/protocol.h"

struct ctl;

/* ENCRYPT the empty directory path for uid; the passphrase is asked for
 * (or read from stdin) only if latchkeyd does not hold uid's key. */
int migrate_daemon_encrypt(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                           bool from_stdin, const char *path, uint8_t ret_key_id[LK_KEY_ID_SIZE]);
/* UNLOCK uid's directories with the passphrase. */
int migrate_daemon_unlock(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                          bool from_stdin);
/* LOCK uid's directories. */
int migrate_daemon_lock(const struct ctl *ctl, const char *op, uid_t uid);
/* RELOCATE (flags LK_RLF_*). */
int migrate_daemon_relocate(const struct ctl *ctl, const char *op, uid_t uid,
                            const uint8_t key_id[LK_KEY_ID_SIZE], const char *path, uint32_t flags);

#endif
