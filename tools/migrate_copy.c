/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy: every entry of the source tree recreated in the destination,
 * by fd and name only (any bytes, any depth, never following a symlink).
 * Regular files are copied by data segment (SEEK_DATA/SEEK_HOLE), so holes
 * stay holes; hard links are recreated from a file handle of the first
 * copy (linkat AT_EMPTY_PATH), so path length does not matter. Times are
 * set last, and a directory's after its children: a regular file whose
 * copy has the source's size and mtime is complete, which is how a rerun
 * skips what an interrupted run already copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "migrate.h"

#define COPY_CHUNK (1024 * 1024)

static int copy_range(struct migrate_tree *t, int in, int out, off_t off, off_t end, bool *hooked)
{
	static char *buf;

	while (off < end) {
		size_t want = (size_t)(end - off < COPY_CHUNK ? end - off : COPY_CHUNK);
		ssize_t n = -1;

		if (!t->no_copy_range) {
			loff_t a = off, b = off;
			n = copy_file_range(in, &a, out, &b, want, 0);
			if (n < 0 &&
			    (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
				t->no_copy_range = true;
				n = -1;
			} else if (n < 0) {
				return migrate_fail(t, errno == EIO ? "read or write (I/O error)" : "copy",
				                    -errno);
			}
		}
		if (t->no_copy_range) {
			if (!buf && !(buf = malloc(COPY_CHUNK)))
				return -ENOMEM;
			n = pread(in, buf, want, off);
			if (n < 0)
				return migrate_fail(t, "read", -errno);
			if (n > 0 && pwrite(out, buf, (size_t)n, off) != n)
				return migrate_fail(t, "write", errno ? -errno : -EIO);
		}
		if (n == 0)
			return migrate_fail(t, "read (the file shrank during the copy)", -ESTALE);
		off += n;
		migrate_progress_add(&t->progress, 0, (uint64_t)n);
		if (!*hooked && off < end) {
			*hooked = true;
			migrate_hook("copy");
		}
	}
	return 0;
}

static int copy_data(struct migrate_tree *t, int in, int out, off_t size)
{
	bool hooked = false;
	off_t off = 0, holes = 0;
	int r;

	if (ftruncate(out, size) < 0)
		return migrate_fail(t, "set the size of the copy", -errno);
	while (off < size) {
		off_t data = lseek(in, off, SEEK_DATA), hole;
		if (data < 0 && errno == ENXIO) {
			holes += size - off;
			break;
		}
		if (data < 0)
			return migrate_fail(t, "seek", -errno);
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return migrate_fail(t, "seek", -errno);
		if (hole > size)
			hole = size;
		holes += data - off;
		r = copy_range(t, in, out, data, hole, &hooked);
		if (r < 0)
			return r;
		off = hole;
	}
	/* Holes are not copied, but count as done for the progress bar. */
	migrate_progress_add(&t->progress, 0, (uint64_t)holes);
	return 0;
}

/* A complete copy from a previous run: same type, size and mtime. */
static bool complete_copy(const struct stat *src, const struct stat *dst)
{
	return (src->st_mode & S_IFMT) == (dst->st_mode & S_IFMT) && src->st_size == dst->st_size &&
	       migrate_same_time(&src->st_mtim, &dst->st_mtim);
}

static int copy_regular(struct migrate_tree *t, int sdir, int ddir, const char *name, const struct stat *st)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat a, b;
	int r;

	in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return migrate_fail(t, "open for reading", -errno);
	if (fstat(in, &a) < 0)
		return migrate_fail(t, "stat", -errno);
	if (a.st_ino != st->st_ino)
		return migrate_fail(t, "open (the file was replaced during the copy)", -ESTALE);
	out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return migrate_fail(t, "create the copy", -errno);
	r = copy_data(t, in, out, a.st_size);
	if (r < 0)
		return r;
	if (fstat(in, &b) < 0)
		return migrate_fail(t, "stat", -errno);
	if (b.st_size != a.st_size || !migrate_same_time(&a.st_mtim, &b.st_mtim) ||
	    !migrate_same_time(&a.st_ctim, &b.st_ctim))
		return migrate_fail(t, "copy (the file changed during the copy; stop what writes to it)",
		                    -ESTALE);
	r = migrate_copy_meta(sdir, ddir, name, in, out, &a);
	if (r < 0)
		return migrate_fail(t, "copy owner, mode, xattrs or times", r);
	migrate_progress_add(&t->progress, 1, 0);
	return 0;
}

