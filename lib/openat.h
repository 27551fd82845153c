/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening what an administrator or a user names without following symlinks,
 * and directory streams over descriptors with clear ownership. */
#ifndef LK_OPENAT_H
#define LK_OPENAT_H

#include <dirent.h>

/*
 * Open path (absolute, or relative to dirfd) refusing a symlink or a magic
 * link in any component: openat2 with RESOLVE_NO_SYMLINKS and
 * RESOLVE_NO_MAGICLINKS. flags are open(2)'s (O_NOFOLLOW and O_CLOEXEC are
 * added; O_CREAT is refused, as there is no mode). Where openat2 answers
 * ENOSYS (systemd's RestrictSUIDSGID=, older seccomp filters) the same walk
 * is done one component at a time with O_NOFOLLOW. 0 and *ret_fd, or
 * -errno: -ELOOP for a symlink on the way, the last component included.
 */
int lk_open_nofollow(int dirfd, const char *path, int flags, int *ret_fd);

/*
 * The directory entry name (one component: no '/', not "." or "..") of
 * dirfd, opened as a directory with O_RDONLY|O_DIRECTORY|O_NOFOLLOW|
 * O_CLOEXEC|flags, refused if it is a symlink (magic or not) or the root
 * of another mount: openat2 with RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS,
 * RESOLVE_NO_MAGICLINKS and RESOLVE_NO_XDEV, or without openat2 (ENOSYS)
 * openat with O_NOFOLLOW and a mount-id check. 0 and *ret_fd, or -errno:
 * -ELOOP for a symlink, -EXDEV for a mount point.
 */
int lk_open_subdir(int dirfd, const char *name, int flags, int *ret_fd);

/*
 * A directory stream over name under dirfd (name "." for dirfd itself):
 * a fresh descriptor opened with O_RDONLY|O_DIRECTORY|O_CLOEXEC|flags, so
 * dirfd stays the caller's. 0 and *ret (closedir it), or -errno.
 */
int lk_opendir_at(int dirfd, const char *name, int flags, DIR **ret);

/*
 * fdopendir on *fd, moving it: on success the stream owns the descriptor
 * and *fd is -1; on failure *fd is still the caller's to close.
 */
int lk_fdopendir_take(int *fd, DIR **ret);

#endif
