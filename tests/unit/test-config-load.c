/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config/: lk_config_load on temporary directories: vendor and etc,
 * override, masking, order, and files that are unsafe to read. */
#include "test-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

/* A complete, valid policy section: lines 1-3. */
#define WEB "[policy web]\nroot = /var/cache/web\nper_user = yes\n"

struct tree {
	char path[64];
	char etc[96], vendor[96];
};

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char sub[160];

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/lk-test-config-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	snprintf(t->etc, sizeof(t->etc), "%s/etc", t->path);
	snprintf(t->vendor, sizeof(t->vendor), "%s/usr", t->path);
	mkdir(t->etc, 0755);
	mkdir(t->vendor, 0755);
	snprintf(sub, sizeof(sub), "%s/policy.d", t->etc);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/policy.d", t->vendor);
	mkdir(sub, 0755);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static const char *dropin_dir(const char *top)
{
	static char buf[2][160];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s/policy.d", top);
	return buf[k];
}

static const char *load_error(struct tree *t, struct lk_config *c)
{
	static char msg[2048];
	struct lk_config_error e = {};
	int r = lk_config_load(t->etc, t->vendor, c, &e);

	if (r < 0) {
		/* Nothing is handed out on failure. */
		assert_int_equal(c->n_cache_policies, 0);
		assert_null(c->cache_policies);
		lk_config_error_format(&e, msg, sizeof(msg));
		return msg;
	}
	return "";
}

static void test_load_override_and_mask(void **state)
{
	struct tree *t = *state;
	struct lk_config c;

	put(dropin_dir(t->vendor), "a.conf", "[policy a]\nroot = /usr-a\nper_user = yes\n", 0644);
	put(dropin_dir(t->etc), "a.conf", "[policy a]\nroot = /etc-a\nper_user = yes\n", 0644);
	put(dropin_dir(t->vendor), "b.conf", "[policy b]\nroot = /usr-b\nper_user = yes\n", 0644);
	put(dropin_dir(t->etc), "b.conf", "", 0644); /* empty: masks */
	put(dropin_dir(t->vendor), "c.conf", "[policy c]\nroot = /usr-c\nper_user = yes\n", 0644);
	put(dropin_dir(t->vendor), "d.conf", "[policy d]\nroot = /usr-d\nper_user = yes\n", 0644);
	/* A /dev/null symlink in etc masks; one in vendor is just empty. */
	{
		char link[200];

		snprintf(link, sizeof(link), "%s/c.conf", dropin_dir(t->etc));
		assert_int_equal(symlink("/dev/null", link), 0);
		snprintf(link, sizeof(link), "%s/e.conf", dropin_dir(t->vendor));
		assert_int_equal(symlink("/dev/null", link), 0);
	}
	/* Not drop-ins. */
	put(dropin_dir(t->etc), "x.conf.bak", "garbage", 0644);
	put(dropin_dir(t->etc), ".x.conf", "garbage", 0644);
	put(dropin_dir(t->etc), "README", "garbage", 0644);
	/* latchkey.conf: etc replaces vendor as a whole. */
	put(t->vendor, "latchkey.conf", "[latchkey]\nlock_delay = 5s\nlock_on_logout = no\n", 0644);

	assert_string_equal(load_error(t, &c), "");
	assert_int_equal(c.n_cache_policies, 2);
	assert_string_equal(c.cache_policies[0].name, "a");
	assert_string_equal(c.cache_policies[0].root, "/etc-a");
	{
		char want[200];

		snprintf(want, sizeof(want), "%s/a.conf", dropin_dir(t->etc));
		assert_string_equal(c.cache_policies[0].source, want);
		snprintf(want, sizeof(want), "%s/d.conf", dropin_dir(t->vendor));
		assert_string_equal(c.cache_policies[1].name, "d");
		assert_string_equal(c.cache_policies[1].source, want);
	}
	assert_int_equal(c.lock_delay_ms, 5000);
	assert_false(c.lock_on_logout);
	lk_config_free(&c);

	put(t->etc, "latchkey.conf", "[latchkey]\nlock_delay = 1s\n", 0644);
	assert_string_equal(load_error(t, &c), "");
	assert_int_equal(c.lock_delay_ms, 1000);
	assert_true(c.lock_on_logout); /* the vendor file is not read at all */
	lk_config_free(&c);
}

