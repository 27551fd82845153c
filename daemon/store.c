/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "openat.h"
#include "secret.h"
#include "store.h"

/* Who must own the state: root. Test builds (-Dtest_hooks=true, never
 * installed) accept the running user instead, so that the daemon's logic
 * can be tested without privileges (tests/daemon); run as root, they still
 * require root. */
static uid_t state_owner(void)
{
#if LK_TEST_HOOKS
	return geteuid();
#else
	return 0;
#endif
}

/* Open (creating if needed) a 0700 directory of the state's owner below
 * dirfd and refuse one that someone else could write to. */
static int open_private_dir(int dirfd, const char *name, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cannot create state directory %s", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "cannot open state directory %s", name);
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != state_owner() || (st.st_mode & 0077)) {
		log_error("state directory %s must be owned by root with mode 0700 (found uid %u mode %04o); "
		          "fix with: chown root: %s && chmod 0700 %s",
		          name, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), name, name);
		return -EPERM;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int store_open(const char *path, struct store *ret)
{
	struct store s = {-1, -1, -1};
	int r;

	r = open_private_dir(AT_FDCWD, path, &s.dir_fd);
	if (r < 0)
		goto fail;
	r = open_private_dir(s.dir_fd, "protectors", &s.protectors_fd);
	if (r < 0)
		goto fail;
	r = open_private_dir(s.dir_fd, "index", &s.index_fd);
	if (r < 0)
		goto fail;

	/* A crash between create and rename leaves temp files: harmless, but swept. */
	r = lk_sweep_temp_files_at(s.protectors_fd);
	if (r > 0)
		log_info("removed %d stale temporary protector file(s)", r);
	r = lk_sweep_temp_files_at(s.index_fd);
	if (r > 0)
		log_info("removed %d stale temporary index file(s)", r);
	r = lk_sweep_temp_files_at(s.dir_fd);
	if (r > 0)
		log_info("removed %d stale temporary file(s)", r);

	*ret = s;
	return 0;
fail:
	store_close(&s);
	return r;
}

void store_close(struct store *s)
{
	s->index_fd = safe_close(s->index_fd);
	s->protectors_fd = safe_close(s->protectors_fd);
	s->dir_fd = safe_close(s->dir_fd);
}

