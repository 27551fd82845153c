/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include <errno.h>

#include "wire.h"

static void test_safe_close(void **state)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	errno = EXDEV;
	assert_int_equal(safe_close(fd), -1);
	assert_int_equal(errno, EXDEV);
	/* Closed: the descriptor is no longer valid. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	errno = EXDEV;
	assert_int_equal(safe_close(-1), -1);
	assert_int_equal(errno, EXDEV);
}

static void test_closep_resets(void **state)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	closep(&fd);
	assert_int_equal(fd, -1);
}

static int closed_dir_fd = -1;

static void scoped_dir(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/");

	assert_non_null(d);
	closed_dir_fd = dirfd(d);
	assert_true(fcntl(closed_dir_fd, F_GETFD) >= 0);
	errno = EXDEV;
}

static void test_closedirp(void **state)
{
	scoped_dir();
	assert_int_equal(errno, EXDEV); /* kept across the cleanup */
	assert_int_equal(fcntl(closed_dir_fd, F_GETFD), -1);
}

static void test_erase_and_freep(void **state)
{
	char *s = strdup("secret");

	assert_non_null(s);
	erase_and_freep(&s);
	assert_null(s);
	erase_and_freep(&s); /* NULL is fine */
}

static void test_msg_status(void **state)
{
	struct lk_msg m;

	lk_msg_init(&m, LK_REP_ERROR, 1);
	assert_int_equal(lk_msg_status(&m), LK_E_PROTOCOL);
	assert_true(lk_msg_is_error(&m, LK_E_PROTOCOL));
	lk_msg_set_status(&m, LK_E_BAD_KEY);
	assert_int_equal(lk_msg_status(&m), LK_E_BAD_KEY);
	assert_true(lk_msg_is_error(&m, LK_E_BAD_KEY));
	assert_false(lk_msg_is_error(&m, LK_E_PROTOCOL));
	lk_msg_init(&m, LK_REP_UNLOCK_RESULT, 1);
	lk_msg_set_status(&m, LK_E_BAD_KEY);
	assert_false(lk_msg_is_error(&m, LK_E_BAD_KEY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_safe_close), cmocka_unit_test(test_closep_resets),
	    cmocka_unit_test(test_closedirp),  cmocka_unit_test(test_erase_and_freep),
	    cmocka_unit_test(test_msg_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
