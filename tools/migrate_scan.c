/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Before migrate changes anything: what the tree holds (for the space
 * check and the progress bar), and who is using it. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "migrate.h"
#include "openat.h"

struct scan {
	struct migrate_totals t;
	struct migrate_inode_map seen; /* hard-linked inodes counted once */
	struct migrate_path *path;
	dev_t dev;
};

static int scan_dir(struct scan *s, int dirfd)
{
	struct migrate_names names = {};
	int r = migrate_list_dir(dirfd, &names);

	for (size_t i = 0; r == 0 && i < names.n; i++) {
		struct stat st;
		size_t saved;
		uint64_t dummy;

		r = migrate_path_push(s->path, names.v[i], &saved);
		if (r < 0)
			break;
		if (fstatat(dirfd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (st.st_dev != s->dev) {
			r = -EXDEV; /* a mount point: its files are not ours to move */
			break;
		}
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
		    migrate_inode_map_get(&s->seen, st.st_ino, &dummy)) {
			s->t.files++;
			migrate_path_pop(s->path, saved);
			continue;
		}
		if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 &&
		    (r = migrate_inode_map_put(&s->seen, st.st_ino, 1)) < 0)
			break;
		s->t.inodes++;
		s->t.alloc_bytes += (uint64_t)st.st_blocks * 512;
		if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int fd = migrate_open_dir_at(dirfd, names.v[i]);
			if (fd < 0) {
				r = fd;
				break;
			}
			s->t.dirs++;
			r = scan_dir(s, fd);
			if (r < 0)
				break;
		} else {
			s->t.files++;
			if (S_ISREG(st.st_mode))
				s->t.bytes += (uint64_t)st.st_size;
		}
		migrate_path_pop(s->path, saved);
	}
	migrate_names_free(&names);
	return r;
}

int migrate_scan_tree(int dirfd, struct migrate_totals *ret, struct migrate_path *err_path)
{
	struct scan s = {.path = err_path};
	struct stat st;
	int r;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	s.dev = st.st_dev;
	s.t.inodes = 1;
	s.t.alloc_bytes = (uint64_t)st.st_blocks * 512;
	r = scan_dir(&s, dirfd);
	migrate_inode_map_free(&s.seen);
	if (r == 0)
		*ret = s.t;
	return r;
}

/* link is dir or below it */
static bool under(const char *link, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(link, dir, n) == 0 && (link[n] == '\0' || link[n] == '/');
}

static bool link_under(int procfd, const char *name, const char *dir)
{
	char buf[4096];
	ssize_t n = readlinkat(procfd, name, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return under(buf, dir);
}

static void describe(int pidfd, const char *pid, const char *what, char *buf, size_t size)
{
	char comm[64] = "?";
	_cleanup_close_ int fd = openat(pidfd, "comm", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;

	if (n > 0) {
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
	}
	snprintf(buf, size, "process %s (%s) %s", pid, comm, what);
}

static int scan_process(int pidfd, const char *pid, const char *dir, uid_t uid, char *buf, size_t size)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	int found = 0;

	if (fstatat(pidfd, "", &st, AT_EMPTY_PATH) == 0 && st.st_uid == uid) {
		describe(pidfd, pid, "runs as the user: log the user out first", buf, size);
		return 1;
	}
	if (link_under(pidfd, "cwd", dir) || link_under(pidfd, "root", dir)) {
		describe(pidfd, pid, "has its working directory there", buf, size);
		return 1;
	}
	if (lk_opendir_at(pidfd, "fd", 0, &d) < 0)
		return 0;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (link_under(dirfd(d), de->d_name, dir)) {
			describe(pidfd, pid, "has a file there open", buf, size);
			found = 1;
		}
	}
	return found;
}

int migrate_find_users(const char *dir, uid_t uid, char *buf, size_t size)
{
	char self[16];
	struct dirent *de;
	_cleanup_(closedirp) DIR *proc = opendir("/proc");
	int found = 0;

	if (!proc)
		return -errno;
	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (!found && (de = readdir(proc))) {
		_cleanup_close_ int pidfd = -1;
		if (!isdigit((unsigned char)de->d_name[0]) || strcmp(de->d_name, self) == 0)
			continue;
		pidfd = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfd < 0)
			continue; /* it exited */
		found = scan_process(pidfd, de->d_name, dir, uid, buf, size);
	}
	return found;
}
