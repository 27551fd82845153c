/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "keyring_v1.h"
#include "log.h"
#include "log_event.h"
#include "openat.h"
#include "root.h"
#include "secret.h"
#include "wrapped_key.h"

int root_open(const char *path, int *ret_fd)
{
	/* Only absolute paths: a relative one would depend on the daemon's cwd. */
	if (!path || path[0] != '/')
		return -EINVAL;
	return lk_open_nofollow(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, ret_fd);
}

int root_read_wrapped_key(int fd, uid_t uid, uint8_t blob[LK_WRAPPED_KEY_SIZE])
{
	uint8_t buf[LK_WRAPPED_KEY_SIZE + 1];
	char name[64];
	ssize_t n;
	int r;

	r = lk_wrapped_key_xattr_name(uid, name, sizeof(name));
	if (r < 0)
		return r;
	n = fgetxattr(fd, name, buf, sizeof(buf));
	if (n < 0)
		return errno == ERANGE ? -EBADMSG : -errno;
	if ((size_t)n != LK_WRAPPED_KEY_SIZE)
		return -EBADMSG;
	memcpy(blob, buf, LK_WRAPPED_KEY_SIZE);
	return 0;
}

/* The kind of wrapped key a policy of this version must have. */
static int kind_for_version(uint8_t version)
{
	return version == 1 ? LK_WRAPPED_FSCRYPT_V1 : LK_WRAPPED_FSCRYPT_V2;
}

/* Legacy policies: the key goes to the user's keyring, where the kernel
 * looks for it when the user's processes open files. */
static int unlock_v1(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], const uint8_t *k)
{
	char hex[2 * LK_V1_DESCRIPTOR_SIZE + 1];
	int r;

	lk_hex(key_id, LK_V1_DESCRIPTOR_SIZE, hex);
	r = keyring_v1_add(uid, key_id, k);
	if (r < 0)
		return log_error_errno(r, "cannot add v1 key fscrypt:%s of %s to uid %u's keyring", hex, path,
		                       (unsigned)uid);
	log_event(LOG_INFO, LK_MSG_UNLOCKED, uid, hex, path,
	          "unlocked %s (v1 key fscrypt:%s in uid %u's keyring)", path, hex, (unsigned)uid);
	return 0;
}

/* An asynchronous v1 unlock: logged as the synchronous one is, then the caller's callback. */
struct v1_unlock {
	uid_t uid;
	char hex[2 * LK_V1_DESCRIPTOR_SIZE + 1];
	char *path;
	root_done_fn done;
	void *userdata;
};

static void on_v1_added(int r, void *userdata)
{
	struct v1_unlock *v = userdata;

	if (r < 0)
		log_error_errno(r, "cannot add v1 key fscrypt:%s of %s to uid %u's keyring", v->hex, v->path,
		                (unsigned)v->uid);
	else
		log_event(LOG_INFO, LK_MSG_UNLOCKED, v->uid, v->hex, v->path,
		          "unlocked %s (v1 key fscrypt:%s in uid %u's keyring)", v->path, v->hex,
		          (unsigned)v->uid);
	v->done(r, v->userdata);
	free(v->path);
	free(v);
}

static int unlock_v1_async(const struct root_async *a, uid_t uid, const char *path,
                           const uint8_t key_id[LK_KEY_ID_SIZE], const uint8_t *k)
{
	struct v1_unlock *v = calloc(1, sizeof(*v));
	int r;

	if (!v || !(v->path = strdup(path))) {
		free(v);
		return log_error_errno(-ENOMEM, "cannot unlock %s", path);
	}
	v->uid = uid;
	v->done = a->done;
	v->userdata = a->userdata;
	lk_hex(key_id, LK_V1_DESCRIPTOR_SIZE, v->hex);
	r = keyring_v1_add_async(a->event, uid, key_id, k, on_v1_added, v);
	if (r < 0) {
		log_error_errno(r, "cannot add v1 key fscrypt:%s of %s to uid %u's keyring", v->hex, path,
		                (unsigned)uid);
		free(v->path);
		free(v);
		return r;
	}
	return 1;
}

static int unlock_fd(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                     const uint8_t expected_key_id[LK_KEY_ID_SIZE], const struct root_async *a);

