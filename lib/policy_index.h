/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-user index of policy roots. Format in include/latchkey/format.h. */
#ifndef LK_POLICY_INDEX_H
#define LK_POLICY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

struct lk_index_entry {
	uint8_t key_id[LK_KEY_ID_SIZE];
	char path[LK_PATH_MAX + 1];
};

struct lk_index {
	unsigned n;
	struct lk_index_entry e[LK_MAX_INDEX_ENTRIES];
};

/* Strict parse; -EBADMSG on any malformed line. */
int lk_index_parse(const char *buf, size_t len, struct lk_index *ret);
/* Serialise; returns a malloc()ed string in *ret (NUL-terminated), length in *ret_len. */
int lk_index_serialize(const struct lk_index *ix, char **ret, size_t *ret_len);
/* Add or replace the entry for path. -ENOSPC when full, -EINVAL for a bad path. */
int lk_index_put(struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path);
/* Remove the entry for path; -ENOENT if absent. */
int lk_index_remove(struct lk_index *ix, const char *path);
/* 0 if a path we store: absolute, <= LK_PATH_MAX, no control characters, no "//",
 * no "." or ".." components, no trailing slash (except "/").
 * Returns 0 if valid, -EINVAL if not (negative-errno style, not a bool). */
int lk_path_is_valid(const char *path);

#endif
