/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Legacy (v1) policy keys: "logon" keys "fscrypt:<16 hex>" in the owning
 * user's keyring (@u), where the kernel's v1 lookup finds them for every
 * process of that user whose keyrings reach @u (a session keyring that links
 * it, as pam_keyinit makes, or none at all). Every keyring operation runs in
 * a short-lived child that has become the user; the daemon never changes its
 * own ids.
 *
 * Locking a v1 policy takes more than removing the key: inodes opened while
 * it was present keep their per-file keys until they are evicted
 * (fscrypt.rst, "Legacy method"), hence keyring_v1_drop_caches() (and the check
 * of the encrypted root in root.c).
 */
#ifndef LKD_KEYRING_V1_H
#define LKD_KEYRING_V1_H

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "latchkey/format.h"
#include "wrapped_key.h"

/* Add K under the descriptor to uid's keyring (replacing a key of the same
 * description there). The caller wipes its own copy of K. */
int keyring_v1_add(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE],
                   const uint8_t key[LK_MASTER_KEY_SIZE]);

/*
 * The same without waiting: the child is watched in the event loop e, and
 * done(result, userdata) runs exactly once when it has exited (result 0 or
 * -errno; -ETIMEDOUT when it was still there after 2 s, stopped by the user
 * perhaps, and was killed). Only that user's request waits; the daemon goes
 * on serving. Returns 0 when started, or -errno (done is then not called).
 */
typedef void (*keyring_v1_done_fn)(int result, void *userdata);
int keyring_v1_add_async(sd_event *e, uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE],
                         const uint8_t key[LK_MASTER_KEY_SIZE], keyring_v1_done_fn done, void *userdata);

/* Invalidate every such key reachable from uid's keyring. Returns how many
 * were removed (0 when there were none), or -errno. This, keyring_v1_add()
 * and keyring_v1_present() wait for their child in place (at most 2 s; one
 * the user stopped is killed at once, -ECHILD). A uid whose child was seen
 * stopped gets -ETIMEDOUT from them, without a child, for a penalty that
 * doubles at each repeat (1 min to about an hour), so that stopping the
 * child costs the daemon a few milliseconds once per penalty. */
int keyring_v1_remove(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE]);

/* Evict every unused dentry and inode of the system, and with them their
 * per-file keys and plaintext pages (/proc/sys/vm/drop_caches = 3: clean
 * page cache, then dentries and inodes). Dirty inodes stay: the caller
 * syncs the filesystem first, through an fd that pins none of the inodes
 * it wants gone. -EAGAIN within DROP_CACHES_INTERVAL_MS of the last drop:
 * the caller reports the lock incomplete, and its retry drops them later. */
#define DROP_CACHES_INTERVAL_MS 5000u
int keyring_v1_drop_caches(void);

/* 1 if the key is in uid's keyring, 0 if not, or -errno. */
int keyring_v1_present(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE]);

#endif
