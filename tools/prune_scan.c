/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prune, part one: find the per-user trees in DIR and every regular file in
 * them, with nothing but directory fds, getdents and fstatat. No file is
 * opened, so no key is needed and no plaintext is read; names of locked
 * trees are fscrypt no-key names, which work with *at() calls as they are.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"
#include "fscrypt_ioctl.h"
#include "openat.h"
#include "output.h"
#include "prune.h"

_Static_assert(PRUNE_MAX_DEPTH == 256, "the warning in scan_entry names the limit");

/* Descriptors kept free for stdio, the progress line and the like. */
#define PRUNE_FD_RESERVE 32

static void warn_skip(const char *name, const char *why)
{
	fputs("latchkeyctl: prune: skipping ", stderr);
	text_print_escaped(stderr, name);
	fprintf(stderr, ": %s\n", why);
}

/* One component below dirfd, as a directory: never a symlink (not even a
 * magic one), never another mount. */
static int open_dir_beneath(int dirfd, const char *name)
{
	int fd = -1;
	/* O_NOATIME: pruning must not make a cache look recently used. */
	int r = lk_open_subdir(dirfd, name, O_NOATIME, &fd);

	return r < 0 ? r : fd;
}

bool prune_state_is_unlocked(uint32_t state)
{
	/* Only a key known to be absent means nobody can be using the files:
	 * incompletely removed means files are still open, and unknown (v1
	 * policies, whose keys may sit in a user's keyring where root cannot
	 * look) must not be guessed to be locked. */
	return state != LK_KEY_ABSENT;
}

static void *grow(void *array, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *a;

	if (need <= *cap)
		return array;
	while (n < need)
		n *= 2;
	a = reallocarray(array, n, size);
	if (a)
		*cap = n;
	return a;
}

static void close_all_dirs(struct prune *p)
{
	for (size_t i = 0; i < p->n_dirs; i++)
		p->dirs[i].fd = safe_close(p->dirs[i].fd);
	p->open_fds = 0;
}

int prune_dir_fd(struct prune *p, uint32_t i)
{
	struct stat st;
	int parent_fd, fd;

	if (p->dirs[i].fd >= 0)
		return p->dirs[i].fd;

	/* Out of descriptors: start over. Safe here because no caller up the
	 * chain holds a descriptor yet; each receives its parent's only after
	 * this returns. */
	if (p->open_fds >= p->max_open_fds)
		close_all_dirs(p);

	parent_fd = p->dirs[i].parent == PRUNE_NONE ? p->root_fd : prune_dir_fd(p, p->dirs[i].parent);
	if (parent_fd < 0)
		return parent_fd;
	fd = open_dir_beneath(parent_fd, p->dirs[i].name);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_dev != p->dev || (p->dirs[i].ino && st.st_ino != p->dirs[i].ino)) {
		/* Moved or replaced since we first saw it: what is there now
		 * was never scanned, so it is not ours to touch. */
		close(fd);
		return -ESTALE;
	}
	p->dirs[i].ino = st.st_ino;
	p->dirs[i].fd = fd;
	p->open_fds++;
	return fd;
}

static void close_dir(struct prune *p, uint32_t i)
{
	if (p->dirs[i].fd >= 0) {
		p->dirs[i].fd = safe_close(p->dirs[i].fd);
		p->open_fds--;
	}
}

