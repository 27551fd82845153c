/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Thin wrappers over the fscrypt ioctls, on file descriptors only.
 * All return 0 or -errno; lk_fscrypt_strerror() turns an errno from these
 * into advice a human can act on. */
#ifndef LK_FSCRYPT_IOCTL_H
#define LK_FSCRYPT_IOCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

struct lk_fscrypt_policy {
	uint8_t version; /* 2 (or 1 for legacy roots) */
	uint8_t contents_mode;
	uint8_t filenames_mode;
	uint8_t flags;
	uint8_t key_id[LK_KEY_ID_SIZE]; /* v2: identifier; v1: 8-byte descriptor in the first 8 bytes */
};

/* Default v2 policy for key_id: AES-256-XTS, AES-256-CTS, PAD_32. */
void lk_fscrypt_policy_default(struct lk_fscrypt_policy *p, const uint8_t key_id[LK_KEY_ID_SIZE]);
/* The same modes as a legacy v1 policy for an 8-byte descriptor (key_id
 * gets the descriptor and 8 zero bytes, as lk_fscrypt_get_policy reports). */
void lk_fscrypt_policy_default_v1(struct lk_fscrypt_policy *p, const uint8_t descriptor[8]);

/*
 * FS_IOC_ADD_ENCRYPTION_KEY with a raw v2 key (64 bytes). The ioctl argument
 * (which holds a copy of the key) lives in secret memory and is wiped.
 * *ret_key_id gets the identifier the kernel computed.
 */
int lk_fscrypt_add_key(int fd, const uint8_t *key, size_t key_len, uint8_t ret_key_id[LK_KEY_ID_SIZE]);

/* FS_IOC_REMOVE_ENCRYPTION_KEY(_ALL_USERS). *ret_busy is set when the kernel
 * reported FILES_BUSY (key now incompletely removed); *ret_other_users when
 * other users' claims remain. -ENOKEY if the key was not present. */
int lk_fscrypt_remove_key(int fd, const uint8_t key_id[LK_KEY_ID_SIZE], bool all_users, bool *ret_busy,
                          bool *ret_other_users);

/* FS_IOC_GET_ENCRYPTION_KEY_STATUS: *ret_state is enum lk_key_state. */
int lk_fscrypt_key_status(int fd, const uint8_t key_id[LK_KEY_ID_SIZE], uint32_t *ret_state,
                          uint32_t *ret_user_count);

/* FS_IOC_GET_ENCRYPTION_POLICY_EX (no key needed), falling back to the
 * v1-only FS_IOC_GET_ENCRYPTION_POLICY on kernels before 5.4 (ENOTTY).
 * -ENODATA if the directory is not encrypted. */
int lk_fscrypt_get_policy(int fd, struct lk_fscrypt_policy *ret);

/* FS_IOC_SET_ENCRYPTION_POLICY (v2, or v1 when p->version is 1) on an empty
 * directory fd, then read it back and compare: -EEXIST if a different policy
 * is already set. */
int lk_fscrypt_set_policy(int fd, const struct lk_fscrypt_policy *p);

/* fstatfs(fd) is one of the allow-listed filesystems (ext4, f2fs). -EOPNOTSUPP otherwise. */
int lk_fscrypt_check_fs(int fd);

/* Advice for an errno from the calls above, in the context of op
 * ("add key", "set policy", ...). Returns a static string. */
const char *lk_fscrypt_strerror(int err, const char *op);

#endif
