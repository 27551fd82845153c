/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RELOCATE: a encrypted root moved (latchkeyctl migrate swaps the encrypted
 * copy into the original's place with RENAME_EXCHANGE, so the directory
 * keeps its inode under a new path) or was removed (latchkeyctl decrypt).
 * The index is only a hint where to look, but lock, unlock and status
 * follow it, so it must name the new path. The directory itself is the
 * truth: its policy and uid's wrapped key are checked before the index
 * changes.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "crypto.h"
#include "daemon.h"
#include "relocate.h"
#include "log.h"
#include "root.h"
#include "root_ops.h"
#include "wrapped_key.h"

static int find_entry(const struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	for (unsigned i = 0; i < ix->n; i++)
		if (memcmp(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE) == 0)
			return (int)i;
	return -ENOENT;
}

/* 0 if the directory at path is uid's root with key_id, or -errno. */
static int check_root_at(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], const char **why)
{
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy pol;
	uint8_t blob[LK_WRAPPED_KEY_SIZE];
	int r;

	r = root_open(path, &fd);
	if (r < 0) {
		*why = r == -ELOOP ? "the path contains a symbolic link" : "cannot open the directory";
		return r;
	}
	r = lk_fscrypt_get_policy(fd, &pol);
	if (r < 0 || memcmp(pol.key_id, key_id, LK_KEY_ID_SIZE) != 0) {
		*why = "the directory does not carry that key's policy";
		return r < 0 ? r : -EINVAL;
	}
	r = root_read_wrapped_key(fd, uid, blob);
	if (r < 0) {
		*why = "the directory has no wrapped key for this user";
		return r;
	}
	return 0;
}

/* The root is gone from path: its key leaves the kernel, named through an
 * fd of path's parent (the same filesystem). */
static int forget_root(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], const char **why)
{
	_cleanup_close_ int fd = -1, parent = -1;
	_cleanup_free_ char *dir = strdup(path);
	struct lk_fscrypt_policy pol;
	bool busy = false, others = false;
	char *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	r = root_open(path, &fd);
	if (r == 0 && lk_fscrypt_get_policy(fd, &pol) == 0 &&
	    memcmp(pol.key_id, key_id, LK_KEY_ID_SIZE) == 0) {
		*why = "the directory still carries that key's policy";
		return -EEXIST;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	r = root_open(dir, &parent);
	if (r < 0) {
		*why = "cannot open the parent directory";
		return r;
	}
	if (lk_key_id_is_v1(key_id))
		return 0; /* a v1 key sits in uid's keyring and goes at the next lock */
	r = lk_fscrypt_remove_key(parent, key_id, true, &busy, &others);
	if (r < 0 && r != -ENOKEY) {
		*why = "cannot remove the key from the kernel";
		return r;
	}
	if (busy)
		log_warning("decrypt: key of uid %u still busy after its root %s was removed", (unsigned)uid,
		            path);
	return 0;
}

int daemon_relocate_root(struct daemon *d, uid_t uid, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path,
                         uint32_t flags, const char **why)
{
	struct lk_index ix;
	char hex[2 * LK_KEY_ID_SIZE + 1];
	char old[LK_PATH_MAX + 1];
	int i, r;

	*why = NULL;
	if (flags & ~LK_RLF_FORGET) {
		*why = "unknown relocate flags";
		return -EINVAL;
	}
	if (lk_path_is_valid(path) < 0) {
		*why = "path must be absolute and normalised, without control characters";
		return -EINVAL;
	}
	lk_hex(key_id, LK_KEY_ID_SIZE, hex);
	r = store_load_index(&d->store, uid, &ix);
	if (r < 0) {
		*why = "cannot read the root index";
		return -EIO;
	}
	i = find_entry(&ix, key_id);
	if (i < 0) {
		*why = "this user has no root with that key";
		return -ENOENT;
	}
	snprintf(old, sizeof(old), "%s", ix.e[i].path);

	r = (flags & LK_RLF_FORGET) ? forget_root(uid, path, key_id, why)
	                            : check_root_at(uid, path, key_id, why);
	if (r < 0) {
		log_error_errno(r, "relocate: key %s of uid %u at %s: %s", hex, (unsigned)uid, path, *why);
		return r == -EEXIST ? -EEXIST : -EINVAL;
	}

	(void)lk_index_remove(&ix, old);
	if (!(flags & LK_RLF_FORGET)) {
		(void)lk_index_remove(&ix, path); /* a stale entry for the place it moved to */
		r = root_index_put(&ix, key_id, path);
		if (r < 0) {
			*why = "cannot record the new path";
			return -EINVAL;
		}
	}
	r = store_save_index(&d->store, uid, &ix);
	if (r < 0) {
		*why = "cannot save the root index";
		log_error_errno(r, "relocate: cannot save the index of uid %u", (unsigned)uid);
		return -EIO;
	}
	if (flags & LK_RLF_FORGET)
		log_info("root %s of uid %u with key %s removed from the index", old, (unsigned)uid, hex);
	else
		log_info("root of uid %u with key %s moved from %s to %s", (unsigned)uid, hex, old, path);
	return 0;
}
