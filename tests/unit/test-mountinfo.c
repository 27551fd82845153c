/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mountinfo lines as the kernel writes them: octal escapes in root and
 * mount point, optional fields up to "-", and lines that must be refused.
 */
#include "test-util.h"

#include <errno.h>
#include <stdio.h>

#include "mountinfo.h"

static struct lk_mount m;

static void test_parse(void **state)
{
	assert_int_equal(
	    lk_mountinfo_parse_line("36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root "
	                            "rw,errors=continue",
	                            &m),
	    0);
	assert_int_equal(m.major, 98);
	assert_int_equal(m.minor, 0);
	assert_string_equal(m.root, "/mnt1");
	assert_string_equal(m.point, "/mnt/parent");
	assert_string_equal(m.fstype, "ext3");

	/* No optional fields; escaped space, tab, newline and backslash. */
	assert_int_equal(
	    lk_mountinfo_parse_line("1 2 7:3 / /tmp/a\\040b\\011c\\012d\\134e rw - ext4 /dev/loop3 rw", &m),
	    0);
	assert_string_equal(m.point, "/tmp/a b\tc\nd\\e");
	assert_string_equal(m.root, "/");
	assert_int_equal(m.major, 7);
	assert_int_equal(m.minor, 3);

	/* Several optional fields. */
	assert_int_equal(lk_mountinfo_parse_line(
	                     "1 2 259:1 /home /home rw shared:5 master:2 unbindable - f2fs /dev/x rw", &m),
	                 0);
	assert_string_equal(m.fstype, "f2fs");
	assert_int_equal(m.major, 259);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "1 2 7:3 / /mnt rw ext4 /dev/x rw",       /* no separator */
	    "1 2 7:3 / /mnt rw -",                    /* no fs type */
	    "1 2 7-3 / /mnt rw - ext4 /dev/x rw",     /* bad device */
	    "1 2 :3 / /mnt rw - ext4 /dev/x rw",      /* empty major */
	    "1 2 7:x / /mnt rw - ext4 /dev/x rw",     /* bad minor */
	    "1 2 7:3 / mnt rw - ext4 /dev/x rw",      /* relative point */
	    "1 2 7:3 / /m\\041t rw - ext4 /dev/x rw", /* unknown escape */
	    "1 2 7:3 / /mnt\\04 rw - ext4 /dev/x rw", /* short escape */
	    "1 2 7:3 / /mnt\\ rw - ext4 /dev/x rw",   /* lone backslash */
	    "1 2 7:3",                                /* truncated */
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(lk_mountinfo_parse_line(bad[i], &m), -EBADMSG);
	}
}

static int count_ext4(const struct lk_mount *mnt, void *userdata)
{
	if (strcmp(mnt->fstype, "ext4") == 0)
		(*(int *)userdata)++;
	return 0;
}

static void test_foreach(void **state)
{
	static const char text[] = "1 0 7:3 / /a rw - ext4 /dev/loop3 rw\n"
	                           "garbage line\n"
	                           "2 1 0:5 / /proc rw - proc proc rw\n"
	                           "3 1 7:4 / /b\\040c rw - ext4 /dev/loop4 rw\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	int n = 0;

	assert_non_null(f);
	assert_int_equal(lk_mountinfo_foreach(f, count_ext4, &n), 0);
	assert_int_equal(n, 2);
	fclose(f);

	/* The real one parses to the end. */
	f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		n = 0;
		assert_int_equal(lk_mountinfo_foreach(f, count_ext4, &n), 0);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_foreach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
