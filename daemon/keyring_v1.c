/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <keyutils.h>
#include <linux/fscrypt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "crypto.h"
#include "keyring_v1.h"
#include "latchkey/protocol.h"
#include "passwd.h"
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

/* Test builds only: LATCHKEY_TEST_V1_CHILD_PAUSE=<uid> makes each child for
 * that uid, once it has become the user, wait in pause() until a signal
 * arrives, so that a test can stop it as the user (SIGSTOP is theirs to
 * send) at a known moment instead of racing a child that lives for a
 * millisecond. Read before the fork: the child only makes system calls. */
static bool test_child_pauses(uid_t uid)
{
#if LK_TEST_HOOKS
	const char *e = secure_getenv("LATCHKEY_TEST_V1_CHILD_PAUSE");
	char want[16];

	snprintf(want, sizeof(want), "%u", (unsigned)uid);
	return e && strcmp(e, want) == 0;
#else
	return false;
#endif
}

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
 * hang the whole daemon. A child seen stopped is killed at once (SIGKILL
 * reaches a stopped process too) and the call fails with -ECHILD, as when
 * the user kills it; one still there at the deadline is killed and the call
 * fails with -ETIMEDOUT.
 */
static int wait_child(pid_t pid, int *ret_status)
{
	uint64_t waited_us = 0, step_us = 50;
	pid_t r;

	for (;;) {
		r = waitpid(pid, ret_status, WNOHANG | WUNTRACED);
		if (r == pid && !WIFSTOPPED(*ret_status))
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == pid || waited_us >= CHILD_TIMEOUT_MS * 1000ull) {
			kill(pid, SIGKILL);
			while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
				;
			return r == pid ? -ECHILD : -ETIMEDOUT;
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
static int spawn_as_user(uid_t uid, child_fn fn, void *userdata, pid_t *ret_pid)
{
	_cleanup_passwd_ struct lk_passwd pw = {};
	bool pause_child;
	gid_t gid;
	pid_t pid;
	int r;

	if (uid == 0)
		return -EINVAL; /* root's keyring is never a user's */
	r = lk_passwd_by_uid(uid, &pw);
	if (r == -ENOENT)
		return -ESRCH;
	if (r < 0)
		return r;
	gid = pw.pw.pw_gid;
	pause_child = test_child_pauses(uid);

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only system calls from here on: no logging, no allocation. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setresgid(gid, gid, gid) < 0 || setgroups(0, NULL) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(child_exit_code(-errno));
		if (pause_child)
			pause();
		_exit(child_exit_code(fn(userdata)));
	}
	*ret_pid = pid;
	return 0;
}

/* fn's result from the child's exit status, or -ECHILD when it was killed. */
static int child_result(bool exited, int code)
{
	if (!exited)
		return -ECHILD; /* killed: the user may signal a process of theirs */
	return code < CHILD_ERRNO_BASE ? code : -(code - CHILD_ERRNO_BASE);
}

/*
 * The in-place children (remove, present, the add of ENCRYPT) are waited for
 * inside the event loop. A child the user stopped is seen and killed within
 * the polling step (at most 10 ms), but a user who stopped one at every
 * request would still slow everybody: a uid whose child was seen stopped is
 * refused in-place children for a while, doubling at each repeat. Their own
 * locks are reported incomplete and retried meanwhile; the asynchronous add
 * at login, which holds up nobody else, is never refused. A child that is
 * merely slow is not held against the user. The table is small and forgets
 * the offender whose penalty ends first.
 */
#define PENALTY_MIN_MS 60000ull
#define PENALTY_MAX_MS (64 * PENALTY_MIN_MS)
#define PENALTY_SLOTS  64

static struct stalled_uid {
	uid_t uid;
	uint64_t until_ms, penalty_ms;
} stalled[PENALTY_SLOTS];

static bool uid_penalized(uid_t uid, uint64_t now)
{
	for (size_t i = 0; i < PENALTY_SLOTS; i++)
		if (stalled[i].penalty_ms && stalled[i].uid == uid)
			return now < stalled[i].until_ms;
	return false;
}

static void penalize_uid(uid_t uid, uint64_t now)
{
	struct stalled_uid *s = &stalled[0];

	for (size_t i = 0; i < PENALTY_SLOTS; i++) {
		if (stalled[i].penalty_ms && stalled[i].uid == uid) {
			s = &stalled[i];
			break;
		}
		if (stalled[i].until_ms < s->until_ms)
			s = &stalled[i];
	}
	if (s->penalty_ms && s->uid == uid)
		/* A repeat less than one penalty after the last ended doubles it. */
		s->penalty_ms = now < s->until_ms + s->penalty_ms ? s->penalty_ms * 2 : PENALTY_MIN_MS;
	else
		s->penalty_ms = PENALTY_MIN_MS;
	if (s->penalty_ms > PENALTY_MAX_MS)
		s->penalty_ms = PENALTY_MAX_MS;
	s->uid = uid;
	s->until_ms = now + s->penalty_ms;
}

static int run_as_user(uid_t uid, child_fn fn, void *userdata)
{
	int status, r;
	pid_t pid;

	if (uid_penalized(uid, lk_now_ms()))
		return -ETIMEDOUT;
	r = spawn_as_user(uid, fn, userdata, &pid);
	if (r < 0)
		return r;
	r = wait_child(pid, &status);
	if (r == -ECHILD)
		penalize_uid(uid, lk_now_ms());
	if (r < 0)
		return r;
	return child_result(WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : 0);
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

/*
 * The asynchronous add: the child is watched through a pidfd in the event
 * loop (readable once it has exited) and killed at a deadline, so a child
 * the user stopped delays only that user's request, never the daemon.
 */
struct add_job {
	struct add_args args;
	char description[sizeof(FSCRYPT_KEY_DESC_PREFIX) + 2 * LK_V1_DESCRIPTOR_SIZE];
	pid_t pid;
	int pidfd;
	bool timed_out;
	sd_event_source *io, *timer;
	keyring_v1_done_fn done;
	void *userdata;
};

static void add_job_free(struct add_job *j)
{
	sd_event_source_disable_unref(j->io);
	sd_event_source_disable_unref(j->timer);
	if (j->pidfd >= 0)
		close(j->pidfd);
	payload_free(j->args.payload);
	free(j);
}

static int on_add_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct add_job *j = userdata;
	siginfo_t si = {};
	int r;

	if (waitid(P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG) < 0 && errno != EINTR) {
		r = -errno;
	} else if (si.si_pid == 0) {
		return 0; /* not yet: spurious wake-up */
	} else if (j->timed_out) {
		r = -ETIMEDOUT;
	} else {
		r = child_result(si.si_code == CLD_EXITED, si.si_status);
		if (r > 0)
			r = 0;
	}
	j->done(r, j->userdata);
	add_job_free(j);
	return 0;
}

static int on_add_child_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct add_job *j = userdata;

	/* Not reaped yet, so the pidfd still names our child. SIGKILL reaches
	 * a stopped process too; the exit then arrives through the pidfd. */
	j->timed_out = true;
	(void)syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
	return 0;
}

