/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config/: the configuration parser and its helpers (the loader: test-config-load.c). */
#include "test-util.h"

#include <errno.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config/config.h"

#define D LK_CONFIG_DROPIN
#define M LK_CONFIG_MAIN
/* A complete, valid policy section: lines 1-3. */
#define WEB "[policy web]\nroot = /var/cache/web\nper_user = yes\n"

static const char *error_of(const struct lk_config_error *e)
{
	static char buf[2048];

	lk_config_error_format(e, buf, sizeof(buf));
	return buf;
}

/* Parse text as t.conf; return the formatted error ("" if it parsed). */
static const char *parse_error(enum lk_config_file_kind kind, const char *text, size_t len)
{
	struct lk_config c;
	struct lk_config_error e = {};
	int r;

	lk_config_init(&c);
	r = lk_config_parse_buffer(&c, text, len, "t.conf", kind, &e);
	if (r < 0) {
		/* A failed file adds nothing. */
		assert_int_equal(c.n_cache_policies, 0);
		assert_int_equal(c.n_users, 0);
	} else {
		r = lk_config_finish(&c, &e);
	}
	lk_config_free(&c);
	return r < 0 ? error_of(&e) : "";
}

struct bad_case {
	enum lk_config_file_kind kind;
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *error;
};

#define VALID_POLICY_KEYS                                                                                    \
	"root, per_user, subdir, mode, contents, filenames, padding, iv_ino_lblk_64, lock_on_logout"

