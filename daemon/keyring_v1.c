/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <keyutils.h>
#include <linux/fscrypt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "crypto.h"
#include "keyring_v1.h"
#include "latchkey/protocol.h"
#include "secret.h"

_Static_assert(LK_V1_DESCRIPTOR_SIZE == FSCRYPT_KEY_DESCRIPTOR_SIZE, "v1 descriptor size");

#define KEY_TYPE       "logon" /* the only type fscrypt accepts; unreadable from userspace */
#define DROP_CACHES    "/proc/sys/vm/drop_caches"
#define MAX_DUPLICATES 16 /* keys of one description a search may turn up */

/* A child reports through its exit status: a result 0..63, or 64 + errno. */
#define CHILD_ERRNO_BASE 64
/* A child does a handful of system calls; one that takes longer was stopped. */
#define CHILD_TIMEOUT_MS 2000

typedef int (*child_fn)(void *userdata);

/* "fscrypt:" and 16 lowercase hex digits, as fscrypt.rst prescribes. */
static void key_description(const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE],
			    char out[sizeof(FSCRYPT_KEY_DESC_PREFIX) + 2 * LK_V1_DESCRIPTOR_SIZE])
{
	memcpy(out, FSCRYPT_KEY_DESC_PREFIX, FSCRYPT_KEY_DESC_PREFIX_SIZE);
	lk_hex(descriptor, LK_V1_DESCRIPTOR_SIZE, out + FSCRYPT_KEY_DESC_PREFIX_SIZE);
}

static int child_exit_code(int r)
{
	if (r >= 0)
		return r < CHILD_ERRNO_BASE ? r : CHILD_ERRNO_BASE - 1;
	return -r <= 255 - CHILD_ERRNO_BASE ? CHILD_ERRNO_BASE - r : CHILD_ERRNO_BASE + EIO;
}

/*
 * Reap the child within CHILD_TIMEOUT_MS. The child runs as the user, who
 * may stop it (SIGSTOP is theirs to send); a plain waitpid() would then
 * hang the whole daemon. A child still there at the deadline is killed
 * (SIGKILL reaches a stopped process too) and the call fails.
 */
static int wait_child(pid_t pid, int *ret_status)
{
	uint64_t waited_us = 0, step_us = 50;
	pid_t r;

	for (;;) {
		r = waitpid(pid, ret_status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited_us >= CHILD_TIMEOUT_MS * 1000ull) {
			kill(pid, SIGKILL);
			while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		usleep((useconds_t)step_us);
		waited_us += step_us;
		if (step_us < 10000)
			step_us *= 2;
	}
}

/*
 * Run fn in a child that has become uid: primary group, no supplementary
 * groups, real, effective and saved uid all the user's. The user keyring
 * that KEY_SPEC_USER_KEYRING names is chosen by the real uid, and keys the
 * child adds are owned by and counted against the user. The child is not
 * dumpable (inherited from the daemon, and set again by the uid change), so
 * the user cannot ptrace it or read its memory while it holds a key.
 * Returns fn's result or -errno.
 */
static int run_as_user(uid_t uid, child_fn fn, void *userdata)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	int status, r;
	gid_t gid;
	pid_t pid;

	if (uid == 0)
		return -EINVAL; /* root's keyring is never a user's */
	r = getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp);
	if (r != 0)
		return -r;
	if (!pwp)
		return -ESRCH;
	gid = pw.pw_gid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only system calls from here on: no logging, no allocation. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setresgid(gid, gid, gid) < 0 || setgroups(0, NULL) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(child_exit_code(-errno));
		_exit(child_exit_code(fn(userdata)));
	}
	r = wait_child(pid, &status);
	if (r < 0)
		return r;
	if (!WIFEXITED(status))
		return -ECHILD; /* killed: the user may signal a process of theirs */
	r = WEXITSTATUS(status);
	return r < CHILD_ERRNO_BASE ? r : -(r - CHILD_ERRNO_BASE);
}

/*
 * The payload handed to the child. lk_secret pages are MADV_WIPEONFORK (the
 * child would see zeros), and a private page would be copied, unlocked, into
 * the child at its first write. A shared anonymous page is one physical
 * page for both, locked by the parent: K exists once, and the parent wipes
 * it after the child (which wipes it too) has exited.
 */
struct add_args {
	struct fscrypt_key *payload;
	const char *description;
};

static size_t payload_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 && (size_t)page >= sizeof(struct fscrypt_key) ? (size_t)page : 4096;
}