int root_unlock(uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                const uint8_t expected_key_id[LK_KEY_ID_SIZE])
{
	return root_unlock_async(NULL, uid, p, path, expected_key_id);
}

int root_unlock_async(const struct root_async *a, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                      const char *path, const uint8_t expected_key_id[LK_KEY_ID_SIZE])
{
	_cleanup_close_ int fd = -1;
	int r;

	r = root_open(path, &fd);
	if (r < 0)
		return log_error_errno(r, "cannot open encrypted root %s", path);
	return unlock_fd(fd, uid, p, path, expected_key_id, a);
}

int root_unlock_fd_async(const struct root_async *a, int fd, uid_t uid,
                         const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                         const uint8_t expected_key_id[LK_KEY_ID_SIZE])
{
	return unlock_fd(fd, uid, p, path, expected_key_id, a);
}

int root_unlock_fd(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                   const uint8_t expected_key_id[LK_KEY_ID_SIZE])
{
	return unlock_fd(fd, uid, p, path, expected_key_id, NULL);
}

static int unlock_fd(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                     const uint8_t expected_key_id[LK_KEY_ID_SIZE], const struct root_async *a)
{
	struct lk_secret k _cleanup_secret_ = {};
	struct lk_fscrypt_policy pol;
	uint8_t blob[LK_WRAPPED_KEY_SIZE], id[LK_KEY_ID_SIZE], kernel_id[LK_KEY_ID_SIZE];
	char hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	lk_hex(expected_key_id, LK_KEY_ID_SIZE, hex);
	r = lk_fscrypt_get_policy(fd, &pol);
	if (r < 0)
		return log_error_errno(r, "cannot read the encryption policy of %s", path);
	/* For v1 this is the only check that the key fits the directory: the
	 * kernel takes whatever key carries the descriptor's name. */
	if ((pol.version != 1 && pol.version != 2) ||
	    memcmp(pol.key_id, expected_key_id, LK_KEY_ID_SIZE) != 0) {
		log_error("%s is no longer encrypted with key %s: refusing to unlock it", path, hex);
		return -EBADMSG;
	}
	r = root_read_wrapped_key(fd, uid, blob);
	if (r < 0)
		return log_error_errno(r, "no usable wrapped key for uid %u on %s", (unsigned)uid, path);
	if (lk_wrapped_key_kind(blob, sizeof(blob)) != kind_for_version(pol.version)) {
		log_error("wrapped key for uid %u on %s is not for a v%u policy: refusing it", (unsigned)uid,
		          path, (unsigned)pol.version);
		return -EBADMSG;
	}

	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot allocate key memory");
	r = lk_wrapped_key_open(blob, sizeof(blob), uid, p, k.ptr, id);
	if (r < 0)
		return log_error_errno(r, "wrapped key for uid %u on %s does not authenticate", (unsigned)uid,
		                       path);
	if (!lk_secret_equal(id, expected_key_id, LK_KEY_ID_SIZE)) {
		log_error("wrapped key on %s is for another policy: refusing it", path);
		return -EBADMSG;
	}

	if (pol.version == 1) {
		r = a ? unlock_v1_async(a, uid, path, id, k.ptr) : unlock_v1(uid, path, id, k.ptr);
		lk_secret_release(&k);
		return r;
	}
	r = lk_fscrypt_add_key(fd, k.ptr, LK_MASTER_KEY_SIZE, kernel_id);
	lk_secret_release(&k); /* wiped right after the ioctl, as fscrypt.rst advises */
	if (r < 0)
		return log_error_errno(r, "cannot add key %s for %s: %s", hex, path,
		                       lk_fscrypt_strerror(-r, "add key"));
	if (memcmp(kernel_id, expected_key_id, LK_KEY_ID_SIZE) != 0) {
		bool busy;
		lk_fscrypt_remove_key(fd, kernel_id, true, &busy, NULL);
		log_error("kernel computed another identifier for the key of %s: key removed", path);
		return -EBADMSG;
	}
	log_event(LOG_INFO, LK_MSG_UNLOCKED, uid, hex, path, "unlocked %s (key %s) for uid %u", path, hex,
	          (unsigned)uid);
	return 0;
}

