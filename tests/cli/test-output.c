/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON (through json-c) and terminal escaping of hostile strings (paths, names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "output.h"

static int failures;

/* s as latchkeyctl's --json documents print it. */
static void json_string(FILE *f, const char *s)
{
	_cleanup_json_ struct json_object *o = json_out_string(s);

	fputs(json_object_to_json_string_ext(o, JSON_OUT_FLAGS), f);
}

static void check(const char *what, void (*fn)(FILE *, const char *), const char *in, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		perror("open_memstream");
		exit(1);
	}
	fn(f, in);
	fclose(f);
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "FAIL %s: got [%s], want [%s]\n", what, buf, want);
		failures++;
	}
	free(buf);
}

int main(void)
{
	/* JSON: quotes, backslash, the short escapes, other controls; DEL is valid JSON as is. */
	check("plain", json_string, "/home/alice", "\"/home/alice\"");
	check("empty", json_string, "", "\"\"");
	check("quote", json_string, "/a\"b", "\"/a\\\"b\"");
	check("backslash", json_string, "/a\\b", "\"/a\\\\b\"");
	check("short escapes", json_string, "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	check("controls", json_string, "\x01\x1b[2J\x1f\x7f", "\"\\u0001\\u001b[2J\\u001f\x7f\"");
	check("slash kept", json_string, "a/b", "\"a/b\"");
	/* Valid UTF-8 passes through: 2, 3 and 4 byte forms. */
	check("utf8", json_string, "/home/j\xc3\xb6rg/\xe2\x82\xac/\xf0\x9f\x94\x91",
	      "\"/home/j\xc3\xb6rg/\xe2\x82\xac/\xf0\x9f\x94\x91\"");
	/* Invalid UTF-8 becomes U+FFFD (raw UTF-8) per byte: stray continuation, truncated
	 * sequence, overlong '/', surrogate, above U+10FFFF, 0xff. */
	check("stray continuation", json_string, "a\x80z",
	      "\"a\xef\xbf\xbd"
	      "z\"");
	check("truncated", json_string, "a\xe2\x82",
	      "\"a\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\"");
	check("overlong", json_string, "\xc0\xaf",
	      "\"\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\"");
	check("overlong 3", json_string, "\xe0\x80\xaf",
	      "\"\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\"");
	check("surrogate", json_string, "\xed\xa0\x80",
	      "\"\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\"");
	check("too big", json_string, "\xf4\x90\x80\x80",
	      "\"\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\xef\xbf\xbd"
	      "\"");
	check("0xff", json_string, "\xff",
	      "\"\xef\xbf\xbd"
	      "\"");
	check("all at once", json_string, "/srv/\"x\"\\\n\xc3\xa9\xc3",
	      "\"/srv/\\\"x\\\"\\\\\\n\xc3\xa9\xef\xbf\xbd"
	      "\"");

	/* Terminal text: controls, DEL, C1 (raw and encoded) and backslash escaped. */
	check("text plain", text_print_escaped, "/home/j\xc3\xb6rg", "/home/j\xc3\xb6rg");
	check("text esc", text_print_escaped, "/a\x1b[2Jb\n", "/a\\x1b[2Jb\\x0a");
	check("text backslash", text_print_escaped, "a\\b", "a\\\\b");
	check("text C1 raw", text_print_escaped,
	      "a\x9b"
	      "b",
	      "a\\x9bb");
	check("text C1 utf8", text_print_escaped,
	      "a\xc2\x9b"
	      "b",
	      "a\\xc2\\x9bb");
	check("text nbsp kept", text_print_escaped,
	      "a\xc2\xa0"
	      "b",
	      "a\xc2\xa0"
	      "b");
	check("text del", text_print_escaped, "\x7f", "\\x7f");

	{
		static const unsigned char id[4] = {0x00, 0x9f, 0xa0, 0xff};
		char hex[9];
		hex_format(id, sizeof(id), hex);
		if (strcmp(hex, "009fa0ff") != 0) {
			fprintf(stderr, "FAIL hex: %s\n", hex);
			failures++;
		}
	}

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
