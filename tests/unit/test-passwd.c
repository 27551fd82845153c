/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include <errno.h>
#include <pwd.h>

#include "passwd.h"

/* --wrap: entries that need more than a small buffer, as large NSS
 * entries do. */
int __real_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res);
int __real_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res);
int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res);

static size_t need = 0;
static unsigned calls;

int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	calls++;
	if (len < need) {
		*res = NULL;
		return ERANGE;
	}
	return __real_getpwnam_r(name, pw, buf, len, res);
}

int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	calls++;
	if (len < need) {
		*res = NULL;
		return ERANGE;
	}
	return __real_getpwuid_r(uid, pw, buf, len, res);
}

static void test_by_uid_and_name(void **state)
{
	_cleanup_passwd_ struct lk_passwd a = {}, b = {};

	need = 0;
	assert_int_equal(lk_passwd_by_uid(0, &a), 0);
	assert_int_equal(a.pw.pw_uid, 0);
	assert_non_null(a.pw.pw_name);
	assert_int_equal(lk_passwd_by_name(a.pw.pw_name, &b), 0);
	assert_int_equal(b.pw.pw_uid, 0);
}

static void test_grows_on_erange(void **state)
{
	_cleanup_passwd_ struct lk_passwd p = {};

	need = 200 * 1024;
	calls = 0;
	assert_int_equal(lk_passwd_by_uid(0, &p), 0);
	assert_int_equal(p.pw.pw_uid, 0);
	assert_true(calls > 1);
	lk_passwd_done(&p);
	assert_null(p.buf);

	/* Past the cap it gives up with the lookup's error. */
	need = 4u * 1024 * 1024;
	assert_int_equal(lk_passwd_by_name("root", &p), -ERANGE);
	assert_null(p.buf);
}

static void test_missing(void **state)
{
	_cleanup_passwd_ struct lk_passwd p = {};

	need = 0;
	assert_int_equal(lk_passwd_by_name("lk-no-such-user-here", &p), -ENOENT);
	assert_null(p.buf);
	assert_int_equal(lk_passwd_by_uid(4000000000u, &p), -ENOENT);
	assert_int_equal(lk_passwd_by_name(NULL, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_by_uid_and_name),
	    cmocka_unit_test(test_grows_on_erange),
	    cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
