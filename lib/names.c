/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define LK_USER_NAME_MAX 32 /* without the optional trailing '$' */

bool lk_user_name_is_valid(const char *name)
{
	size_t len, body;
	bool digits_only = true;

	if (!name)
		return false;
	len = strnlen(name, LK_USER_NAME_MAX + 2);
	/* A trailing '$' (Samba machine accounts) is allowed but not counted. */
	body = (len > 0 && name[len - 1] == '$') ? len - 1 : len;
	if (len == 0 || body > LK_USER_NAME_MAX || name[0] == '-')
		return false;
	/* What shadow's useradd (with Debian's upper case, or --badname) can
	 * create; whether the account exists is getpwnam's to say. The
	 * refused characters would break /etc/passwd, a path component made
	 * from the name (%u), or a log line. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c == 0x7f || c == ':' || c == ',' || c == '/')
			return false;
		digits_only &= c >= '0' && c <= '9';
	}
	return !digits_only && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int lk_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || !ret)
		return -EINVAL;
	/* strtoul alone would accept leading blanks, a sign (even '-', which
	 * wraps around) and "0x"; demand plain digits. A leading zero is
	 * refused too, as it reads like octal to a human. */
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	if (s[0] == '0' && s[1] != '\0')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0 || end == s || *end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int lk_parse_uid(const char *s, uid_t *ret)
{
	unsigned long v;
	int r;

	if (!ret)
		return -EINVAL;
	/* (uid_t)-1 means "no uid" to chown and setresuid: never a real user. */
	r = lk_parse_uint(s, 0, (unsigned long)(uid_t)-2, &v);
	if (r < 0)
		return r;
	*ret = (uid_t)v;
	return 0;
}
