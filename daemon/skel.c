/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The skeleton of a new home, copied by root into the home after its key
 * is set, so the skeleton is encrypted too. Every open is relative to a
 * directory fd with O_NOFOLLOW: a symlink in the skeleton (or planted in
 * the new home) is never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "home_create.h"
#include "log.h"
#include "openat.h"

#define SKEL_DEPTH_MAX 16

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, uid_t uid, gid_t gid)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[65536];
	ssize_t n;
	int r;

	if (in < 0)
		return -errno;
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		r = lk_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	if (n < 0)
		return -errno;
	if (fchown(out, uid, gid) < 0 || fchmod(out, st->st_mode & 0777) < 0)
		return -errno;
	return 0;
}

static int copy_dir(int sdir, int ddir, uid_t uid, gid_t gid, unsigned depth);

static int copy_entry(int sdir, int ddir, const char *name, uid_t uid, gid_t gid, unsigned depth)
{
	struct stat st;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return copy_file(sdir, ddir, name, &st, uid, gid);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0 ||
		    fchownat(ddir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int s = -1, d = -1;
		int r;
		if (depth >= SKEL_DEPTH_MAX)
			return -ELOOP;
		if (mkdirat(ddir, name, 0700) < 0)
			return -errno;
		s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return -errno;
		r = copy_dir(s, d, uid, gid, depth + 1);
		if (r < 0)
			return r;
		if (fchown(d, uid, gid) < 0 || fchmod(d, st.st_mode & 0777) < 0)
			return -errno;
		return 0;
	}
	log_info("skeleton: skipping %s, which is not a file, directory or symlink", name);
	return 0;
}

static int copy_dir(int sdir, int ddir, uid_t uid, gid_t gid, unsigned depth)
{
	_cleanup_(closedirp) DIR *dir = NULL;
	struct dirent *de;
	int r;

	r = lk_opendir_at(sdir, ".", 0, &dir);
	if (r < 0)
		return r;
	while (r == 0 && (errno = 0, de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = copy_entry(sdir, ddir, de->d_name, uid, gid, depth);
		if (r < 0)
			log_error_errno(r, "skeleton: cannot copy %s", de->d_name);
	}
	if (r == 0 && errno)
		r = -errno;
	return r;
}

int skel_copy(const char *skel, int dst_fd, uid_t uid, gid_t gid)
{
	_cleanup_close_ int s = open(skel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (s < 0)
		return errno == ENOENT ? 0 : -errno; /* no skeleton: an empty home */
	return copy_dir(s, dst_fd, uid, gid, 0);
}
