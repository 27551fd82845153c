/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Provisioning of per-user cache directories, the second half of a login
 * (login.c unlocks the indexed roots, then calls provision_user with the
 * index and user it loaded). The root is opened from "/" without following
 * any symlink and must be root's, not writable by anyone else, on an
 * allow-listed filesystem with encryption; everything below it is done
 * relative to that fd, to names without '/', never following a link:
 *
 *   existing <root>/<name>: accepted only if it is a directory on the
 *     root's filesystem, owned by the user, with the policy's mode,
 *     encrypted (v2) with the key identifier named by the user's wrapped
 *     key in trusted.latchkey.key.<uid> -- then unlocked;
 *   missing: mkdirat a random temporary name, open and check it (empty,
 *     root's, on the same filesystem), seal it (wrapped key durable, key
 *     added, policy set and read back), hand it to the user, check it is
 *     still the same inode, renameat2(RENAME_NOREPLACE) into place, fsync
 *     the root, record it in the user's index.
 *
 * The root is not writable by users, so the only writer racing us is root
 * itself; the fd discipline makes even that harmless: nothing we change is
 * reached through a path after the check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ancestors.h"
#include "cleanup.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "log.h"
#include "log_event.h"
#include "names.h"
#include "openat.h"
#include "root_index.h"
#include "root.h"
#include "provision.h"
#include "root_id.h"
#include "store.h"
#include "wrapped_key.h"

#define TEMP_PREFIX   ".latchkey-new."
#define TEMP_NAME_MAX (sizeof(TEMP_PREFIX) - 1 + 8)
#define KEY_HEX_SIZE  (2 * LK_KEY_ID_SIZE + 1)

/* One log line for a refusal, naming the policy, uid (unless -1), path and reason.
 * Returns r so callers write: return refuse(...). */
static int refuse(int r, const struct lk_cache_policy *pol, uid_t uid, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int refuse(int r, const struct lk_cache_policy *pol, uid_t uid, const char *path, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (uid == (uid_t)-1)
		log_event(LOG_ERR, LK_MSG_CACHE_REFUSED, uid, NULL, path,
		          "policy %s: refusing %s: %s; left untouched", pol->name, path, why);
	else
		log_event(LOG_ERR, LK_MSG_CACHE_REFUSED, uid, NULL, path,
		          "policy %s: refusing %s for uid %u: %s; left untouched", pol->name, path,
		          (unsigned)uid, why);
	return r;
}

int provision_path(const struct lk_cache_policy *pol, const char *user, uid_t uid, char *out, size_t size)
{
	char sub[LK_PATH_MAX + 1];
	int r, n;

	/* %u builds a path component from the name: only a name that passes
	 * the same rule as everywhere else in latchkey may do that. */
	if (!lk_user_name_is_valid(user))
		return -EINVAL;
	r = lk_cache_policy_subdir(pol, user, uid, sub, sizeof(sub));
	if (r < 0)
		return r;
	if (strchr(sub, '/') || strcmp(sub, ".") == 0 || strcmp(sub, "..") == 0 || strlen(sub) > NAME_MAX)
		return -EINVAL;
	n = snprintf(out, size, "%s%s%s", pol->root, strcmp(pol->root, "/") == 0 ? "" : "/", sub);
	if (n < 0 || (size_t)n >= size || (size_t)n > LK_PATH_MAX)
		return -ENAMETOOLONG;
	return lk_path_is_valid(out);
}

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFLNK:
		return "a symbolic link";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFREG:
		return "a regular file";
	case S_IFCHR:
	case S_IFBLK:
		return "a device node";
	case S_IFDIR:
		return "a directory";
	default:
		return "of an unknown type";
	}
}

/* The encrypted root: a root-owned directory nobody else may write, on a
 * filesystem that can encrypt, not itself encrypted. */
