/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encrypted roots: encrypted directories whose wrapped keys live in
 * trusted.latchkey.key.<uid> xattrs on the directory itself. Every
 * operation works on an fd opened without following any symlink. */
#ifndef LKD_ROOT_H
#define LKD_ROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "fscrypt_ioctl.h"
#include "latchkey/format.h"
#include "latchkey/protocol.h"

/* Open an absolute path as a directory, refusing symlinks in any component
 * (lk_open_nofollow). -ELOOP for a symlink, -EINVAL for a relative path. */
int root_open(const char *path, int *ret_fd);

/*
 * Unwrap uid's copy of the policy key with P and add it to the kernel. The
 * directory's policy must have identifier expected_key_id, and so must the
 * unwrapped key. v2: the kernel's identifier must match too (a mismatch
 * removes the key at once). v1 (expected_key_id is the descriptor and 8
 * zero bytes): the key goes into uid's keyring as a logon key
 * fscrypt:<descriptor>. The key is wiped before returning.
 */
int root_unlock(uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                const uint8_t expected_key_id[LK_KEY_ID_SIZE]);

/*
 * The same, but a v1 key is added without waiting for the child (see
 * keyring_v1_add_async): returns 1 when that is under way, and then
 * a->done(result, a->userdata) runs once it has finished; 0 when the root
 * was unlocked at once (v2), or -errno. With a NULL, as root_unlock.
 */
typedef void (*root_done_fn)(int result, void *userdata);
struct root_async {
	sd_event *event;
	root_done_fn done;
	void *userdata;
};
int root_unlock_async(const struct root_async *a, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                      const char *path, const uint8_t expected_key_id[LK_KEY_ID_SIZE]);

/* The same on an fd already opened (and checked) by the caller; path only
 * names the directory in log lines. */
/* root_unlock_fd, with a v1 key's keyring child watched in a's event
 * loop (a may be NULL: wait for it); returns 1 when a->done will report. */
int root_unlock_fd_async(const struct root_async *a, int fd, uid_t uid,
                         const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                         const uint8_t expected_key_id[LK_KEY_ID_SIZE]);
int root_unlock_fd(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                   const uint8_t expected_key_id[LK_KEY_ID_SIZE]);

/* uid's trusted.latchkey.key.<uid> xattr of the directory fd, exactly
 * LK_WRAPPED_KEY_SIZE bytes (-EBADMSG otherwise, -ENODATA when absent). */
int root_read_wrapped_key(int fd, uid_t uid, uint8_t blob[LK_WRAPPED_KEY_SIZE]);

/* 1 if the directory fd has no entries but "." and "..", 0 if it has, or -errno. */
int root_dir_is_empty(int fd);

/*
 * Lock the root: v2, remove the key for all users; v1, remove it from uid's
 * keyring, sync and drop the dentry and inode caches, and check the root.
 * *ret_busy when files are still in use (or, for v1, the key or the caches
 * could not be removed): incompletely locked, to be retried.
 */
int root_lock(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], bool *ret_busy);

/* enum lk_key_state of the root: v2, of its key on path's filesystem; v1,
 * present iff the key is in uid's keyring (see keyring_v1_state). */
int root_status(uid_t uid, const char *path, const uint8_t key_id[LK_KEY_ID_SIZE], uint32_t *ret_state);

/*
 * Make the empty directory at path a encrypted root for uid: fresh random key,
 * wrapped copy written (and fsynced) before the policy is set, key added,
 * policy set and verified, directory chowned to uid:gid mode 0700. Leaves
 * the directory unlocked. On failure nothing of ours remains on the
 * directory and no key stays in the kernel. *ret_err_text gets a static
 * human explanation for the client.
 */
int root_create(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text);

/* The same with a legacy v1 policy (AES-256-XTS, AES-256-CTS, PAD_32) whose
 * descriptor is the first 8 bytes of SHA-512(SHA-512(K)); K goes into uid's
 * keyring before the policy is set. *ret_key_id: descriptor + 8 zero bytes. */
int root_create_v1(uid_t uid, gid_t gid, const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char *path,
                   uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text);

/*
 * The encrypting core of root_create, on an fd of an empty,
 * unencrypted directory the caller has checked: fresh random K, uid's
 * wrapped copy written (and, if published, fsynced) before anything else,
 * K added, a policy with modes' contents/filenames modes and flags (its
 * key_id is ignored; version 1 takes the legacy defaults) set and read
 * back. Leaves the key in the kernel. On failure, if no policy got set,
 * neither the key nor the xattr remains. path only names the directory in
 * log lines.
 *
 * published: the directory is already where users find it, so a crash
 * between policy and xattr must find the xattr durable. A directory not
 * yet renamed into place (provisioning) needs no such fsync: a crash
 * leaves a temporary that is swept, and the caller's fsync after the rename
 * commits the xattr with it.
 */
int root_seal(int fd, uid_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
              const struct lk_fscrypt_policy *modes, bool published, const char *path,
              uint8_t ret_key_id[LK_KEY_ID_SIZE], const char **ret_err_text);

#endif
