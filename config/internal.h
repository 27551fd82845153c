/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the files of config/; not part of the API. */
#ifndef LK_CONFIG_INTERNAL_H
#define LK_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Longest line accepted, newline excluded: room for "root = " and a path
 * of LK_PATH_MAX bytes with some slack for spaces. */
#define LK_CONFIG_LINE_MAX 2048

/* [user NAME] sections in latchkey.conf. */
#define LK_MAX_USER_SETTINGS 1024

/* snprintf into why (which may be NULL); returns -EINVAL for one-line use
 * as "return cfg_why(...)". */
int cfg_why(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* s as a quoted string for an error message: at most 64 bytes of it, then
 * "...", with tabs and other control characters escaped. */
const char *cfg_quote(const char *s, char *out, size_t size);
#define CFG_QUOTE_MAX (2 + 64 * 4 + 4)

/* The closest of the n names to s (case-insensitive, transpositions count
 * as one edit), or NULL if none is within a typo's distance. */
const char *cfg_suggest_name(const char *s, const char *const *names, size_t n);

/* "a, b, c" of the names into out. */
void cfg_join_names(const char *const *names, size_t n, char *out, size_t size);

/* Fill err (which may be NULL); message from fmt. */
void cfg_verror(struct lk_config_error *err, const char *file, unsigned line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
void cfg_error(struct lk_config_error *err, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* yes/no, true/false, 1/0 (any case) for key. -EINVAL for anything else. */
int cfg_parse_boolean(const char *key, const char *s, bool *ret, char *why, size_t why_size);

/* "0", "500ms", "30s", "2min", "1h" into milliseconds, at most 1 h. */
int cfg_parse_duration_ms(const char *s, unsigned *ret, char *why, size_t why_size);
/* home_skel: an absolute canonical path into out. */
int lk_home_skel_parse(const char *value, char *out, size_t size, char *why, size_t why_size);

/* Static checks of a subdir template (what lk_cache_policy_set("subdir") runs). */
int cfg_subdir_template_check(const char *t, char *why, size_t why_size);

/* Which encryption modes a configuration may name, and which pairs
 * (modes.c). The check writes "what is wrong; how to fix it" to why. */
bool lk_fscrypt_contents_mode_allowed(uint8_t mode);
bool lk_fscrypt_filenames_mode_allowed(uint8_t mode);
int lk_fscrypt_modes_check(uint8_t contents, uint8_t filenames, char *why, size_t why_size);

/* Append to c (grows the arrays). -ENOMEM, or -E2BIG past LK_MAX_CACHE_POLICIES. */
int cfg_add_cache_policy(struct lk_config *c, const struct lk_cache_policy *p);
int cfg_add_user(struct lk_config *c, const struct lk_user_setting *u);

#endif
