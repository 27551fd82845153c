/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Root index parser. Rules tested here, beyond format.h: every line ends
 * in '\n', the last one included (a file without its final newline is a
 * torn write and is refused); no empty lines; exactly one space; lowercase
 * hex only; no duplicate paths; no NUL bytes. Version 1 files (key and
 * path only) are read and written back as version 2.
 */
#include "test-util.h"

#include <errno.h>
#include <stdio.h>

#include "root_index.h"

#define ID1   "00112233445566778899aabbccddeeff"
#define HDR   LK_INDEX_HEADER_V1 "\n"
#define HDR2  LK_INDEX_HEADER "\n"
#define UUID1 "0123456789abcdef0123456789abcdef"

static int parse_str(const char *s, struct lk_index *ix)
{
	return lk_index_parse(s, strlen(s), ix);
}

static void test_valid(void **state)
{
	static struct lk_index ix;

	assert_int_equal(parse_str(HDR, &ix), 0);
	assert_int_equal(ix.n, 0);
	assert_int_equal(parse_str(HDR ID1 " /home/alice\n" ID1 " /\n", &ix), 0);
	assert_int_equal(ix.n, 2);
	assert_string_equal(ix.e[0].path, "/home/alice");
	assert_int_equal(ix.e[0].key_id[0], 0x00);
	assert_int_equal(ix.e[0].key_id[15], 0xff);
	assert_string_equal(ix.e[1].path, "/");
	/* Spaces and UTF-8 inside a path are fine. */
	assert_int_equal(parse_str(HDR ID1 " /home/a b/\xc3\xa9t\xc3\xa9\n", &ix), 0);
	assert_string_equal(ix.e[0].path, "/home/a b/\xc3\xa9t\xc3\xa9");
}

static void test_malformed(void **state)
{
	static struct lk_index ix;
	static const char *const bad[] = {
	    "",                                            /* empty */
	    LK_INDEX_HEADER_V1,                            /* header without newline */
	    "latchkey-index 3\n",                          /* other version */
	    "latchkey-index 1 \n",                         /* trailing space */
	    "Latchkey-index 1\n",                          /* case */
	    "\n" HDR,                                      /* leading empty line */
	    HDR "\n",                                      /* empty line */
	    HDR ID1 " /home/alice",                        /* missing final newline */
	    HDR ID1 "/home/alice\n",                       /* no separator */
	    HDR ID1 "  /home/alice\n",                     /* two spaces */
	    HDR ID1 "\t/home/alice\n",                     /* tab separator */
	    HDR "00112233445566778899AABBCCDDEEFF /x\n",   /* uppercase hex */
	    HDR "0011223344556677889zaabbccddeeff /x\n",   /* bad hex digit */
	    HDR "00112233445566778899aabbccddee /x\n",     /* short id */
	    HDR "00112233445566778899aabbccddeeff00 /x\n", /* long id */
	    HDR ID1 " home/alice\n",                       /* relative path */
	    HDR ID1 " \n",                                 /* empty path */
	    HDR ID1 " /home/al\x01ice\n",                  /* control character */
	    HDR ID1 " /home/al\x7fice\n",                  /* DEL */
	    HDR ID1 " /home/alice\r\n",                    /* CR */
	    HDR ID1 " /home//alice\n",                     /* double slash */
	    HDR ID1 " /home/alice/\n",                     /* trailing slash */
	    HDR ID1 " /home/./alice\n",                    /* dot component */
	    HDR ID1 " /home/../etc\n",                     /* dot-dot component */
	    HDR ID1 " /home/alice\n" ID1 " /home/alice\n", /* duplicate path */
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(parse_str(bad[i], &ix), -EBADMSG);
	}

	/* A NUL byte inside the buffer. */
	{
		const char nul[] = HDR ID1 " /a\0b\n";
		assert_int_equal(lk_index_parse(nul, sizeof(nul) - 1, &ix), -EBADMSG);
	}
}

