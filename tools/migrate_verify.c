/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Verification before anything is removed: the two trees must list the
 * same names, and each pair must agree on type, owner, mode, size, device
 * number, access and modification times (ns), extended attributes,
 * symlink target, hard-link structure and content. Content is compared
 * by SHA-256 of a canonical form that is independent of how the file is
 * laid out on disk: the size, then the index and bytes of every 4 KiB
 * block that is not all zeros. Holes are never read (SEEK_DATA), so a
 * 1 GiB sparse file costs its data only.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup_openssl.h"
#include "migrate.h"

#define BLOCK     4096
#define READ_SIZE (1024 * 1024)

static bool all_zero(const unsigned char *p, size_t n)
{
	static const unsigned char zero[BLOCK];
	return memcmp(p, zero, n) == 0;
}

static int hash_file(int fd, off_t size, unsigned char out[32], uint64_t *ret_read)
{
	static unsigned char *buf;
	_cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t le = (uint64_t)size, nread = 0;
	off_t off = 0;
	int r = 0;

	if (!ctx || (!buf && !(buf = malloc(READ_SIZE))))
		return -ENOMEM;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, &le, sizeof(le)))
		r = -EIO;
	while (r == 0 && off < size) {
		off_t data = lseek(fd, off, SEEK_DATA), hole;
		if (data < 0) {
			r = errno == ENXIO ? 0 : -errno;
			break;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		data -= data % BLOCK;
		while (r == 0 && data < hole) {
			size_t want = (size_t)(hole - data < READ_SIZE ? hole - data : READ_SIZE);
			ssize_t n = pread(fd, buf, want, data);
			if (n <= 0) {
				r = n < 0 ? -errno : -ESTALE;
				break;
			}
			nread += (uint64_t)n;
			for (ssize_t b = 0; b < n; b += BLOCK) {
				size_t len = (size_t)(n - b < BLOCK ? n - b : BLOCK);
				uint64_t idx = (uint64_t)(data + b) / BLOCK;
				if (all_zero(buf + b, len))
					continue;
				if (!EVP_DigestUpdate(ctx, &idx, sizeof(idx)) ||
				    !EVP_DigestUpdate(ctx, buf + b, len))
					r = -EIO;
			}
			data += n;
		}
		off = hole;
	}
	if (r == 0 && !EVP_DigestFinal_ex(ctx, out, NULL))
		r = -EIO;
	if (r == 0)
		*ret_read = nread;
	return r;
}

static int compare_content(struct migrate_tree *t, int sdir, int ddir, const char *name, off_t size)
{
	_cleanup_close_ int a =
	    openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_NONBLOCK | O_CLOEXEC);
	_cleanup_close_ int b =
	    openat(ddir, name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_NONBLOCK | O_CLOEXEC);
	unsigned char ha[32], hb[32];
	uint64_t na, nb;
	int r;

	if (a < 0)
		return migrate_fail(t, "open for verification", -errno);
	if (b < 0)
		return migrate_fail(t, "open the copy for verification", -errno);
	r = hash_file(a, size, ha, &na);
	if (r < 0)
		return migrate_fail(t, "read for verification", r);
	r = hash_file(b, size, hb, &nb);
	if (r < 0)
		return migrate_fail(t, "read the copy for verification", r);
	migrate_progress_add(&t->progress, 0, (uint64_t)size); /* holes count as done */
	if (memcmp(ha, hb, sizeof(ha)) != 0)
		return migrate_fail(t, "verify: the copy's content differs", -EBADMSG);
	return 0;
}

