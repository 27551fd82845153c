/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include <errno.h>

#include "names.h"

static void test_user_names(void **state)
{
	/* Debian's useradd accepts upper case, and --badname much more. */
	static const char *const good[] = {"alice",
	                                   "_x",
	                                   "a",
	                                   "a.b-c_d9",
	                                   "host$",
	                                   "abcdefghijklmnopqrstuvwxyz012345" /* 32 */,
	                                   "abcdefghijklmnopqrstuvwxyz012345$",
	                                   "Alice",
	                                   "BOB",
	                                   "9lives",
	                                   ".x",
	                                   "a$b",
	                                   "\xc3\xa9l\xc3\xa8ve",
	                                   "0x1"};
	static const char *const bad[] = {"",
	                                  ".",
	                                  "..",
	                                  "-x",
	                                  "a b",
	                                  "a/b",
	                                  "a:b",
	                                  "a,b",
	                                  "123",
	                                  "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */,
	                                  "abcdefghijklmnopqrstuvwxyz0123456$",
	                                  "a\n",
	                                  "a\tb",
	                                  "a\x7f"};

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		assert_true(lk_user_name_is_valid(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		print_message("bad %zu\n", i);
		assert_false(lk_user_name_is_valid(bad[i]));
	}
	assert_false(lk_user_name_is_valid(NULL));
}

static void test_parse_uid(void **state)
{
	uid_t u = 77;

	assert_int_equal(lk_parse_uid("0", &u), 0);
	assert_int_equal(u, 0);
	assert_int_equal(lk_parse_uid("1000", &u), 0);
	assert_int_equal(u, 1000);
	assert_int_equal(lk_parse_uid("4294967294", &u), 0);
	assert_int_equal(u, 4294967294u);
	u = 77;
	assert_int_equal(lk_parse_uid("4294967295", &u), -ERANGE); /* (uid_t)-1 */
	assert_int_equal(lk_parse_uid("4294967296", &u), -ERANGE);
	assert_int_equal(lk_parse_uid("99999999999999999999999", &u), -ERANGE);
	assert_int_equal(lk_parse_uid("", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("-1", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("+1", &u), -EINVAL);
	assert_int_equal(lk_parse_uid(" 1", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("1 ", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("0x10", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("010", &u), -EINVAL);
	assert_int_equal(lk_parse_uid("1a", &u), -EINVAL);
	assert_int_equal(lk_parse_uid(NULL, &u), -EINVAL);
	assert_int_equal(u, 77); /* untouched on failure */
}

static void test_parse_uint(void **state)
{
	unsigned long v = 5;

	assert_int_equal(lk_parse_uint("10", 10, 20, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(lk_parse_uint("20", 10, 20, &v), 0);
	assert_int_equal(lk_parse_uint("9", 10, 20, &v), -ERANGE);
	assert_int_equal(lk_parse_uint("21", 10, 20, &v), -ERANGE);
	assert_int_equal(lk_parse_uint("-0", 0, 20, &v), -EINVAL);
	assert_int_equal(v, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_names),
	    cmocka_unit_test(test_parse_uid),
	    cmocka_unit_test(test_parse_uint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
