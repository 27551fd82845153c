/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status USER: a home that exists but is not encrypted is worth a hint,
 * since nothing else would show it (it has no policy to list). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fscrypt_ioctl.h"
#include "passwd.h"
#include "status_home.h"

bool status_plain_home(uid_t uid, char *home, size_t home_size, char *user, size_t user_size)
{
	_cleanup_passwd_ struct lk_passwd p = {};
	struct lk_fscrypt_policy pol;
	_cleanup_close_ int fd = -1;

	if (uid == 0 || lk_passwd_by_uid(uid, &p) < 0 || p.pw.pw_dir[0] != '/' ||
	    strcmp(p.pw.pw_dir, "/") == 0)
		return false;
	fd = open(p.pw.pw_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || lk_fscrypt_check_fs(fd) < 0 || lk_fscrypt_get_policy(fd, &pol) != -ENODATA)
		return false;
	snprintf(home, home_size, "%s", p.pw.pw_dir);
	snprintf(user, user_size, "%s", p.pw.pw_name);
	return true;
}