static int push_dir(struct prune *p, const char *name, uint32_t parent, uint32_t tree, ino_t ino)
{
	struct prune_dir *d;
	char *copy;

	if (p->n_dirs >= PRUNE_NONE)
		return -E2BIG;
	d = grow(p->dirs, &p->cap_dirs, p->n_dirs + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	p->dirs = d;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	p->dirs[p->n_dirs++] = (struct prune_dir){
	    .name = copy,
	    .parent = parent,
	    .tree = tree,
	    .depth = parent == PRUNE_NONE ? 0 : p->dirs[parent].depth + 1,
	    .ino = ino,
	    .fd = -1,
	};
	return 0;
}

/*
 * A file's age for prune: the earlier of its mtime and its ctime. The owner
 * can set mtime to anything (touch -d 2099) but not ctime, which the
 * kernel sets to now at every change, that one included; so no file can
 * look younger than its last change, and a user who dates files in the
 * past only hastens the pruning of their own.
 */
static struct timespec prune_file_age(const struct stat *st)
{
	const struct timespec *m = &st->st_mtim, *c = &st->st_ctim;

	if (m->tv_sec != c->tv_sec)
		return m->tv_sec < c->tv_sec ? *m : *c;
	return m->tv_nsec < c->tv_nsec ? *m : *c;
}

static int add_file(struct prune *p, uint32_t dir, const char *name, const struct stat *st, uint64_t bytes,
                    bool unlocked)
{
	size_t len = strlen(name) + 1;
	struct timespec age;
	struct prune_file *f;
	char *names;

	f = grow(p->files, &p->cap_files, p->n_files + 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	p->files = f;
	names = grow(p->names, &p->names_cap, p->names_len + len, 1);
	if (!names)
		return -ENOMEM;
	p->names = names;
	memcpy(p->names + p->names_len, name, len);

	age = prune_file_age(st);
	p->files[p->n_files++] = (struct prune_file){
	    .sec = age.tv_sec,
	    .nsec = (uint32_t)age.tv_nsec,
	    .dir = dir,
	    .ino = st->st_ino,
	    .bytes = bytes,
	    .name = p->names_len,
	    .unlocked = unlocked,
	};
	p->names_len += len;
	return 0;
}

/* One entry of a getdents buffer, with its fstatat result if it needed one. */
struct prune_entry {
	const char *name; /* in the getdents buffer */
	unsigned char type;
	int err; /* errno of fstatat, 0, or -1 when not looked at */
	struct stat st;
};

/* 64 KiB per getdents call: hundreds of entries per syscall. A dirent64
 * takes at least 24 bytes, which bounds the entries per buffer. */
#define PRUNE_DENTS_SIZE (1 << 16)
#define PRUNE_BATCH_MAX  (PRUNE_DENTS_SIZE / 24 + 1)
/* Below this many entries threads cost more than they save. */
#define PRUNE_PARALLEL_MIN 64

static char dents[PRUNE_DENTS_SIZE] __attribute__((aligned(8)));

/* The next getdents buffer of fd into p->batch ("." and ".." left out).
 * 1 with *ret_n entries (maybe 0), 0 at the end, or -errno. */
static int read_batch(struct prune *p, int fd, size_t *ret_n)
{
	ssize_t n = getdents64(fd, dents, sizeof(dents));
	size_t k = 0;

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	for (ssize_t off = 0; off < n && k < PRUNE_BATCH_MAX;) {
		struct dirent64 *de = (struct dirent64 *)(dents + off);

		off += de->d_reclen;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p->batch[k++] = (struct prune_entry){.name = de->d_name, .type = de->d_type, .err = -1};
	}
	*ret_n = k;
	return 1;
}

struct stat_work {
	struct prune_entry *batch;
	size_t n;
	size_t next; /* shared, atomic */
	int fd;
};

/* fstatat every entry that may be a regular file. Each thread only writes
 * the entries it took; everything else happens afterwards, in one thread. */
static void *stat_worker(void *arg)
{
	struct stat_work *w = arg;
	size_t i;

	/* Chunks of 16: small enough to share evenly, large enough that the
	 * shared counter is not a hot spot. */
	while ((i = __atomic_fetch_add(&w->next, 16, __ATOMIC_RELAXED)) < w->n)
		for (size_t end = i + 16 < w->n ? i + 16 : w->n; i < end; i++) {
			struct prune_entry *e = &w->batch[i];

			if (e->type == DT_REG || e->type == DT_UNKNOWN)
				e->err = fstatat(w->fd, e->name, &e->st, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
		}
	return NULL;
}

static int scan_entry(struct prune *p, uint32_t dir, const struct prune_entry *e)
{
	struct prune_tree *t = &p->trees[p->dirs[dir].tree];
	const struct stat *st = &e->st;
	uint64_t bytes;

	p->dirs[dir].entries++;
	if (p->progress && (++p->scanned & 255) == 0)
		p->progress(p, "scanning", p->scanned, 0);

	if (e->type == DT_DIR)
		goto subdir;
	/* Symlinks, sockets, devices, FIFOs were not looked at: never ours to
	 * delete, and their presence keeps the directory from being emptied. */
	if (e->err < 0)
		return 0;
	if (e->err == ENOENT) {
		/* Deleted under us by its owner: it is simply not there. */
		p->dirs[dir].entries--;
		return 0;
	}
	if (e->err > 0) {
		p->errors++;
		warn_skip(e->name, strerror(e->err));
		return 0;
	}
	if (S_ISDIR(st->st_mode))
		goto subdir;
	/* A regular file on another device is a bind mount, not ours. */
	if (!S_ISREG(st->st_mode) || st->st_dev != p->dev)
		return 0;

	/* A file with other names elsewhere keeps its blocks after we unlink
	 * this one: it frees nothing, but may still go. */
	bytes = st->st_nlink > 1 ? 0 : (uint64_t)st->st_blocks * 512;
	t->files++;
	t->bytes += bytes;
	p->total += bytes;
	if (!t->candidate)
		return 0;
	return add_file(p, dir, e->name, st, bytes, prune_state_is_unlocked(t->state));

subdir:
	if (p->dirs[dir].depth + 1 > PRUNE_MAX_DEPTH) {
		p->errors++;
		warn_skip(e->name, "more than 256 directory levels deep");
		return 0;
	}
	return push_dir(p, e->name, dir, p->dirs[dir].tree, 0);
}

static int scan_dir(struct prune *p, uint32_t i)
{
	struct prune_tree *t = &p->trees[p->dirs[i].tree];
	size_t n;
	int fd, r;

	fd = prune_dir_fd(p, i);
	if (fd < 0) {
		p->errors++;
		warn_skip(p->dirs[i].name, fd == -EXDEV   ? "a mount point"
		                           : fd == -ELOOP ? "replaced by a symbolic link during the scan"
		                                          : strerror(-fd));
		return 0;
	}
	while ((r = read_batch(p, fd, &n)) > 0) {
		struct stat_work w = {.batch = p->batch, .n = n, .fd = fd};

		/* The fstatat calls are most of the scan's time and, unlike
		 * unlinks, do not serialise on the directory's lock. */
		prune_run_parallel(n >= PRUNE_PARALLEL_MIN ? p->opts->jobs : 1, stat_worker, &w);
		for (size_t k = 0; k < n; k++) {
			r = scan_entry(p, i, &p->batch[k]);
			if (r < 0)
				return r;
		}
	}
	if (r < 0) {
		p->errors++;
		warn_skip(p->dirs[i].name, strerror(-r));
	}
	/* Pinning an unlocked tree's inodes would turn its owner's logout
	 * into "incompletely locked": keep descriptors only where we delete. */
	if (!t->candidate)
		close_dir(p, i);
	return 0;
}

/* Decide what the entry DIR/name is. Adds a tree (0), skips it with a
 * warning (0), or fails (-errno, fatal only). */
static int classify_entry(struct prune *p, const char *name)
{
	int root_fd = p->root_fd;
	struct lk_fscrypt_policy pol;
	struct prune_tree *t;
	struct stat st, st2;
	_cleanup_close_ int fd = -1;
	uint32_t state;
	int r;

	if (fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			warn_skip(name, strerror(errno));
		return 0;
	}
	if (S_ISLNK(st.st_mode)) {
		warn_skip(name, "a symbolic link (never followed)");
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		warn_skip(name, "not a directory");
		return 0;
	}
	if (st.st_uid == 0) {
		warn_skip(name, "owned by root (per-user directories belong to their user)");
		return 0;
	}
	fd = open_dir_beneath(root_fd, name);
	if (fd < 0) {
		warn_skip(name,
		          fd == -EXDEV ? "a mount point (prune stays on DIR's filesystem)" : strerror(-fd));
		return 0;
	}
	if (fstat(fd, &st2) < 0)
		return -errno;
	if (st2.st_ino != st.st_ino || st2.st_dev != p->dev || st2.st_uid != st.st_uid) {
		warn_skip(name, "changed while it was being looked at");
		return 0;
	}
	r = lk_fscrypt_get_policy(fd, &pol);
	if (r == -ENODATA) {
		warn_skip(name, "not encrypted");
		return 0;
	}
	if (r < 0) {
		warn_skip(name, lk_fscrypt_strerror(-r, "get policy"));
		return 0;
	}

	if (pol.version != 2) {
		state = LK_KEY_UNKNOWN;
	} else {
		/* Asked on DIR's fd: the key is per filesystem, and an fd in the
		 * tree would pin it. */
		r = lk_fscrypt_key_status(p->root_fd, pol.key_id, &state, NULL);
		if (r < 0) {
			warn_skip(name, lk_fscrypt_strerror(-r, "get key status"));
			return 0;
		}
	}

	t = grow(p->trees, &p->cap_trees, p->n_trees + 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	p->trees = t;
	t = &p->trees[p->n_trees];
	*t = (struct prune_tree){
	    .uid = st2.st_uid,
	    .state = state,
	    .policy_version = pol.version,
	    .candidate = !prune_state_is_unlocked(state) || p->opts->include_unlocked,
	    .top = (uint32_t)p->n_dirs,
	};
	memcpy(t->key_id, pol.key_id, LK_KEY_ID_SIZE);
	t->name = strdup(name);
	if (!t->name)
		return -ENOMEM;
	p->n_trees++;
	r = push_dir(p, name, PRUNE_NONE, (uint32_t)(p->n_trees - 1), st2.st_ino);
	if (r < 0)
		return r;
	if (t->candidate) {
		p->dirs[t->top].fd = TAKE_FD(fd);
		p->open_fds++;
	}
	return 0;
}

void prune_run_parallel(unsigned jobs, void *(*fn)(void *), void *arg)
{
	pthread_t threads[PRUNE_JOBS_MAX];
	unsigned started = 0;

	for (unsigned k = 1; k < jobs && k < PRUNE_JOBS_MAX; k++)
		if (pthread_create(&threads[started], NULL, fn, arg) == 0)
			started++;
	fn(arg);
	for (unsigned k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
}

int prune_open(struct prune *p, const char *path)
{
	struct lk_fscrypt_policy pol;
	struct rlimit rl;
	struct stat st;
	int fd = -1, r;

	r = lk_open_nofollow(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, &fd);
	if (r == -ELOOP) {
		_cleanup_free_ char *real = realpath(path, NULL);
		return ctl_fail(CTL_EXIT_USAGE, "prune",
		                "%s contains a symbolic link; give the real path%s%s", path, real ? ": " : "",
		                real ? real : "");
	}
	if (r < 0)
		return ctl_fail(r == -ENOTDIR ? CTL_EXIT_USAGE : CTL_EXIT_FAILED, "prune", "%s: %s", path,
		                strerror(-r));
	p->root_fd = fd;
	if (fstat(fd, &st) < 0)
		return ctl_fail(CTL_EXIT_FAILED, "prune", "%s: %s", path, strerror(errno));
	p->dev = st.st_dev;
	if (lk_fscrypt_get_policy(fd, &pol) == 0)
		return ctl_fail(
		    CTL_EXIT_USAGE, "prune",
		    "%s is itself encrypted; give the shared root that holds the per-user directories", path);
	if (st.st_uid != 0 || (st.st_mode & 022))
		/* Users who can write DIR can plant entries; each is still
		 * checked on its own, so this is advice, not a refusal. */
		fprintf(stderr,
		        "latchkeyctl: prune: warning: %s should be owned by root and not group- or "
		        "world-writable\n",
		        path);

	/* One descriptor per directory saves reopening paths while deleting;
	 * take what the hard limit allows and reopen beyond that. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20)
		rl.rlim_cur = 1 << 20;
	p->max_open_fds =
	    rl.rlim_cur > 2 * PRUNE_FD_RESERVE ? rl.rlim_cur - PRUNE_FD_RESERVE : PRUNE_FD_RESERVE;
	return 0;
}

int prune_scan(struct prune *p)
{
	bool scan_all = p->opts->mode == PRUNE_MAX_SIZE;
	size_t n;
	int r;

	p->batch = calloc(PRUNE_BATCH_MAX, sizeof(*p->batch));
	if (!p->batch)
		return -ENOMEM;
	while ((r = read_batch(p, p->root_fd, &n)) > 0)
		for (size_t k = 0; k < n; k++) {
			r = classify_entry(p, p->batch[k].name);
			if (r < 0)
				return r;
		}
	if (r < 0)
		return r;

	/* Breadth-first: the queue is p->dirs itself, children appended. */
	for (size_t i = 0; i < p->n_dirs; i++) {
		const struct prune_tree *t = &p->trees[p->dirs[i].tree];

		/* Unlocked trees are only looked into when they count towards
		 * --max-size or may be deleted from. */
		if (!t->candidate && !scan_all)
			continue;
		r = scan_dir(p, (uint32_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

void prune_free(struct prune *p)
{
	close_all_dirs(p);
	for (size_t i = 0; i < p->n_dirs; i++)
		free(p->dirs[i].name);
	for (size_t i = 0; i < p->n_trees; i++)
		free(p->trees[i].name);
	free(p->dirs);
	free(p->trees);
	free(p->files);
	free(p->names);
	free(p->batch);
	p->root_fd = safe_close(p->root_fd);
}
