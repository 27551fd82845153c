/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "passwd.h"

/* No real entry comes near this; it only stops a broken NSS module that
 * answers ERANGE forever. */
#define PWBUF_MAX (1024u * 1024u)

static int lookup(const char *name, uid_t uid, struct lk_passwd *ret)
{
	struct passwd *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = sz > 0 ? (size_t)sz : 4096;
	int r;

	*ret = (struct lk_passwd){};
	for (;;) {
		char *b = realloc(ret->buf, size);

		if (!b) {
			lk_passwd_done(ret);
			return -ENOMEM;
		}
		ret->buf = b;
		r = name ? getpwnam_r(name, &ret->pw, ret->buf, size, &res)
		         : getpwuid_r(uid, &ret->pw, ret->buf, size, &res);
		if (r != ERANGE || size >= PWBUF_MAX)
			break;
		size *= 2;
	}
	if (r == 0 && !res)
		r = ENOENT;
	if (r != 0) {
		lk_passwd_done(ret);
		return -r;
	}
	return 0;
}

int lk_passwd_by_name(const char *name, struct lk_passwd *ret)
{
	if (!name)
		return -EINVAL;
	return lookup(name, 0, ret);
}

int lk_passwd_by_uid(uid_t uid, struct lk_passwd *ret)
{
	return lookup(NULL, uid, ret);
}

void lk_passwd_done(struct lk_passwd *p)
{
	free(p->buf);
	*p = (struct lk_passwd){};
}