/*
 * An fd on the encrypted root's filesystem that is not itself under the key:
 * the parent directory. An open fd of the encrypted directory would pin one
 * of its inodes and turn every lock into "files busy". Falls back to the
 * directory itself when it is a mount root (the parent is elsewhere).
 */
static int open_key_handle(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1, parent = -1;
	struct stat a, b;
	int r;

	r = root_open(path, &fd);
	if (r < 0)
		return r;
	parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent >= 0 && fstat(fd, &a) == 0 && fstat(parent, &b) == 0 && a.st_dev == b.st_dev) {
		*ret_fd = TAKE_FD(parent);
		return 0;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/*
 * The policy version of the root at path, read from the directory itself
 * (FS_IOC_GET_ENCRYPTION_POLICY_EX needs no key), so a user may have v1 and
 * v2 roots side by side. When the directory cannot be read, the index's
 * identifier decides by its shape, so that a lock still takes a v1 key out
 * of the keyring.
 */
static int root_policy_version(const char *path, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy pol;

	if (root_open(path, &fd) == 0 && lk_fscrypt_get_policy(fd, &pol) == 0 &&
	    memcmp(pol.key_id, key_id, LK_KEY_ID_SIZE) == 0)
		return pol.version;
	return lk_key_id_is_v1(key_id) ? 1 : 2;
}

/* 1 if the directory fd has an entry other than "." and ".." for which
 * match() is true (any entry, when match is NULL), 0 if not, or -errno. */
static int dir_has_entry(int fd, bool (*match)(const char *name))
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	r = lk_opendir_at(fd, ".", 0, &d);
	if (r < 0)
		return r;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!match || match(de->d_name)) {
			r = 1;
			break;
		}
	}
	if (!de && errno != 0)
		r = -errno;
	return r;
}

int root_dir_is_empty(int fd)
{
	int r = dir_has_entry(fd, NULL);

	return r < 0 ? r : !r;
}

/*
 * Could name not be a no-key name, as the kernel lists the entries of a
 * directory whose key is not set up? Those encode at least 16 bytes of
 * ciphertext (22 characters or more) in base64url, or in the base64
 * variant with '+' and ',' (and a leading '_' for long names) of older
 * kernels. A name that is shorter, or has a '.' or any other character,
 * is plaintext.
 */
static bool is_plaintext_name(const char *name)
{
	size_t n = 0;

	for (const char *c = name; *c; c++, n++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '+' || *c == ','))
			return true;
	return n < 22;
}

/*
 * Whether a v1 root (fd) still has its key cached, judged by the names it
 * lists to the daemon: reading it tries to set the key up with the
 * daemon's keyrings, which never hold a user's key, so plaintext names come
 * only from an inode that kept its key. Anything still in use under the
 * root pins the root's dentry, and with it that key. There is no exact
 * test: FS_IOC_GET_ENCRYPTION_KEY_STATUS does not see keys in process
 * keyrings, and creating a file needs the master key even in a directory
 * whose own key is cached. A user who gives every top-level entry a name
 * of 22 or more characters of [A-Za-z0-9+,_-] can make an incomplete lock
 * of their own root look complete; an empty root looks locked.
 */
static int v1_root_keyed(int fd)
{
	return dir_has_entry(fd, is_plaintext_name);
}

/* enum lk_key_state of a v1 root: present iff the key is in uid's keyring;
 * otherwise incompletely removed while the root still has its key cached. */
static int root_state_v1(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE],
                         uint32_t *ret_state)
{
	_cleanup_close_ int fd = -1;
	int r;

	r = keyring_v1_present(uid, key_id);
	if (r < 0)
		return r;
	if (r > 0) {
		*ret_state = LK_KEY_PRESENT;
		return 0;
	}
	r = root_open(path, &fd);
	if (r < 0)
		return r;
	r = v1_root_keyed(fd);
	if (r < 0)
		return r;
	*ret_state = r ? LK_KEY_INCOMPLETELY_REMOVED : LK_KEY_ABSENT;
	return 0;
}

/* Write back the root's filesystem through an fd that is closed again
 * before the caches are dropped, so that it pins nothing. */
