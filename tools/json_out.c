/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "json_out.h"
#include "output.h"

struct json_object *json_out_string(const char *s)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	struct json_object *o;
	char *clean, *q;

	/* At most three bytes out for every byte in. */
	clean = malloc(3 * strlen(s) + 1);
	if (!clean)
		return NULL;
	q = clean;
	while (*p) {
		size_t n = utf8_valid_len(p);

		if (n == 0) {
			memcpy(q, replacement, 3);
			q += 3;
			p++;
		} else {
			memcpy(q, p, n);
			q += n;
			p += n;
		}
	}
	*q = '\0';
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

struct json_object *json_out_string_or_null(const char *s)
{
	return s && s[0] ? json_out_string(s) : NULL;
}

void json_out_add_string(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_out_string(s));
}

void json_out_add_uint(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

void json_out_add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

struct json_object *json_out_versioned(void)
{
	struct json_object *o = json_object_new_object();

	if (o)
		json_out_add_uint(o, "schema_version", CTL_JSON_SCHEMA_VERSION);
	return o;
}

struct json_object *json_out_user(const char *user, uint64_t uid)
{
	struct json_object *o = json_object_new_object();

	if (o) {
		json_out_add_string(o, "user", user);
		json_out_add_uint(o, "uid", uid);
	}
	return o;
}

void json_out_print_user_result(const char *user, uint64_t uid, const char *done)
{
	struct json_object *o = json_out_user(user, uid);

	if (o)
		json_out_add_bool(o, done, true);
	(void)json_out_print(o);
}

int json_out_print(struct json_object *o)
{
	const char *text = o ? json_object_to_json_string_ext(o, JSON_OUT_FLAGS) : NULL;
	int r = 0;

	if (text)
		puts(text);
	else
		r = -ENOMEM;
	json_object_put(o);
	return r;
}
