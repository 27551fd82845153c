/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fileio.h"
#include "openat.h"

#define TMP_INFIX      ".tmp-"
#define TMP_SUFFIX_LEN 6

/* Fault injection for crash-safety tests: LATCHKEY_TEST_FAIL_AT=step makes
 * that step fail with EIO, LATCHKEY_TEST_CRASH_AT=step kills the process
 * with SIGKILL just before it. Production builds (LK_TEST_HOOKS = 0)
 * compile this to nothing and never look at the environment. */
static int fail_at(const char *step)
{
#if LK_TEST_HOOKS
	const char *e = secure_getenv("LATCHKEY_TEST_CRASH_AT");

	if (e && strcmp(e, step) == 0)
		raise(SIGKILL);
	e = secure_getenv("LATCHKEY_TEST_FAIL_AT");
	if (e && strcmp(e, step) == 0)
		return -EIO;
#endif
	return 0;
}

static bool name_is_plain(const char *name)
{
	return name && name[0] != '\0' && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static int fsync_dir(int dirfd)
{
	_cleanup_close_ int fd = -1;

	if (dirfd != AT_FDCWD)
		return fsync(dirfd) < 0 ? -errno : 0;
	fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int lk_read_file_at(int dirfd, const char *name, uid_t expected_uid, size_t max_size, uint8_t *buf,
                    size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t total = 0;
	uint8_t extra;
	int r;

	if (!name_is_plain(name) || (!buf && max_size > 0) || !ret_len || max_size > SSIZE_MAX)
		return -EINVAL;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW:
	 * a symlink (to /dev/zero, to another user's file) is refused. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (st.st_uid != expected_uid || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	if ((uint64_t)st.st_size > max_size)
		return -EFBIG;

	/* The size may change under us; read at most one byte more than
	 * allowed to notice growth without trusting st_size. */
	while (total <= max_size) {
		ssize_t n;

		if (total < max_size)
			n = read(fd, buf + total, max_size - total);
		else
			n = read(fd, &extra, 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	if (total > max_size) {
		r = -EFBIG;
		goto fail;
	}
	*ret_len = total;
	return 0;
fail:
	if (max_size > 0)
		memset(buf, 0, total < max_size ? total : max_size);
	return r;
}

static int make_temp_name(const char *name, char *out, size_t cap)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[TMP_SUFFIX_LEN];
	size_t len = strlen(name);
	int r;

	if (len + strlen(TMP_INFIX) + TMP_SUFFIX_LEN > NAME_MAX ||
	    len + strlen(TMP_INFIX) + TMP_SUFFIX_LEN >= cap)
		return -ENAMETOOLONG;
	r = lk_random_bytes(rnd, sizeof(rnd));
	if (r < 0)
		return r;
	memcpy(out, name, len);
	memcpy(out + len, TMP_INFIX, strlen(TMP_INFIX));
	len += strlen(TMP_INFIX);
	/* 62 does not divide 256: a slight bias, harmless for a unique name. */
	for (size_t i = 0; i < TMP_SUFFIX_LEN; i++)
		out[len++] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[len] = '\0';
	return 0;
}

int lk_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int lk_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = -1;
	char tmp[NAME_MAX + 1];
	int r;

	if (!name_is_plain(name) || (!data && len > 0) || (mode & ~(mode_t)07777))
		return -EINVAL;

	for (int attempt = 0;; attempt++) {
		r = make_temp_name(name, tmp, sizeof(tmp));
		if (r < 0)
			return r;
		fd =
		    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || attempt >= 16)
			return -errno;
	}

	/* The umask must not decide the permissions of a metadata file. */
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto fail;
	}
	/* Reserve the space first: ENOSPC here costs nothing. Filesystems
	 * without fallocate just skip the reservation. */
	if (len > 0 && len <= (size_t)INT64_MAX) {
		r = posix_fallocate(fd, 0, (off_t)len);
		if (r != 0 && r != EOPNOTSUPP && r != EINVAL) {
			r = -r;
			goto fail;
		}
	}
	r = fail_at("write");
	if (r == 0)
		r = lk_write_all(fd, data, len);
	if (r < 0)
		goto fail;
	r = fail_at("fsync");
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		goto fail;
	r = fail_at("rename");
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		goto fail;

	/* After the rename the new content is in place; a failed directory
	 * sync means only that it may not survive a crash. Report it so the
	 * caller does not assume durability. */
	r = fail_at("dirsync");
	if (r == 0)
		r = fsync_dir(dirfd);
	return r;

fail:
	(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int lk_unlink_durable_at(int dirfd, const char *name)
{
	if (!name_is_plain(name))
		return -EINVAL;
	if (unlinkat(dirfd, name, 0) < 0)
		return -errno;
	return fsync_dir(dirfd);
}

/* "NAME.tmp-XXXXXX" with a non-empty NAME and exactly six alphanumerics. */
static bool is_temp_name(const char *n)
{
	size_t len = strlen(n), il = strlen(TMP_INFIX);

	if (len < 1 + il + TMP_SUFFIX_LEN)
		return false;
	if (memcmp(n + len - TMP_SUFFIX_LEN - il, TMP_INFIX, il) != 0)
		return false;
	for (size_t i = len - TMP_SUFFIX_LEN; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

int lk_sweep_temp_files_at(int dirfd)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int n = 0, r;

	/* A stream of its own: dirfd stays the caller's. */
	r = lk_opendir_at(dirfd, ".", 0, &d);
	if (r < 0)
		return r;
	for (;;) {
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno != 0)
				return -errno;
			break;
		}
		if (!is_temp_name(de->d_name))
			continue;
		/* Only our own leftovers, which are regular files. */
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		n++;
	}
	if (n > 0) {
		r = fsync_dir(dirfd);
		if (r < 0)
			return r;
	}
	return n;
}