static int open_root(const struct lk_cache_policy *pol, uid_t uid, int *ret_fd, struct stat *ret_st)
{
	_cleanup_close_ int fd = -1;
	char why[512];
	struct lk_fscrypt_policy ep;
	struct stat st;
	int r;

	r = root_open(pol->root, &fd);
	/* O_DIRECTORY|O_NOFOLLOW on a final symlink says ENOTDIR; the lstat
	 * only picks the message, nothing is done through it. */
	if (r == -ENOTDIR && lstat(pol->root, &st) == 0 && S_ISLNK(st.st_mode))
		r = -ELOOP;
	if (r == -ELOOP)
		return refuse(r, pol, uid, pol->root,
		              "the root is, or goes through, a symbolic link; give the real path");
	if (r == -ENOENT)
		return refuse(r, pol, uid, pol->root, "the root does not exist; create it: mkdir -m 0755 %s",
		              pol->root);
	if (r < 0)
		return refuse(r, pol, uid, pol->root, "cannot open the root: %s", strerror(-r));
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return refuse(
		    -EPERM, pol, uid, pol->root,
		    "the root must be owned by root and not writable by group or others (found uid %u mode "
		    "%04o); fix: chown root %s && chmod go-w %s",
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), pol->root, pol->root);
	r = lk_ancestors_check(pol->root, why, sizeof(why));
	if (r != 0)
		return refuse(r < 0 ? r : -EPERM, pol, uid, pol->root, "%s",
		              r < 0 ? "cannot check the root's ancestors" : why);
	r = lk_fscrypt_check_fs(fd);
	if (r < 0)
		return refuse(r, pol, uid, pol->root, "%s", lk_fscrypt_strerror(r, "check fs"));
	r = lk_fscrypt_get_policy(fd, &ep);
	if (r == 0)
		return refuse(-EEXIST, pol, uid, pol->root,
		              "the root is itself encrypted; per-user directories need an unencrypted root");
	if (r != -ENODATA)
		return refuse(r, pol, uid, pol->root, "%s", lk_fscrypt_strerror(r, "get policy"));
	*ret_st = st;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/*
 * Put (key_id, path) in the user's index (in memory; the caller saves it
 * once for all policies) unless it is there already. An entry for the same
 * path with another key belonged to a directory that is gone (removed by
 * root): its key, if still in the kernel, is removed, since nothing would
 * ever lock it once the index forgets it.
 */
static int record_in_index(struct lk_index *ix, int root_fd, int dir_fd, const uint8_t key_id[LK_KEY_ID_SIZE],
                           const char *path, struct provision_result *res)
{
	uint8_t old[LK_KEY_ID_SIZE];
	bool replaced = false, busy = false;
	int r;

	for (unsigned i = 0; i < ix->n; i++) {
		if (strcmp(ix->e[i].path, path) != 0)
			continue;
		if (memcmp(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE) == 0) {
			/* Known; an entry from a version 1 index learns its identity. */
			if (!ix->e[i].id.has_handle && root_id_fill(dir_fd, &ix->e[i].id) == 0)
				res->recorded = true;
			return 0;
		}
		memcpy(old, ix->e[i].key_id, LK_KEY_ID_SIZE);
		replaced = true;
	}
	r = lk_index_put(ix, key_id, path);
	if (r < 0)
		return r;
	/* The handle lets logout lock it, and login find it, if root moves it. */
	(void)root_id_fill(dir_fd, &ix->e[r].id);
	res->recorded = true;
	if (replaced && lk_fscrypt_remove_key(root_fd, old, true, &busy, NULL) == 0) {
		char hex[KEY_HEX_SIZE];
		lk_hex(old, LK_KEY_ID_SIZE, hex);
		log_info("removed key %s of the directory that was %s before%s", hex, path,
		         busy ? " (files of it still in use: incompletely)" : "");
	}
	return 0;
}