static struct fscrypt_key *payload_new(void)
{
	size_t len = payload_size();
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* The daemon keeps no key in memory that could be swapped out. */
	if (mlock(p, len) < 0) {
		int e = errno;
		munmap(p, len);
		errno = e;
		return NULL;
	}
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

static void payload_free(struct fscrypt_key *p)
{
	if (!p)
		return;
	lk_wipe(p, sizeof(*p));
	munmap(p, payload_size());
}

static int child_add(void *userdata)
{
	struct add_args *a = userdata;
	key_serial_t id;
	int r;

	id = add_key(KEY_TYPE, a->description, a->payload, sizeof(*a->payload), KEY_SPEC_USER_KEYRING);
	r = id < 0 ? -errno : 0;
	lk_wipe(a->payload, sizeof(*a->payload));
	return r;
}

int keyring_v1_add(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE],
		   const uint8_t key[LK_MASTER_KEY_SIZE])
{
	char description[sizeof(FSCRYPT_KEY_DESC_PREFIX) + 2 * LK_V1_DESCRIPTOR_SIZE];
	struct add_args a = {.description = description};
	int r;

	key_description(descriptor, description);
	a.payload = payload_new();
	if (!a.payload)
		return -errno;
	a.payload->mode = 0; /* ignored by the kernel */
	memcpy(a.payload->raw, key, LK_MASTER_KEY_SIZE);
	a.payload->size = LK_MASTER_KEY_SIZE;
	r = run_as_user(uid, child_add, &a);
	payload_free(a.payload);
	return r < 0 ? r : 0;
}

/* A search that found only revoked, expired or invalidated keys is as good
 * as one that found none: the kernel's v1 lookup skips those too. */
static bool key_gone(int err)
{
	return err == ENOKEY || err == EKEYREVOKED || err == EKEYEXPIRED;
}

static int child_remove(void *userdata)
{
	const char *description = userdata;
	long id, last = -1;
	int removed = 0;

	/* KEYCTL_INVALIDATE needs Search permission, which a key in @u grants
	 * only to a possessor: a process whose own keyrings reach it. Linking
	 * @u into this child's process keyring, which dies with the child,
	 * makes it so without touching the user's session. */
	if (keyctl_link(KEY_SPEC_USER_KEYRING, KEY_SPEC_PROCESS_KEYRING) < 0)
		return -errno;
	for (int i = 0; i < MAX_DUPLICATES; i++) {
		id = keyctl_search(KEY_SPEC_USER_KEYRING, KEY_TYPE, description, 0);
		if (id < 0)
			return key_gone(errno) ? removed : -errno;
		if (id == last)
			return -EAGAIN; /* invalidated, yet still found */
		/* Invalidate rather than unlink: the key goes from every
		 * keyring that links it, at once. */
		if (keyctl_invalidate((key_serial_t)id) < 0)
			return -errno;
		last = id;
		removed++;
	}
	return -E2BIG;
}

int keyring_v1_remove(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE])
{
	char description[sizeof(FSCRYPT_KEY_DESC_PREFIX) + 2 * LK_V1_DESCRIPTOR_SIZE];

	key_description(descriptor, description);
	return run_as_user(uid, child_remove, description);
}

int keyring_v1_drop_caches(void)
{
	_cleanup_close_ int fd = -1;

	/* "3", not the "2" (dentries and inodes) that fscrypt.rst suggests:
	 * current kernels ("vfs: keep inodes with page cache off the inode
	 * shrinker LRU") never evict an inode that still has page cache that
	 * way, so "2" leaves every recently read file with its per-file key
	 * and its plaintext pages (seen on 6.18 by the v1 root test). "1" first
	 * drops the clean page cache, which puts those inodes back on the LRU,
	 * then "2" evicts them. The price is the whole system's clean page
	 * cache, paid at each v1 lock: so at most once per
	 * DROP_CACHES_INTERVAL_MS, whatever users do (a user with a v1 root
	 * could otherwise lock and unlock in a loop). */
	static uint64_t last_drop_ms;
	uint64_t now = lk_now_ms();

	if (last_drop_ms && now - last_drop_ms < DROP_CACHES_INTERVAL_MS)
		return -EAGAIN;
	fd = open(DROP_CACHES, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (write(fd, "3", 1) != 1)
		return -EIO;
	last_drop_ms = now;
	return 0;
}

static int child_present(void *userdata)
{
	const char *description = userdata;

	if (keyctl_search(KEY_SPEC_USER_KEYRING, KEY_TYPE, description, 0) >= 0)
		return 1;
	return key_gone(errno) ? 0 : -errno;
}

int keyring_v1_present(uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE])
{
	char description[sizeof(FSCRYPT_KEY_DESC_PREFIX) + 2 * LK_V1_DESCRIPTOR_SIZE];

	key_description(descriptor, description);
	return run_as_user(uid, child_present, description);
}
