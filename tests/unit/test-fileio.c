/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Defensive reads and atomic writes. Works in a private directory under /tmp. */
#include "test-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

static void test_atomic_write_read(void **state)
{
	struct tmpdir *t = *state;
	uint8_t buf[64];
	size_t len = 0;
	struct stat st;

	assert_int_equal(lk_read_file_at(t->fd, "f", getuid(), sizeof(buf), buf, &len), -ENOENT);
	assert_int_equal(lk_write_file_atomic_at(t->fd, "f", "hello", 5, 0600), 0);
	assert_int_equal(lk_read_file_at(t->fd, "f", getuid(), sizeof(buf), buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(fstatat(t->fd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(lk_write_file_atomic_at(t->fd, "f", "replaced!", 9, 0600), 0);
	assert_int_equal(lk_read_file_at(t->fd, "f", getuid(), sizeof(buf), buf, &len), 0);
	assert_int_equal(len, 9);
	assert_memory_equal(buf, "replaced!", 9);
	assert_int_equal(lk_write_file_atomic_at(t->fd, "f", "", 0, 0600), 0);
	assert_int_equal(lk_read_file_at(t->fd, "f", getuid(), sizeof(buf), buf, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(count_entries(t->fd), 1); /* no temporary left behind */

	assert_int_equal(lk_write_file_atomic_at(t->fd, "a/b", "x", 1, 0600), -EINVAL);
	assert_int_equal(lk_write_file_atomic_at(t->fd, "", "x", 1, 0600), -EINVAL);
	assert_int_equal(lk_read_file_at(t->fd, "../etc/passwd", 0, sizeof(buf), buf, &len), -EINVAL);

	assert_int_equal(lk_unlink_durable_at(t->fd, "f"), 0);
	assert_int_equal(lk_unlink_durable_at(t->fd, "f"), -ENOENT);
}

static void test_hostile_files(void **state)
{
	struct tmpdir *t = *state;
	uint8_t buf[64];
	size_t len = 12345;
	int fd;

	/* A FIFO with no writer: must not block. */
	assert_int_equal(mkfifoat(t->fd, "fifo", 0600), 0);
	assert_int_equal(lk_read_file_at(t->fd, "fifo", getuid(), sizeof(buf), buf, &len), -EBADMSG);

	/* Symlink to /dev/zero (endless) and to a regular file. */
	assert_int_equal(symlinkat("/dev/zero", t->fd, "zero"), 0);
	assert_int_equal(lk_read_file_at(t->fd, "zero", getuid(), sizeof(buf), buf, &len), -ELOOP);
	assert_int_equal(lk_write_file_atomic_at(t->fd, "real", "abc", 3, 0600), 0);
	assert_int_equal(symlinkat("real", t->fd, "link"), 0);
	assert_int_equal(lk_read_file_at(t->fd, "link", getuid(), sizeof(buf), buf, &len), -ELOOP);

	/* A directory. */
	assert_int_equal(mkdirat(t->fd, "dir", 0700), 0);
	assert_int_equal(lk_read_file_at(t->fd, "dir", getuid(), sizeof(buf), buf, &len), -EBADMSG);
	assert_int_equal(unlinkat(t->fd, "dir", AT_REMOVEDIR), 0);

	/* Too large, and exactly at the limit. */
	assert_int_equal(lk_read_file_at(t->fd, "real", getuid(), 2, buf, &len), -EFBIG);
	assert_int_equal(lk_read_file_at(t->fd, "real", getuid(), 3, buf, &len), 0);
	assert_int_equal(len, 3);

	/* Wrong owner: the file is ours, so expect someone else. */
	len = 12345;
	assert_int_equal(lk_read_file_at(t->fd, "real", getuid() + 1, sizeof(buf), buf, &len), -EPERM);
	assert_int_equal(len, 12345);
	if (geteuid() == 0) {
		assert_int_equal(fchownat(t->fd, "real", 65534, 65534, 0), 0);
		assert_int_equal(lk_read_file_at(t->fd, "real", 0, sizeof(buf), buf, &len), -EPERM);
		assert_int_equal(lk_read_file_at(t->fd, "real", 65534, sizeof(buf), buf, &len), 0);
	}

	/* Group- or world-writable. */
	fd = openat(t->fd, "gw", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0620), 0);
	close(fd);
	assert_int_equal(lk_read_file_at(t->fd, "gw", getuid(), sizeof(buf), buf, &len), -EPERM);
	assert_int_equal(fchmodat(t->fd, "gw", 0602, 0), 0);
	assert_int_equal(lk_read_file_at(t->fd, "gw", getuid(), sizeof(buf), buf, &len), -EPERM);
	assert_int_equal(fchmodat(t->fd, "gw", 0644, 0), 0);
	assert_int_equal(lk_read_file_at(t->fd, "gw", getuid(), sizeof(buf), buf, &len), 0);

	/* A symlink in place of the target is replaced, never followed. */
	assert_int_equal(lk_write_file_atomic_at(t->fd, "zero", "safe", 4, 0600), 0);
	assert_int_equal(lk_read_file_at(t->fd, "zero", getuid(), sizeof(buf), buf, &len), 0);
	assert_int_equal(len, 4);
}

static void test_sweep(void **state)
{
	struct tmpdir *t = *state;
	static const char *const stale[] = {"1000.tmp-abcDEF", "x.tmp-000000"};
	static const char *const keep[] = {"1000", "1000.tmp-abc", "1000.tmp-abcdefg", ".tmp-abcdef",
	                                   "y.tmp-ab_def"};
	int fd;

	for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
		fd = openat(t->fd, stale[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
		fd = openat(t->fd, keep[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(mkdirat(t->fd, "d.tmp-qwerty", 0700), 0); /* not a file: kept */
	assert_int_equal(lk_sweep_temp_files_at(t->fd), 2);
	assert_int_equal(lk_sweep_temp_files_at(t->fd), 0);
	assert_int_equal(count_entries(t->fd), (int)ELEMENTSOF(keep) + 1);
	assert_int_equal(unlinkat(t->fd, "d.tmp-qwerty", AT_REMOVEDIR), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_atomic_write_read, tmpdir_setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_files, tmpdir_setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_sweep, tmpdir_setup, tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
