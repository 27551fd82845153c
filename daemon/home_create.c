/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * create_home: at the first login that enrols a user, a missing home is
 * made encrypted before anything is in it, so nothing of it is ever
 * plaintext on disk, the skeleton included (which pam_mkhomedir would
 * copy in plaintext: latchkey's session line goes before it, and a home
 * pam_mkhomedir already made is reported, not touched).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "home_create.h"
#include "log.h"
#include "root.h"
#include "root_ops.h"

#define HOME_MODE_DEFAULT 0700

static mode_t home_mode(void)
{
	unsigned long m;

	if (lk_login_defs_get(NULL, "HOME_MODE", &m) == 0 && m <= 0777)
		return (mode_t)m;
	return HOME_MODE_DEFAULT;
}

/* An existing home: 0 if encrypted, LK_LEF_HOME_PLAIN if not. */
static uint32_t existing_home(int parent, const char *base, const char *home, uid_t uid)
{
	_cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct lk_fscrypt_policy pol;

	if (fd < 0) {
		log_warning("create_home: %s of uid %u exists but is not a directory; left alone", home,
		            (unsigned)uid);
		return 0;
	}
	if (lk_fscrypt_get_policy(fd, &pol) == 0)
		return 0;
	log_info("create_home: the home %s of uid %u exists and is not encrypted (pam_mkhomedir before "
	         "latchkey?): left alone; run latchkeyctl migrate %s --user UID to encrypt it",
	         home, (unsigned)uid, home);
	return LK_LEF_HOME_PLAIN;
}

static int record(struct daemon *d, uid_t uid, const uint8_t key_id[LK_KEY_ID_SIZE], const char *home)
{
	struct lk_index ix;
	int r = store_load_index(&d->store, uid, &ix);

	if (r >= 0)
		r = root_index_put(&ix, key_id, home);
	if (r >= 0)
		r = store_save_index(&d->store, uid, &ix);
	return r;
}

uint32_t home_create(struct daemon *d, uid_t uid, const struct passwd *pw,
                     const uint8_t p[LK_PROTECTOR_KEY_SIZE])
{
	_cleanup_close_ int parent = -1, fd = -1;
	char dir[LK_PATH_MAX + 1], *slash;
	uint8_t key_id[LK_KEY_ID_SIZE];
	const char *why = NULL, *base;
	struct stat st;
	int r;

	if (lk_path_is_valid(pw->pw_dir) < 0 || strcmp(pw->pw_dir, "/") == 0 ||
	    strlen(pw->pw_dir) >= sizeof(dir)) {
		log_warning("create_home: home of uid %u is not an absolute, canonical path; not created",
		            (unsigned)uid);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", pw->pw_dir);
	slash = strrchr(dir, '/');
	*slash = '\0';
	base = slash + 1;
	r = root_open(dir[0] ? dir : "/", &parent);
	if (r < 0) {
		log_error_errno(r, "create_home: cannot open the parent of %s", pw->pw_dir);
		return 0;
	}
	if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return existing_home(parent, base, pw->pw_dir, uid);
	/* Only a parent that users cannot change under us (like /home). */
	if (fstat(parent, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0022)) {
		log_warning(
		    "create_home: the parent of %s is not root's or is writable by others; not created",
		    pw->pw_dir);
		return 0;
	}
	if (mkdirat(parent, base, 0700) < 0) {
		log_error_errno(-errno, "create_home: cannot create %s", pw->pw_dir);
		return 0;
	}
	r = root_create(uid, pw->pw_gid, p, pw->pw_dir, key_id, &why);
	if (r < 0) {
		log_error("create_home: cannot encrypt %s: %s; removed it again", pw->pw_dir,
		          why ? why : "error");
		(void)unlinkat(parent, base, AT_REMOVEDIR);
		return 0;
	}
	r = record(d, uid, key_id, pw->pw_dir);
	if (r < 0)
		log_error_errno(r, "create_home: %s encrypted, but the index could not be saved", pw->pw_dir);
	r = root_open(pw->pw_dir, &fd);
	if (r == 0 && fchmod(fd, home_mode()) < 0)
		r = -errno;
	if (r == 0)
		r = skel_copy(d->config.home_skel, fd, uid, pw->pw_gid);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		log_error_errno(r, "create_home: %s is encrypted, but the skeleton from %s is incomplete",
		                pw->pw_dir, d->config.home_skel);
	else
		log_info("create_home: made the encrypted home %s of uid %u from %s", pw->pw_dir,
		         (unsigned)uid, d->config.home_skel);
	return LK_LEF_HOME_CREATED;
}