int store_load_protector(struct store *s, uid_t uid, struct lk_protector *ret)
{
	uint8_t buf[LK_PROTECTOR_MAX_SIZE];
	char name[16];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	r = lk_read_file_at(s->protectors_fd, name, state_owner(), sizeof(buf), buf, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return log_error_errno(r, "cannot read protector file protectors/%s", name);
	r = lk_protector_parse(buf, len, ret);
	if (r < 0)
		return log_error_errno(r, "protector file protectors/%s is corrupt", name);
	if (ret->uid != uid) {
		log_error("protector file protectors/%s names uid %u: refusing it", name, (unsigned)ret->uid);
		return -EBADMSG;
	}
	return 0;
}

int store_save_protector(struct store *s, const struct lk_protector *pr)
{
	uint8_t buf[LK_PROTECTOR_MAX_SIZE];
	char name[16];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%u", (unsigned)pr->uid);
	r = lk_protector_serialize(pr, buf, sizeof(buf), &len);
	if (r < 0)
		return log_error_errno(r, "cannot serialise protector for uid %s", name);
	r = lk_write_file_atomic_at(s->protectors_fd, name, buf, len, 0600);
	if (r < 0)
		return log_error_errno(r, "cannot write protector file protectors/%s", name);
	return 0;
}

/* Read index/<uid> and hand it to parse (the whole index, or only its
 * account line). -ENOENT when there is none; other errors are logged. */
static int load_index_with(struct store *s, uid_t uid, int (*parse)(const char *buf, size_t len, void *ret),
                           void *ret)
{
	_cleanup_free_ char *buf = malloc(LK_INDEX_MAX_SIZE);
	char name[16];
	size_t len;
	int r;

	if (!buf)
		return -ENOMEM;
	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	r = lk_read_file_at(s->index_fd, name, state_owner(), LK_INDEX_MAX_SIZE, (uint8_t *)buf, &len);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return log_error_errno(r, "cannot read root index index/%s", name);
	r = parse(buf, len, ret);
	if (r < 0)
		return log_error_errno(r, "root index index/%s is corrupt", name);
	return 0;
}

static int parse_whole(const char *buf, size_t len, void *ret)
{
	return lk_index_parse(buf, len, ret);
}

static int parse_account(const char *buf, size_t len, void *ret)
{
	return lk_index_parse_account(buf, len, ret);
}

int store_load_index(struct store *s, uid_t uid, struct lk_index *ret)
{
	int r = load_index_with(s, uid, parse_whole, ret);

	if (r == -ENOENT) {
		ret->version = 2;
		ret->account[0] = '\0';
		ret->n = 0;
		return 0;
	}
	return r;
}

int store_load_account(struct store *s, uid_t uid, char account[LK_ACCOUNT_MAX + 1], bool *ret_exists)
{
	int r = load_index_with(s, uid, parse_account, account);

	*ret_exists = r != -ENOENT;
	if (r == -ENOENT) {
		account[0] = '\0';
		return 0;
	}
	return r;
}

int store_save_index(struct store *s, uid_t uid, const struct lk_index *ix)
{
	_cleanup_free_ char *text = NULL;
	char name[16];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	r = lk_index_serialize(ix, &text, &len);
	if (r < 0)
		return log_error_errno(r, "cannot serialise root index for uid %s", name);
	r = lk_write_file_atomic_at(s->index_fd, name, text, len, 0600);
	if (r < 0)
		return log_error_errno(r, "cannot write root index index/%s", name);
	return 0;
}

#define KDF_TARGET_FILE   "kdf-target"
#define KDF_TARGET_HEADER "latchkey-kdf-target 1\n"

int store_load_kdf_target(struct store *s, struct lk_kdf_params *ret)
{
	char buf[128];
	struct lk_kdf_params k = {.alg = LK_KDF_ARGON2ID, .salt_len = LK_SALT_MAX};
	size_t len;
	int n = 0, r;

	r = lk_read_file_at(s->dir_fd, KDF_TARGET_FILE, state_owner(), sizeof(buf) - 1, (uint8_t *)buf, &len);
	if (r < 0)
		return r;
	buf[len] = '\0';
	if (strncmp(buf, KDF_TARGET_HEADER, strlen(KDF_TARGET_HEADER)) != 0 ||
	    sscanf(buf + strlen(KDF_TARGET_HEADER), "%u %u %u\n%n", &k.t_cost, &k.m_cost_kib, &k.parallelism,
	           &n) != 3 ||
	    (size_t)n != len - strlen(KDF_TARGET_HEADER) || lk_kdf_params_check(&k) < 0)
		return log_error_errno(-EBADMSG, "%s is corrupt; it is rewritten at the next enrolment",
		                       KDF_TARGET_FILE);
	*ret = k;
	return 0;
}

int store_save_kdf_target(struct store *s, const struct lk_kdf_params *kdf)
{
	char buf[128];
	int n;

	n = snprintf(buf, sizeof(buf), KDF_TARGET_HEADER "%u %u %u\n", kdf->t_cost, kdf->m_cost_kib,
	             kdf->parallelism);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return lk_write_file_atomic_at(s->dir_fd, KDF_TARGET_FILE, buf, (size_t)n, 0600);
}

static int cmp_uid(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;
	return x < y ? -1 : x > y;
}

/* Append the uids named by the files of dir_fd to (*uids, *n), skipping
 * those already there. */
static int list_uids_in(int dir_fd, uid_t **uids_io, size_t *n_io, size_t *cap_io)
{
	uid_t *uids = *uids_io;
	size_t n = *n_io, cap = *cap_io;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	r = lk_opendir_at(dir_fd, ".", 0, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		uid_t uid;
		bool seen = false;
		if (lk_parse_uid(de->d_name, &uid) < 0)
			continue; /* ".", "..", temp files */
		for (size_t i = 0; i < n && !seen; i++)
			seen = uids[i] == uid;
		if (seen)
			continue;
		if (n == cap) {
			uid_t *t = reallocarray(uids, cap ? cap * 2 : 16, sizeof(uid_t));
			if (!t) {
				*uids_io = uids;
				*n_io = n;
				*cap_io = cap;
				return -ENOMEM;
			}
			uids = t;
			cap = cap ? cap * 2 : 16;
		}
		uids[n++] = uid;
	}
	*uids_io = uids;
	*n_io = n;
	*cap_io = cap;
	return 0;
}

static int list_users(struct store *s, bool with_protectors, uid_t **ret, size_t *ret_n)
{
	_cleanup_free_ uid_t *uids = NULL;
	size_t n = 0, cap = 0;
	int r;

	r = list_uids_in(s->index_fd, &uids, &n, &cap);
	if (r >= 0 && with_protectors)
		r = list_uids_in(s->protectors_fd, &uids, &n, &cap);
	if (r < 0)
		return r;
	if (n)
		qsort(uids, n, sizeof(uid_t), cmp_uid);
	*ret = TAKE_PTR(uids);
	*ret_n = n;
	return 0;
}

int store_list_indexed_users(struct store *s, uid_t **ret, size_t *ret_n)
{
	return list_users(s, false, ret, ret_n);
}

int store_list_users(struct store *s, uid_t **ret, size_t *ret_n)
{
	return list_users(s, true, ret, ret_n);
}

int store_remove_user(struct store *s, uid_t uid)
{
	char name[16];
	int r = 0;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	/* The protector first: without it the index opens nothing. */
	if (unlinkat(s->protectors_fd, name, 0) < 0 && errno != ENOENT)
		return log_error_errno(-errno, "cannot remove protectors/%s", name);
	if (fsync(s->protectors_fd) < 0)
		r = log_error_errno(-errno, "cannot sync the protector directory");
	if (unlinkat(s->index_fd, name, 0) < 0 && errno != ENOENT)
		return log_error_errno(-errno, "cannot remove index/%s", name);
	if (fsync(s->index_fd) < 0)
		r = log_error_errno(-errno, "cannot sync the index directory");
	return r;
}