int keyring_v1_add_async(sd_event *e, uid_t uid, const uint8_t descriptor[LK_V1_DESCRIPTOR_SIZE],
                         const uint8_t key[LK_MASTER_KEY_SIZE], keyring_v1_done_fn done, void *userdata)
{
	struct add_job *j;
	int r;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->pidfd = -1;
	j->done = done;
	j->userdata = userdata;
	key_description(descriptor, j->description);
	j->args.description = j->description;
	j->args.payload = payload_new();
	if (!j->args.payload) {
		r = -errno;
		goto fail;
	}
	j->args.payload->mode = 0;
	memcpy(j->args.payload->raw, key, LK_MASTER_KEY_SIZE);
	j->args.payload->size = LK_MASTER_KEY_SIZE;
	r = spawn_as_user(uid, child_add, &j->args, &j->pid);
	if (r < 0)
		goto fail;
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	if (j->pidfd < 0) {
		int status;

		/* pidfd_open is in every kernel that latchkey supports (5.3+). */
		r = -errno;
		kill(j->pid, SIGKILL);
		(void)wait_child(j->pid, &status);
		goto fail;
	}
	r = sd_event_add_io(e, &j->io, j->pidfd, EPOLLIN, on_add_child_exit, j);
	if (r >= 0)
		r = sd_event_add_time_relative(e, &j->timer, CLOCK_MONOTONIC, CHILD_TIMEOUT_MS * 1000ull, 0,
		                               on_add_child_deadline, j);
	if (r < 0) {
		int status;

		kill(j->pid, SIGKILL);
		(void)wait_child(j->pid, &status);
		goto fail;
	}
	return 0;
fail:
	add_job_free(j);
	return r;
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
