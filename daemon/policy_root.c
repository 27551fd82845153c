/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "log.h"
#include "policy_root.h"
#include "secret.h"
#include "wrapped_key.h"

int policy_root_open(const char *path, int *ret_fd)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

int policy_root_read_wrapped_key(int fd, uid_t uid, uint8_t blob[LK_WRAPPED_KEY_SIZE])
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

int policy_root_unlock(uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
		       const uint8_t expected_key_id[LK_KEY_ID_SIZE])
{
	_cleanup_close_ int fd = -1;
	int r;

	r = policy_root_open(path, &fd);
	if (r < 0)
		return log_error_errno(r, "cannot open policy root %s", path);
	return policy_root_unlock_fd(fd, uid, p, path, expected_key_id);
}

int policy_root_unlock_fd(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
			  const uint8_t expected_key_id[LK_KEY_ID_SIZE])
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
	if (pol.version != 2 || memcmp(pol.key_id, expected_key_id, LK_KEY_ID_SIZE) != 0) {
		log_error("%s is no longer encrypted with key %s: refusing to unlock it", path, hex);
		return -EBADMSG;
	}
	r = policy_root_read_wrapped_key(fd, uid, blob);
	if (r < 0)
		return log_error_errno(r, "no usable wrapped key for uid %u on %s", (unsigned)uid, path);

	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot allocate key memory");
	r = lk_wrapped_key_open(blob, sizeof(blob), uid, p, k.ptr, id);
	if (r < 0)
		return log_error_errno(r, "wrapped key for uid %u on %s does not authenticate", (unsigned)uid, path);
	if (!lk_secret_equal(id, expected_key_id, LK_KEY_ID_SIZE)) {
		log_error("wrapped key on %s is for another policy: refusing it", path);
		return -EBADMSG;
	}

	r = lk_fscrypt_add_key(fd, k.ptr, LK_MASTER_KEY_SIZE, kernel_id);
	lk_secret_release(&k); /* wiped right after the ioctl, as fscrypt.rst advises */
	if (r < 0)
		return log_error_errno(r, "cannot add key %s for %s: %s", hex, path, lk_fscrypt_strerror(-r, "add key"));
	if (memcmp(kernel_id, expected_key_id, LK_KEY_ID_SIZE) != 0) {
		bool busy;
		lk_fscrypt_remove_key(fd, kernel_id, true, &busy, NULL);
		log_error("kernel computed another identifier for the key of %s: key removed", path);
		return -EBADMSG;
	}
	log_info("unlocked %s (key %s) for uid %u", path, hex, (unsigned)uid);
	return 0;
}

/*
 * An fd on the policy root's filesystem that is not itself under the key:
 * the parent directory. An open fd of the encrypted directory would pin one
 * of its inodes and turn every lock into "files busy". Falls back to the
 * directory itself when it is a mount root (the parent is elsewhere).
 */
static int open_key_handle(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -1, parent = -1;
	struct stat a, b;
	int r;

	r = policy_root_open(path, &fd);
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

int policy_root_lock(const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], bool *ret_busy)
{
	_cleanup_close_ int fd = -1;
	bool busy = false;
	char hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	lk_hex(key_id, LK_KEY_ID_SIZE, hex);
	r = open_key_handle(path, &fd);
	if (r < 0)
		return log_error_errno(r, "cannot open policy root %s to lock it", path);
	r = lk_fscrypt_remove_key(fd, key_id, true, &busy, NULL);
	if (r == -ENOKEY) {
		*ret_busy = false;
		return 0; /* already locked */
	}
	if (r < 0)
		return log_error_errno(r, "cannot remove key %s of %s: %s", hex, path,
				       lk_fscrypt_strerror(-r, "remove key"));
	if (busy)
		log_warning("%s incompletely locked: files are still in use; will retry", path);
	else
		log_info("locked %s (key %s)", path, hex);
	*ret_busy = busy;
	return 0;
}

