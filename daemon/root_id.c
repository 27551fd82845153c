/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "log.h"
#include "mountinfo.h"
#include "root.h"
#include "root_id.h"

/* FS_IOC_GETFSUUID (Linux 6.7) and its ext4 predecessor (6.0); Debian 12's
 * headers have neither. */
struct lk_fsuuid2 {
	uint8_t len;
	uint8_t uuid[16];
};
#define LK_FS_IOC_GETFSUUID _IOR(0x15, 0, struct lk_fsuuid2)
struct lk_ext4_fsuuid {
	uint32_t len;
	uint32_t flags;
	uint8_t uuid[16];
};
#define LK_EXT4_IOC_GETFSUUID _IOR('f', 44, uint64_t)

static int fs_uuid(int fd, uint8_t uuid[LK_FS_UUID_SIZE])
{
	struct lk_fsuuid2 u2 = {0};
	struct lk_ext4_fsuuid u4 = {.len = LK_FS_UUID_SIZE};

	if (ioctl(fd, LK_FS_IOC_GETFSUUID, &u2) == 0 && u2.len == LK_FS_UUID_SIZE) {
		memcpy(uuid, u2.uuid, LK_FS_UUID_SIZE);
		return 0;
	}
	if (ioctl(fd, LK_EXT4_IOC_GETFSUUID, &u4) == 0 && u4.len == LK_FS_UUID_SIZE) {
		memcpy(uuid, u4.uuid, LK_FS_UUID_SIZE);
		return 0;
	}
	return -EOPNOTSUPP;
}

bool root_id_known(const struct lk_root_identity *id)
{
	return id->has_handle || id->has_uuid || id->dev_major || id->dev_minor;
}

/* The device number and file handle of fd into id (has_handle false when
 * the filesystem gives none that fits). */
static int handle_of(int fd, struct lk_root_identity *id)
{
	union {
		struct file_handle fh;
		uint8_t buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} h;
	struct stat st;
	int mount_id;

	if (fstat(fd, &st) < 0)
		return -errno;
	id->dev_major = major(st.st_dev);
	id->dev_minor = minor(st.st_dev);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	id->has_handle = name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0 &&
	                 h.fh.handle_bytes > 0 && h.fh.handle_bytes <= LK_HANDLE_MAX && h.fh.handle_type >= 0;
	if (id->has_handle) {
		id->handle_type = h.fh.handle_type;
		id->handle_len = (uint8_t)h.fh.handle_bytes;
		memcpy(id->handle, h.fh.f_handle, h.fh.handle_bytes);
	}
	return 0;
}

int root_id_fill(int fd, struct lk_root_identity *ret)
{
	struct lk_root_identity id = {0};
	int r;

	r = handle_of(fd, &id);
	if (r < 0)
		return r;
	if (!id.has_handle)
		log_warning("cannot make a file handle for a encrypted root: it will not be found if moved");
	id.has_uuid = fs_uuid(fd, id.uuid) == 0;
	*ret = id;
	return 0;
}

static bool fs_type_allowed(const char *t)
{
	return strcmp(t, "ext4") == 0 || strcmp(t, "f2fs") == 0;
}

struct find_fs {
	const struct lk_root_identity *id;
	bool by_uuid; /* second pass: the device number may have changed */
	int fd;
};

static int try_mount(const struct lk_mount *m, void *userdata)
{
	struct find_fs *ff = userdata;
	_cleanup_close_ int fd = -1;
	uint8_t uuid[LK_FS_UUID_SIZE];
	struct lk_fscrypt_policy pol;
	struct stat st;
	bool dev_match = m->major == ff->id->dev_major && m->minor == ff->id->dev_minor;

	if (!fs_type_allowed(m->fstype) || (!ff->by_uuid && !dev_match) || (ff->by_uuid && dev_match))
		return 0;
	if (root_open(m->point, &fd) < 0 || fstat(fd, &st) < 0 || major(st.st_dev) != m->major ||
	    minor(st.st_dev) != m->minor)
		return 0; /* over-mounted, or a symlink on the way */
	if (ff->id->has_uuid && (fs_uuid(fd, uuid) < 0 || memcmp(uuid, ff->id->uuid, LK_FS_UUID_SIZE) != 0))
		return 0;
	/* A bind mount of a directory inside an encrypted tree would pin it. */
	if (strcmp(m->root, "/") != 0 && lk_fscrypt_get_policy(fd, &pol) != -ENODATA)
		return 0;
	ff->fd = TAKE_FD(fd);
	return 1;
}

static int scan_mounts(struct find_fs *ff)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int r;

	if (!f)
		return -errno;
	r = lk_mountinfo_foreach(f, try_mount, ff);
	fclose(f);
	return r;
}

int root_id_open_fs(const struct lk_root_identity *id, int *ret_fd)
{
	struct find_fs ff = {.id = id, .fd = -1};
	int r;

	if (!root_id_known(id))
		return -ENOENT;
	r = scan_mounts(&ff);
	if (r == 0 && id->has_uuid) {
		ff.by_uuid = true;
		r = scan_mounts(&ff);
	}
	if (r < 0)
		return r;
	if (ff.fd < 0)
		return -ENODEV;
	*ret_fd = ff.fd;
	return 0;
}

/* The path of fd as the kernel names it, if opening that path again
 * (without symlinks) reaches the same directory. */