static void test_limits(void **state)
{
	static struct lk_index ix;
	static char buf[LK_INDEX_MAX_SIZE + 2];
	static char path[LK_PATH_MAX + 2];
	size_t pos;

	/* Exactly LK_MAX_INDEX_ENTRIES lines parse; one more does not. */
	pos = (size_t)sprintf(buf, HDR);
	for (int i = 0; i < LK_MAX_INDEX_ENTRIES; i++)
		pos += (size_t)sprintf(buf + pos, ID1 " /p%d\n", i);
	assert_int_equal(lk_index_parse(buf, pos, &ix), 0);
	assert_int_equal(ix.n, LK_MAX_INDEX_ENTRIES);
	pos += (size_t)sprintf(buf + pos, ID1 " /extra\n");
	assert_int_equal(lk_index_parse(buf, pos, &ix), -EBADMSG);

	/* Path of exactly LK_PATH_MAX bytes is fine, one more is not. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[LK_PATH_MAX] = '\0';
	pos = (size_t)snprintf(buf, sizeof(buf), HDR ID1 " %s\n", path);
	assert_int_equal(lk_index_parse(buf, pos, &ix), 0);
	path[LK_PATH_MAX] = 'a';
	path[LK_PATH_MAX + 1] = '\0';
	pos = (size_t)snprintf(buf, sizeof(buf), HDR ID1 " %s\n", path);
	assert_int_equal(lk_index_parse(buf, pos, &ix), -EBADMSG);

	/* Over the size limit. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, HDR, strlen(HDR));
	assert_int_equal(lk_index_parse(buf, LK_INDEX_MAX_SIZE + 1, &ix), -EBADMSG);
}

static void test_round_trip_and_edit(void **state)
{
	static struct lk_index ix, ix2;
	uint8_t id[16], id2[16];
	_cleanup_free_ char *text = NULL;
	size_t len;

	memset(&ix, 0, sizeof(ix));
	for (int i = 0; i < 16; i++)
		id[i] = (uint8_t)(i * 17), id2[i] = (uint8_t)(255 - i);
	assert_int_equal(lk_index_put(&ix, id, "/home/alice"), 0);
	assert_int_equal(lk_index_put(&ix, id, "/srv/data"), 1);    /* its position */
	assert_int_equal(lk_index_put(&ix, id2, "/home/alice"), 0); /* replaces */
	assert_int_equal(ix.n, 2);
	assert_memory_equal(ix.e[0].key_id, id2, 16);
	assert_int_equal(lk_index_put(&ix, id, "relative"), -EINVAL);
	assert_int_equal(lk_index_put(&ix, id, "/a/../b"), -EINVAL);

	assert_int_equal(lk_index_serialize(&ix, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_string_equal(text, HDR2 "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0 - 0:0 - - ok /home/alice\n"
	                               "00112233445566778899aabbccddeeff - 0:0 - - ok /srv/data\n");
	assert_int_equal(lk_index_parse(text, len, &ix2), 0);
	assert_int_equal(ix2.n, ix.n);
	for (unsigned i = 0; i < ix.n; i++) {
		assert_string_equal(ix2.e[i].path, ix.e[i].path);
		assert_memory_equal(ix2.e[i].key_id, ix.e[i].key_id, 16);
	}

	assert_int_equal(lk_index_remove(&ix, "/home/alice"), 0);
	assert_int_equal(lk_index_remove(&ix, "/home/alice"), -ENOENT);
	assert_int_equal(ix.n, 1);
	assert_string_equal(ix.e[0].path, "/srv/data");

	/* Full index: -ENOSPC for a new path, replacing still works. */
	memset(&ix, 0, sizeof(ix));
	for (int i = 0; i < LK_MAX_INDEX_ENTRIES; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/p%d", i);
		assert_int_equal(lk_index_put(&ix, id, p), i);
	}
	assert_int_equal(lk_index_put(&ix, id, "/one-more"), -ENOSPC);
	assert_int_equal(lk_index_put(&ix, id2, "/p3"), 3);
}

/* Version 2: filesystem, handle, gone mark and account survive a round
 * trip byte for byte; a version 1 file comes back as version 2. */
static void test_v2(void **state)
{
	static struct lk_index ix, ix2;
	_cleanup_free_ char *text = NULL, *text2 = NULL;
	const char *v2 = HDR2 "account Alice.Smith\n" ID1 " " UUID1
	                      " 7:3 1 0a0b0c0d0e0f1011 ok /home/a b\n" ID1 " - 259:1 - - gone /srv/x\n";
	size_t len;

	assert_int_equal(parse_str(v2, &ix), 0);
	assert_int_equal(ix.version, 2);
	assert_string_equal(ix.account, "Alice.Smith");
	assert_int_equal(ix.n, 2);
	assert_true(ix.e[0].id.has_uuid);
	assert_int_equal(ix.e[0].id.uuid[0], 0x01);
	assert_int_equal(ix.e[0].id.dev_major, 7);
	assert_int_equal(ix.e[0].id.dev_minor, 3);
	assert_true(ix.e[0].id.has_handle);
	assert_int_equal(ix.e[0].id.handle_type, 1);
	assert_int_equal(ix.e[0].id.handle_len, 8);
	assert_int_equal(ix.e[0].id.handle[7], 0x11);
	assert_false(ix.e[0].gone);
	assert_string_equal(ix.e[0].path, "/home/a b");
	assert_false(ix.e[1].id.has_uuid);
	assert_false(ix.e[1].id.has_handle);
	assert_true(ix.e[1].gone);
	assert_int_equal(lk_index_serialize(&ix, &text, &len), 0);
	assert_string_equal(text, v2);
	assert_int_equal(lk_index_find_key(&ix, ix.e[1].key_id), 0);
	{
		char account[LK_ACCOUNT_MAX + 1];
		assert_int_equal(lk_index_parse_account(v2, strlen(v2), account), 0);
		assert_string_equal(account, "Alice.Smith");
		assert_int_equal(lk_index_parse_account(HDR ID1 " /x\n", strlen(HDR ID1 " /x\n"), account),
		                 0);
		assert_string_equal(account, "");
		assert_int_equal(
		    lk_index_parse_account(HDR2 "account a b\n", strlen(HDR2 "account a b\n"), account),
		    -EBADMSG);
		assert_int_equal(lk_index_parse_account("latchkey-index 3\n", 17, account), -EBADMSG);
	}

	/* Upgrade: v1 in, v2 out, nothing lost. */
	assert_int_equal(parse_str(HDR ID1 " /home/alice\n", &ix), 0);
	assert_int_equal(ix.version, 1);
	assert_string_equal(ix.account, "");
	assert_int_equal(lk_index_serialize(&ix, &text2, &len), 0);
	assert_string_equal(text2, HDR2 ID1 " - 0:0 - - ok /home/alice\n");
	assert_int_equal(parse_str(text2, &ix2), 0);
	assert_int_equal(ix2.version, 2);
	assert_string_equal(ix2.e[0].path, "/home/alice");

	/* Putting another key at a path drops the old directory's identity. */
	assert_int_equal(parse_str(v2, &ix), 0);
	{
		uint8_t other[16] = {1};
		assert_int_equal(lk_index_put(&ix, other, "/home/a b"), 0);
		assert_false(ix.e[0].id.has_handle);
		assert_false(ix.e[0].id.has_uuid);
		assert_int_equal(lk_index_put(&ix, other, "/new"), 2);
	}

	static const char *const bad[] = {
	    HDR2 ID1 " /home/alice\n",                    /* v1 line in v2 */
	    HDR2 ID1 " - 7:3 - - ok\n",                   /* no path */
	    HDR2 ID1 " - 7:3 - - maybe /x\n",             /* bad mark */
	    HDR2 ID1 " - 7:3 1 - ok /x\n",                /* type without handle */
	    HDR2 ID1 " - 7:3 - 0a0b ok /x\n",             /* handle without type */
	    HDR2 ID1 " - 7:3 1 0a0 ok /x\n",              /* odd hex */
	    HDR2 ID1 " - 7:3 1 0A0B ok /x\n",             /* uppercase handle */
	    HDR2 ID1 " - 07:3 - - ok /x\n",               /* leading zero */
	    HDR2 ID1 " - 7 - - ok /x\n",                  /* no minor */
	    HDR2 ID1 " - 7:3 -1 0a ok /x\n",              /* negative type */
	    HDR2 ID1 " 0123 7:3 - - ok /x\n",             /* short UUID */
	    HDR2 ID1 "  - 7:3 - - ok /x\n",               /* two spaces */
	    HDR2 "account \n",                            /* empty account */
	    HDR2 "account a b\n",                         /* space in account */
	    HDR2 "account -x\n",                          /* leading dash */
	    HDR2 "account a:b\n",                         /* colon */
	    HDR2 "account alice",                         /* no newline */
	    HDR2 ID1 " - 7:3 - - ok /x\naccount alice\n", /* account after entries */
	    HDR "account alice\n",                        /* account in v1 */
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		print_message("v2 case %zu\n", i);
		assert_int_equal(parse_str(bad[i], &ix), -EBADMSG);
	}
	/* The longest handle fits, one byte more does not. */
	{
		static char buf[1024];
		char hex[2 * LK_HANDLE_MAX + 3];
		memset(hex, 'a', sizeof(hex));
		hex[2 * LK_HANDLE_MAX] = '\0';
		snprintf(buf, sizeof(buf), HDR2 ID1 " - 7:3 1 %s ok /x\n", hex);
		assert_int_equal(parse_str(buf, &ix), 0);
		hex[2 * LK_HANDLE_MAX] = 'a';
		hex[2 * LK_HANDLE_MAX + 1] = 'a';
		hex[2 * LK_HANDLE_MAX + 2] = '\0';
		snprintf(buf, sizeof(buf), HDR2 ID1 " - 7:3 1 %s ok /x\n", hex);
		assert_int_equal(parse_str(buf, &ix), -EBADMSG);
	}
}

static void test_account_is_valid(void **state)
{
	assert_int_equal(lk_account_is_valid("alice"), 0);
	assert_int_equal(lk_account_is_valid("Alice"), 0);
	assert_int_equal(lk_account_is_valid("DOMAIN+bob$"), 0);
	assert_int_equal(lk_account_is_valid("\xc3\xa9l\xc3\xa8ve"), 0);
	assert_int_equal(lk_account_is_valid(""), -EINVAL);
	assert_int_equal(lk_account_is_valid("-x"), -EINVAL);
	assert_int_equal(lk_account_is_valid("a b"), -EINVAL);
	assert_int_equal(lk_account_is_valid("a:b"), -EINVAL);
	assert_int_equal(lk_account_is_valid("a\nb"), -EINVAL);
	assert_int_equal(lk_account_is_valid(NULL), -EINVAL);
}

static void test_path_is_valid(void **state)
{
	assert_int_equal(lk_path_is_valid("/"), 0);
	assert_int_equal(lk_path_is_valid("/home"), 0);
	assert_int_equal(lk_path_is_valid("/home/.alice/..x/x.."), 0);
	assert_int_equal(lk_path_is_valid(""), -EINVAL);
	assert_int_equal(lk_path_is_valid("home"), -EINVAL);
	assert_int_equal(lk_path_is_valid("//"), -EINVAL);
	assert_int_equal(lk_path_is_valid("/home/"), -EINVAL);
	assert_int_equal(lk_path_is_valid("/."), -EINVAL);
	assert_int_equal(lk_path_is_valid("/.."), -EINVAL);
	assert_int_equal(lk_path_is_valid("/a/./b"), -EINVAL);
	assert_int_equal(lk_path_is_valid("/a\nb"), -EINVAL);
	assert_int_equal(lk_path_is_valid(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_round_trip_and_edit),
	    cmocka_unit_test(test_v2),
	    cmocka_unit_test(test_account_is_valid),
	    cmocka_unit_test(test_path_is_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
