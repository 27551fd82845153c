/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prune, part two: order the candidates (locked users' files first, each
 * class oldest first) and unlink them until the target is met, then remove
 * the directories that this emptied. Every unlink is relative to the
 * parent directory's fd and preceded by an fstatat that the name still is
 * the regular file we scanned (same inode): a user who swaps a file for a
 * symlink or a directory in the meantime gets nothing of theirs followed.
 *
 * Several threads may delete at once. They take files in order under one
 * lock, which also guards all the accounting; only the fstatat and unlinkat
 * run outside it. Files under way count towards the target with their
 * scanned size, so no more go than one thread would delete.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fscrypt_ioctl.h"
#include "output.h"
#include "prune.h"

/* How many deletions between two checks that locked users are still
 * locked: the ioctl is cheap, but not free next to an unlink. */
#define PRUNE_RECHECK_EVERY 256
/* Fewer files than this are deleted by one thread. */
#define PRUNE_PARALLEL_MIN 64

struct deleter {
	struct prune *p;
	pthread_mutex_t lock;
	size_t next;      /* next index in p->files to consider */
	uint64_t pending; /* scanned bytes of files being deleted right now */
	uint64_t claims;
	uint64_t missed; /* old enough for --max-age, but not deleted */
	int64_t cutoff;  /* --max-age: only files with mtime before this */
};

