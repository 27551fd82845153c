/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One entry's metadata onto its copy: owner, extended attributes (ACLs are
 * system.posix_acl_* xattrs), mode, then times, in that order because
 * chown clears set-id bits and security.capability, and setting an ACL
 * rewrites the group bits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "migrate.h"

#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX      65536

bool migrate_xattr_skipped(const char *name)
{
	/* latchkey's wrapped keys belong to the directory they were made for. */
	return strncmp(name, "trusted.latchkey.", strlen("trusted.latchkey.")) == 0;
}

/* The /proc/self/fd path of dir/name, for the l*xattr calls on entries
 * that cannot be opened (symlinks, FIFOs, sockets, devices). */
static void proc_path(int dir, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d/%s", dir, name);
}

static ssize_t list_xattrs(int fd, const char *path, char *buf, size_t size)
{
	ssize_t n = fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(path, buf, size);
	return n < 0 ? -errno : n;
}

static ssize_t get_xattr(int fd, const char *path, const char *name, void *buf, size_t size)
{
	ssize_t n = fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(path, name, buf, size);
	return n < 0 ? -errno : n;
}

int migrate_read_xattrs(int fd, int dir, const char *name, struct migrate_xattrs *ret)
{
	char path[PATH_MAX];
	struct migrate_xattrs x = {};
	ssize_t n;

	proc_path(dir, name, path, sizeof(path));
	x.names = malloc(XATTR_LIST_MAX_BYTES);
	if (!x.names)
		return -ENOMEM;
	n = list_xattrs(fd, path, x.names, XATTR_LIST_MAX_BYTES);
	if (n == -ENOTSUP)
		n = 0;
	if (n < 0) {
		free(x.names);
		return (int)n;
	}
	x.names_len = (size_t)n;
	for (size_t off = 0; off < x.names_len; off += strlen(x.names + off) + 1) {
		const char *k = x.names + off;
		struct migrate_xattr *e;
		if (migrate_xattr_skipped(k))
			continue;
		e = realloc(x.v, (x.n + 1) * sizeof(*e));
		if (!e) {
			migrate_xattrs_free(&x);
			return -ENOMEM;
		}
		x.v = e;
		e = &x.v[x.n];
		e->name = k;
		e->value = malloc(XATTR_VALUE_MAX);
		if (!e->value) {
			migrate_xattrs_free(&x);
			return -ENOMEM;
		}
		x.n++;
		n = get_xattr(fd, path, k, e->value, XATTR_VALUE_MAX);
		if (n < 0) {
			migrate_xattrs_free(&x);
			return (int)n;
		}
		e->len = (size_t)n;
	}
	*ret = x;
	return 0;
}

void migrate_xattrs_free(struct migrate_xattrs *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i].value);
	free(x->v);
	free(x->names);
	*x = (struct migrate_xattrs){};
}

int migrate_copy_meta(int sdir, int ddir, const char *name, int sfd, int dfd, const struct stat *st)
{
	struct migrate_xattrs x = {};
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	char dpath[PATH_MAX];
	int r;

	if (dfd >= 0 ? fchown(dfd, st->st_uid, st->st_gid)
	             : fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	r = migrate_read_xattrs(sfd, sdir, name, &x);
	if (r < 0)
		return r;
	proc_path(ddir, name, dpath, sizeof(dpath));
	for (size_t i = 0; i < x.n; i++) {
		const struct migrate_xattr *e = &x.v[i];
		if ((dfd >= 0 ? fsetxattr(dfd, e->name, e->value, e->len, 0)
		              : lsetxattr(dpath, e->name, e->value, e->len, 0)) < 0) {
			r = -errno;
			break;
		}
	}
	migrate_xattrs_free(&x);
	if (r < 0)
		return r;
	if (!S_ISLNK(st->st_mode) &&
	    (dfd >= 0 ? fchmod(dfd, st->st_mode & 07777) : fchmodat(ddir, name, st->st_mode & 07777, 0)) < 0)
		return -errno;
	if ((dfd >= 0 ? futimens(dfd, times) : utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW)) < 0)
		return -errno;
	return 0;
}