int policy_root_status(const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], uint32_t *ret_state)
{
	_cleanup_close_ int fd = -1;
	uint32_t users;
	int r;

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

int policy_root_dir_is_empty(int fd)
{
	_cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d)
		return -errno;
	dfd = -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int policy_root_seal(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
		     const struct lk_fscrypt_policy *modes, const char *path, uint8_t ret_key_id[LK_KEY_ID_SIZE],
		     const char **ret_err_text)
{
	struct lk_secret k _cleanup_secret_ = {};
	struct lk_fscrypt_policy pol;
	uint8_t id[LK_KEY_ID_SIZE], kernel_id[LK_KEY_ID_SIZE], blob[LK_WRAPPED_KEY_SIZE];
	char xname[64];
	bool key_added = false, busy;
	int r;

	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot allocate key memory");
	r = lk_random_bytes(k.ptr, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return log_error_errno(r, "cannot generate a key");
	r = lk_fscrypt_key_identifier(k.ptr, LK_MASTER_KEY_SIZE, id);
	if (r < 0)
		return log_error_errno(r, "cannot compute the key identifier");
	r = lk_wrapped_key_seal(uid, p, k.ptr, blob);
	if (r < 0)
		return log_error_errno(r, "cannot wrap the new key");

	/* The wrapped copy is durable before the policy exists: a crash leaves
	 * an unencrypted empty directory with a stale xattr, never an
	 * encrypted directory whose key is lost. */
	r = lk_wrapped_key_xattr_name(uid, xname, sizeof(xname));
	if (r < 0)
		return r;
	if (fsetxattr(fd, xname, blob, sizeof(blob), 0) < 0) {
		r = -errno;
		*ret_err_text = "cannot store the wrapped key (trusted xattrs unsupported or no space)";
		return log_error_errno(r, "encrypt: cannot write %s on %s", xname, path);
	}
	if (fsync(fd) < 0) {
		r = log_error_errno(-errno, "encrypt: fsync %s", path);
		goto fail;
	}

	r = lk_fscrypt_add_key(fd, k.ptr, LK_MASTER_KEY_SIZE, kernel_id);
	lk_secret_release(&k);
	if (r < 0) {
		*ret_err_text = lk_fscrypt_strerror(-r, "add key");
		log_error_errno(r, "encrypt: cannot add key for %s: %s", path, *ret_err_text);
		goto fail;
	}
	key_added = true;
	if (memcmp(kernel_id, id, LK_KEY_ID_SIZE) != 0) {
		r = log_error_errno(-EBADMSG, "encrypt: kernel and latchkey disagree on the key identifier");
		goto fail;
	}

	pol = *modes;
	pol.version = 2;
	memcpy(pol.key_id, id, LK_KEY_ID_SIZE);
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
			lk_fscrypt_remove_key(fd, id, true, &busy, NULL);
		fremovexattr(fd, xname);
	}
	return r;
}

int policy_root_create(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
		       uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text)
{
	_cleanup_close_ int fd = -1;
	struct lk_fscrypt_policy pol;
	uint8_t id[LK_KEY_ID_SIZE] = {0};
	char hex[2 * LK_KEY_ID_SIZE + 1];
	int r;

	*ret_err_text = NULL;
	r = policy_root_open(path, &fd);
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
	r = policy_root_dir_is_empty(fd);
	if (r <= 0) {
		*ret_err_text = "the directory is not empty (fscrypt can only encrypt empty directories)";
		log_error("encrypt: %s is not empty", path);
		return r < 0 ? r : -ENOTEMPTY;
	}

	lk_fscrypt_policy_default(&pol, id);
	r = policy_root_seal(fd, uid, p, &pol, path, id, ret_err_text);
	if (r < 0)
		return r;
	lk_hex(id, LK_KEY_ID_SIZE, hex);
	/* From here on a failure leaves an empty encrypted directory with its
	 * wrapped key: usable, so nothing is undone. */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0)
		return log_error_errno(-errno, "encrypt: cannot hand %s to uid %u", path, (unsigned)uid);
	if (fsync(fd) < 0)
		return log_error_errno(-errno, "encrypt: fsync %s", path);
	log_info("encrypted %s for uid %u with key %s", path, (unsigned)uid, hex);
	memcpy(ret_key_id, id, LK_KEY_ID_SIZE);
	return 0;
}