static int copy_special(struct migrate_tree *t, int sdir, int ddir, const char *name, const struct stat *st)
{
	int r;

	if (S_ISLNK(st->st_mode)) {
		_cleanup_free_ char *target = malloc((size_t)st->st_size + 1);
		ssize_t n;
		if (!target)
			return -ENOMEM;
		n = readlinkat(sdir, name, target, (size_t)st->st_size + 1);
		if (n < 0)
			return migrate_fail(t, "read the symbolic link", -errno);
		if (n != st->st_size)
			return migrate_fail(t, "read the symbolic link (changed during the copy)", -ESTALE);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return migrate_fail(t, "create the symbolic link", -errno);
	} else if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
		return migrate_fail(t, "create the special file", -errno);
	}
	r = migrate_copy_meta(sdir, ddir, name, -1, -1, st);
	if (r < 0)
		return migrate_fail(t, "copy owner, mode, xattrs or times", r);
	migrate_progress_add(&t->progress, 1, 0);
	return 0;
}

/* Remember a handle of the copy of a hard-linked inode, to link its
 * later names to it. */
static int remember_handle(struct migrate_tree *t, int fd, uint64_t src_ino, uint64_t dst_ino)
{
	struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ), **v;
	int mount_id, r;

	if (!h)
		return -ENOMEM;
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", h, &mount_id, AT_EMPTY_PATH) < 0) {
		r = -errno;
		free(h);
		return r;
	}
	v = realloc(t->handles, (t->n_handles + 1) * sizeof(*v));
	if (!v) {
		free(h);
		return -ENOMEM;
	}
	t->handles = v;
	t->handles[t->n_handles] = h;
	r = migrate_inode_map_put(&t->links, src_ino, dst_ino);
	if (r == 0)
		r = migrate_inode_map_put(&t->links_back, dst_ino, t->n_handles);
	if (r == 0)
		t->n_handles++;
	return r;
}

