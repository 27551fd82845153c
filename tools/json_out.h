/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The json-c glue every --json document of latchkeyctl goes through. */
#ifndef LK_CTL_JSON_OUT_H
#define LK_CTL_JSON_OUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * A JSON string of s. json-c copies non-ASCII bytes through as they are, but
 * JSON must be UTF-8 and a path may be any bytes: each byte of an invalid
 * UTF-8 sequence becomes U+FFFD first. Control characters are escaped by
 * json-c (\n, \u001b, ...). NULL on out of memory (json-c then adds null).
 */
struct json_object *json_out_string(const char *s);

static inline void json_out_putp(struct json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_out_putp)))

/* As json_out_string, but JSON null for NULL or "". */
struct json_object *json_out_string_or_null(const char *s);

void json_out_add_string(struct json_object *o, const char *key, const char *s);
void json_out_add_uint(struct json_object *o, const char *key, uint64_t v);
void json_out_add_bool(struct json_object *o, const char *key, bool v);

/* A new object whose first member is "schema_version". */
struct json_object *json_out_versioned(void);

/* A new object {"user": user, "uid": uid}, the start of most results. */
struct json_object *json_out_user(const char *user, uint64_t uid);

/* Print {"user": user, "uid": uid, done: true}, e.g. done = "rotated". */
void json_out_print_user_result(const char *user, uint64_t uid, const char *done);

#define JSON_OUT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Print o on stdout in one line ('/' not escaped) and a newline, then put
 * it. 0, or -ENOMEM if it could not be serialised. */
int json_out_print(struct json_object *o);

#endif
