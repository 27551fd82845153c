/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "openat.h"

/* A failed O_NOFOLLOW open of name: -ELOOP when it is a symlink (under
 * O_DIRECTORY the kernel may say ENOTDIR there), else -err. */
static int nofollow_error(int at, const char *name, int err)
{
	struct stat st;

	if ((err == ENOTDIR || err == ELOOP) && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -err;
}

/* O_PATH|O_NOFOLLOW opens a symlink as the last component rather than
 * failing, with openat2 too: refuse it here. Takes fd. */
static int refuse_symlink(int fd)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* The walk without openat2: every component but the last as an O_PATH
 * directory, each with O_NOFOLLOW (which refuses magic links too: they
 * are symlinks), then the last with the caller's flags. */
static int open_by_component(int dirfd, const char *path, int flags)
{
	_cleanup_close_ int dir = -1;
	char name[NAME_MAX + 1];
	const char *p = path;
	int at = dirfd, fd;

	if (path[0] == '/') {
		dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return -errno;
		at = dir;
	}
	for (;;) {
		size_t n;
		int next;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0) {
			/* "/" or a trailing slash: the directory reached. */
			fd = openat(at, ".", flags | O_DIRECTORY);
			return fd < 0 ? -errno : fd;
		}
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		if (p[strspn(p, "/")] == '\0')
			break;
		next = openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return nofollow_error(at, name, errno);
		dir = safe_close(dir);
		dir = at = next;
	}
	/* A trailing slash asks for a directory, as it does of open(2). */
	fd = openat(at, name, flags | (*p ? O_DIRECTORY : 0));
	if (fd < 0)
		return nofollow_error(at, name, errno);
	return fd;
}

int lk_open_nofollow(int dirfd, const char *path, int flags, int *ret_fd)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!path || !path[0] || !ret_fd || (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = open_by_component(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC);
	else if (fd < 0)
		fd = nofollow_error(dirfd, path, errno);
	if (fd >= 0 && (flags & O_PATH))
		fd = refuse_symlink(fd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* Whether a and b are on the same mount: statx's mount ids where the
 * kernel gives them (a bind mount of the same filesystem has the same
 * st_dev), else the devices. 1, 0 or -errno. */
static int same_mount(int a, int b)
{
	struct statx sa, sb;

	if (statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) < 0 ||
	    statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &sb) < 0)
		return -errno;
	if (sa.stx_mask & sb.stx_mask & STATX_MNT_ID)
		return sa.stx_mnt_id == sb.stx_mnt_id;
	return sa.stx_dev_major == sb.stx_dev_major && sa.stx_dev_minor == sb.stx_dev_minor;
}

int lk_open_subdir(int dirfd, const char *name, int flags, int *ret_fd)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	_cleanup_close_ int fd = -1;
	int r;

	if (!name || !ret_fd || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || (flags & (O_CREAT | O_ACCMODE | O_PATH)))
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd >= 0) {
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	if (errno != ENOSYS)
		return nofollow_error(dirfd, name, errno);
	/* One component cannot climb out, and O_NOFOLLOW refuses a symlink
	 * (magic links are symlinks): what remains is the mount check. */
	fd = openat(dirfd, name, (int)how.flags);
	if (fd < 0)
		return nofollow_error(dirfd, name, errno);
	r = same_mount(dirfd, fd);
	if (r < 0)
		return r;
	if (r == 0)
		return -EXDEV;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int lk_fdopendir_take(int *fd, DIR **ret)
{
	DIR *d;

	if (!fd || *fd < 0 || !ret)
		return -EINVAL;
	d = fdopendir(*fd);
	if (!d)
		return -errno;
	*fd = -1;
	*ret = d;
	return 0;
}

int lk_opendir_at(int dirfd, const char *name, int flags, DIR **ret)
{
	_cleanup_close_ int fd = -1;

	if (!name || !ret)
		return -EINVAL;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	return lk_fdopendir_take(&fd, ret);
}
