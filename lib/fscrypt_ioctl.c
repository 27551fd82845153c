/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Thin wrappers over the fscrypt ioctls (kernel Documentation/filesystems/
 * fscrypt.rst). Everything works on an already opened fd so callers can do
 * their path checks once, on the fd, and never race a path string.
 */
#include <errno.h>
#include <linux/fscrypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include "fscrypt_ioctl.h"
#include "secret.h"

#define LK_EXT4_SUPER_MAGIC 0xEF53
#define LK_F2FS_SUPER_MAGIC 0xF2F52010

_Static_assert(LK_KEY_ID_SIZE == FSCRYPT_KEY_IDENTIFIER_SIZE, "key identifier size");
_Static_assert(LK_MASTER_KEY_SIZE == FSCRYPT_MAX_KEY_SIZE, "master key size");

void lk_fscrypt_policy_default(struct lk_fscrypt_policy *p, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	*p = (struct lk_fscrypt_policy){
	    .version = FSCRYPT_POLICY_V2,
	    .contents_mode = FSCRYPT_MODE_AES_256_XTS,
	    .filenames_mode = FSCRYPT_MODE_AES_256_CTS,
	    .flags = FSCRYPT_POLICY_FLAGS_PAD_32,
	};
	memcpy(p->key_id, key_id, LK_KEY_ID_SIZE);
}

void lk_fscrypt_policy_default_v1(struct lk_fscrypt_policy *p,
                                  const uint8_t descriptor[FSCRYPT_KEY_DESCRIPTOR_SIZE])
{
	*p = (struct lk_fscrypt_policy){
	    .version = 1,
	    .contents_mode = FSCRYPT_MODE_AES_256_XTS,
	    .filenames_mode = FSCRYPT_MODE_AES_256_CTS,
	    .flags = FSCRYPT_POLICY_FLAGS_PAD_32,
	};
	memcpy(p->key_id, descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE);
}

static void key_spec_identifier(struct fscrypt_key_specifier *spec, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	memset(spec, 0, sizeof(*spec));
	spec->type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	memcpy(spec->u.identifier, key_id, FSCRYPT_KEY_IDENTIFIER_SIZE);
}

int lk_fscrypt_add_key(int fd, const uint8_t *key, size_t key_len, uint8_t ret_key_id[LK_KEY_ID_SIZE])
{
	/* latchkey only ever adds its own random 64-byte v2 master keys; a
	 * shorter key here would be a bug upstream, not something to accept. */
	if (fd < 0 || !key || key_len != LK_MASTER_KEY_SIZE)
		return -EINVAL;

	/* The argument carries a copy of the key in its trailing raw[], so it
	 * lives in locked, non-dumpable memory and is wiped by the free. */
	size_t arg_len = sizeof(struct fscrypt_add_key_arg) + key_len;
	struct fscrypt_add_key_arg *arg = lk_secret_alloc(arg_len, NULL);
	if (!arg)
		return -errno;

	/* lk_secret_alloc zeroes, which covers key_id (0 = raw key) and the
	 * reserved fields the kernel insists on being zero. */
	arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	arg->raw_size = (uint32_t)key_len;
	memcpy(arg->raw, key, key_len);

	int r = 0;
	if (ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, arg) < 0)
		r = -errno;
	else
		memcpy(ret_key_id, arg->key_spec.u.identifier, LK_KEY_ID_SIZE);

	lk_secret_free(arg, arg_len);
	return r;
}

int lk_fscrypt_remove_key(int fd, const uint8_t key_id[LK_KEY_ID_SIZE], bool all_users, bool *ret_busy,
                          bool *ret_other_users)
{
	struct fscrypt_remove_key_arg arg = {};

	if (fd < 0)
		return -EINVAL;

	key_spec_identifier(&arg.key_spec, key_id);
	if (ioctl(fd, all_users ? FS_IOC_REMOVE_ENCRYPTION_KEY_ALL_USERS : FS_IOC_REMOVE_ENCRYPTION_KEY,
	          &arg) < 0)
		return -errno;

	/* Success with FILES_BUSY means "incompletely removed": the caller
	 * must not report the key as gone and should retry later. */
	if (ret_busy)
		*ret_busy = arg.removal_status_flags & FSCRYPT_KEY_REMOVAL_STATUS_FLAG_FILES_BUSY;
	if (ret_other_users)
		*ret_other_users = arg.removal_status_flags & FSCRYPT_KEY_REMOVAL_STATUS_FLAG_OTHER_USERS;
	return 0;
}

