/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection in lk_write_file_atomic_at (LK_TEST_HOOKS builds only;
 * exits 77, "skipped", otherwise). */
#include "test-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

struct tmpdir {
	char path[64];
	int fd;
};

static int setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/lk-test-fileio-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmpdir *t = *state;
	struct dirent *de;
	DIR *d;

	d = fdopendir(t->fd);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	(void)rmdir(t->path);
	free(t);
	return 0;
}

static int count_entries(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct dirent *de;
	DIR *d = fdopendir(fd);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* With LK_TEST_HOOKS builds: every injected failure leaves the old content
 * and no temporary file. */
static void test_fault_hook(void **state)
{
	struct tmpdir *t = *state;
	static const char *const steps[] = { "write", "fsync", "rename" };
	uint8_t buf[64];
	size_t len;

	assert_int_equal(lk_write_file_atomic_at(t->fd, "g", "old", 3, 0600), 0);
	for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
		setenv("LATCHKEY_TEST_FAIL_AT", steps[i], 1);
		assert_int_equal(lk_write_file_atomic_at(t->fd, "g", "new", 3, 0600), -EIO);
		unsetenv("LATCHKEY_TEST_FAIL_AT");
		assert_int_equal(lk_read_file_at(t->fd, "g", getuid(), sizeof(buf), buf, &len), 0);
		assert_memory_equal(buf, "old", 3);
		assert_int_equal(count_entries(t->fd), 1);
	}
	/* dirsync fails after the rename: new content in place, error reported. */
	setenv("LATCHKEY_TEST_FAIL_AT", "dirsync", 1);
	assert_int_equal(lk_write_file_atomic_at(t->fd, "g", "new", 3, 0600), -EIO);
	unsetenv("LATCHKEY_TEST_FAIL_AT");
	assert_int_equal(lk_read_file_at(t->fd, "g", getuid(), sizeof(buf), buf, &len), 0);
	assert_memory_equal(buf, "new", 3);
	assert_int_equal(count_entries(t->fd), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fault_hook, setup, teardown),
	};

	if (!LK_TEST_HOOKS)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
