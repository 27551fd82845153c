/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl prune: free space in a shared cache root (DIR/<user>, each an
 * fscrypt-encrypted directory) without any key. Scanning (prune_scan.c)
 * and deleting (prune_delete.c) work on the structures below; cmd_prune.c
 * parses options and prints.
 *
 * Everything is done relative to directory fds opened without following
 * symlinks and without leaving DIR's filesystem, and no file is ever
 * opened: names, mtimes and sizes are all visible without the key.
 */
#ifndef LK_CTL_PRUNE_H
#define LK_CTL_PRUNE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/protocol.h"

enum prune_mode {
	PRUNE_FREE,     /* delete until freed >= target bytes */
	PRUNE_MAX_SIZE, /* delete until the per-user trees total <= target bytes */
	PRUNE_MAX_AGE,  /* delete every candidate older than target seconds */
};

struct prune_options {
	enum prune_mode mode;
	uint64_t target;
	bool dry_run;
	bool include_unlocked;
	unsigned jobs; /* threads for fstatat and unlinkat, >= 1 */
};

/* Default and upper bound of --jobs. Beyond a few threads the directory's
 * inode lock, which every unlink in it takes, makes more of them useless. */
#define PRUNE_JOBS_DEFAULT_MAX 4
#define PRUNE_JOBS_MAX         16

/* One per-user tree: an encrypted directory DIR/<name> owned by uid. */
struct prune_tree {
	char *name; /* entry name in DIR */
	uid_t uid;
	uint32_t state; /* enum lk_key_state; LK_KEY_UNKNOWN for v1 policies */
	uint8_t policy_version;
	uint8_t key_id[LK_KEY_ID_SIZE];
	bool candidate;        /* its files may be deleted in this run */
	bool stopped;          /* became unlocked while we deleted: left alone since */
	uint32_t top;          /* index of its top directory in prune.dirs */
	uint64_t files, bytes; /* regular files found and their freeable bytes */
	uint64_t deleted, freed;
};

/* A directory inside a tree, tops included. Children always have larger
 * indices than their parent (the scan is breadth-first). */
struct prune_dir {
	char *name;      /* entry name in the parent; the tree's name for a top */
	uint32_t parent; /* PRUNE_NONE for a top */
	uint32_t tree;
	uint32_t depth;
	ino_t ino;        /* 0 until opened once */
	int fd;           /* -1 when closed (reopened on demand, ino checked) */
	uint32_t entries; /* entries seen by the scan, of any type */
	uint32_t removed; /* of those, removed by us */
};

struct prune_file {
	int64_t sec; /* the earlier of mtime and ctime (users can set mtime, not ctime) */
	uint32_t nsec;
	uint32_t dir;
	uint64_t ino;
	uint64_t bytes;   /* st_blocks * 512, or 0 if hard-linked (deleting frees nothing) */
	size_t name;      /* offset in prune.names */
	uint8_t unlocked; /* sort class: locked users' files go first */
};

#define PRUNE_NONE UINT32_MAX
/* Deeper directories are not descended into (with a warning). */
#define PRUNE_MAX_DEPTH 256

struct prune {
	const struct prune_options *opts;
	int root_fd;
	dev_t dev;

	struct prune_tree *trees;
	size_t n_trees, cap_trees;
	struct prune_dir *dirs;
	size_t n_dirs, cap_dirs;
	struct prune_file *files; /* deletion candidates only */
	size_t n_files, cap_files;
	char *names; /* NUL-separated file names */
	size_t names_len, names_cap;
	struct prune_entry *batch; /* one getdents buffer's entries, for the scan */

	size_t open_fds, max_open_fds;
	uint64_t scanned; /* directory entries looked at */
	uint64_t total;   /* freeable bytes of all per-user trees */
	uint64_t deleted, freed;
	uint64_t errors; /* files or directories that could not be handled */
	bool satisfied;

	/* Called now and then during long loops; may be NULL. */
	void (*progress)(const struct prune *p, const char *phase, uint64_t done, uint64_t total);
};

/* Run fn(arg) on jobs threads at once (the caller's included) and wait for
 * all. fn must share out its work itself; if threads cannot be created,
 * fewer run it, which is still correct. */
void prune_run_parallel(unsigned jobs, void *(*fn)(void *), void *arg);

/* Open DIR (no symlink in any component) and check it. Prints why on
 * failure and returns a CTL_EXIT_* code; 0 on success. */
int prune_open(struct prune *p, const char *path);

/* Find the per-user trees in DIR, their states and their files.
 * Warnings for skipped entries go to stderr. 0 or -errno (fatal only). */
int prune_scan(struct prune *p);

/* Delete (or with dry_run, count) candidates in order until the target is
 * met, then remove directories that became empty. 0 or -errno (fatal only);
 * per-file failures are counted in p->errors. */
int prune_delete(struct prune *p);

/* An fd for dir i, reopened (and its inode checked) if it was closed to
 * save descriptors. -ESTALE if the path now leads somewhere else. */
int prune_dir_fd(struct prune *p, uint32_t i);

/* Whether files of a tree in this state may only go with --include-unlocked. */
bool prune_state_is_unlocked(uint32_t state);

void prune_free(struct prune *p);

#endif
