/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Does this kernel, on this filesystem, accept a policy's encryption
 * settings? Only trying tells: SET_ENCRYPTION_POLICY checks the modes and
 * flags against what the filesystem supports (IV_INO_LBLK_64 needs stable
 * inode numbers), and the cipher itself (Adiantum, HCTR2) is looked up in
 * the kernel's crypto API only when a file's key is set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "secret.h"

#define PROBE_PREFIX ".latchkey-probe-"

static int make_probe_dir(int root_fd, char *name, size_t size)
{
	uint8_t rnd[6];
	int r;

	for (int attempt = 0; attempt < 8; attempt++) {
		r = lk_random_bytes(rnd, sizeof(rnd));
		if (r < 0)
			return r;
		snprintf(name, size, PROBE_PREFIX "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		         rnd[4], rnd[5]);
		if (mkdirat(root_fd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Set the policy with a throw-away key in the empty directory dfd, then
 * create and write a file under it. */
static int try_policy(int dfd, const struct lk_cache_policy *p, uint8_t key_id[LK_KEY_ID_SIZE],
                      bool *key_added, const char **step)
{
	struct lk_secret key _cleanup_secret_ = {};
	struct lk_fscrypt_policy fp;
	_cleanup_close_ int fd = -1;
	int r;

	*step = "add key";
	r = lk_secret_new(&key, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return r;
	r = lk_random_bytes(key.ptr, key.len);
	if (r < 0)
		return r;
	r = lk_fscrypt_add_key(dfd, key.ptr, key.len, key_id);
	if (r < 0)
		return r;
	*key_added = true;

	*step = "set policy";
	fp = (struct lk_fscrypt_policy){
	    .version = 2,
	    .contents_mode = p->contents_mode,
	    .filenames_mode = p->filenames_mode,
	    .flags = p->flags,
	};
	memcpy(fp.key_id, key_id, LK_KEY_ID_SIZE);
	r = lk_fscrypt_set_policy(dfd, &fp);
	if (r < 0)
		return r;

	/* Creating the file sets up its contents key (and the directory's
	 * filenames key): the kernel asks its crypto API for the ciphers now,
	 * and answers ENOPKG if one is not built in. */
	*step = "create file";
	fd = openat(dfd, "probe", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	*step = "write file";
	if (write(fd, "latchkey", 8) != 8)
		return -EIO;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

int lk_cache_policy_probe(int root_fd, const struct lk_cache_policy *p, const char **ret_step)
{
	char name[sizeof(PROBE_PREFIX) + 16];
	uint8_t key_id[LK_KEY_ID_SIZE];
	_cleanup_close_ int dfd = -1;
	const char *step = "make directory";
	bool key_added = false;
	int r, k;

	if (root_fd < 0 || !p)
		return -EINVAL;
	r = make_probe_dir(root_fd, name, sizeof(name));
	if (r < 0)
		goto out;
	dfd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		r = -errno;
	else
		r = try_policy(dfd, p, key_id, &key_added, &step);

	/* Undo everything, whatever failed: file, key, directory. */
	if (dfd >= 0)
		(void)unlinkat(dfd, "probe", 0);
	if (key_added) {
		k = lk_fscrypt_remove_key(root_fd, key_id, true, NULL, NULL);
		if (k < 0 && r == 0) {
			step = "remove key";
			r = k;
		}
	}
	if (dfd >= 0)
		close(TAKE_FD(dfd));
	if (unlinkat(root_fd, name, AT_REMOVEDIR) < 0 && r == 0) {
		step = "remove directory";
		r = -errno;
	}
out:
	if (ret_step)
		*ret_step = step;
	return r;
}
