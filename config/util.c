/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small pieces the parser, the loader and the policy setters share: error
 * texts, typo suggestions, booleans and durations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "internal.h"

int cfg_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why && size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *cfg_quote(const char *s, char *out, size_t size)
{
	size_t o = 0, i;

	/* A tab is the one control character a line may hold: escape it so
	 * that messages stay on one line and free of control characters. */
	if (size < 8)
		return "\"\"";
	out[o++] = '"';
	for (i = 0; s[i] && i < 64 && o + 6 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	if (s[i] && o + 5 < size) {
		memcpy(out + o, "...\"", 4);
		o += 4;
	} else {
		out[o++] = '"';
	}
	out[o] = '\0';
	return out;
}

void cfg_verror(struct lk_config_error *err, const char *file, unsigned line, const char *fmt, va_list ap)
{
	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

void cfg_error(struct lk_config_error *err, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(err, file, line, fmt, ap);
	va_end(ap);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), case-insensitive, on strings of at most 64 bytes. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[65][65];
	size_t la = strnlen(a, 64), lb = strnlen(b, 64);

	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) != lower(b[j - 1]);
			unsigned v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

const char *cfg_suggest_name(const char *s, const char *const *names, size_t n)
{
	size_t len = strlen(s);
	unsigned best = len <= 3 ? 1 : 2; /* what still looks like a typo */
	const char *pick = NULL;

	if (len == 0 || len > 64)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(s, names[i]);

		/* "iv_ino" for "iv_ino_lblk_64": an abbreviation, not a typo. */
		if (len >= 3 && strncasecmp(s, names[i], len) == 0 && d > 1)
			d = 1;
		if (d <= best && (!pick || d < best)) {
			best = d;
			pick = names[i];
		}
	}
	return pick;
}

void cfg_join_names(const char *const *names, size_t n, char *out, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int cfg_parse_boolean(const char *key, const char *s, bool *ret, char *why, size_t why_size)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};
	char q[CFG_QUOTE_MAX];

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return cfg_why(why, why_size, "invalid boolean %s for %s; use yes or no (or true/false, 1/0)",
	               cfg_quote(s, q, sizeof(q)), key);
}

int cfg_parse_duration_ms(const char *s, unsigned *ret, char *why, size_t why_size)
{
	static const struct {
		const char *unit;
		unsigned long ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"min", 60 * 1000}, {"h", 3600 * 1000}};
	char q[CFG_QUOTE_MAX];
	unsigned long v = 0;
	const char *p = s;

	/* Digits by hand: strtoul would take signs, blanks and "0x". */
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > LK_LOCK_DELAY_MAX_MS)
			goto too_long;
		p++;
	}
	if (p == s)
		goto invalid;
	if (*p == '\0') {
		/* A bare number has no unit; only 0 is the same in all. */
		if (v != 0)
			goto invalid;
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(units); i++)
		if (strcmp(p, units[i].unit) == 0) {
			if (v > LK_LOCK_DELAY_MAX_MS / units[i].ms)
				goto too_long;
			*ret = (unsigned)(v * units[i].ms);
			return 0;
		}
invalid:
	return cfg_why(why, why_size,
	               "invalid lock_delay %s; write a whole number and a unit (ms, s, min or h), e.g. 30s",
	               cfg_quote(s, q, sizeof(q)));
too_long:
	return cfg_why(why, why_size, "lock_delay %s is longer than 1h; use at most 1h",
	               cfg_quote(s, q, sizeof(q)));
}

static int grow(void **array, unsigned n, size_t elem)
{
	void *p;

	/* Capacity 4, then doubling: grow at 0 and at every power of two >= 4. */
	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*array, (n < 4 ? 4 : (size_t)n * 2) * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	return 0;
}

int cfg_add_cache_policy(struct lk_config *c, const struct lk_cache_policy *p)
{
	int r;

	if (c->n_cache_policies >= LK_MAX_CACHE_POLICIES)
		return -E2BIG;
	r = grow((void **)&c->cache_policies, c->n_cache_policies, sizeof(*c->cache_policies));
	if (r < 0)
		return r;
	c->cache_policies[c->n_cache_policies++] = *p;
	return 0;
}

int cfg_add_user(struct lk_config *c, const struct lk_user_setting *u)
{
	int r;

	if (c->n_users >= LK_MAX_USER_SETTINGS)
		return -E2BIG;
	r = grow((void **)&c->users, c->n_users, sizeof(*c->users));
	if (r < 0)
		return r;
	c->users[c->n_users++] = *u;
	return 0;
}