static int remember_handle_at(struct migrate_tree *t, int ddir, const char *name, uint64_t src_ino)
{
	_cleanup_close_ int fd = openat(ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	return remember_handle(t, fd, src_ino, st.st_ino);
}

/* A later name of a hard-linked inode whose first copy exists: link it. */
static int copy_link(struct migrate_tree *t, int ddir, const char *name, uint64_t copy_ino,
                     const struct stat *existing)
{
	_cleanup_close_ int fd = -1;
	uint64_t idx;

	if (existing && existing->st_ino == copy_ino) {
		migrate_progress_add(&t->progress, 1, 0);
		return 0;
	}
	if (existing && unlinkat(ddir, name, 0) < 0)
		return migrate_fail(t, "remove a stale copy", -errno);
	if (!migrate_inode_map_get(&t->links_back, copy_ino, &idx))
		return migrate_fail(t, "find the first copy of a hard link", -ENOENT);
	fd = open_by_handle_at(t->dst, t->handles[idx], O_PATH | O_CLOEXEC);
	if (fd < 0)
		return migrate_fail(t, "reopen the first copy of a hard link", -errno);
	if (linkat(fd, "", ddir, name, AT_EMPTY_PATH) < 0)
		return migrate_fail(t, "create the hard link", -errno);
	migrate_progress_add(&t->progress, 1, 0);
	return 0;
}

static int copy_dir(struct migrate_tree *t, int sdir, int ddir);

static int copy_subdir(struct migrate_tree *t, int sdir, int ddir, const char *name, const struct stat *st,
                       const struct stat *existing)
{
	_cleanup_close_ int s = -1, d = -1;
	int r;

	if (existing && !S_ISDIR(existing->st_mode) && unlinkat(ddir, name, 0) < 0)
		return migrate_fail(t, "remove a stale copy", -errno);
	if ((!existing || !S_ISDIR(existing->st_mode)) && mkdirat(ddir, name, 0700) < 0)
		return migrate_fail(t, "create the directory", -errno);
	s = migrate_open_dir_at(sdir, name);
	if (s < 0)
		return migrate_fail(t, "open the directory", s);
	d = migrate_open_dir_at(ddir, name);
	if (d < 0)
		return migrate_fail(t, "open the copy of the directory", d);
	r = copy_dir(t, s, d);
	if (r < 0)
		return r;
	r = migrate_copy_meta(sdir, ddir, name, s, d, st);
	if (r < 0)
		return migrate_fail(t, "copy owner, mode, xattrs or times", r);
	migrate_progress_add(&t->progress, 1, 0);
	return 0;
}

static int copy_entry(struct migrate_tree *t, int sdir, int ddir, const char *name)
{
	struct stat st, ex;
	const struct stat *existing = &ex;
	uint64_t copy_ino;
	bool linked;
	int r;

	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return migrate_fail(t, "stat", -errno);
	if (st.st_dev != t->dev)
		return migrate_fail(t, "copy (a mount point: unmount it first)", -EXDEV);
	if (fstatat(ddir, name, &ex, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return migrate_fail(t, "stat the copy", -errno);
		existing = NULL;
	}
	if (S_ISDIR(st.st_mode))
		return copy_subdir(t, sdir, ddir, name, &st, existing);

	linked = st.st_nlink > 1 && migrate_inode_map_get(&t->links, st.st_ino, &copy_ino);
	if (linked)
		return copy_link(t, ddir, name, copy_ino, existing);
	if (existing && S_ISREG(st.st_mode) && complete_copy(&st, existing)) {
		migrate_progress_add(&t->progress, 1, (uint64_t)st.st_size);
	} else {
		if (existing && unlinkat(ddir, name, S_ISDIR(existing->st_mode) ? AT_REMOVEDIR : 0) < 0)
			return migrate_fail(t, "remove an incomplete copy", -errno);
		r = S_ISREG(st.st_mode) ? copy_regular(t, sdir, ddir, name, &st)
		                        : copy_special(t, sdir, ddir, name, &st);
		if (r < 0)
			return r;
	}
	if (st.st_nlink > 1) {
		r = remember_handle_at(t, ddir, name, st.st_ino);
		if (r < 0)
			return migrate_fail(t, "remember a hard link", r);
	}
	return 0;
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* A rerun: what an earlier run copied but the original no longer has
 * (deleted between the runs) goes. */
static int drop_extras(struct migrate_tree *t, int ddir, const struct migrate_names *src)
{
	struct migrate_names dst = {};
	int r = migrate_list_dir(ddir, &dst);

	for (size_t i = 0; r == 0 && i < dst.n; i++) {
		struct stat st;
		if (bsearch(dst.v[i], src->v, src->n, sizeof(char *), cmp_name))
			continue;
		if (fstatat(ddir, dst.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else if (S_ISDIR(st.st_mode)) {
			struct migrate_progress quiet = {.quiet = true};
			struct migrate_path ignored = {};
			r = migrate_remove_tree(ddir, dst.v[i], &quiet, &ignored);
			migrate_path_free(&ignored);
		} else if (unlinkat(ddir, dst.v[i], 0) < 0)
			r = -errno;
	}
	migrate_names_free(&dst);
	return r < 0 ? migrate_fail(t, "remove what the original no longer has from the copy", r) : 0;
}

static int copy_dir(struct migrate_tree *t, int sdir, int ddir)
{
	struct migrate_names names = {};
	int r = migrate_list_dir(sdir, &names);

	if (r < 0)
		return migrate_fail(t, "list the directory", r);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		size_t saved;
		r = migrate_path_push(&t->path, names.v[i], &saved);
		if (r < 0)
			break;
		r = copy_entry(t, sdir, ddir, names.v[i]);
		if (r == 0)
			migrate_path_pop(&t->path, saved);
	}
	if (r == 0 && t->resume)
		r = drop_extras(t, ddir, &names);
	migrate_names_free(&names);
	return r;
}

int migrate_copy_tree(struct migrate_tree *t)
{
	struct stat st;
	int r;

	if (fstat(t->src, &st) < 0)
		return migrate_fail(t, "stat", -errno);
	t->dev = st.st_dev;
	r = copy_dir(t, t->src, t->dst);
	if (r < 0)
		return r;
	r = migrate_copy_meta(-1, -1, "", t->src, t->dst, &st);
	if (r < 0)
		return migrate_fail(t, "copy owner, mode, xattrs or times of the top directory", r);
	if (syncfs(t->dst) < 0)
		return migrate_fail(t, "write the copy to disk (syncfs)", -errno);
	return 0;
}