static void test_load_order(void **state)
{
	struct tree *t = *state;
	struct lk_config c;

	put(dropin_dir(t->etc), "20-x.conf", "[policy x]\nroot = /x\nper_user = yes\n", 0644);
	put(dropin_dir(t->etc), "10-y.conf", "[policy y]\nroot = /y\nper_user = yes\n", 0644);
	put(dropin_dir(t->vendor), "15-z.conf", "[policy z]\nroot = /z\nper_user = yes\n", 0644);
	put(dropin_dir(t->vendor), "09-w.conf",
	    "[policy w2]\nroot = /w2\nper_user = yes\n[policy w1]\nroot = /w1\nper_user = yes\n", 0644);
	assert_string_equal(load_error(t, &c), "");
	assert_int_equal(c.n_cache_policies, 5);
	assert_string_equal(c.cache_policies[0].name, "w2");
	assert_string_equal(c.cache_policies[1].name, "w1");
	assert_string_equal(c.cache_policies[2].name, "y");
	assert_string_equal(c.cache_policies[3].name, "z");
	assert_string_equal(c.cache_policies[4].name, "x");
	lk_config_free(&c);

	/* Across files: both places named. */
	put(dropin_dir(t->etc), "30-dup.conf", "# again\n[policy y]\nroot = /elsewhere\nper_user = yes\n",
	    0644);
	{
		char want[512];

		snprintf(want, sizeof(want),
		         "%s/30-dup.conf:2: policy \"y\" is already defined at %s/10-y.conf:1; rename or "
		         "remove one of them",
		         dropin_dir(t->etc), dropin_dir(t->etc));
		assert_string_equal(load_error(t, &c), want);
		put(dropin_dir(t->etc), "30-dup.conf", "[policy v]\nroot = /z/v\nper_user = yes\n", 0644);
		snprintf(
		    want, sizeof(want),
		    "%s/30-dup.conf:1: root \"/z/v\" of policy \"v\" is inside root \"/z\" of policy \"z\" "
		    "(%s/15-z.conf:1); roots must not nest: move one of them",
		    dropin_dir(t->etc), dropin_dir(t->vendor));
		assert_string_equal(load_error(t, &c), want);
		/* An error inside a file names that file. */
		put(dropin_dir(t->etc), "30-dup.conf", "[policy v]\nroot = /v\nper_user = yes\nmode = 0777\n",
		    0644);
		snprintf(want, sizeof(want),
		         "%s/30-dup.conf:4: mode 0777 lets group or others write; use 0700 (or 0750 or 0755 "
		         "to let them read)",
		         dropin_dir(t->etc));
		assert_string_equal(load_error(t, &c), want);
	}
}

static void test_load_unsafe_files(void **state)
{
	struct tree *t = *state;
	struct lk_config c;
	char path[200], want[512];

	/* No directories at all: the defaults. */
	{
		struct lk_config_error e = {};

		assert_int_equal(lk_config_load("/nonexistent/etc", "/nonexistent/usr", &c, &e), 0);
		assert_int_equal(c.n_cache_policies, 0);
		assert_true(c.lock_on_logout);
		lk_config_free(&c);
		assert_int_equal(lk_config_load(t->etc, NULL, &c, &e), 0);
		lk_config_free(&c);
	}

	put(dropin_dir(t->etc), "w.conf", WEB, 0664);
	snprintf(path, sizeof(path), "%s/w.conf", dropin_dir(t->etc));
	snprintf(want, sizeof(want), "%s: file is writable by group or others (mode 0664); chmod go-w %s",
	         path, path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(chmod(path, 0646), 0);
	snprintf(want, sizeof(want), "%s: file is writable by group or others (mode 0646); chmod go-w %s",
	         path, path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(unlink(path), 0);

	/* A symlink other than the /dev/null mask. */
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(
	    want, sizeof(want),
	    "%s: is a symbolic link; replace it with a regular file (only a link to /dev/null masks a file)",
	    path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(unlink(path), 0);

	/* A FIFO must not hang the loader (CVE-2022-25327). */
	assert_int_equal(mkfifo(path, 0644), 0);
	snprintf(want, sizeof(want), "%s: is not a regular file; replace it with one, or remove it", path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(rmdir(path), 0);

	/* Too big. */
	{
		char *big = malloc(LK_CONFIG_FILE_MAX + 2);

		assert_non_null(big);
		memset(big, '#', LK_CONFIG_FILE_MAX + 1);
		big[LK_CONFIG_FILE_MAX] = '\n';
		big[LK_CONFIG_FILE_MAX + 1] = '\0';
		put(dropin_dir(t->etc), "w.conf", big, 0644);
		free(big);
	}
	snprintf(want, sizeof(want), "%s: is larger than 65536 bytes; split it into several drop-ins", path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(unlink(path), 0);

	/* A writable drop-in directory. */
	assert_int_equal(chmod(dropin_dir(t->vendor), 0775), 0);
	snprintf(want, sizeof(want),
	         "%s: directory is writable by group or others (mode 0775); chmod go-w %s",
	         dropin_dir(t->vendor), dropin_dir(t->vendor));
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(chmod(dropin_dir(t->vendor), 0755), 0);
	assert_string_equal(load_error(t, &c), "");
	lk_config_free(&c);
}

/* Ownership: only root can give a file away, so only as root. */
static void test_load_foreign_owner(void **state)
{
	struct tree *t = *state;
	struct lk_config c;
	char path[200], want[512];

	if (geteuid() != 0) {
		print_message("not root: ownership checks skipped\n");
		skip();
	}
	put(dropin_dir(t->etc), "w.conf", WEB, 0644);
	snprintf(path, sizeof(path), "%s/w.conf", dropin_dir(t->etc));
	assert_string_equal(load_error(t, &c), "");
	lk_config_free(&c);
	assert_int_equal(chown(path, 4242, 0), 0);
	snprintf(want, sizeof(want), "%s: file is owned by uid 4242, not root; chown root:root %s", path,
	         path);
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chown(dropin_dir(t->etc), 4242, 0), 0);
	snprintf(want, sizeof(want), "%s: directory is owned by uid 4242, not root; chown root:root %s",
	         dropin_dir(t->etc), dropin_dir(t->etc));
	assert_string_equal(load_error(t, &c), want);
	assert_int_equal(chown(dropin_dir(t->etc), 0, 0), 0);
	snprintf(path, sizeof(path), "%s/latchkey.conf", t->vendor);
	put(t->vendor, "latchkey.conf", "[latchkey]\n", 0644);
	assert_int_equal(chown(path, 4242, 4242), 0);
	snprintf(want, sizeof(want), "%s: file is owned by uid 4242, not root; chown root:root %s", path,
	         path);
	assert_string_equal(load_error(t, &c), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_load_override_and_mask, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_load_order, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_load_unsafe_files, tree_setup, tree_teardown),
	    cmocka_unit_test_setup_teardown(test_load_foreign_owner, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