int lk_fscrypt_key_status(int fd, const uint8_t key_id[LK_KEY_ID_SIZE], uint32_t *ret_state,
                          uint32_t *ret_user_count)
{
	struct fscrypt_get_key_status_arg arg = {};
	uint32_t state;

	if (fd < 0)
		return -EINVAL;

	key_spec_identifier(&arg.key_spec, key_id);
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_KEY_STATUS, &arg) < 0)
		return -errno;

	switch (arg.status) {
	case FSCRYPT_KEY_STATUS_ABSENT:
		state = LK_KEY_ABSENT;
		break;
	case FSCRYPT_KEY_STATUS_PRESENT:
		state = LK_KEY_PRESENT;
		break;
	case FSCRYPT_KEY_STATUS_INCOMPLETELY_REMOVED:
		state = LK_KEY_INCOMPLETELY_REMOVED;
		break;
	default:
		/* A newer kernel may grow states; never guess "locked". */
		state = LK_KEY_UNKNOWN;
		break;
	}

	if (ret_state)
		*ret_state = state;
	if (ret_user_count)
		*ret_user_count = arg.user_count;
	return 0;
}

/* Kernels before 5.4 know only v1 policies and only the original ioctl, as
 * fscrypt.rst advises callers to handle. */
static int get_policy_v1_only(int fd, struct fscrypt_get_policy_ex_arg *arg)
{
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY, &arg->policy.v1) < 0)
		return -errno;
	arg->policy_size = sizeof(arg->policy.v1);
	return 0;
}

int lk_fscrypt_get_policy(int fd, struct lk_fscrypt_policy *ret)
{
	struct fscrypt_get_policy_ex_arg arg = {};
	struct lk_fscrypt_policy p = {};
	int r;

	if (fd < 0)
		return -EINVAL;

	arg.policy_size = sizeof(arg.policy);
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &arg) < 0) {
		r = -errno; /* -ENODATA: not encrypted */
		if (r != -ENOTTY)
			return r;
		r = get_policy_v1_only(fd, &arg);
		if (r < 0)
			return r;
	}

	switch (arg.policy.version) {
	case FSCRYPT_POLICY_V1:
		if (arg.policy_size != sizeof(arg.policy.v1))
			return -EBADMSG;
		p.version = 1;
		p.contents_mode = arg.policy.v1.contents_encryption_mode;
		p.filenames_mode = arg.policy.v1.filenames_encryption_mode;
		p.flags = arg.policy.v1.flags;
		memcpy(p.key_id, arg.policy.v1.master_key_descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE);
		break;
	case FSCRYPT_POLICY_V2:
		if (arg.policy_size != sizeof(arg.policy.v2))
			return -EBADMSG;
		p.version = 2;
		p.contents_mode = arg.policy.v2.contents_encryption_mode;
		p.filenames_mode = arg.policy.v2.filenames_encryption_mode;
		p.flags = arg.policy.v2.flags;
		memcpy(p.key_id, arg.policy.v2.master_key_identifier, LK_KEY_ID_SIZE);
		break;
	default:
		/* The kernel answers EINVAL itself for versions it does not
		 * know; a version we do not know is the same situation. */
		return -EINVAL;
	}

	*ret = p;
	return 0;
}

static bool policy_equal(const struct lk_fscrypt_policy *a, const struct lk_fscrypt_policy *b)
{
	return a->version == b->version && a->contents_mode == b->contents_mode &&
	       a->filenames_mode == b->filenames_mode && a->flags == b->flags &&
	       memcmp(a->key_id, b->key_id, LK_KEY_ID_SIZE) == 0;
}

static int set_policy_v1(int fd, const struct lk_fscrypt_policy *p)
{
	struct fscrypt_policy_v1 kp = {
	    .version = FSCRYPT_POLICY_V1, /* 0, not 1 */
	    .contents_encryption_mode = p->contents_mode,
	    .filenames_encryption_mode = p->filenames_mode,
	    .flags = p->flags,
	};
	static const uint8_t zero[LK_KEY_ID_SIZE - FSCRYPT_KEY_DESCRIPTOR_SIZE];

	/* Only the descriptor fits; anything after it would be silently lost. */
	if (memcmp(p->key_id + FSCRYPT_KEY_DESCRIPTOR_SIZE, zero, sizeof(zero)) != 0)
		return -EINVAL;
	memcpy(kp.master_key_descriptor, p->key_id, FSCRYPT_KEY_DESCRIPTOR_SIZE);
	return ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, &kp) < 0 ? -errno : 0;
}

