/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-user directories of shared caches: <encrypted root>/<subdir for the
 * user>, created by the daemon itself, encrypted with a key of the user's
 * own, and unlocked at login. Everything below the root works on fds; an
 * entry that is not exactly what the daemon would have made is refused,
 * logged, and left untouched. */
#ifndef LKD_PROVISION_H
#define LKD_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/format.h"
#include "config/config.h"
#include "root_index.h"

struct store;

enum provision_outcome {
	PROVISION_REFUSED,  /* refused or failed: the return value says why */
	PROVISION_CREATED,  /* made, encrypted, handed to the user, unlocked */
	PROVISION_UNLOCKED, /* existed and is ours: its key was added now */
	PROVISION_PRESENT,  /* existed and is ours: its key was already in the kernel */
};

/* "<root>/<subdir expanded for user and uid>", a path lk_path_is_valid()
 * accepts; -EINVAL or -ENAMETOOLONG otherwise. */
int provision_path(const struct lk_cache_policy *pol, const char *user, uid_t uid, char *out, size_t size);

struct provision_result {
	enum provision_outcome outcome;
	bool recorded; /* the index got (key_id, path): save it, or lock the key */
	uint8_t key_id[LK_KEY_ID_SIZE];
	char path[LK_PATH_MAX + 1];
};

/*
 * Ensure pol's directory for the user exists, is the user's encrypted
 * cache directory, is unlocked, and is in ix, the user's index (so that
 * STATUS and LOCK cover it): the caller saves ix once after all policies
 * and, if that fails, locks what got recorded. gid is the user's primary
 * group. Every outcome and every refusal is logged once, with uid, policy
 * name and path. Returns 0 and *ret, or -errno: refused or failed, with
 * nothing of ours left behind (no temporary directory, no key in the
 * kernel).
 */
int provision_policy(struct lk_index *ix, const struct lk_cache_policy *pol, uid_t uid, gid_t gid,
                     const char *user, const uint8_t p[LK_PROTECTOR_KEY_SIZE], struct provision_result *ret);

/* After PROVISION_CREATED, once the index is saved: fsync pol's root, which
 * makes the rename durable. (Done after the index write, whose own fsyncs
 * usually commit the rename already, so this one costs little.) */
void provision_sync_root(const struct lk_cache_policy *pol);

/*
 * The provisioning of a login: every cache policy of c for the user (uid,
 * name user, primary group gid; user NULL if missing from the user
 * database), recorded in ix, the user's index as the caller loaded it, and
 * ix saved to s once for all of them (if that fails, what got recorded is
 * locked again). Counts what was made or unlocked now and what was refused.
 */
void provision_user(const struct lk_config *c, struct store *s, struct lk_index *ix, uid_t uid,
                    const char *user, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], unsigned *ret_done,
                    unsigned *ret_failed);

/* The cache policy of c whose directory for the user is path, or NULL
 * (always NULL for user NULL or ""). */
const struct lk_cache_policy *cache_policy_for_path(const struct lk_config *c, const char *user, uid_t uid,
                                                    const char *path);

/* Remove temporary directories that a crash between mkdir and rename left
 * in pol's root (and their keys). Returns how many, or -errno. */
int provision_sweep(const struct lk_cache_policy *pol);

#endif
