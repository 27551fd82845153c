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

/* With LK_TEST_HOOKS builds: every injected failure leaves the old content
 * and no temporary file. */
static void test_fault_hook(void **state)
{
	struct tmpdir *t = *state;
	static const char *const steps[] = {"write", "fsync", "rename"};
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
	    cmocka_unit_test_setup_teardown(test_fault_hook, tmpdir_setup, tmpdir_teardown),
	};

	if (!LK_TEST_HOOKS)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
