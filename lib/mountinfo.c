/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "mountinfo.h"
#include "names.h"

/* The next space-separated field of *p, NUL-terminated in place. */
static char *next_field(char **p)
{
	char *s = *p, *sp;

	if (!s || !*s)
		return NULL;
	sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*p = sp + 1;
	} else {
		*p = s + strlen(s);
	}
	return *s ? s : NULL;
}

/* Decode the kernel's octal escapes (mangle_path's " \t\n\\") into out. */
static int unescape(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *c = in; *c; c++) {
		char v = *c;

		if (v == '\\') {
			if (strncmp(c + 1, "040", 3) == 0)
				v = ' ';
			else if (strncmp(c + 1, "011", 3) == 0)
				v = '\t';
			else if (strncmp(c + 1, "012", 3) == 0)
				v = '\n';
			else if (strncmp(c + 1, "134", 3) == 0)
				v = '\\';
			else
				return -EBADMSG;
			c += 3;
		}
		if (o + 1 >= size)
			return -EBADMSG;
		out[o++] = v;
	}
	out[o] = '\0';
	return o > 0 && out[0] == '/' ? 0 : -EBADMSG;
}

static int parse_dev(const char *s, uint32_t *major, uint32_t *minor)
{
	char buf[32];
	const char *colon = strchr(s, ':');
	unsigned long a, b;

	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (lk_parse_uint(buf, 0, UINT32_MAX, &a) < 0 || lk_parse_uint(colon + 1, 0, UINT32_MAX, &b) < 0)
		return -EBADMSG;
	*major = (uint32_t)a;
	*minor = (uint32_t)b;
	return 0;
}

int lk_mountinfo_parse_line(const char *line, struct lk_mount *ret)
{
	_cleanup_free_ char *copy = strdup(line);
	char *p = copy, *f, *dev, *root, *point, *fstype;

	if (!copy)
		return -ENOMEM;
	if (!next_field(&p) || !next_field(&p)) /* mount id, parent id */
		return -EBADMSG;
	dev = next_field(&p);
	root = next_field(&p);
	point = next_field(&p);
	if (!dev || !root || !point || !next_field(&p)) /* mount options */
		return -EBADMSG;
	/* Optional fields end at a lone "-". */
	while ((f = next_field(&p)) && strcmp(f, "-") != 0)
		;
	if (!f)
		return -EBADMSG;
	fstype = next_field(&p);
	if (!fstype || strlen(fstype) >= sizeof(ret->fstype))
		return -EBADMSG;
	if (parse_dev(dev, &ret->major, &ret->minor) < 0 ||
	    unescape(root, ret->root, sizeof(ret->root)) < 0 ||
	    unescape(point, ret->point, sizeof(ret->point)) < 0)
		return -EBADMSG;
	strcpy(ret->fstype, fstype);
	return 0;
}

int lk_mountinfo_foreach(FILE *f, int (*cb)(const struct lk_mount *m, void *userdata), void *userdata)
{
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ struct lk_mount *m = malloc(sizeof(*m));
	size_t cap = 0;
	ssize_t n;
	int r;

	if (!m)
		return -ENOMEM;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (lk_mountinfo_parse_line(line, m) < 0)
			continue;
		r = cb(m, userdata);
		if (r != 0)
			return r;
	}
	return 0;
}
