/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "escrow_line.h"
#include "secret.h"

/* A user name that can travel in a line: no blanks, no '=', printable ASCII. */
static bool user_is_plain(const char *u, size_t n)
{
	if (n == 0 || n > LK_BOUND_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] > '~' || u[i] == '=')
			return false;
	return true;
}

int escrow_line_format(char *out, size_t cap, bool answer, const struct escrow_line *l)
{
	char e[65], w[65] = "", bound[LK_BOUND_NAME_MAX + 2 * LK_MACHINE_ID_SIZE + 32] = "", m[33];
	int n;

	if (l->version != 1 && l->version != 2)
		return -EINVAL;
	if (l->version == 2) {
		if (!user_is_plain(l->user, strlen(l->user)))
			return -EINVAL;
		lk_hex(l->machine_id, sizeof(l->machine_id), m);
		snprintf(bound, sizeof(bound), " user=%s machine=%s", l->user, m);
	}
	lk_hex(l->E, sizeof(l->E), e);
	if (answer) {
		lk_hex(l->W, sizeof(l->W), w);
		n = snprintf(out, cap, "%s %u uid=%u%s E=%s W=%s\n", ESCROW_ANSWER_TAG, l->version,
		             (unsigned)l->uid, bound, e, w);
		lk_wipe(w, sizeof(w));
	} else {
		n = snprintf(out, cap, "%s %u uid=%u%s E=%s\n", ESCROW_REQUEST_TAG, l->version,
		             (unsigned)l->uid, bound, e);
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			lk_wipe(out, cap);
		return -ENOBUFS;
	}
	return 0;
}

/* Take the next space-separated field of [*p, end) into (*ret, *ret_len). */
static bool next_field(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	const char *s = *p, *sp;

	if (s >= end)
		return false;
	sp = memchr(s, ' ', (size_t)(end - s));
	*ret = s;
	*ret_len = (size_t)((sp ? sp : end) - s);
	*p = sp ? sp + 1 : end;
	return *ret_len > 0;
}

/* "name=" followed by exactly 64 hex digits. */
static int hex_field(const char *f, size_t n, const char *name, uint8_t out[32])
{
	size_t k = strlen(name);

	if (n != k + 64 || memcmp(f, name, k) != 0)
		return -EINVAL;
	return lk_unhex(f + k, out, 32);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int escrow_line_parse(const char *in, size_t len, bool answer, struct escrow_line *ret)
{
	const char *p = in, *end = in + len, *f;
	struct escrow_line l = {};
	char digits[11];
	size_t n;
	unsigned long uid;
	char *e;
	int r = -EINVAL;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;

	if (!next_field(&p, end, &f, &n))
		return -EINVAL;
	if (n == strlen(answer ? ESCROW_REQUEST_TAG : ESCROW_ANSWER_TAG) &&
	    memcmp(f, answer ? ESCROW_REQUEST_TAG : ESCROW_ANSWER_TAG, n) == 0)
		return -EBADRQC;
	if (n != strlen(answer ? ESCROW_ANSWER_TAG : ESCROW_REQUEST_TAG) ||
	    memcmp(f, answer ? ESCROW_ANSWER_TAG : ESCROW_REQUEST_TAG, n) != 0)
		return -EINVAL;
	if (!next_field(&p, end, &f, &n))
		return -EINVAL;
	if (n != 1 || (f[0] != '1' && f[0] != '2'))
		return -EPROTONOSUPPORT;
	l.version = (unsigned)(f[0] - '0');

	/* uid: 1 to 10 digits, no sign, no leading zero (except "0"), below LK_UID_NONE. */
	if (!next_field(&p, end, &f, &n) || n < 5 || n > 4 + 10 || memcmp(f, "uid=", 4) != 0)
		return -EINVAL;
	memcpy(digits, f + 4, n - 4);
	digits[n - 4] = '\0';
	if (digits[0] < '0' || digits[0] > '9' || (digits[0] == '0' && digits[1] != '\0'))
		return -EINVAL;
	errno = 0;
	uid = strtoul(digits, &e, 10);
	if (errno != 0 || *e != '\0' || uid >= 0xffffffffUL)
		return -EINVAL;
	l.uid = (uint32_t)uid;

	if (l.version == 2) {
		if (!next_field(&p, end, &f, &n) || n < 6 || memcmp(f, "user=", 5) != 0 ||
		    !user_is_plain(f + 5, n - 5))
			return -EINVAL;
		memcpy(l.user, f + 5, n - 5);
		l.user[n - 5] = '\0';
		if (!next_field(&p, end, &f, &n) || n != 8 + 2 * LK_MACHINE_ID_SIZE ||
		    memcmp(f, "machine=", 8) != 0 || lk_unhex(f + 8, l.machine_id, LK_MACHINE_ID_SIZE) < 0)
			return -EINVAL;
	}
	if (!next_field(&p, end, &f, &n) || hex_field(f, n, "E=", l.E) < 0)
		return -EINVAL;
	if (answer && (!next_field(&p, end, &f, &n) || hex_field(f, n, "W=", l.W) < 0))
		goto out;
	if (p != end)
		goto out; /* trailing fields */
	*ret = l;
	r = 0;
out:
	lk_wipe(&l, sizeof(l));
	return r;
}