static int compare_xattrs(struct migrate_tree *t, int sdir, int ddir, const char *name, int sfd, int dfd)
{
	struct migrate_xattrs a = {}, b = {};
	int r = migrate_read_xattrs(sfd, sdir, name, &a);

	if (r == 0)
		r = migrate_read_xattrs(dfd, ddir, name, &b);
	if (r < 0) {
		migrate_xattrs_free(&a);
		return migrate_fail(t, "read extended attributes for verification", r);
	}
	if (a.n != b.n)
		r = -EBADMSG;
	for (size_t i = 0; r == 0 && i < a.n; i++) {
		size_t j;
		for (j = 0; j < b.n; j++)
			if (strcmp(a.v[i].name, b.v[j].name) == 0)
				break;
		if (j == b.n || a.v[i].len != b.v[j].len ||
		    memcmp(a.v[i].value, b.v[j].value, a.v[i].len) != 0)
			r = -EBADMSG;
	}
	migrate_xattrs_free(&a);
	migrate_xattrs_free(&b);
	return r < 0 ? migrate_fail(t, "verify: extended attributes or ACLs differ", r) : 0;
}

static int compare_stat(struct migrate_tree *t, const struct stat *a, const struct stat *b, bool root)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT))
		return migrate_fail(t, "verify: the copy is of another type", -EBADMSG);
	if (a->st_mode != b->st_mode || a->st_uid != b->st_uid || a->st_gid != b->st_gid)
		return migrate_fail(t, "verify: owner or mode differ", -EBADMSG);
	if (!S_ISDIR(a->st_mode) && a->st_size != b->st_size)
		return migrate_fail(t, "verify: sizes differ", -EBADMSG);
	if ((S_ISCHR(a->st_mode) || S_ISBLK(a->st_mode)) && a->st_rdev != b->st_rdev)
		return migrate_fail(t, "verify: device numbers differ", -EBADMSG);
	/* The root's atime moves when the daemon's checks read it, and a
	 * symlink's at every readlink (no O_NOATIME for those); the copy
	 * has the atime from before migrate read it. */
	if (!migrate_same_time(&a->st_mtim, &b->st_mtim) ||
	    (!root && !S_ISLNK(a->st_mode) && !migrate_same_time(&a->st_atim, &b->st_atim)))
		return migrate_fail(t, "verify: times differ", -EBADMSG);
	return 0;
}

/* Hard links: each source inode maps to one copy inode and back. */
static int compare_links(struct migrate_tree *t, const struct stat *a, const struct stat *b)
{
	uint64_t v;
	int r;

	if (S_ISDIR(a->st_mode))
		return 0;
	if (migrate_inode_map_get(&t->links, a->st_ino, &v)
	        ? v != b->st_ino
	        : migrate_inode_map_get(&t->links_back, b->st_ino, &v))
		return migrate_fail(t, "verify: the hard links differ", -EBADMSG);
	if (a->st_nlink == 1 && b->st_nlink == 1)
		return 0;
	r = migrate_inode_map_put(&t->links, a->st_ino, b->st_ino);
	if (r == 0)
		r = migrate_inode_map_put(&t->links_back, b->st_ino, a->st_ino);
	return r;
}

static int verify_dir(struct migrate_tree *t, int sdir, int ddir);

