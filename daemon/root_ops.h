/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unlock, lock and status of one index entry, by its identity where it has
 * one (see root_id.h), else by its path as version 1 indexes did. */
#ifndef LKD_ROOT_OPS_H
#define LKD_ROOT_OPS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/format.h"
#include "root_index.h"

struct root_async;

/* lk_index_put, with the identity (filesystem, file handle) of the directory
 * now at path recorded too, so that a rename before the next login loses
 * nothing. Returns the entry's position or -errno. */
int root_index_put(struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path);

/* Open e's directory: by its handle (wherever it is now), else by its path.
 * -ESTALE when it is gone. */
int root_open_entry(const struct lk_index_entry *e, int *ret_fd);

/* Unlock e with P: opened by its handle (wherever it is now), else by its
 * path. -ESTALE when the directory is gone (nothing logged: the index
 * refresh reported it). With a, a v1 key's keyring child is watched in the
 * event loop and 1 means a->done reports the outcome. */
int root_unlock_entry(uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_index_entry *e,
                      const struct root_async *a);

/*
 * Lock e. A v2 key is removed by its identifier on the mount root of the
 * recorded filesystem: no path is needed, so a renamed, moved or deleted
 * root locks too. *ret_busy as root_lock; *ret_was_locked when the
 * key was not in the kernel (v2 only; v1 cannot tell).
 */
int root_lock_entry(uid_t uid, const struct lk_index_entry *e, bool *ret_busy, bool *ret_was_locked);

/* enum lk_key_state of e; LK_KEY_GONE for a root marked gone. */
void root_status_entry(uid_t uid, const struct lk_index_entry *e, uint32_t *ret_state);

#endif
