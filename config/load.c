/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration directories: <vendor> (under /usr) holds defaults,
 * <etc> overrides them file by file, as systemd and PAM do. Files are
 * opened as all root-trusted metadata is (CVE-2022-25327 was a peer's
 * symlink-following bug): relative
 * to a directory fd, O_NOFOLLOW|O_NONBLOCK, checked on the fd (regular,
 * trusted owner, not group/world-writable, bounded size), read with a cap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fileio.h"
#include "internal.h"
#include "openat.h"

#define MAIN_FILE      "latchkey.conf"
#define DROPIN_DIR     "policy.d"
#define DROPIN_SUFFIX  ".conf"
#define LK_MAX_DROPINS 256

struct source {
	int fd; /* the directory, -1 if it does not exist */
	char path[LK_PATH_MAX + 1];
};

static void source_close(struct source *s)
{
	s->fd = safe_close(s->fd);
}

/* Root owns everything the daemon trusts; whoever runs the loader may own
 * files too (then root is not running it, and it only reads its own). */
static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int check_owner_mode(const struct stat *st, const char *path, const char *what,
                            struct lk_config_error *err)
{
	if (!trusted_owner(st->st_uid)) {
		cfg_error(err, path, 0, "%s is owned by uid %u, not root; chown root:root %s", what,
		          (unsigned)st->st_uid, path);
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		cfg_error(err, path, 0, "%s is writable by group or others (mode %04o); chmod go-w %s", what,
		          (unsigned)(st->st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

static void join_path(char *out, size_t size, const char *dir, const char *name)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s/%s", (int)n, dir, name);
}

/* Open dir (relative to at, or absolute when at is AT_FDCWD) into s. A
 * missing directory is no error: s->fd stays -1. */
static int source_open(struct source *s, int at, const char *parent_path, const char *dir,
                       struct lk_config_error *err)
{
	struct stat st;
	int fd;

	s->fd = -1;
	if (parent_path)
		join_path(s->path, sizeof(s->path), parent_path, dir);
	else
		snprintf(s->path, sizeof(s->path), "%s", dir ? dir : "");
	if (!dir || (at < 0 && at != AT_FDCWD))
		return 0;
	/* The top directory may be reached through symlinks (the caller
	 * names it); below it, nothing is followed. */
	fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (parent_path ? O_NOFOLLOW : 0));
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		cfg_error(err, s->path, 0,
		          "cannot open the directory: %s; check that it is a directory root can read",
		          strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		cfg_error(err, s->path, 0, "cannot stat the directory: %s", strerror(-r));
		return r;
	}
	if (check_owner_mode(&st, s->path, "directory", err) < 0) {
		close(fd);
		return -EPERM;
	}
	s->fd = fd;
	return 0;
}

/*
 * Read dirfd/name into c. Returns 1 if the file exists (parsed, or masked
 * by being empty or a symlink to /dev/null), 0 if it does not, or -errno.
 */
static int load_file(struct lk_config *c, const struct source *s, const char *name,
                     enum lk_config_file_kind kind, uint8_t *buf, struct lk_config_error *err)
{
	char path[LK_PATH_MAX + 1], target[16];
	struct stat st;
	size_t len;
	ssize_t n;
	int r;

	if (s->fd < 0)
		return 0;
	join_path(path, sizeof(path), s->path, name);
	if (fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		cfg_error(err, path, 0, "cannot stat: %s", strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(s->fd, name, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			if (strcmp(target, "/dev/null") == 0)
				return 1; /* masked */
		}
		cfg_error(err, path, 0,
		          "is a symbolic link; replace it with a regular file (only a link to /dev/null "
		          "masks a file)");
		return -ELOOP;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_error(err, path, 0, "is not a regular file; replace it with one, or remove it");
		return -EBADMSG;
	}
	r = check_owner_mode(&st, path, "file", err);
	if (r < 0)
		return r;
	if (st.st_size > LK_CONFIG_FILE_MAX) {
		cfg_error(err, path, 0, "is larger than %d bytes; split it into several drop-ins",
		          LK_CONFIG_FILE_MAX);
		return -EFBIG;
	}

	/* The checks again, on the fd this time: the file may have been
	 * swapped since fstatat. */
	r = lk_read_file_at(s->fd, name, st.st_uid, LK_CONFIG_FILE_MAX, buf, &len);
	if (r < 0) {
		cfg_error(err, path, 0, "cannot read: %s; if it changed just now, try again", strerror(-r));
		return r;
	}
	r = lk_config_parse_buffer(c, (const char *)buf, len, path, kind, err);
	return r < 0 ? r : 1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *n)
{
	size_t len = strlen(n), sl = strlen(DROPIN_SUFFIX);

	/* Dot files are editors' and package managers' leftovers. */
	return n[0] != '.' && len > sl && strcmp(n + len - sl, DROPIN_SUFFIX) == 0;
}

struct names {
	char **v;
	size_t n;
};

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

static int names_add_dir(struct names *ns, const struct source *s, struct lk_config_error *err)
{
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = NULL;
	int r;

	if (s->fd < 0)
		return 0;
	/* A stream of its own: s->fd stays open for the drop-ins' reads. */
	r = lk_opendir_at(s->fd, ".", 0, &d);
	if (r < 0) {
		cfg_error(err, s->path, 0, "cannot list the directory: %s", strerror(-r));
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		bool seen = false;

		if (!is_dropin_name(de->d_name))
			continue;
		for (size_t i = 0; i < ns->n && !seen; i++)
			seen = strcmp(ns->v[i], de->d_name) == 0;
		if (seen)
			continue;
		if (ns->n >= LK_MAX_DROPINS) {
			cfg_error(err, s->path, 0, "more than %d drop-ins; merge some of them",
			          LK_MAX_DROPINS);
			r = -E2BIG;
			break;
		}
		if (ns->n % 16 == 0) {
			char **v = realloc(ns->v, (ns->n + 16) * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			ns->v = v;
		}
		ns->v[ns->n] = strdup(de->d_name);
		if (!ns->v[ns->n]) {
			r = -ENOMEM;
			break;
		}
		ns->n++;
	}
	if (r == 0 && errno != 0) {
		r = -errno;
		cfg_error(err, s->path, 0, "cannot list the directory: %s", strerror(-r));
	}
	if (r == -ENOMEM)
		cfg_error(err, s->path, 0, "out of memory");
	return r;
}

static int load_all(struct lk_config *c, const char *etc_dir, const char *vendor_dir, uint8_t *buf,
                    struct lk_config_error *err)
{
	struct source etc = {.fd = -1}, vendor = {.fd = -1}, etc_d = {.fd = -1}, vendor_d = {.fd = -1};
	struct names names = {};
	int r;

	r = source_open(&etc, AT_FDCWD, NULL, etc_dir, err);
	if (r == 0)
		r = source_open(&vendor, AT_FDCWD, NULL, vendor_dir, err);
	if (r == 0)
		r = source_open(&etc_d, etc.fd, etc.path, DROPIN_DIR, err);
	if (r == 0)
		r = source_open(&vendor_d, vendor.fd, vendor.path, DROPIN_DIR, err);

	/* latchkey.conf: the one in etc replaces the vendor's entirely. */
	if (r == 0) {
		r = load_file(c, &etc, MAIN_FILE, LK_CONFIG_MAIN, buf, err);
		if (r == 0)
			r = load_file(c, &vendor, MAIN_FILE, LK_CONFIG_MAIN, buf, err);
	}

	if (r >= 0)
		r = names_add_dir(&names, &etc_d, err);
	if (r == 0)
		r = names_add_dir(&names, &vendor_d, err);
	/* qsort's array must not be NULL, even for no elements (UBSan). */
	if (r == 0 && names.n > 0)
		qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		r = load_file(c, &etc_d, names.v[i], LK_CONFIG_DROPIN, buf, err);
		if (r == 0)
			r = load_file(c, &vendor_d, names.v[i], LK_CONFIG_DROPIN, buf, err);
		if (r > 0)
			r = 0;
	}
	if (r == 0)
		r = lk_config_finish(c, err);

	names_free(&names);
	source_close(&etc);
	source_close(&vendor);
	source_close(&etc_d);
	source_close(&vendor_d);
	return r;
}

int lk_config_load(const char *etc_dir, const char *vendor_dir, struct lk_config *ret,
                   struct lk_config_error *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct lk_config c;
	int r;

	if (!ret)
		return -EINVAL;
	lk_config_init(&c);
	lk_config_init(ret);
	buf = malloc(LK_CONFIG_FILE_MAX);
	if (!buf) {
		cfg_error(err, etc_dir, 0, "out of memory");
		return -ENOMEM;
	}
	r = load_all(&c, etc_dir, vendor_dir, buf, err);
	if (r < 0) {
		lk_config_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}
