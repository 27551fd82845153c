/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user subdirectory template: %u user name, %U uid, %% a '%'. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "internal.h"

#define UID_DIGITS_MAX 10 /* 4294967294 */

int cfg_subdir_template_check(const char *t, char *why, size_t why_size)
{
	size_t len = strlen(t), max_len = 0;
	bool per_user = false;
	char q[CFG_QUOTE_MAX];

	if (len > LK_SUBDIR_TEMPLATE_MAX)
		return cfg_why(why, why_size,
		               "subdir is longer than %d bytes; use a short template such as %%u",
		               LK_SUBDIR_TEMPLATE_MAX);
	if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return cfg_why(why, why_size,
		               "subdir %s does not name a directory of its own; use a template such as %%u",
		               cfg_quote(t, q, sizeof(q)));
	if (strchr(t, '/'))
		return cfg_why(why, why_size,
		               "subdir %s contains '/'; per-user directories are made right under the root: "
		               "use one name such as %%u",
		               cfg_quote(t, q, sizeof(q)));
	for (const char *p = t; *p; p++) {
		if (*p != '%') {
			max_len++;
			continue;
		}
		switch (p[1]) {
		case 'u':
			max_len += LK_USER_NAME_MAX + 1; /* a trailing '$' is allowed */
			per_user = true;
			break;
		case 'U':
			max_len += UID_DIGITS_MAX;
			per_user = true;
			break;
		case '%':
			max_len++;
			break;
		case '\0':
			return cfg_why(why, why_size,
			               "subdir %s ends with a lone '%%'; write %%%% for a literal '%%'",
			               cfg_quote(t, q, sizeof(q)));
		default:
			return cfg_why(why, why_size,
			               "subdir %s has the unknown escape \"%%%c\"; use %%u (user name), %%U "
			               "(uid) or %%%% (a '%%')",
			               cfg_quote(t, q, sizeof(q)), p[1]);
		}
		p++;
	}
	/* Without %u or %U every user would get the same directory, which
	 * is exactly what a per-user policy must never do. */
	if (!per_user)
		return cfg_why(why, why_size,
		               "subdir %s contains neither %%u nor %%U, so all users would share one "
		               "directory; use a template such as %%u",
		               cfg_quote(t, q, sizeof(q)));
	if (max_len > NAME_MAX)
		return cfg_why(why, why_size, "subdir %s can expand to %zu bytes, more than %d; shorten it",
		               cfg_quote(t, q, sizeof(q)), max_len, NAME_MAX);
	return 0;
}

static int append(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= size || *pos + n > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(out + *pos, s, n);
	*pos += n;
	return 0;
}

int lk_cache_policy_subdir(const struct lk_cache_policy *p, const char *user, uid_t uid, char *out,
                           size_t size)
{
	char uidbuf[16];
	size_t pos = 0;
	int r = 0;

	if (!p || !user || !out || size == 0)
		return -EINVAL;
	for (const char *t = p->subdir; *t && r == 0; t++) {
		if (*t != '%') {
			r = append(out, size, &pos, t, 1);
			continue;
		}
		t++;
		if (*t == 'u') {
			r = append(out, size, &pos, user, strlen(user));
		} else if (*t == 'U') {
			snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
			r = append(out, size, &pos, uidbuf, strlen(uidbuf));
		} else if (*t == '%') {
			r = append(out, size, &pos, "%", 1);
		} else {
			return -EINVAL; /* not a checked template */
		}
	}
	if (r < 0)
		return r;
	out[pos] = '\0';
	/* The template is checked, but the user name comes from NSS: the
	 * result must still be one plain name inside the root. */
	if (pos == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0 || memchr(out, '/', pos)) {
		out[0] = '\0';
		return -EINVAL;
	}
	return 0;
}
