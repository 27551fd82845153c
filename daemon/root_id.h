/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A encrypted root's identity, independent of its path: the filesystem (UUID,
 * and the device number at the last sighting) and a file handle. A root
 * that was renamed or moved is found by its handle; a lock needs only the
 * filesystem, since the key is removed by its identifier through the
 * filesystem's mount root (never an fd inside the encrypted tree, which
 * would pin one of its inodes). Other parts of the daemon that move roots
 * on purpose (a RENAME_EXCHANGE keeps the inode, so the handle stays
 * valid) call root_id_refresh_index to record where the root is now.
 */
#ifndef LKD_ROOT_ID_H
#define LKD_ROOT_ID_H

#include <stdbool.h>
#include <sys/types.h>

#include "root_index.h"

/* Record the identity of the directory fd: filesystem UUID (when the kernel
 * reports one), device number, and file handle. */
int root_id_fill(int fd, struct lk_root_identity *ret);

/* Whether any identity is recorded (an entry of a version 1 index has none
 * until root_id_refresh_index fills it in). */
bool root_id_known(const struct lk_root_identity *id);

/* An fd (O_RDONLY directory) on the mount root of the recorded filesystem,
 * found in /proc/self/mountinfo by device number, else by UUID.
 * -ENODEV when it is not mounted. */
int root_id_open_fs(const struct lk_root_identity *id, int *ret_fd);

/*
 * Open the root by its handle; the hint path (optional) is tried first and
 * taken when the directory there has the recorded handle. 0 with *ret_fd (the directory) and path (its
 * current absolute path, checked by opening it again without symlinks; ""
 * when it cannot be named). -ESTALE when the directory was deleted, -ENODEV
 * when its filesystem is not mounted, -ENOENT when no handle is recorded.
 */
int root_id_open(const struct lk_root_identity *id, const char *hint, int *ret_fd,
                 char path[LK_PATH_MAX + 1]);

/*
 * Bring uid's index up to date with the filesystem: each root with a handle
 * is looked up by it, its path hint refreshed when it moved and its "gone"
 * mark set when it was deleted (logged once, with the command that forgets
 * it); a root without identity gets one from its path, if the directory
 * there has the recorded key. *ret_changed says whether ix must be saved.
 */
void root_id_refresh_index(uid_t uid, struct lk_index *ix, bool *ret_changed);

#endif