static int sync_root_fs(const char *path)
{
	_cleanup_close_ int fd = -1;
	int r;

	r = root_open(path, &fd);
	if (r < 0)
		return r;
	return syncfs(fd) < 0 ? -errno : 0;
}

/*
 * Lock a v1 root: take the key out of uid's keyring, then, because inodes
 * opened meanwhile keep their per-file keys, sync and evict the caches and
 * look whether the root itself still has its key. Anything short of that
 * is reported as incompletely locked, and retried like busy v2 files.
 */
static int lock_v1(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], bool *ret_busy)
{
	char hex[2 * LK_V1_DESCRIPTOR_SIZE + 1];
	uint32_t state = LK_KEY_UNKNOWN;
	int removed, r;

	lk_hex(key_id, LK_V1_DESCRIPTOR_SIZE, hex);
	removed = keyring_v1_remove(uid, key_id);
	if (removed < 0) {
		log_error_errno(removed,
		                "%s incompletely locked: cannot remove v1 key fscrypt:%s from uid %u's "
		                "keyring; will retry",
		                path, hex, (unsigned)uid);
		*ret_busy = true;
		return 0;
	}
	/* Nothing was in the keyring and nothing is cached: already locked,
	 * and no reason to drop every cache on the system. */
	if (removed == 0 && root_state_v1(uid, path, key_id, &state) == 0 && state == LK_KEY_ABSENT) {
		*ret_busy = false;
		return 0;
	}

	r = sync_root_fs(path);
	if (r < 0)
		return log_error_errno(r, "cannot open encrypted root %s to lock it", path);
	r = keyring_v1_drop_caches();
	if (r == -EAGAIN) {
		log_peer(
		    uid, LOG_INFO,
		    "%s incompletely locked: v1 key removed; the caches were dropped less than %u s ago, "
		    "will retry",
		    path, DROP_CACHES_INTERVAL_MS / 1000);
		*ret_busy = true;
		return 0;
	}
	if (r < 0) {
		log_error_errno(r,
		                "%s incompletely locked: v1 key removed, but the inode cache cannot be "
		                "dropped (/proc/sys/vm/drop_caches); will retry",
		                path);
		*ret_busy = true;
		return 0;
	}
	r = root_state_v1(uid, path, key_id, &state);
	if (r < 0) {
		log_error_errno(r,
		                "%s incompletely locked: cannot check that its cached inodes were "
		                "evicted; will retry",
		                path);
		*ret_busy = true;
		return 0;
	}
	if (state != LK_KEY_ABSENT) {
		log_event(LOG_WARNING, LK_MSG_LOCK_INCOMPLETE, uid, hex, path,
		          "%s incompletely locked: files are still in use and keep their v1 keys; will retry",
		          path);
		*ret_busy = true;
		return 0;
	}
	log_event(LOG_INFO, LK_MSG_LOCKED, uid, hex, path,
	          "locked %s (v1 key fscrypt:%s removed, caches dropped)", path, hex);
	*ret_busy = false;
	return 0;
}

int root_lock(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], bool *ret_busy)
{
	_cleanup_close_ int fd = -1;
	bool busy = false;
	char hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	if (root_policy_version(path, key_id) == 1)
		return lock_v1(uid, path, key_id, ret_busy);

	lk_hex(key_id, LK_KEY_ID_SIZE, hex);
	r = open_key_handle(path, &fd);
	if (r < 0)
		return log_error_errno(r, "cannot open encrypted root %s to lock it", path);
	r = lk_fscrypt_remove_key(fd, key_id, true, &busy, NULL);
	if (r == -ENOKEY) {
		*ret_busy = false;
		return 0; /* already locked */
	}
	if (r < 0)
		return log_error_errno(r, "cannot remove key %s of %s: %s", hex, path,
		                       lk_fscrypt_strerror(-r, "remove key"));
	if (busy)
		log_event(LOG_WARNING, LK_MSG_LOCK_INCOMPLETE, uid, hex, path,
		          "%s incompletely locked: files are still in use; will retry", path);
	else
		log_event(LOG_INFO, LK_MSG_LOCKED, uid, hex, path, "locked %s (key %s)", path, hex);
	*ret_busy = busy;
	return 0;
}