static void current_path(int fd, const struct stat *st, char path[LK_PATH_MAX + 1])
{
	_cleanup_close_ int check = -1;
	char link[32], buf[LK_PATH_MAX + 2];
	struct stat st2;
	ssize_t n;

	path[0] = '\0';
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || (size_t)n > LK_PATH_MAX)
		return;
	buf[n] = '\0';
	if (lk_path_is_valid(buf) < 0 || root_open(buf, &check) < 0 || fstat(check, &st2) < 0 ||
	    st2.st_dev != st->st_dev || st2.st_ino != st->st_ino)
		return;
	memcpy(path, buf, (size_t)n + 1);
}

/* Whether the directory fd has exactly the recorded device and handle. */
static bool handle_matches(int fd, const struct lk_root_identity *id)
{
	struct lk_root_identity now = {0};

	return handle_of(fd, &now) == 0 && now.has_handle && now.dev_major == id->dev_major &&
	       now.dev_minor == id->dev_minor && now.handle_type == id->handle_type &&
	       now.handle_len == id->handle_len && memcmp(now.handle, id->handle, id->handle_len) == 0;
}

int root_id_open(const struct lk_root_identity *id, const char *hint, int *ret_fd, char path[LK_PATH_MAX + 1])
{
	_cleanup_close_ int mfd = -1, fd = -1;
	union {
		struct file_handle fh;
		uint8_t buf[sizeof(struct file_handle) + LK_HANDLE_MAX];
	} h;
	struct stat st;
	int r;

	if (!id->has_handle)
		return -ENOENT;
	/* The common case, a root that stayed where it was, needs no look
	 * at the mount table: the hint names a directory with our handle. */
	if (hint && root_open(hint, &fd) == 0) {
		if (handle_matches(fd, id) && fstat(fd, &st) == 0 && st.st_nlink > 0) {
			strcpy(path, hint);
			*ret_fd = TAKE_FD(fd);
			return 0;
		}
		fd = safe_close(fd);
	}
	r = root_id_open_fs(id, &mfd);
	if (r < 0)
		return r;
	h.fh.handle_bytes = id->handle_len;
	h.fh.handle_type = id->handle_type;
	memcpy(h.fh.f_handle, id->handle, id->handle_len);
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ESTALE || errno == ENOENT || errno == ENOTDIR ? -ESTALE : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* Still open somewhere, but unlinked: deleted all the same. */
	if (!S_ISDIR(st.st_mode) || st.st_nlink == 0)
		return -ESTALE;
	current_path(fd, &st, path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int path_taken(const struct lk_index *ix, unsigned self, const char *path)
{
	for (unsigned i = 0; i < ix->n; i++)
		if (i != self && strcmp(ix->e[i].path, path) == 0)
			return 1;
	return 0;
}

/* Identify the directory at the entry's path, if it has the entry's key:
 * for entries of a version 1 index, and for a recorded identity that no
 * longer fits (the filesystem got another device number and the kernel
 * reports no UUID to find it by). true if e->id was replaced. */
static bool identify_by_path(struct lk_index_entry *e)
{
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy pol;

	return root_open(e->path, &fd) == 0 && lk_fscrypt_get_policy(fd, &pol) == 0 &&
	       memcmp(pol.key_id, e->key_id, LK_KEY_ID_SIZE) == 0 && root_id_fill(fd, &e->id) == 0;
}

static void refresh_entry(uid_t uid, struct lk_index *ix, unsigned i, bool *changed)
{
	struct lk_index_entry *e = &ix->e[i];
	_cleanup_close_ int fd = -1;
	char path[LK_PATH_MAX + 1], hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	lk_hex(e->key_id, LK_KEY_ID_SIZE, hex);
	if (!e->id.has_handle) {
		*changed |= identify_by_path(e);
		return;
	}
	r = root_id_open(&e->id, e->path, &fd, path);
	if ((r == -ESTALE || r == -ENODEV) && !e->id.has_uuid && identify_by_path(e)) {
		e->gone = false;
		*changed = true;
		return;
	}
	if (r == -ESTALE) {
		if (!e->gone) {
			log_warning(
			    "%s (key %s) of uid %u no longer exists; `latchkeyctl forget %s` drops it",
			    e->path, hex, (unsigned)uid, e->path);
			e->gone = true;
			*changed = true;
		}
		return;
	}
	if (r < 0)
		return; /* filesystem not mounted, say: nothing to learn */
	if (e->gone) {
		e->gone = false;
		*changed = true;
	}
	if (path[0] && strcmp(path, e->path) != 0) {
		if (path_taken(ix, i, path)) {
			log_warning(
			    "%s (key %s) of uid %u is now at %s, which the index still names for another "
			    "root; `latchkeyctl forget` that one",
			    e->path, hex, (unsigned)uid, path);
			return;
		}
		log_info("%s (key %s) of uid %u moved to %s", e->path, hex, (unsigned)uid, path);
		strcpy(e->path, path);
		*changed = true;
	}
	/* The device number may change across reboots (loop devices). */
	{
		struct stat st;
		if (fstat(fd, &st) == 0 &&
		    (major(st.st_dev) != e->id.dev_major || minor(st.st_dev) != e->id.dev_minor)) {
			e->id.dev_major = major(st.st_dev);
			e->id.dev_minor = minor(st.st_dev);
			*changed = true;
		}
	}
}

void root_id_refresh_index(uid_t uid, struct lk_index *ix, bool *ret_changed)
{
	bool changed = false;

	for (unsigned i = 0; i < ix->n; i++)
		refresh_entry(uid, ix, i, &changed);
	*ret_changed = changed;
}