/* An existing entry: accept it only if it is exactly ours, then unlock it. */
static int adopt_existing(struct lk_index *ix, const struct lk_cache_policy *pol, int root_fd,
                          const struct stat *root_st, const struct stat *lst, const char *name, uid_t uid,
                          const uint8_t p[LK_PROTECTOR_KEY_SIZE], struct provision_result *res)
{
	const char *path = res->path;
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy ep;
	uint8_t blob[LK_WRAPPED_KEY_SIZE], id[LK_KEY_ID_SIZE];
	char hex[KEY_HEX_SIZE];
	uint32_t blob_uid, state;
	bool busy;
	struct stat st;
	int r;

	if (!S_ISDIR(lst->st_mode))
		return refuse(-ENOTDIR, pol, uid, path, "it is %s, not a directory", file_type(lst->st_mode));
	/* O_NONBLOCK is moot with O_DIRECTORY but keeps a FIFO swapped in
	 * between the fstatat and here from blocking the loop. */
	fd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return refuse(r, pol, uid, path, "cannot open it as a directory without following links: %s",
		              strerror(-r));
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_dev != lst->st_dev || st.st_ino != lst->st_ino)
		return refuse(-EAGAIN, pol, uid, path, "it changed while being checked");
	if (st.st_dev != root_st->st_dev)
		return refuse(-EXDEV, pol, uid, path,
		              "it is a mount point, not a directory on the root's filesystem");
	if (st.st_uid != uid)
		return refuse(-EPERM, pol, uid, path, "it is owned by uid %u", (unsigned)st.st_uid);
	if ((st.st_mode & 07777) != pol->mode)
		return refuse(-EPERM, pol, uid, path, "its mode is %04o, the policy's is %04o",
		              (unsigned)(st.st_mode & 07777), (unsigned)pol->mode);
	r = lk_fscrypt_get_policy(fd, &ep);
	if (r == -ENODATA)
		return refuse(-EPERM, pol, uid, path, "it is not encrypted (%s)",
		              root_dir_is_empty(fd) > 0 ? "empty" : "and has files in it");
	if (r < 0)
		return refuse(r, pol, uid, path, "%s", lk_fscrypt_strerror(r, "get policy"));
	if (ep.version != 2)
		return refuse(-EPERM, pol, uid, path, "it has a v%u encryption policy, not one of latchkey's",
		              (unsigned)ep.version);
	lk_hex(ep.key_id, LK_KEY_ID_SIZE, hex);
	r = root_read_wrapped_key(fd, uid, blob);
	if (r < 0)
		return refuse(r, pol, uid, path,
		              "it is encrypted with key %s but has no usable wrapped key for uid %u "
		              "(not made by latchkey for this user)",
		              hex, (unsigned)uid);
	r = lk_wrapped_key_peek(blob, sizeof(blob), &blob_uid, id);
	if (r < 0 || blob_uid != uid)
		return refuse(-EBADMSG, pol, uid, path, "its wrapped key for uid %u is malformed",
		              (unsigned)uid);
	if (memcmp(id, ep.key_id, LK_KEY_ID_SIZE) != 0)
		return refuse(-EPERM, pol, uid, path,
		              "it is encrypted with key %s, not the key its wrapped copy names", hex);
	if (ep.contents_mode != pol->contents_mode || ep.filenames_mode != pol->filenames_mode ||
	    ep.flags != pol->flags)
		log_notice(
		    "policy %s: %s was made with other encryption modes than the policy now names; it keeps "
		    "them (remove the directory to re-create it)",
		    pol->name, path);

	/* The wrapped copy is only root's to write (trusted.*): with its key
	 * identifier matching the policy, the directory is ours. Unlock it
	 * unless its key is in the kernel already (an earlier session: the
	 * login's unlock of the indexed roots leaves cache directories to
	 * this check); the unwrap proves the copy belongs to this user's
	 * protector key. */
	r = lk_fscrypt_key_status(fd, ep.key_id, &state, NULL);
	if (r < 0 || state != LK_KEY_PRESENT) {
		r = root_unlock_fd(fd, uid, p, path, ep.key_id);
		if (r < 0)
			return refuse(r, pol, uid, path,
			              "its wrapped key does not open with the user's protector key "
			              "(re-enrolled user? remove the directory to re-create it)");
		res->outcome = PROVISION_UNLOCKED;
	} else
		res->outcome = PROVISION_PRESENT;

	memcpy(res->key_id, ep.key_id, LK_KEY_ID_SIZE);
	r = record_in_index(ix, root_fd, fd, ep.key_id, path, res);
	if (r < 0) {
		/* Unrecorded, nothing would lock it at logout: lock it now. */
		root_lock(uid, path, ep.key_id, &busy);
		return log_error_errno(
		    r,
		    "policy %s: %s of uid %u is ours but cannot be recorded in the index (full?): "
		    "left locked",
		    pol->name, path, (unsigned)uid);
	}
	log_info("policy %s: %s of uid %u is ours (key %s)%s", pol->name, path, (unsigned)uid, hex,
	         res->outcome == PROVISION_UNLOCKED ? ": unlocked" : ", already unlocked");
	return 0;
}