int root_status(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], uint32_t *ret_state)
{
	_cleanup_close_ int fd = -1;
	uint32_t users;
	int r;

	if (root_policy_version(path, key_id) == 1) {
		r = root_state_v1(uid, path, key_id, ret_state);
		if (r < 0)
			*ret_state = r == -ENOENT || r == -ENOTDIR ? LK_KEY_UNAVAILABLE : LK_KEY_UNKNOWN;
		return 0;
	}
	r = open_key_handle(path, &fd);
	if (r < 0) {
		*ret_state = LK_KEY_UNAVAILABLE;
		return 0;
	}
	r = lk_fscrypt_key_status(fd, key_id, ret_state, &users);
	if (r < 0)
		*ret_state = LK_KEY_UNKNOWN;
	return 0;
}

/* Add the new key K (identifier id) where a policy of this version looks
 * for it: the filesystem keyring (v2, identifier checked against the
 * kernel's), or uid's keyring (v1). */
static int add_new_key(int fd, uid_t uid, uint8_t version, const uint8_t *k, const uint8_t id[LK_KEY_ID_SIZE],
                       const char **ret_err_text)
{
	uint8_t kernel_id[LK_KEY_ID_SIZE];
	bool busy;
	int r;

	if (version == 1) {
		r = keyring_v1_add(uid, id, k);
		if (r < 0) {
			*ret_err_text = "cannot add the key to the user's keyring";
			return log_error_errno(r, "encrypt: cannot add the v1 key to uid %u's keyring",
			                       (unsigned)uid);
		}
		return 0;
	}
	r = lk_fscrypt_add_key(fd, k, LK_MASTER_KEY_SIZE, kernel_id);
	if (r < 0) {
		*ret_err_text = lk_fscrypt_strerror(-r, "add key");
		return log_error_errno(r, "encrypt: cannot add key: %s", *ret_err_text);
	}
	if (memcmp(kernel_id, id, LK_KEY_ID_SIZE) != 0) {
		lk_fscrypt_remove_key(fd, kernel_id, true, &busy, NULL);
		return log_error_errno(-EBADMSG,
		                       "encrypt: kernel and latchkey disagree on the key identifier");
	}
	return 0;
}

static void remove_new_key(int fd, uid_t uid, uint8_t version, const uint8_t id[LK_KEY_ID_SIZE])
{
	bool busy;

	if (version == 1)
		keyring_v1_remove(uid, id);
	else
		lk_fscrypt_remove_key(fd, id, true, &busy, NULL);
}

/* Seal a policy of version modes->version (1: the legacy v1 defaults,
 * modes ignored otherwise; 2: modes' contents/filenames modes and flags). */