static const struct bad_case bad_cases[] = {
    /* Lexical: what inih would have read some other way. */
    {D, "[policy web]\nroot = /var/ca\0che/web\nper_user = yes\n",
     sizeof("[policy web]\nroot = /var/ca\0che/web\nper_user = yes\n") - 1,
     "t.conf:2: NUL byte; the file must be plain text"},
    {D, "[policy web]\r\nroot = /var/cache/web\r\n", 0,
     "t.conf:1: carriage return (DOS line end); convert the file with dos2unix"},
    {D, "[policy web]\nroot = /var/\x01web\n", 0, "t.conf:2: control character 0x01; remove it"},
    {D, "[policy web]\nroot = /var/web\x7f\n", 0, "t.conf:2: control character 0x7f; remove it"},
    {D, "# comment \x1b[2J\n", 0, "t.conf:1: control character 0x1b; remove it"},
    {D, "\xef\xbb\xbf[policy web]\n", 0, "t.conf:1: UTF-8 byte order mark; save the file without it"},
    {D, WEB "subdir = %u\n  cache\n", 0,
     "t.conf:5: line starts with whitespace; continuation lines are not supported: remove the indentation "
     "and keep each value on one line"},
    {D, "[policy web]\n\troot = /var/cache/web\n", 0,
     "t.conf:2: line starts with whitespace; continuation lines are not supported: remove the indentation "
     "and keep each value on one line"},
    {D, "  [policy web]\n", 0,
     "t.conf:1: line starts with whitespace; continuation lines are not supported: remove the indentation "
     "and keep each value on one line"},
    {D, WEB "mode = 0700 ; private\n", 0,
     "t.conf:4: inline comment; put comments on a line of their own, starting with '#' or ';'"},
    {D, WEB "mode = 0700\t# private\n", 0,
     "t.conf:4: inline comment; put comments on a line of their own, starting with '#' or ';'"},
    {D, "[policy web]\nroot: /var/cache/web\n", 0,
     "t.conf:2: ':' is not a separator here; write \"key = value\""},
    {D, "[policy web]\nroot /var/cache/web\n", 0,
     "t.conf:2: expected \"key = value\"; add '=' between the key and the value"},
    {D, "[policy web]\n = /var/cache/web\n", 0,
     "t.conf:2: line starts with whitespace; continuation lines are not supported: remove the indentation "
     "and keep each value on one line"},
    {D, "[policy web]\n= /var/cache/web\n", 0, "t.conf:2: missing key before '='; write \"key = value\""},
    {D, "# leading comment\nroot = /var/cache/web\n", 0,
     "t.conf:2: key \"root\" outside a section; put it under [policy NAME]"},
    {M, "lock_on_logout = no\n", 0,
     "t.conf:1: key \"lock_on_logout\" outside a section; put it under [latchkey]"},

    /* Section headers. */
    {D, "[policy web\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {D, "[policy web] extra\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {D, "[policy  web]\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {D, "[policy web x]\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {D, "[policy]\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {D, "[policy [web]]\n", 0, "t.conf:1: malformed section header; write it as [policy NAME]"},
    {M, "[latchkey main]\n", 0, "t.conf:1: malformed section header; write it as [latchkey] or [user NAME]"},
    {M, "[user]\n", 0, "t.conf:1: malformed section header; write it as [latchkey] or [user NAME]"},
    {D, "[polcy web]\n", 0, "t.conf:1: unknown section [polcy web]; valid sections here: [policy NAME]"},
    {M, "[global]\n", 0,
     "t.conf:1: unknown section [global]; valid sections here: [latchkey] or [user NAME]"},
    {M, WEB, 0, "t.conf:1: [policy] sections belong in drop-ins; move it to policy.d/NAME.conf"},
    {D, "[latchkey]\nlock_on_logout = no\n", 0,
     "t.conf:1: [latchkey] belongs in latchkey.conf; a drop-in holds only [policy NAME] sections"},
    {D, "[user alice]\n", 0,
     "t.conf:1: [user] belongs in latchkey.conf; a drop-in holds only [policy NAME] sections"},
    {D, "[policy .web]\n", 0,
     "t.conf:1: invalid policy name \".web\"; use 1 to 64 of A-Z a-z 0-9 _ . - (not starting with '.')"},
    {D, "[policy a/b]\n", 0,
     "t.conf:1: invalid policy name \"a/b\"; use 1 to 64 of A-Z a-z 0-9 _ . - (not starting with '.')"},
    {D, "[policy a234567890123456789012345678901234567890123456789012345678901234x]\n", 0,
     "t.conf:1: invalid policy name \"a234567890123456789012345678901234567890123456789012345678901234...\"; "
     "use 1 to 64 of A-Z a-z 0-9 _ . - (not starting with '.')"},
    {M, "[user a,b]\n", 0,
     "t.conf:1: invalid user name \"a,b\"; write the login name (no space, ':', ',' or '/', at most 32 "
     "bytes)"},
    {M, "[latchkey]\n[user a]\n[latchkey]\n", 0,
     "t.conf:3: [latchkey] appears twice (first at line 1); merge the two sections"},
    {M, "[user alice]\nlock_on_logout = no\n[user bob]\n[user alice]\n", 0,
     "t.conf:4: [user alice] appears twice; merge the two sections"},

    /* Keys. */
    {D, WEB "mdoe = 0700\n", 0,
     "t.conf:4: unknown key \"mdoe\" in [policy web]; did you mean \"mode\"? Valid keys: " VALID_POLICY_KEYS},
    {D, WEB "Root = /x\n", 0,
     "t.conf:4: unknown key \"Root\" in [policy web]; did you mean \"root\"? Valid keys: " VALID_POLICY_KEYS},
    {D, WEB "iv_ino = yes\n", 0,
     "t.conf:4: unknown key \"iv_ino\" in [policy web]; did you mean \"iv_ino_lblk_64\"? Valid "
     "keys: " VALID_POLICY_KEYS},
    {D, WEB "roo\tx = /x\n", 0,
     "t.conf:4: unknown key \"roo\\tx\" in [policy web]; did you mean \"root\"? Valid "
     "keys: " VALID_POLICY_KEYS},
    {D, WEB "colour = blue\n", 0,
     "t.conf:4: unknown key \"colour\" in [policy web]; valid keys: " VALID_POLICY_KEYS},
    {M, "[latchkey]\nlock_dealy = 1s\n", 0,
     "t.conf:2: unknown key \"lock_dealy\" in [latchkey]; did you mean \"lock_delay\"? Valid keys: "
     "lock_on_logout, lock_delay, enroll_at_login, create_home, home_skel, tpm, tpm_tcti, tpm_pcrs"},
    {M, "[user bob]\nlock_delay = 1s\n", 0,
     "t.conf:2: unknown key \"lock_delay\" in [user bob]; valid keys: lock_on_logout"},
    {D, WEB "mode = 0700\nmode = 0750\n", 0,
     "t.conf:5: duplicate key \"mode\" (first set at line 4); keep only one"},
    {D, WEB "root = /var/cache/web\n", 0,
     "t.conf:4: duplicate key \"root\" (first set at line 2); keep only one"},
    {D, "[policy web]\nroot =\n", 0, "t.conf:2: empty value for root; give a value or remove the line"},
    {M, "[latchkey]\nlock_delay = \n", 0,
     "t.conf:2: empty value for lock_delay; give a value or remove the line"},

    /* Required keys. */
    {D, "[policy web]\nper_user = yes\n[policy b]\n", 0,
     "t.conf:1: [policy web] has no root; add root = /absolute/path"},
    {D, "[policy web]\nroot = /var/cache/web\n", 0,
     "t.conf:1: [policy web] has no per_user; add per_user = yes"},
    {D, "[policy web]\nroot = /var/cache/web\nper_user = no\n", 0,
     "t.conf:3: per_user = no is not supported; per-user directories are the only kind of policy: set "
     "per_user = yes"},
    {D, "[policy web]\nroot = /var/cache/web\nper_user = maybe\n", 0,
     "t.conf:3: invalid boolean \"maybe\" for per_user; use yes or no (or true/false, 1/0)"},

    /* root */
    {D, "[policy web]\nroot = var/cache/web\n", 0,
     "t.conf:2: root \"var/cache/web\" is not an absolute path; write it starting with '/'"},
    {D, "[policy web]\nroot = ~/cache\n", 0,
     "t.conf:2: root \"~/cache\" is not an absolute path; write it starting with '/'"},
    {D, "[policy web]\nroot = /\n", 0,
     "t.conf:2: root must not be \"/\"; choose a directory of its own, e.g. /var/cache/NAME"},
    {D, "[policy web]\nroot = /var//cache/web\n", 0,
     "t.conf:2: root \"/var//cache/web\" contains \"//\"; write \"/var/cache/web\""},
    {D, "[policy web]\nroot = //var/cache\n", 0,
     "t.conf:2: root \"//var/cache\" contains \"//\"; write \"/var/cache\""},
    {D, "[policy web]\nroot = /var/./cache/web\n", 0,
     "t.conf:2: root \"/var/./cache/web\" contains a \".\" component; write \"/var/cache/web\""},
    {D, "[policy web]\nroot = /var/cache/.\n", 0,
     "t.conf:2: root \"/var/cache/.\" contains a \".\" component; write \"/var/cache\""},
    {D, "[policy web]\nroot = /var/cache/../web\n", 0,
     "t.conf:2: root \"/var/cache/../web\" contains a \"..\" component; write the real path (realpath prints "
     "it)"},
    {D, "[policy web]\nroot = /var/cache/web/\n", 0,
     "t.conf:2: root \"/var/cache/web/\" ends with '/'; write \"/var/cache/web\""},
    {D, "[policy web]\nroot = /var/cache/web\tx\n", 0,
     "t.conf:2: value of root contains a control character; remove it"},

    /* subdir */
    {D, WEB "subdir = %u/cache\n", 0,
     "t.conf:4: subdir \"%u/cache\" contains '/'; per-user directories are made right under the root: use "
     "one "
     "name such as %u"},
    {D, WEB "subdir = cache\n", 0,
     "t.conf:4: subdir \"cache\" contains neither %u nor %U, so all users would share one directory; use a "
     "template such as %u"},
    {D, WEB "subdir = %%u\n", 0,
     "t.conf:4: subdir \"%%u\" contains neither %u nor %U, so all users would share one directory; use a "
     "template such as %u"},
    {D, WEB "subdir = .\n", 0,
     "t.conf:4: subdir \".\" does not name a directory of its own; use a template such as %u"},
    {D, WEB "subdir = ..\n", 0,
     "t.conf:4: subdir \"..\" does not name a directory of its own; use a template such as %u"},
    {D, WEB "subdir = %x\n", 0,
     "t.conf:4: subdir \"%x\" has the unknown escape \"%x\"; use %u (user name), %U (uid) or %% (a '%')"},
    {D, WEB "subdir = %u%\n", 0, "t.conf:4: subdir \"%u%\" ends with a lone '%'; write %% for a literal '%'"},
    {D, WEB "subdir =#%u\n", 0,
     "t.conf:4: value of subdir starts with '#', which starts a comment; remove it"},
    {D, WEB "subdir = %u%u%u%u%u%u%u%u\n", 0,
     "t.conf:4: subdir \"%u%u%u%u%u%u%u%u\" can expand to 264 bytes, more than 255; shorten it"},
    {D, WEB "subdir = %u_012345678901234567890123456789012345678901234567890123456789xx\n", 0,
     "t.conf:4: subdir is longer than 64 bytes; use a short template such as %u"},

    /* mode */
    {D, WEB "mode = rwx\n", 0, "t.conf:4: invalid mode \"rwx\"; write an octal mode such as 0700"},
    {D, WEB "mode = 0o700\n", 0, "t.conf:4: invalid mode \"0o700\"; write an octal mode such as 0700"},
    {D, WEB "mode = 0770\n", 0,
     "t.conf:4: mode 0770 lets group or others write; use 0700 (or 0750 or 0755 to let them read)"},
    {D, WEB "mode = 0702\n", 0,
     "t.conf:4: mode 0702 lets group or others write; use 0700 (or 0750 or 0755 to let them read)"},
    {D, WEB "mode = 1700\n", 0,
     "t.conf:4: mode 1700 has bits beyond 0777 (setuid, setgid or sticky); use a mode such as 0700"},
    {D, WEB "mode = 04700\n", 0,
     "t.conf:4: mode 4700 has bits beyond 0777 (setuid, setgid or sticky); use a mode such as 0700"},
    {D, WEB "mode = 0500\n", 0,
     "t.conf:4: mode 0500 does not give the owner read, write and search; use a mode such as 0700"},

    /* encryption modes */
    {D, WEB "contents = AES-512\n", 0,
     "t.conf:4: unknown contents mode \"AES-512\"; use AES-256-XTS or Adiantum"},
    {D, WEB "contents = AES-256-CTS\n", 0,
     "t.conf:4: contents mode AES-256-CTS is not allowed; use AES-256-XTS or Adiantum"},
    {D, WEB "filenames = AES-128-CTS\n", 0,
     "t.conf:4: filenames mode AES-128-CTS is not allowed; use AES-256-CTS, AES-256-HCTR2 or Adiantum"},
    {D, WEB "filenames = HCTR2\n", 0,
     "t.conf:4: unknown filenames mode \"HCTR2\"; use AES-256-CTS, AES-256-HCTR2 or Adiantum"},
    {D, WEB "contents = Adiantum\n", 0,
     "t.conf:4: contents Adiantum cannot be combined with filenames AES-256-CTS; set filenames = Adiantum"},
    {D, WEB "filenames = Adiantum\nmode = 0700\n", 0,
     "t.conf:4: filenames Adiantum cannot be combined with contents AES-256-XTS; set contents = Adiantum"},
    {D, WEB "filenames = AES-256-HCTR2\ncontents = Adiantum\n", 0,
     "t.conf:5: contents Adiantum cannot be combined with filenames AES-256-HCTR2; set filenames = Adiantum"},
    {D, WEB "padding = 12\n", 0, "t.conf:4: invalid padding \"12\"; use 4, 8, 16 or 32"},
    {D, WEB "padding = 032\n", 0, "t.conf:4: invalid padding \"032\"; use 4, 8, 16 or 32"},
    {D, WEB "iv_ino_lblk_64 = enabled\n", 0,
     "t.conf:4: invalid boolean \"enabled\" for iv_ino_lblk_64; use yes or no (or true/false, 1/0)"},
    {D, WEB "lock_on_logout = on\n", 0,
     "t.conf:4: invalid boolean \"on\" for lock_on_logout; use yes or no (or true/false, 1/0)"},

    /* latchkey.conf */
    {M, "[latchkey]\nlock_on_logout = 2\n", 0,
     "t.conf:2: invalid boolean \"2\" for lock_on_logout; use yes or no (or true/false, 1/0)"},
    {M, "[latchkey]\nlock_delay = 5x\n", 0,
     "t.conf:2: invalid lock_delay \"5x\"; write a whole number and a unit (ms, s, min or h), e.g. 30s"},
    {M, "[latchkey]\nlock_delay = 30\n", 0,
     "t.conf:2: invalid lock_delay \"30\"; write a whole number and a unit (ms, s, min or h), e.g. 30s"},
    {M, "[latchkey]\nlock_delay = 1.5s\n", 0,
     "t.conf:2: invalid lock_delay \"1.5s\"; write a whole number and a unit (ms, s, min or h), e.g. 30s"},
    {M, "[latchkey]\nlock_delay = -1s\n", 0,
     "t.conf:2: invalid lock_delay \"-1s\"; write a whole number and a unit (ms, s, min or h), e.g. 30s"},
    {M, "[latchkey]\nlock_delay = 30 s\n", 0,
     "t.conf:2: invalid lock_delay \"30 s\"; write a whole number and a unit (ms, s, min or h), e.g. 30s"},
    {M, "[latchkey]\nlock_delay = 2h\n", 0, "t.conf:2: lock_delay \"2h\" is longer than 1h; use at most 1h"},
    {M, "[latchkey]\nlock_delay = 61min\n", 0,
     "t.conf:2: lock_delay \"61min\" is longer than 1h; use at most 1h"},
    {M, "[latchkey]\nlock_delay = 3600001ms\n", 0,
     "t.conf:2: lock_delay \"3600001ms\" is longer than 1h; use at most 1h"},
    {M, "[latchkey]\nlock_delay = 99999999999999999999s\n", 0,
     "t.conf:2: lock_delay \"99999999999999999999s\" is longer than 1h; use at most 1h"},

    {M, "[latchkey]\ntpm = yes\n", 0, "t.conf:2: tpm must be off, preferred or required, not \"yes\""},
    {M, "[latchkey]\ntpm_tcti = /dev/tpmrm0\n", 0,
     "t.conf:2: tpm_tcti must name a TCTI and its configuration, e.g. device:/dev/tpmrm0"},
    {M, "[latchkey]\ntpm_pcrs = md5:7\n", 0,
     "t.conf:2: tpm_pcrs must be BANK:N[,N...] with BANK sha1, sha256 or sha384, e.g. sha256:7"},
    {M, "[latchkey]\ntpm_pcrs = sha256:24\n", 0, "t.conf:2: tpm_pcrs: PCR 24 out of range 0..23"},
    {M, "[latchkey]\ntpm_pcrs = sha256:0,,7\n", 0,
     "t.conf:2: tpm_pcrs: PCR numbers 0..23 separated by ',', e.g. sha256:0,7"},

    /* Across policies of one file (lk_config_finish). */
    {D, WEB "[policy web]\nroot = /srv/web\nper_user = yes\n", 0,
     "t.conf:4: policy \"web\" is already defined at t.conf:1; rename or remove one of them"},
    {D, WEB "[policy web2]\nroot = /var/cache/web\nper_user = yes\n", 0,
     "t.conf:4: root \"/var/cache/web\" of policy \"web2\" is also the root of policy \"web\" (t.conf:1); "
     "give "
     "each policy its own root"},
    {D, WEB "[policy inner]\nroot = /var/cache/web/x\nper_user = yes\n", 0,
     "t.conf:4: root \"/var/cache/web/x\" of policy \"inner\" is inside root \"/var/cache/web\" of policy "
     "\"web\" "
     "(t.conf:1); roots must not nest: move one of them"},
    {D, WEB "[policy outer]\nroot = /var/cache\nper_user = yes\n", 0,
     "t.conf:4: root \"/var/cache\" of policy \"outer\" is above root \"/var/cache/web\" of policy \"web\" "
     "(t.conf:1); roots must not nest: move one of them"},
};

static void test_bad_table(void **state)
{
	unsigned failed = 0;

	for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		const char *got = parse_error(b->kind, b->text, b->len ? b->len : strlen(b->text));

		if (strcmp(got, b->error) != 0) {
			print_error("case %zu:\n got:  %s\n want: %s\n", i, got, b->error);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Near misses that must parse: the strictness has no false alarms. */
static void test_good_variants(void **state)
{
	static const char *const good[] = {
	    WEB,
	    WEB "\n\n   \n# comment\n; comment\n   # indented comment\n",
	    "[policy web]   \nroot=/var/cache/web\nper_user\t=\tYES\n",
	    WEB "mode = 700\nsubdir = cache-%U\n",
	    WEB "subdir = %%%u%%\n",
	    WEB "contents = adiantum\nfilenames = ADIANTUM\n",
	    WEB "filenames = AES-256-HCTR2\n",
	    "[policy web]\nroot = /var/cache/a;b#c\nper_user = 1\n",
	    "[policy web]\nroot = /var/cache/with space\nper_user = true\n",
	    "[policy web]\nroot = /var/cache/web\nper_user = yes", /* no final newline */
	    "",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		const char *g = good[i];
		const char *got = parse_error(D, g, strlen(g));

		if (got[0])
			fail_msg("good case %zu refused: %s", i, got);
	}
	{
		static const char m[] = "[latchkey]\nlock_delay = 0\n[user a]\n[user b]\n";

		assert_string_equal(parse_error(M, m, strlen(m)), "");
	}
}

static void test_long_lines(void **state)
{
	char text[4096 + 64];
	size_t n;

	/* A root of exactly LK_PATH_MAX bytes is fine; one more is not. */
	n = (size_t)snprintf(text, sizeof(text), "[policy web]\nper_user = yes\nroot = /");
	memset(text + n, 'a', LK_PATH_MAX - 1);
	strcpy(text + n + LK_PATH_MAX - 1, "\n");
	assert_string_equal(parse_error(D, text, strlen(text)), "");
	strcpy(text + n + LK_PATH_MAX - 1, "b\n");
	assert_string_equal(parse_error(D, text, strlen(text)),
	                    "t.conf:3: root is longer than 1024 bytes; choose a shorter path");

	/* Lines up to 2048 bytes reach the handler whole (inih's default
	 * buffer is 200 bytes); longer ones are refused, never cut. */
	n = (size_t)snprintf(text, sizeof(text), "[policy web]\nroot = /var/cache/web\nper_user = yes\n#");
	memset(text + n, 'c', 2047);
	strcpy(text + n + 2047, "\n");
	assert_string_equal(parse_error(D, text, strlen(text)), "");
	strcpy(text + n + 2047, "c\nroot = /x\n");
	assert_string_equal(parse_error(D, text, strlen(text)),
	                    "t.conf:4: line is longer than 2048 bytes; shorten it");
}

static void test_too_many_policies(void **state)
{
	char *text = malloc(LK_MAX_CACHE_POLICIES * 80 + 100);
	size_t n = 0;

	assert_non_null(text);
	for (int i = 0; i <= LK_MAX_CACHE_POLICIES; i++)
		n += (size_t)sprintf(text + n, "[policy p%d]\nroot = /srv/p%d\nper_user = yes\n", i, i);
	assert_string_equal(parse_error(D, text, n),
	                    "t.conf:193: more than 64 policies; merge or remove some");
	free(text);
}

static void test_valid_structs(void **state)
{
	static const char dropin[] = "# browser caches\n"
	                             "[policy browser]\n"
	                             "root = /var/cache/browser\n"
	                             "per_user = yes\n"
	                             "subdir = u%U-%u\n"
	                             "mode = 0750\n"
	                             "contents = Adiantum\n"
	                             "filenames = Adiantum\n"
	                             "padding = 16\n"
	                             "iv_ino_lblk_64 = yes\n"
	                             "lock_on_logout = no\n"
	                             "\n"
	                             "[policy tmp]\n"
	                             "root = /srv/tmp\n"
	                             "per_user = true\n";
	static const char main_conf[] = "[latchkey]\n"
	                                "lock_on_logout = no\n"
	                                "lock_delay = 2min\n"
	                                "[user alice]\n"
	                                "lock_on_logout = yes\n"
	                                "[user bob]\n";
	struct lk_config_error e = {};
	struct lk_config c;
	const struct lk_cache_policy *p;

	lk_config_init(&c);
	assert_true(c.lock_on_logout);
	assert_int_equal(c.lock_delay_ms, 0);
	assert_int_equal(
	    lk_config_parse_buffer(&c, dropin, strlen(dropin), "/etc/latchkey/policy.d/b.conf", D, &e), 0);
	assert_int_equal(
	    lk_config_parse_buffer(&c, main_conf, strlen(main_conf), "/etc/latchkey/latchkey.conf", M, &e),
	    0);
	assert_int_equal(lk_config_finish(&c, &e), 0);

	assert_false(c.lock_on_logout);
	assert_int_equal(c.lock_delay_ms, 120000);
	assert_int_equal(c.n_users, 2);
	assert_string_equal(c.users[0].user, "alice");
	assert_int_equal(c.users[0].lock_on_logout, LK_YES);
	assert_string_equal(c.users[1].user, "bob");
	assert_int_equal(c.users[1].lock_on_logout, LK_INHERIT);

	assert_int_equal(c.n_cache_policies, 2);
	p = &c.cache_policies[0];
	assert_string_equal(p->name, "browser");
	assert_string_equal(p->root, "/var/cache/browser");
	assert_string_equal(p->subdir, "u%U-%u");
	assert_int_equal(p->mode, 0750);
	assert_int_equal(p->contents_mode, FSCRYPT_MODE_ADIANTUM);
	assert_int_equal(p->filenames_mode, FSCRYPT_MODE_ADIANTUM);
	assert_int_equal(p->flags, FSCRYPT_POLICY_FLAGS_PAD_16 | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64);
	assert_int_equal(p->lock_on_logout, LK_NO);
	assert_string_equal(p->source, "/etc/latchkey/policy.d/b.conf");
	assert_int_equal(p->line, 2);

	/* Defaults. */
	p = &c.cache_policies[1];
	assert_string_equal(p->name, "tmp");
	assert_string_equal(p->root, "/srv/tmp");
	assert_string_equal(p->subdir, "%u");
	assert_int_equal(p->mode, 0700);
	assert_int_equal(p->contents_mode, FSCRYPT_MODE_AES_256_XTS);
	assert_int_equal(p->filenames_mode, FSCRYPT_MODE_AES_256_CTS);
	assert_int_equal(p->flags, FSCRYPT_POLICY_FLAGS_PAD_32);
	assert_int_equal(p->lock_on_logout, LK_INHERIT);
	assert_int_equal(p->line, 13);
	lk_config_free(&c);
	assert_int_equal(c.n_cache_policies, 0);
	assert_null(c.cache_policies);
}

/* A file that fails leaves what earlier files gave untouched. */
static void test_failed_file_changes_nothing(void **state)
{
	struct lk_config_error e = {};
	struct lk_config c;

	lk_config_init(&c);
	assert_int_equal(lk_config_parse_buffer(&c, WEB, strlen(WEB), "a.conf", D, &e), 0);
	static const char bad[] =
	    "[latchkey]\nlock_on_logout = no\nlock_delay = 5s\n[user a]\n[user b]\nbogus = 1\n";

	assert_int_equal(lk_config_parse_buffer(&c, bad, strlen(bad), "m.conf", M, &e), -EINVAL);
	assert_string_equal(error_of(&e),
	                    "m.conf:6: unknown key \"bogus\" in [user b]; valid keys: lock_on_logout");
	assert_int_equal(c.n_cache_policies, 1);
	assert_int_equal(c.n_users, 0);
	assert_true(c.lock_on_logout);
	assert_int_equal(c.lock_delay_ms, 0);
	lk_config_free(&c);
}

static void test_lock_on_logout(void **state)
{
	static const char main_conf[] = "[latchkey]\nlock_on_logout = no\n"
	                                "[user alice]\nlock_on_logout = yes\n"
	                                "[user bob]\n"
	                                "[user carol]\nlock_on_logout = no\n";
	static const char dropin[] = "[policy keep]\nroot = /a\nper_user = yes\nlock_on_logout = yes\n"
	                             "[policy inherit]\nroot = /b\nper_user = yes\n";
	struct lk_config_error e = {};
	struct lk_config c;

	lk_config_init(&c);
	/* Defaults: lock. */
	assert_true(lk_config_lock_on_logout(&c, "anyone", NULL));
	assert_int_equal(lk_config_parse_buffer(&c, main_conf, strlen(main_conf), "m", M, &e), 0);
	assert_int_equal(lk_config_parse_buffer(&c, dropin, strlen(dropin), "d", D, &e), 0);
	const struct lk_cache_policy *keep = &c.cache_policies[0], *inherit = &c.cache_policies[1];

	/* [user] beats the policy, which beats [latchkey]. */
	assert_true(lk_config_lock_on_logout(&c, "alice", NULL));
	assert_true(lk_config_lock_on_logout(&c, "alice", inherit));
	assert_false(lk_config_lock_on_logout(&c, "carol", keep));
	/* bob's section says nothing: the policy, else the global no. */
	assert_true(lk_config_lock_on_logout(&c, "bob", keep));
	assert_false(lk_config_lock_on_logout(&c, "bob", inherit));
	assert_false(lk_config_lock_on_logout(&c, "bob", NULL));
	assert_false(lk_config_lock_on_logout(&c, "dave", NULL));
	assert_true(lk_config_lock_on_logout(&c, "dave", keep));
	assert_false(lk_config_lock_on_logout(&c, NULL, inherit));
	lk_config_free(&c);
}

static void test_subdir_expansion(void **state)
{
	struct lk_cache_policy p;
	char out[300];

	assert_int_equal(lk_cache_policy_init(&p, "t"), 0);
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 1000, out, sizeof(out)), 0);
	assert_string_equal(out, "alice");
	strcpy(p.subdir, "%U");
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 4294967294u, out, sizeof(out)), 0);
	assert_string_equal(out, "4294967294");
	strcpy(p.subdir, "%%%u-%U%%");
	assert_int_equal(lk_cache_policy_subdir(&p, "bob", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "%bob-0%");
	strcpy(p.subdir, ".%u");
	assert_int_equal(lk_cache_policy_subdir(&p, "x", 1, out, sizeof(out)), 0);
	assert_string_equal(out, ".x");

	/* Names from NSS are not trusted to be plain. */
	strcpy(p.subdir, "%u");
	assert_int_equal(lk_cache_policy_subdir(&p, "", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(lk_cache_policy_subdir(&p, ".", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(lk_cache_policy_subdir(&p, "..", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(lk_cache_policy_subdir(&p, "a/b", 1, out, sizeof(out)), -EINVAL);
	strcpy(p.subdir, ".%u");
	assert_int_equal(lk_cache_policy_subdir(&p, ".", 1, out, sizeof(out)), -EINVAL);
	/* Too long for out, and for a file name. */
	strcpy(p.subdir, "%u%u");
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 1, out, 10), -ENAMETOOLONG);
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 1, out, 11), 0);
	assert_string_equal(out, "alicealice");
	{
		char longname[200];

		memset(longname, 'a', 199);
		longname[199] = '\0';
		assert_int_equal(lk_cache_policy_subdir(&p, longname, 1, out, sizeof(out)), -ENAMETOOLONG);
	}
	/* Not a checked template. */
	strcpy(p.subdir, "%q");
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 1, out, sizeof(out)), -EINVAL);
	strcpy(p.subdir, "a%");
	assert_int_equal(lk_cache_policy_subdir(&p, "alice", 1, out, sizeof(out)), -EINVAL);
}

static void test_format_round_trip(void **state)
{
	static const char want[] = "[policy browser]\n"
	                           "root = /var/cache/browser\n"
	                           "per_user = yes\n"
	                           "subdir = %u\n"
	                           "mode = 0700\n"
	                           "contents = AES-256-XTS\n"
	                           "filenames = AES-256-HCTR2\n"
	                           "padding = 32\n"
	                           "iv_ino_lblk_64 = no\n";
	struct lk_config_error e = {};
	struct lk_cache_policy p, q;
	struct lk_config c;
	char buf[2048], why[512];
	int n;

	assert_int_equal(lk_cache_policy_init(&p, "browser"), 0);
	assert_int_equal(lk_cache_policy_set(&p, "root", "/var/cache/browser", why, sizeof(why)), 0);
	assert_int_equal(lk_cache_policy_set(&p, "filenames", "aes-256-hctr2", why, sizeof(why)), 0);
	n = lk_cache_policy_format(&p, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(lk_cache_policy_format(&p, buf, (size_t)n), -ENOBUFS);

	assert_int_equal(lk_cache_policy_set(&p, "mode", "0755", why, sizeof(why)), 0);
	assert_int_equal(lk_cache_policy_set(&p, "lock_on_logout", "no", why, sizeof(why)), 0);
	assert_int_equal(lk_cache_policy_set(&p, "iv_ino_lblk_64", "yes", why, sizeof(why)), 0);
	assert_int_equal(lk_cache_policy_set(&p, "padding", "8", why, sizeof(why)), 0);
	n = lk_cache_policy_format(&p, buf, sizeof(buf));
	assert_true(n > 0);
	lk_config_init(&c);
	assert_int_equal(lk_config_parse_buffer(&c, buf, (size_t)n, "x.conf", D, &e), 0);
	assert_int_equal(c.n_cache_policies, 1);
	q = c.cache_policies[0];
	assert_string_equal(q.name, p.name);
	assert_string_equal(q.root, p.root);
	assert_string_equal(q.subdir, p.subdir);
	assert_int_equal(q.mode, 0755);
	assert_int_equal(q.contents_mode, p.contents_mode);
	assert_int_equal(q.filenames_mode, p.filenames_mode);
	assert_int_equal(q.flags, FSCRYPT_POLICY_FLAGS_PAD_8 | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64);
	assert_int_equal(q.lock_on_logout, LK_NO);
	lk_config_free(&c);

	/* Nothing that would not parse back is ever written. */
	q = p;
	strcpy(q.root, "/a\n[policy evil]");
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	strcpy(q.root, "relative");
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	strcpy(q.subdir, "shared");
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	q.mode = 0777;
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	q.contents_mode = FSCRYPT_MODE_ADIANTUM;
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	q.root[0] = '\0';
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
	q = p;
	q.lock_on_logout = 7;
	assert_int_equal(lk_cache_policy_format(&q, buf, sizeof(buf)), -EINVAL);
}

static void test_set_api(void **state)
{
	struct lk_cache_policy p;
	char why[512];

	assert_int_equal(lk_cache_policy_init(&p, ".x"), -EINVAL);
	assert_int_equal(lk_cache_policy_init(&p, ""), -EINVAL);
	assert_int_equal(lk_cache_policy_init(&p, "ok-1.2_3"), 0);
	assert_int_equal(lk_cache_policy_set(&p, "padd", "8", why, sizeof(why)), -ENOENT);
	assert_string_equal(why,
	                    "unknown key \"padd\"; did you mean \"padding\"? valid keys: " VALID_POLICY_KEYS);
	assert_int_equal(lk_cache_policy_set(&p, "mode", "0777", why, sizeof(why)), -EINVAL);
	assert_int_equal(p.mode, 0700); /* unchanged */
	assert_int_equal(lk_cache_policy_set(&p, "root", "/a ;b", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "value of root contains \" ;\", which starts a comment; remove the space");
	assert_int_equal(lk_cache_policy_set(&p, "root", "/a ", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "value of root starts or ends with a space; remove it");
	assert_int_equal(lk_cache_policy_set(&p, "root", "/a\nb", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "value of root contains a control character; remove it");
	assert_int_equal(lk_cache_policy_check(&p, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "[policy ok-1.2_3] has no root; add root = /absolute/path");
	assert_int_equal(lk_cache_policy_set(&p, "root", "/srv/x", NULL, 0), 0);
	assert_int_equal(lk_cache_policy_check(&p, why, sizeof(why)), 0);

	assert_int_equal(lk_config_check_root("/var/cache", why, sizeof(why)), 0);
	assert_int_equal(lk_config_check_root("/var/cache/", why, sizeof(why)), -EINVAL);

	uint8_t m;
	assert_int_equal(lk_fscrypt_mode_from_name("aes-256-xts", &m), 0);
	assert_int_equal(m, FSCRYPT_MODE_AES_256_XTS);
	assert_string_equal(lk_fscrypt_mode_name(FSCRYPT_MODE_AES_256_HCTR2), "AES-256-HCTR2");
	assert_null(lk_fscrypt_mode_name(0));
	assert_int_equal(lk_fscrypt_mode_from_name("XTS", &m), -EINVAL);
	assert_true(lk_cache_policy_name_is_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
	assert_false(lk_cache_policy_name_is_valid(
	    "a2345678901234567890123456789012345678901234567890123456789012345"));
}

/* The example drop-in in contrib/ parses, to what its comments say. */
static const char *example_path;

static void test_example_dropin(void **state)
{
	struct lk_config_error e = {};
	struct lk_config c;
	char text[LK_CONFIG_FILE_MAX];
	size_t len;
	FILE *f;

	if (!example_path)
		skip();
	f = fopen(example_path, "r");
	assert_non_null(f);
	len = fread(text, 1, sizeof(text), f);
	fclose(f);
	lk_config_init(&c);
	if (lk_config_parse_buffer(&c, text, len, example_path, D, &e) < 0)
		fail_msg("%s", error_of(&e));
	assert_int_equal(c.n_cache_policies, 1);
	assert_string_equal(c.cache_policies[0].root, "/var/cache/browser");
	assert_int_equal(c.cache_policies[0].lock_on_logout, LK_YES);
	lk_config_free(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_table),         cmocka_unit_test(test_good_variants),
	    cmocka_unit_test(test_long_lines),        cmocka_unit_test(test_too_many_policies),
	    cmocka_unit_test(test_valid_structs),     cmocka_unit_test(test_failed_file_changes_nothing),
	    cmocka_unit_test(test_lock_on_logout),    cmocka_unit_test(test_subdir_expansion),
	    cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_set_api),
	    cmocka_unit_test(test_example_dropin),
	};

	if (argc > 1)
		example_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