static int set_policy_v2(int fd, const struct lk_fscrypt_policy *p)
{
	struct fscrypt_policy_v2 kp = {
	    .version = FSCRYPT_POLICY_V2,
	    .contents_encryption_mode = p->contents_mode,
	    .filenames_encryption_mode = p->filenames_mode,
	    .flags = p->flags,
	};

	memcpy(kp.master_key_identifier, p->key_id, LK_KEY_ID_SIZE);
	/* The ioctl number encodes the v1 size, but the kernel reads the
	 * version byte first and then the right amount for v2. */
	return ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, &kp) < 0 ? -errno : 0;
}

int lk_fscrypt_set_policy(int fd, const struct lk_fscrypt_policy *p)
{
	struct lk_fscrypt_policy got;
	int r;

	/* v1 policies are weak (docs/ARCHITECTURE.md, "Legacy v1 policies"):
	 * they are created only when an administrator asks for one
	 * (latchkeyctl encrypt --v1). */
	if (fd < 0 || !p || (p->version != 1 && p->version != 2))
		return -EINVAL;
	r = p->version == 1 ? set_policy_v1(fd, p) : set_policy_v2(fd, p);
	if (r < 0)
		return r;

	/* The kernel accepts an identical existing policy silently and we
	 * want proof of what is really on disk, so read it back. */
	r = lk_fscrypt_get_policy(fd, &got);
	if (r < 0)
		return r;
	if (!policy_equal(&got, p))
		return -EEXIST;
	return 0;
}

int lk_fscrypt_check_fs(int fd)
{
	struct statfs sfs;

	if (fd < 0)
		return -EINVAL;
	if (fstatfs(fd, &sfs) < 0)
		return -errno;

	/* An allow-list, not a deny-list: procfs, sysfs, tmpfs and FUSE have
	 * been used to fool privileged helpers (CVE-2016-1572). */
	switch ((unsigned long)sfs.f_type) {
	case LK_EXT4_SUPER_MAGIC:
	case LK_F2FS_SUPER_MAGIC:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* Ops with specific advice: "check fs", "get policy", "set policy", "remove key". */
static bool op_is(const char *op, const char *what)
{
	return op && strcmp(op, what) == 0;
}

const char *lk_fscrypt_strerror(int err, const char *op)
{
	if (err < 0)
		err = -err;

	switch (err) {
	case 0:
		return "success";
	case ENOTTY:
		return "kernel or filesystem lacks fscrypt v2 (Linux >= 5.4 needed)";
	case EOPNOTSUPP:
		if (op_is(op, "check fs"))
			return "filesystem type not supported (only ext4 and f2fs are allowed)";
		return "encryption not enabled on this filesystem: tune2fs -O encrypt DEVICE";
	case EEXIST:
		return "directory already encrypted with another policy";
	case ENOTEMPTY:
		return "directory not empty";
	case ENOTDIR:
		return "not a directory";
	case ENODATA:
		return "directory is not encrypted";
	case ENOKEY:
		if (op_is(op, "set policy"))
			return "the encryption key must be added before the policy is set";
		if (op_is(op, "remove key"))
			return "key not present (already locked, or this user holds no claim to it)";
		return "required key not available";
	case EDQUOT:
		return "key quota exhausted (/proc/sys/kernel/keys/maxkeys)";
	case EACCES:
	case EPERM:
		if (op_is(op, "set policy"))
			return "permission denied: must own the directory or have CAP_FOWNER";
		if (op_is(op, "remove key"))
			return "permission denied: removing all users' claims needs CAP_SYS_ADMIN";
		return "permission denied (CAP_SYS_ADMIN or ownership needed)";
	case EINVAL:
		if (op_is(op, "get policy"))
			return "directory has an encryption policy this program does not understand";
		return "invalid argument: unsupported policy, mode or key size for this kernel";
	case EOVERFLOW:
		return "encryption policy too large for this program";
	case EROFS:
		return "filesystem is read-only";
	case EBADMSG:
		return "kernel returned a malformed policy";
	case ENOMEM:
		return "out of memory";
	default:
		return strerror(err);
	}
}