int root_seal(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
              const struct lk_fscrypt_policy *modes, bool published, const char *path,
              uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text)
{
	struct lk_secret k _cleanup_secret_ = {};
	struct lk_fscrypt_policy pol;
	uint8_t version = modes->version == 1 ? 1 : 2;
	uint16_t kind = (uint16_t)kind_for_version(version);
	uint8_t id[LK_KEY_ID_SIZE], blob[LK_WRAPPED_KEY_SIZE];
	char xname[64];
	bool key_added = false;
	int r;

	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot allocate key memory");
	r = lk_random_bytes(k.ptr, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot generate a key");
	r = lk_wrapped_key_id(kind, k.ptr, id);
	if (r < 0)
		return log_error_errno(r, "cannot compute the key identifier");
	r = lk_wrapped_key_seal_kind(kind, uid, p, k.ptr, blob);
	if (r < 0)
		return log_error_errno(r, "cannot wrap the new key");

	/* In a published directory the wrapped copy is durable before the
	 * policy exists: a crash leaves an unencrypted empty directory with a
	 * stale xattr, never an encrypted directory whose key is lost. */
	r = lk_wrapped_key_xattr_name(uid, xname, sizeof(xname));
	if (r < 0)
		return r;
	if (fsetxattr(fd, xname, blob, sizeof(blob), 0) < 0) {
		r = -errno;
		*ret_err_text = "cannot store the wrapped key (trusted xattrs unsupported or no space)";
		return log_error_errno(r, "encrypt: cannot write %s on %s", xname, path);
	}
	if (published && fsync(fd) < 0) {
		r = log_error_errno(-errno, "encrypt: fsync %s", path);
		goto fail;
	}

	r = add_new_key(fd, uid, version, k.ptr, id, ret_err_text);
	lk_secret_release(&k);
	if (r < 0)
		goto fail;
	key_added = true;

	if (version == 1) {
		lk_fscrypt_policy_default_v1(&pol, id);
	} else {
		pol = *modes;
		pol.version = 2;
		memcpy(pol.key_id, id, LK_KEY_ID_SIZE);
	}
	r = lk_fscrypt_set_policy(fd, &pol);
	if (r < 0) {
		*ret_err_text = lk_fscrypt_strerror(-r, "set policy");
		log_error_errno(r, "encrypt: cannot set policy on %s: %s", path, *ret_err_text);
		goto fail;
	}
	memcpy(ret_key_id, id, LK_KEY_ID_SIZE);
	return 0;

fail:
	/* Only an unencrypted directory loses our key and xattr: once a policy
	 * is set (the kernel cannot unset it) they are what makes it usable. */
	if (lk_fscrypt_get_policy(fd, &pol) < 0) {
		if (key_added)
			remove_new_key(fd, uid, version, id);
		fremovexattr(fd, xname);
	}
	return r;
}

static int create_root(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                       uint8_t version, uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text)
{
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy pol;
	uint8_t id[LK_KEY_ID_SIZE] = {0};
	char hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	*ret_err_text = NULL;
	r = root_open(path, &fd);
	if (r < 0) {
		*ret_err_text = r == -ELOOP ? "the path contains a symbolic link; give the real path"
		                            : "cannot open the directory";
		return log_error_errno(r, "encrypt: cannot open %s", path);
	}
	r = lk_fscrypt_check_fs(fd);
	if (r < 0) {
		*ret_err_text = "the directory is not on ext4 or f2fs";
		return log_error_errno(r, "encrypt: %s is not on an allow-listed filesystem", path);
	}
	r = lk_fscrypt_get_policy(fd, &pol);
	if (r == 0) {
		*ret_err_text = "the directory is already encrypted";
		log_error("encrypt: %s is already encrypted", path);
		return -EEXIST;
	}
	if (r != -ENODATA) {
		*ret_err_text = lk_fscrypt_strerror(-r, "get policy");
		return log_error_errno(r, "encrypt: cannot query the policy of %s: %s", path, *ret_err_text);
	}
	r = root_dir_is_empty(fd);
	if (r <= 0) {
		*ret_err_text = "the directory is not empty (fscrypt can only encrypt empty directories)";
		log_error("encrypt: %s is not empty", path);
		return r < 0 ? r : -ENOTEMPTY;
	}

	if (version == 1)
		lk_fscrypt_policy_default_v1(&pol, id);
	else
		lk_fscrypt_policy_default(&pol, id);
	r = root_seal(fd, uid, p, &pol, true, path, id, ret_err_text);
	if (r < 0)
		return r;
	lk_hex(id, LK_KEY_ID_SIZE, hex);
	/* From here on a failure leaves an empty encrypted directory with its
	 * wrapped key: usable, so nothing is undone. */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0)
		return log_error_errno(-errno, "encrypt: cannot hand %s to uid %u", path, (unsigned)uid);
	if (fsync(fd) < 0)
		return log_error_errno(-errno, "encrypt: fsync %s", path);
	if (version == 1)
		log_info("encrypted %s for uid %u with a legacy v1 policy, key fscrypt:%.16s", path,
		         (unsigned)uid, hex);
	else
		log_info("encrypted %s for uid %u with key %s", path, (unsigned)uid, hex);
	memcpy(ret_key_id, id, LK_KEY_ID_SIZE);
	return 0;
}

int root_create(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text)
{
	return create_root(uid, gid, p, path, 2, ret_key_id, ret_err_text);
}

int root_create_v1(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                   uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text)
{
	return create_root(uid, gid, p, path, 1, ret_key_id, ret_err_text);
}
