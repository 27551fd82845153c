/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-user index of encrypted roots. Format in include/latchkey/format.h. */
#ifndef LK_ROOT_INDEX_H
#define LK_ROOT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

/*
 * Which filesystem and which directory an entry is, independent of its
 * path: the filesystem's UUID (when the kernel reports one) and device
 * number at the last sighting, and a file handle (name_to_handle_at).
 * has_handle is false for entries read from a version 1 index until the
 * daemon fills it in.
 */
struct lk_root_identity {
	bool has_uuid;
	uint8_t uuid[LK_FS_UUID_SIZE];
	uint32_t dev_major, dev_minor;
	bool has_handle;
	int32_t handle_type;
	uint8_t handle_len; /* 1..LK_HANDLE_MAX */
	uint8_t handle[LK_HANDLE_MAX];
};

struct lk_index_entry {
	uint8_t key_id[LK_KEY_ID_SIZE];
	struct lk_root_identity id;
	bool gone;                  /* the directory was found deleted (reported once) */
	char path[LK_PATH_MAX + 1]; /* where it was last seen: a hint */
};

struct lk_index {
	unsigned version;                 /* as parsed: 1 or 2; serialising always writes 2 */
	char account[LK_ACCOUNT_MAX + 1]; /* the account name the uid had; "" if unknown */
	unsigned n;
	struct lk_index_entry e[LK_MAX_INDEX_ENTRIES];
};

/* Only the header and account line (what every request checks): account
 * gets the recorded name, "" if none. -EBADMSG as lk_index_parse would for
 * those lines; the entries are not looked at. */
int lk_index_parse_account(const char *buf, size_t len, char account[LK_ACCOUNT_MAX + 1]);
/* Strict parse of version 1 or 2; -EBADMSG on any malformed line. */
int lk_index_parse(const char *buf, size_t len, struct lk_index *ret);
/* Serialise as version 2; returns a malloc()ed string in *ret (NUL-terminated), length in *ret_len. */
int lk_index_serialize(const struct lk_index *ix, char **ret, size_t *ret_len);
/* Add or replace the entry for path (a replaced entry loses its identity and
 * gone mark unless the key stays the same). -ENOSPC when full, -EINVAL for a
 * bad path. Returns the entry's position. */
int lk_index_put(struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path);
/* Remove the entry for path; -ENOENT if absent. */
int lk_index_remove(struct lk_index *ix, const char *path);
/* Position of the entry with this key identifier, or -ENOENT. */
int lk_index_find_key(const struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE]);
/* 0 if a path we store: absolute, <= LK_PATH_MAX, no control characters, no "//",
 * no "." or ".." components, no trailing slash (except "/").
 * Returns 0 if valid, -EINVAL if not (negative-errno style, not a bool). */
int lk_path_is_valid(const char *path);
/* 0 if an account name we record: 1..LK_ACCOUNT_MAX bytes, no control
 * characters, spaces or ':', not starting with '-'. -EINVAL if not. */
int lk_account_is_valid(const char *name);

#endif
