/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ancestors.h"
#include "cleanup.h"
#include "latchkey/protocol.h"

static int check_one(int fd, const char *dir, const char *path, char *why, size_t why_size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0) {
		snprintf(why, why_size,
		         "%s, an ancestor of %s, is owned by uid %u, who could rename %s away: "
		         "chown root %s, or choose a root under root's directories only",
		         dir, path, (unsigned)st.st_uid, path, dir);
		return 1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(why, why_size,
		         "%s, an ancestor of %s, is writable by group or others (mode %04o), so a user could "
		         "rename %s away: chmod go-w %s (or chmod +t %s)",
		         dir, path, (unsigned)(st.st_mode & 07777), path, dir, dir);
		return 1;
	}
	return 0;
}

int lk_ancestors_check(const char *path, char *why, size_t why_size)
{
	_cleanup_close_ int fd = -1;
	char dir[LK_PATH_MAX + 1] = "/";
	const char *p = path, *slash;
	int r;

	if (path[0] != '/' || strlen(path) > LK_PATH_MAX)
		return -EINVAL;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		r = check_one(fd, dir, path, why, why_size);
		if (r != 0)
			return r;
		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		if (!slash)
			return 0; /* the last component is the root itself, checked by the caller */
		size_t n = (size_t)(slash - p);
		char comp[LK_PATH_MAX + 1];
		memcpy(comp, p, n);
		comp[n] = '\0';
		/* path is normalised: the ancestor's name is its prefix */
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		int next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return errno == ENOTDIR ? -ELOOP : -errno;
		close(fd);
		fd = next;
		p = slash;
	}
}