static int cmp_files(const void *a, const void *b)
{
	const struct prune_file *x = a, *y = b;

	if (x->unlocked != y->unlocked)
		return x->unlocked < y->unlocked ? -1 : 1;
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	/* Equal mtimes: any fixed order will do, so runs are repeatable. */
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Whether freed bytes, plus those expected from deletions under way, meet
 * the target. */
static bool target_met(const struct prune *p, uint64_t pending)
{
	uint64_t freed = p->freed + pending;

	switch (p->opts->mode) {
	case PRUNE_FREE:
		return freed >= p->opts->target;
	case PRUNE_MAX_SIZE:
		return freed >= p->total || p->total - freed <= p->opts->target;
	default:
		return false; /* --max-age goes through every candidate */
	}
}

static void warn_tree(const struct prune_tree *t, const char *what)
{
	fputs("latchkeyctl: prune: ", stderr);
	text_print_escaped(stderr, t->name);
	fprintf(stderr, " %s\n", what);
}

/* A user who logs in while we delete gets their files left alone from
 * then on (unless --include-unlocked). Their no-key names also stop
 * resolving once the key is back, so at most a few go in between. */
static void recheck_states(struct prune *p)
{
	for (size_t i = 0; i < p->n_trees; i++) {
		struct prune_tree *t = &p->trees[i];
		uint32_t state;

		if (!t->candidate || t->stopped || t->policy_version != 2 ||
		    prune_state_is_unlocked(t->state))
			continue;
		if (lk_fscrypt_key_status(p->root_fd, t->key_id, &state, NULL) < 0 || state == t->state)
			continue;
		t->state = state;
		if (prune_state_is_unlocked(state) && !p->opts->include_unlocked) {
			t->stopped = true;
			warn_tree(t, "was unlocked during the run: its remaining files are left alone");
		}
	}
}

/* Under d->lock: the next file to delete and its directory's fd, or false
 * when there is nothing more to do. */
static bool claim(struct deleter *d, size_t *ret_i, int *ret_fd)
{
	struct prune *p = d->p;

	while (d->next < p->n_files && !target_met(p, d->pending)) {
		size_t i = d->next++;
		const struct prune_file *f = &p->files[i];
		const struct prune_tree *t = &p->trees[p->dirs[f->dir].tree];
		int fd = -1;

		if (p->opts->mode == PRUNE_MAX_AGE && f->sec >= d->cutoff)
			continue;
		if (p->progress && (i & 255) == 0)
			p->progress(p, p->opts->dry_run ? "counting" : "deleting", i, p->n_files);
		if (!p->opts->dry_run && d->claims++ % PRUNE_RECHECK_EVERY == 0)
			recheck_states(p);
		if (t->stopped) {
			d->missed++;
			continue;
		}
		if (!p->opts->dry_run) {
			/* With several threads every directory is already open (see
			 * prune_delete), so this never closes an fd in use. */
			fd = prune_dir_fd(p, f->dir);
			/* Its directory is gone or was replaced: so is the file. */
			if (fd == -ENOENT || fd == -ESTALE || fd == -ENOTDIR || fd == -ELOOP)
				continue;
		}
		d->pending += f->bytes;
		*ret_i = i;
		*ret_fd = fd;
		return true;
	}
	return false;
}

/* Outside the lock. 1 deleted (*ret_bytes freed), 0 gone or replaced by
 * something else (skipped), or -errno. */
static int delete_one(const struct prune *p, int fd, const struct prune_file *f, uint64_t *ret_bytes)
{
	const char *name = p->names + f->name;
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode) || st.st_ino != f->ino || st.st_dev != p->dev)
		return 0;
	if (unlinkat(fd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	*ret_bytes = st.st_nlink > 1 ? 0 : (uint64_t)st.st_blocks * 512;
	return 1;
}

/* Under d->lock: account for file i, whose deletion gave r. */
static void record(struct deleter *d, size_t i, int r, uint64_t bytes)
{
	struct prune *p = d->p;
	const struct prune_file *f = &p->files[i];
	struct prune_tree *t = &p->trees[p->dirs[f->dir].tree];

	d->pending -= f->bytes;
	if (r < 0) {
		p->errors++;
		d->missed++;
		fputs("latchkeyctl: prune: cannot delete a file in ", stderr);
		text_print_escaped(stderr, t->name);
		fprintf(stderr, ": %s\n", strerror(-r));
		return;
	}
	if (r == 0)
		return;
	p->dirs[f->dir].removed++;
	t->deleted++;
	t->freed += bytes;
	p->deleted++;
	p->freed += bytes;
}

static void *delete_worker(void *arg)
{
	struct deleter *d = arg;
	size_t i;
	int fd;

	pthread_mutex_lock(&d->lock);
	while (claim(d, &i, &fd)) {
		const struct prune_file *f = &d->p->files[i];
		uint64_t bytes = f->bytes;
		int r = 1;

		if (!d->p->opts->dry_run) {
			pthread_mutex_unlock(&d->lock);
			r = delete_one(d->p, fd, f, &bytes);
			pthread_mutex_lock(&d->lock);
		}
		record(d, i, r, bytes);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static void remove_emptied_dirs(struct prune *p)
{
	/* Children come after their parents in p->dirs, so walking backwards
	 * empties a chain of directories from the bottom up. */
	for (size_t i = p->n_dirs; i-- > 0;) {
		struct prune_dir *d = &p->dirs[i];
		struct stat st;
		int fd;

		/* Never a tree's top, and only what we emptied ourselves. */
		if (d->parent == PRUNE_NONE || d->removed == 0 || d->removed != d->entries ||
		    p->trees[d->tree].stopped)
			continue;
		if (d->fd >= 0) {
			d->fd = safe_close(d->fd);
			p->open_fds--;
		}
		fd = prune_dir_fd(p, d->parent);
		if (fd < 0)
			continue;
		if (fstatat(fd, d->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_ino != d->ino)
			continue;
		/* ENOTEMPTY: its owner wrote something new meanwhile; keep it. */
		if (unlinkat(fd, d->name, AT_REMOVEDIR) == 0)
			p->dirs[d->parent].removed++;
	}
}

/* Threads only if every candidate's directory is open: reopening one may
 * close others, which must not happen while another thread uses them. */
static unsigned delete_jobs(const struct prune *p)
{
	if (p->opts->dry_run || p->opts->jobs < 2 || p->n_files < PRUNE_PARALLEL_MIN)
		return 1;
	for (size_t i = 0; i < p->n_files; i++)
		if (p->dirs[p->files[i].dir].fd < 0)
			return 1;
	return p->opts->jobs;
}

/* Race tests stop here, between the scan and the deletion, to swap files
 * under us. Production builds (LK_TEST_HOOKS = 0) compile this to nothing
 * and never look at the environment. */
static void test_hook_after_scan(void)
{
#if LK_TEST_HOOKS
	if (secure_getenv("LATCHKEY_TEST_PRUNE_STOP"))
		raise(SIGSTOP);
#endif
}

int prune_delete(struct prune *p)
{
	struct deleter d = {.p = p, .lock = PTHREAD_MUTEX_INITIALIZER};
	struct timespec now;

	if (p->n_files > 1) /* nothing to prune: no array (qsort's is non-null) */
		qsort(p->files, p->n_files, sizeof(*p->files), cmp_files);

	if (p->opts->mode == PRUNE_MAX_AGE) {
		if (clock_gettime(CLOCK_REALTIME, &now) < 0)
			return -errno;
		/* Older than AGE: mtime strictly before now - AGE, in whole
		 * seconds; an age beyond the epoch selects nothing. */
		d.cutoff = p->opts->target > (uint64_t)now.tv_sec ? INT64_MIN
		                                                  : now.tv_sec - (int64_t)p->opts->target;
	}

	test_hook_after_scan();
	prune_run_parallel(delete_jobs(p), delete_worker, &d);
	pthread_mutex_destroy(&d.lock);

	p->satisfied = p->opts->mode == PRUNE_MAX_AGE ? d.missed == 0 : target_met(p, 0);
	if (!p->opts->dry_run)
		remove_emptied_dirs(p);
	return 0;
}
