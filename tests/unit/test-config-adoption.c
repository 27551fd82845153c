/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config/: enroll_at_login, create_home and home_skel in [latchkey], the
 * rule's matching, and login.defs values. */
#include "test-util.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"

#define M LK_CONFIG_MAIN

static int parse(struct lk_config *c, const char *text, struct lk_config_error *e)
{
	return lk_config_parse_buffer(c, text, strlen(text), "t.conf", M, e);
}

static void test_defaults_and_values(void **state)
{
	struct lk_config_error e = {};
	struct lk_config c;

	lk_config_init(&c);
	assert_int_equal(c.enroll_at_login.kind, LK_ENROLL_NONE);
	assert_false(c.create_home);
	assert_string_equal(c.home_skel, "/etc/skel");
	assert_int_equal(parse(&c,
	                       "[latchkey]\nenroll_at_login = uids:2000-2999\ncreate_home = yes\n"
	                       "home_skel = /srv/skel\n",
	                       &e),
	                 0);
	assert_int_equal(c.enroll_at_login.kind, LK_ENROLL_UIDS);
	assert_int_equal(c.enroll_at_login.uid_min, 2000);
	assert_int_equal(c.enroll_at_login.uid_max, 2999);
	assert_true(c.create_home);
	assert_string_equal(c.home_skel, "/srv/skel");
	assert_true(lk_enroll_rule_matches(&c.enroll_at_login, 2000, "x", 100, NULL));
	assert_true(lk_enroll_rule_matches(&c.enroll_at_login, 2999, "x", 100, NULL));
	assert_false(lk_enroll_rule_matches(&c.enroll_at_login, 3000, "x", 100, NULL));
	assert_false(lk_enroll_rule_matches(&c.enroll_at_login, 1999, "x", 100, NULL));
	lk_config_free(&c);
}

static void test_bad_values_change_nothing(void **state)
{
	static const char *const bad[] = {
	    "[latchkey]\nenroll_at_login = everyone\n",
	    "[latchkey]\nenroll_at_login = uids:10-5\n",
	    "[latchkey]\nenroll_at_login = uids:0-5\n",
	    "[latchkey]\nenroll_at_login = uids:5\n",
	    "[latchkey]\nenroll_at_login = group:\n",
	    "[latchkey]\nenroll_at_login = group:a b\n",
	    "[latchkey]\nhome_skel = etc/skel\n",
	    "[latchkey]\nhome_skel = /etc/../skel\n",
	    "[latchkey]\ncreate_home = maybe\n",
	    /* a good line, then a bad one: the file adds nothing */
	    "[latchkey]\nenroll_at_login = all\ncreate_home = yes\nhome_skel = /x\nlock_delay = forever\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lk_config_error e = {};
		struct lk_config c;

		lk_config_init(&c);
		assert_true(parse(&c, bad[i], &e) < 0);
		assert_true(e.line > 0);
		assert_int_equal(c.enroll_at_login.kind, LK_ENROLL_NONE);
		assert_false(c.create_home);
		assert_string_equal(c.home_skel, "/etc/skel");
		lk_config_free(&c);
	}
}

static void test_all_and_group(void **state)
{
	char defs[] = "/tmp/lk-login-defs-XXXXXX";
	struct lk_enroll_rule r = {};
	char why[256];
	unsigned long v;
	int fd = mkstemp(defs);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# comment\nUID_MIN\t\t 5000\nUID_MAX 5999\nHOME_MODE\t0750\n", f);
	fclose(f);
	assert_int_equal(lk_login_defs_get(defs, "HOME_MODE", &v), 0);
	assert_int_equal(v, 0750);
	assert_int_equal(lk_login_defs_get(defs, "UMASK", &v), -ENOENT);
	assert_int_equal(lk_enroll_rule_parse("all", &r, why, sizeof(why)), 0);
	assert_true(lk_enroll_rule_matches(&r, 5000, "x", 1, defs));
	assert_false(lk_enroll_rule_matches(&r, 4999, "x", 1, defs));
	assert_false(lk_enroll_rule_matches(&r, 6000, "x", 1, defs));
	assert_false(lk_enroll_rule_matches(&r, 0, "root", 0, defs));
	unlink(defs);

	/* group: by primary gid; root's group "root" (gid 0) exists everywhere */
	assert_int_equal(lk_enroll_rule_parse("group:root", &r, why, sizeof(why)), 0);
	assert_true(lk_enroll_rule_matches(&r, 1234, "nobody-here", 0, NULL));
	assert_false(lk_enroll_rule_matches(&r, 1234, "nobody-here", 4242, NULL));
	assert_int_equal(lk_enroll_rule_parse("group:no-such-group-lk", &r, why, sizeof(why)), 0);
	assert_false(lk_enroll_rule_matches(&r, 1234, "nobody-here", 0, NULL));
	/* none never matches */
	assert_int_equal(lk_enroll_rule_parse("none", &r, why, sizeof(why)), 0);
	assert_false(lk_enroll_rule_matches(&r, 1000, "x", 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_values),
	    cmocka_unit_test(test_bad_values_change_nothing),
	    cmocka_unit_test(test_all_and_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
