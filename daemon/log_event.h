/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Daemon events for the journal: each has a MESSAGE_ID, explained with its
 * fix in contrib/catalog/latchkey.catalog (journalctl -x shows it), and the
 * fields USER_ID (the uid), LATCHKEY_KEY_ID and LATCHKEY_DIRECTORY where
 * known. Off the journal an event is a plain log line.
 */
#ifndef LKD_LOG_EVENT_H
#define LKD_LOG_EVENT_H

#include <sys/types.h>

#define LK_MSG_UNLOCKED         "a95013cf81f64831914d79a891ee72ee"
#define LK_MSG_LOCKED           "f6cd0bb708af4d108aa434e9d5bc4e9d"
#define LK_MSG_LOCK_INCOMPLETE  "5bca2271edb347bcbc05d5476afaedb5"
#define LK_MSG_LOCK_RETRIED     "c43b43c9d7314bb6900c30e8c9528f47"
#define LK_MSG_PASSPHRASE_WRONG "57fe8761f9834b588e97fba4bac749cb"
#define LK_MSG_THROTTLED        "d3d040d1bfa44a47be936681fa2e52f4"
#define LK_MSG_REWRAPPED        "f760efb7564649e7bb8e353bf7d8c9a0"
#define LK_MSG_PROVISIONED      "016d898b510d43d09ef903a42bf19f5a"
#define LK_MSG_CACHE_REFUSED    "381bf279da2644dd892b93f2d8f50231"
#define LK_MSG_CONFIG_REFUSED   "ad0a1cca67b0485a8276825160f5c05e"

#define LK_NO_UID ((uid_t)-1)

/* level: LOG_*; uid LK_NO_UID, key_id and dir NULL for fields not known. */
void log_event(int level, const char *message_id, uid_t uid, const char *key_id, const char *dir,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
