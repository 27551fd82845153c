/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One user database lookup, whatever the size of the entry. */
#ifndef LK_PASSWD_H
#define LK_PASSWD_H

#include <pwd.h>
#include <sys/types.h>

#include "cleanup.h"

/* An entry and the storage its strings point into. */
struct lk_passwd {
	struct passwd pw;
	char *buf;
};

/* getpwnam_r / getpwuid_r, growing the buffer on ERANGE (entries with many
 * or long fields do not fit sysconf's suggestion). 0 and *ret filled (free
 * it with lk_passwd_done); -ENOENT for no such user; -errno when the lookup
 * itself failed. *ret is always safe to pass to lk_passwd_done. */
int lk_passwd_by_name(const char *name, struct lk_passwd *ret);
int lk_passwd_by_uid(uid_t uid, struct lk_passwd *ret);

void lk_passwd_done(struct lk_passwd *p);
#define _cleanup_passwd_ _cleanup_(lk_passwd_done)

#endif
