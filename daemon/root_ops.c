/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "log.h"
#include "log_event.h"
#include "root.h"
#include "root_id.h"
#include "root_ops.h"
#include "wrapped_key.h"

int root_index_put(struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path)
{
	_cleanup_close_ int fd = -1;
	int i = lk_index_put(ix, key_id, path);

	if (i >= 0 && root_open(path, &fd) == 0)
		(void)root_id_fill(fd, &ix->e[i].id);
	return i;
}

int root_open_entry(const struct lk_index_entry *e, int *ret_fd)
{
	char path[LK_PATH_MAX + 1];

	if (e->gone)
		return -ESTALE;
	if (!e->id.has_handle)
		return root_open(e->path, ret_fd);
	return root_id_open(&e->id, e->path, ret_fd, path);
}

int root_unlock_entry(uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_index_entry *e,
                      const struct root_async *a)
{
	_cleanup_close_ int fd = -1;
	char path[LK_PATH_MAX + 1];
	int r;

	if (e->gone)
		return -ESTALE;
	if (!e->id.has_handle)
		return root_unlock_async(a, uid, p, e->path, e->key_id);
	r = root_id_open(&e->id, e->path, &fd, path);
	if (r == -ESTALE)
		return r;
	if (r < 0)
		return log_error_errno(r, "cannot find encrypted root %s by its handle: %s", e->path,
		                       r == -ENODEV ? "its filesystem is not mounted" : strerror(-r));
	return root_unlock_fd_async(a, fd, uid, p, path[0] ? path : e->path, e->key_id);
}

/* The path to use for what only works by path (v1 roots): where the handle
 * finds the root now, else the hint. */
static void best_path(const struct lk_index_entry *e, char path[LK_PATH_MAX + 1])
{
	_cleanup_close_ int fd = -1;

	if (e->id.has_handle && root_id_open(&e->id, e->path, &fd, path) == 0 && path[0])
		return;
	strcpy(path, e->path);
}

int root_lock_entry(uid_t uid, const struct lk_index_entry *e, bool *ret_busy, bool *ret_was_locked)
{
	_cleanup_close_ int fd = -1;
	char path[LK_PATH_MAX + 1], hex[2 * LK_KEY_ID_SIZE + 1];
	bool busy = false;
	int r;

	*ret_busy = false;
	*ret_was_locked = false;
	if (lk_key_id_is_v1(e->key_id) || !root_id_known(&e->id)) {
		best_path(e, path);
		return root_lock(uid, path, e->key_id, ret_busy);
	}
	lk_hex(e->key_id, LK_KEY_ID_SIZE, hex);
	r = root_id_open_fs(&e->id, &fd);
	if (r == -ENODEV) {
		/* Keys live in the filesystem's keyring, which an unmount
		 * took away with it. */
		*ret_was_locked = true;
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot open the filesystem of %s to lock it", e->path);
	r = lk_fscrypt_remove_key(fd, e->key_id, true, &busy, NULL);
	if (r == -ENOKEY) {
		*ret_was_locked = true;
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot remove key %s of %s: %s", hex, e->path,
		                       lk_fscrypt_strerror(-r, "remove key"));
	if (busy)
		log_event(LOG_WARNING, LK_MSG_LOCK_INCOMPLETE, uid, hex, e->path,
		          "%s incompletely locked: files are still in use; will retry", e->path);
	else
		log_event(LOG_INFO, LK_MSG_LOCKED, uid, hex, e->path, "locked %s (key %s)%s", e->path, hex,
		          e->gone ? ", which no longer exists" : "");
	*ret_busy = busy;
	return 0;
}

void root_status_entry(uid_t uid, const struct lk_index_entry *e, uint32_t *ret_state)
{
	_cleanup_close_ int fd = -1;
	char path[LK_PATH_MAX + 1];
	uint32_t users;

	if (e->gone) {
		*ret_state = LK_KEY_GONE;
		return;
	}
	if (lk_key_id_is_v1(e->key_id) || !root_id_known(&e->id)) {
		best_path(e, path);
		root_status(uid, path, e->key_id, ret_state);
		return;
	}
	if (root_id_open_fs(&e->id, &fd) < 0) {
		*ret_state = LK_KEY_UNAVAILABLE;
		return;
	}
	if (lk_fscrypt_key_status(fd, e->key_id, ret_state, &users) < 0)
		*ret_state = LK_KEY_UNKNOWN;
}