static int verify_entry(struct migrate_tree *t, int sdir, int ddir, const char *name)
{
	struct stat a, b;
	int r;

	if (fstatat(sdir, name, &a, AT_SYMLINK_NOFOLLOW) < 0)
		return migrate_fail(t, "stat for verification", -errno);
	if (fstatat(ddir, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return migrate_fail(t, "verify: the copy is missing", -errno);
	r = compare_stat(t, &a, &b, false);
	if (r == 0)
		r = compare_links(t, &a, &b);
	if (r < 0)
		return r;
	if (S_ISDIR(a.st_mode)) {
		_cleanup_close_ int s = migrate_open_dir_at(sdir, name), d = migrate_open_dir_at(ddir, name);
		if (s < 0 || d < 0)
			return migrate_fail(t, "open the directory for verification", s < 0 ? s : d);
		r = compare_xattrs(t, -1, -1, "", s, d);
		if (r == 0)
			r = verify_dir(t, s, d);
		if (r == 0)
			migrate_progress_add(&t->progress, 1, 0);
		return r;
	}
	if (S_ISREG(a.st_mode)) {
		r = compare_content(t, sdir, ddir, name, a.st_size);
	} else if (S_ISLNK(a.st_mode)) {
		_cleanup_free_ char *x = malloc((size_t)a.st_size + 1), *y = malloc((size_t)a.st_size + 1);
		if (!x || !y)
			return -ENOMEM;
		if (readlinkat(sdir, name, x, (size_t)a.st_size + 1) != a.st_size ||
		    readlinkat(ddir, name, y, (size_t)a.st_size + 1) != a.st_size ||
		    memcmp(x, y, (size_t)a.st_size) != 0)
			return migrate_fail(t, "verify: symbolic link targets differ", -EBADMSG);
	}
	if (r == 0)
		r = compare_xattrs(t, sdir, ddir, name, -1, -1);
	if (r == 0)
		migrate_progress_add(&t->progress, 1, 0);
	return r;
}

/* A copy that failed verification is removed, so that the next run makes
 * it anew instead of keeping it as complete. Directories stay: their
 * entries are checked one by one. */
static int verify_entry_or_drop(struct migrate_tree *t, int sdir, int ddir, const char *name)
{
	struct stat st;
	int r = verify_entry(t, sdir, ddir, name);

	if (r == -EBADMSG && fstatat(ddir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		(void)unlinkat(ddir, name, 0);
	return r;
}

/* An entry only in the copy (the original lost it between two runs) goes,
 * so that the next run's copy matches. */
static int drop_extra(struct migrate_tree *t, int ddir, const char *name)
{
	struct migrate_progress quiet = {.quiet = true};
	struct migrate_path ignored = {};
	struct stat st;

	if (fstatat(ddir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode))
			(void)migrate_remove_tree(ddir, name, &quiet, &ignored);
		else
			(void)unlinkat(ddir, name, 0);
	}
	migrate_path_free(&ignored);
	return migrate_fail(t, "verify: only in the copy", -EBADMSG);
}

static int verify_dir(struct migrate_tree *t, int sdir, int ddir)
{
	struct migrate_names a = {}, b = {};
	int r = migrate_list_dir(sdir, &a);

	if (r == 0)
		r = migrate_list_dir(ddir, &b);
	if (r < 0) {
		migrate_names_free(&a);
		return migrate_fail(t, "list the directory for verification", r);
	}
	for (size_t i = 0; r == 0 && i < a.n; i++) {
		size_t saved;
		if (i >= b.n || strcmp(a.v[i], b.v[i]) != 0) {
			const char *missing = i < b.n && strcmp(a.v[i], b.v[i]) > 0 ? b.v[i] : a.v[i];
			r = migrate_path_push(&t->path, missing, &saved);
			if (r == 0)
				r = i < b.n && missing == b.v[i]
				        ? drop_extra(t, ddir, missing)
				        : migrate_fail(t, "verify: missing in the copy", -EBADMSG);
			break;
		}
		r = migrate_path_push(&t->path, a.v[i], &saved);
		if (r < 0)
			break;
		r = verify_entry_or_drop(t, sdir, ddir, a.v[i]);
		if (r == 0)
			migrate_path_pop(&t->path, saved);
		if (r == 0 && i == a.n / 2)
			migrate_hook("verify");
	}
	if (r == 0 && b.n > a.n) {
		size_t saved;
		r = migrate_path_push(&t->path, b.v[a.n], &saved);
		if (r == 0)
			r = drop_extra(t, ddir, b.v[a.n]);
	}
	migrate_names_free(&a);
	migrate_names_free(&b);
	return r;
}

int migrate_verify_tree(struct migrate_tree *t)
{
	struct stat a, b;
	int r;

	migrate_inode_map_free(&t->links);
	migrate_inode_map_free(&t->links_back);
	if (fstat(t->src, &a) < 0 || fstat(t->dst, &b) < 0)
		return migrate_fail(t, "stat the top directory", -errno);
	r = compare_stat(t, &a, &b, true);
	if (r == 0)
		r = compare_xattrs(t, -1, -1, "", t->src, t->dst);
	if (r == 0)
		r = verify_dir(t, t->src, t->dst);
	return r;
}