static int make_temp_dir(int root_fd, char name[TEMP_NAME_MAX + 1])
{
	uint8_t rnd[4];
	char hex[2 * sizeof(rnd) + 1];
	int r;

	for (int attempt = 0; attempt < 16; attempt++) {
		r = lk_random_bytes(rnd, sizeof(rnd));
		if (r < 0)
			return r;
		lk_hex(rnd, sizeof(rnd), hex);
		snprintf(name, TEMP_NAME_MAX + 1, TEMP_PREFIX "%s", hex);
		if (mkdirat(root_fd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Remove the temporary directory name if it is still the inode of fd. */
static void remove_temp_dir(int root_fd, const char *name, int fd)
{
	struct stat a, b;

	if (fd >= 0 && fstat(fd, &a) == 0 && fstatat(root_fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		unlinkat(root_fd, name, AT_REMOVEDIR);
}

/* A missing entry: make it in a temporary directory and rename it into place. */
static int create_new(struct lk_index *ix, const struct lk_cache_policy *pol, int root_fd,
                      const struct stat *root_st, const char *name, uid_t uid, gid_t gid,
                      const uint8_t p[LK_PROTECTOR_KEY_SIZE], struct provision_result *res)
{
	const char *path = res->path;
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy modes = {
	    .version = 2,
	    .contents_mode = pol->contents_mode,
	    .filenames_mode = pol->filenames_mode,
	    .flags = pol->flags,
	};
	char tmp[TEMP_NAME_MAX + 1], hex[KEY_HEX_SIZE];
	uint8_t id[LK_KEY_ID_SIZE];
	const char *why = NULL;
	bool sealed = false, busy;
	struct stat st, now;
	int r;

	r = make_temp_dir(root_fd, tmp);
	if (r < 0)
		return log_error_errno(r, "policy %s: cannot create a temporary directory in %s for uid %u",
		                       pol->name, pol->root, (unsigned)uid);
	fd = openat(root_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = log_error_errno(-errno, "policy %s: cannot open %s/%s", pol->name, pol->root, tmp);
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || st.st_dev != root_st->st_dev ||
	    root_dir_is_empty(fd) != 1) {
		r = log_error_errno(-EPERM,
		                    "policy %s: the temporary directory %s/%s is not the empty root-owned "
		                    "directory just made: giving up",
		                    pol->name, pol->root, tmp);
		goto fail;
	}

	r = root_seal(fd, uid, p, &modes, false, path, id, &why);
	if (r < 0) {
		log_error("policy %s: cannot encrypt a new directory for uid %u in %s: %s", pol->name,
		          (unsigned)uid, pol->root, why ?: strerror(-r));
		goto fail;
	}
	sealed = true;
	lk_hex(id, LK_KEY_ID_SIZE, hex);
	/* No fsync of the directory itself: the fsync of the root after the
	 * rename commits its xattr, policy, owner and mode with the rename (one journal
	 * commit on ext4, a checkpoint on f2fs); a crash before that leaves
	 * only a temporary directory, which provision_sweep removes. */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, pol->mode) < 0) {
		r = log_error_errno(-errno, "policy %s: cannot hand the new directory to uid %u", pol->name,
		                    (unsigned)uid);
		goto fail;
	}
	if (fstatat(root_fd, tmp, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino) {
		r = log_error_errno(-EAGAIN, "policy %s: %s/%s was replaced while being prepared: giving up",
		                    pol->name, pol->root, tmp);
		goto fail;
	}
	if (renameat2(root_fd, tmp, root_fd, name, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EEXIST)
			log_error(
			    "policy %s: %s appeared while it was being created for uid %u: left untouched",
			    pol->name, path, (unsigned)uid);
		else
			log_error_errno(r, "policy %s: cannot rename the new directory to %s", pol->name,
			                path);
		goto fail;
	}
	/* The fsync of the root that makes the rename durable is the
	 * caller's, after the index write: provision_sync_root. */

	memcpy(res->key_id, id, LK_KEY_ID_SIZE);
	r = record_in_index(ix, root_fd, fd, id, path, res);
	if (r < 0) {
		/* A key the index does not name would never be locked at logout:
		 * take it out again. The directory stays, ours, for the next login. */
		lk_fscrypt_remove_key(root_fd, id, true, &busy, NULL);
		return log_error_errno(
		    r,
		    "policy %s: created %s for uid %u but cannot record it in the index (full?); "
		    "its key is removed again",
		    pol->name, path, (unsigned)uid);
	}
	log_event(LOG_INFO, LK_MSG_PROVISIONED, uid, hex, path,
	          "policy %s: created %s for uid %u (mode %04o, key %s), unlocked", pol->name, path,
	          (unsigned)uid, (unsigned)pol->mode, hex);
	return 0;

fail:
	remove_temp_dir(root_fd, tmp, fd);
	/* Close before removing the key: an open inode under the key would
	 * leave it "incompletely removed". */
	fd = safe_close(fd);
	if (sealed)
		lk_fscrypt_remove_key(root_fd, id, true, &busy, NULL);
	return r;
}

int provision_policy(struct lk_index *ix, const struct lk_cache_policy *pol, uid_t uid, gid_t gid,
                     const char *user, const uint8_t p[LK_PROTECTOR_KEY_SIZE], struct provision_result *ret)
{
	_cleanup_close_ int root_fd = -1;
	struct provision_result res = {};
	const char *name;
	struct stat root_st, st;
	int r;

	*ret = res;
	r = provision_path(pol, user, uid, res.path, sizeof(res.path));
	if (r < 0)
		return refuse(r, pol, uid, pol->root,
		              "subdir '%s' gives no usable directory name for user '%s'", pol->subdir, user);
	name = res.path + strlen(pol->root) + (strcmp(pol->root, "/") == 0 ? 0 : 1);

	r = open_root(pol, uid, &root_fd, &root_st);
	if (r < 0)
		return r;
	if (fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		r = adopt_existing(ix, pol, root_fd, &root_st, &st, name, uid, p, &res);
	else if (errno != ENOENT) {
		r = -errno;
		return refuse(r, pol, uid, res.path, "cannot look at it: %s", strerror(-r));
	} else {
		r = create_new(ix, pol, root_fd, &root_st, name, uid, gid, p, &res);
		res.outcome = PROVISION_CREATED;
	}
	if (r < 0)
		return r; /* *ret stays PROVISION_REFUSED, nothing recorded */
	*ret = res;
	return 0;
}

void provision_sync_root(const struct lk_cache_policy *pol)
{
	_cleanup_close_ int fd = -1;
	int r;

	r = root_open(pol->root, &fd);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		log_warning_errno(
		    r,
		    "policy %s: cannot fsync %s: a new directory in it may not survive a crash (it is "
		    "made again at the next login)",
		    pol->name, pol->root);
}

int provision_sweep(const struct lk_cache_policy *pol)
{
	_cleanup_close_ int root_fd = -1;
	_cleanup_(closedirp) DIR *d = NULL;
	struct stat root_st;
	struct dirent *de;
	int r, n = 0;

	r = open_root(pol, (uid_t)-1, &root_fd, &root_st);
	if (r < 0)
		return r;
	r = lk_opendir_at(root_fd, ".", 0, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		struct lk_fscrypt_policy ep;
		struct stat st;
		bool busy, had_policy;

		if (strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
			continue;
		fd = openat(root_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != 0 || st.st_dev != root_st.st_dev)
			continue;
		had_policy = lk_fscrypt_get_policy(fd, &ep) == 0 && ep.version == 2;
		remove_temp_dir(root_fd, de->d_name, fd);
		fd = safe_close(fd);
		if (fstatat(root_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue; /* not empty, or not ours after all: left alone */
		if (had_policy)
			lk_fscrypt_remove_key(root_fd, ep.key_id, true, &busy, NULL);
		n++;
	}
	if (n > 0)
		log_info("policy %s: removed %d temporary director%s left in %s by a crash", pol->name, n,
		         n == 1 ? "y" : "ies", pol->root);
	return n;
}

const struct lk_cache_policy *cache_policy_for_path(const struct lk_config *c, const char *user, uid_t uid,
                                                    const char *path)
{
	char mine[LK_PATH_MAX + 1];

	/* A user missing from the user database matches no [user] section. */
	if (!user || !user[0])
		return NULL;
	for (unsigned i = 0; i < c->n_cache_policies; i++)
		if (provision_path(&c->cache_policies[i], user, uid, mine, sizeof(mine)) == 0 &&
		    strcmp(mine, path) == 0)
			return &c->cache_policies[i];
	return NULL;
}

/* The index could not be saved: lock what this login recorded, since the
 * lock at logout would not find it. Each one locked counts as failed. */
static void lock_unrecorded(uid_t uid, const struct provision_result *res, unsigned n, unsigned *done,
                            unsigned *failed)
{
	for (unsigned i = 0; i < n; i++) {
		bool busy;
		if (res[i].recorded && root_lock(uid, res[i].path, res[i].key_id, &busy) == 0) {
			*done -= res[i].outcome != PROVISION_PRESENT;
			(*failed)++;
		}
	}
}

void provision_user(const struct lk_config *c, struct store *s, struct lk_index *ix, uid_t uid,
                    const char *user, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], unsigned *ret_done,
                    unsigned *ret_failed)
{
	_cleanup_free_ struct provision_result *res = NULL;
	unsigned done = 0, failed = 0, n = c->n_cache_policies;
	bool recorded = false;
	int r;

	if (n == 0)
		goto out;
	failed = n;
	if (!user) {
		log_error("cannot provision cache directories for uid %u: no such user in the user database",
		          (unsigned)uid);
		goto out;
	}
	res = calloc(n, sizeof(*res));
	if (!res) {
		log_error_errno(-ENOMEM, "cannot provision cache directories for uid %u", (unsigned)uid);
		goto out;
	}
	failed = 0;
	for (unsigned i = 0; i < n; i++) {
		r = provision_policy(ix, &c->cache_policies[i], uid, gid, user, p, &res[i]);
		if (r < 0)
			failed++;
		else if (res[i].outcome != PROVISION_PRESENT)
			done++;
		recorded |= res[i].recorded;
	}

	/* One durable index write for all cache policies of this login:
	 * without it nothing provisioned could be locked at logout. */
	if (recorded) {
		r = store_save_index(s, uid, ix);
		if (r < 0) {
			log_error_errno(
			    r,
			    "cannot save the root index of uid %u: locking the cache directories just "
			    "provisioned, since logout would not",
			    (unsigned)uid);
			lock_unrecorded(uid, res, n, &done, &failed);
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (res[i].outcome == PROVISION_CREATED)
			provision_sync_root(&c->cache_policies[i]);
out:
	if (ret_done)
		*ret_done = done;
	if (ret_failed)
		*ret_failed = failed;
}
