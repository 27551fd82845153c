/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl migrate / decrypt: copy a directory tree into a sibling of
 * the other kind (encrypted or not), verify the copy, swap the two with
 * RENAME_EXCHANGE and remove the original. Each step is resumable from
 * the journal kept beside the directory.
 */
#ifndef LK_CTL_MIGRATE_H
#define LK_CTL_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>

#include "latchkey/protocol.h"

/* ---- migrate_path.c: the path of the entry being worked on, relative to
 * the tree's root, for error messages (any depth, any bytes). */
struct migrate_path {
	char *buf;
	size_t len, cap;
};
int migrate_path_push(struct migrate_path *p, const char *name, size_t *ret_saved_len);
void migrate_path_pop(struct migrate_path *p, size_t saved_len);
void migrate_path_free(struct migrate_path *p);

/* ---- migrate_inodes.c: a map from one inode number to another (hard
 * links: source inode -> copy), open addressing. */
struct migrate_inode_map {
	uint64_t *keys, *vals;
	size_t n, cap;
};
/* *ret_val and 1 if key is present, else 0. */
int migrate_inode_map_get(const struct migrate_inode_map *m, uint64_t key, uint64_t *ret_val);
int migrate_inode_map_put(struct migrate_inode_map *m, uint64_t key, uint64_t val);
void migrate_inode_map_free(struct migrate_inode_map *m);

/* The names in a directory but "." and "..", sorted (bytewise). */
struct migrate_names {
	char **v;
	size_t n, cap;
};
int migrate_list_dir(int dirfd, struct migrate_names *ret);
void migrate_names_free(struct migrate_names *n);
/* openat of a directory without following a symlink or touching atime;
 * the fd, or -errno. */
int migrate_open_dir_at(int dirfd, const char *name);

/* ---- migrate_progress.c: a bar on a terminal, lines otherwise (stderr). */
struct migrate_progress {
	const char *phase;
	uint64_t files_total, bytes_total;
	uint64_t files, bytes;
	uint64_t start_ms, last_ms;
	bool tty, quiet, drawn;
};
void migrate_progress_start(struct migrate_progress *p, const char *phase, uint64_t files_total,
                            uint64_t bytes_total, bool quiet);
void migrate_progress_add(struct migrate_progress *p, uint64_t files, uint64_t bytes);
/* Final line; returns the phase's duration in ms. */
uint64_t migrate_progress_end(struct migrate_progress *p);

/* ---- migrate_scan.c */
struct migrate_totals {
	uint64_t files; /* every non-directory entry */
	uint64_t dirs;
	uint64_t bytes;       /* apparent size of regular files */
	uint64_t alloc_bytes; /* allocated blocks, each inode once */
	uint64_t inodes;
};
/* Walk the tree at dirfd (not following symlinks, not crossing mounts:
 * a mount point inside is an error naming it). */
int migrate_scan_tree(int dirfd, struct migrate_totals *ret, struct migrate_path *err_path);
/* Processes using the tree at dir (cwd, root or an open fd under it), or
 * running as uid: a description of the first one in buf, and 1; 0 if none. */
int migrate_find_users(const char *dir, uid_t uid, char *buf, size_t size);

/* ---- migrate_copy.c / migrate_verify.c / migrate_remove.c share this. */
struct migrate_tree {
	int src, dst; /* root directory fds */
	dev_t dev;
	struct migrate_path path; /* where an error happened */
	const char *what;         /* and what failed there */
	struct migrate_progress progress;
	/* copy: source inode -> copy's inode, copy's inode -> its handle;
	 * verify: source inode -> copy's inode and back */
	struct migrate_inode_map links, links_back;
	struct file_handle **handles;
	size_t n_handles;
	bool no_copy_range;
	bool resume; /* the copy exists from an earlier run: drop what the original lost */
};
void migrate_tree_free(struct migrate_tree *t);
/* Record what failed at t->path; returns r. */
int migrate_fail(struct migrate_tree *t, const char *what, int r);
bool migrate_same_time(const struct timespec *a, const struct timespec *b);

/* Copy src's contents into dst; entries already complete in dst (a rerun)
 * are kept. Then the root's own metadata. -errno with t->path/t->what. */
int migrate_copy_tree(struct migrate_tree *t);
/* The metadata of one entry (owner, xattrs but trusted.latchkey.*, mode,
 * times) from sfd to dfd; dfd_dir/name for what has no fd (symlinks,
 * special files), where sfd and dfd are -1. */
int migrate_copy_meta(int sdir, int ddir, const char *name, int sfd, int dfd, const struct stat *st);
/* true for the xattrs migrate never copies nor compares. */
bool migrate_xattr_skipped(const char *name);
/* The xattrs of an entry (by fd, else dir/name without following a
 * symlink), those migrate copies only, in listing order. */
struct migrate_xattr {
	const char *name; /* into names */
	char *value;
	size_t len;
};
struct migrate_xattrs {
	char *names;
	size_t names_len;
	struct migrate_xattr *v;
	size_t n;
};
int migrate_read_xattrs(int fd, int dir, const char *name, struct migrate_xattrs *ret);
void migrate_xattrs_free(struct migrate_xattrs *x);

/* Compare src and dst: names, types, owner, mode, size, times (ns), xattrs,
 * hard-link structure, symlink targets, device numbers, content hashes. */
int migrate_verify_tree(struct migrate_tree *t);

/* Remove the directory parent/name and everything below it, never
 * following a symlink; progress counts entries. */
int migrate_remove_tree(int parent, const char *name, struct migrate_progress *p,
                        struct migrate_path *err_path);

/* ---- migrate_journal.c: "<parent>/.<name>.latchkey-migrate.journal". */
enum migrate_direction { MIGRATE_ENCRYPT = 1, MIGRATE_DECRYPT = 2 };
enum migrate_phase {
	MIGRATE_PHASE_COPY = 1,      /* copy being made (sibling may not exist yet) */
	MIGRATE_PHASE_VERIFIED = 2,  /* copy complete and verified; exchange next */
	MIGRATE_PHASE_EXCHANGED = 3, /* copy at DIR, original at the sibling path */
	MIGRATE_PHASE_REMOVING = 4,  /* index updated; original being removed */
};
struct migrate_journal {
	enum migrate_direction direction;
	enum migrate_phase phase;
	uid_t uid;
	uint64_t orig_ino, copy_ino; /* copy_ino 0 until the sibling exists */
	uint8_t key_id[LK_KEY_ID_SIZE];
	bool has_key_id;
};
int migrate_journal_name(const char *base, char *buf, size_t size);
/* -ENOENT when there is none; -EBADMSG for a file that is not ours. */
int migrate_journal_load(int parent, const char *name, struct migrate_journal *ret);
int migrate_journal_save(int parent, const char *name, const struct migrate_journal *j);
const char *migrate_phase_name(enum migrate_phase p);

/* Test hook (built with -Dtest_hooks=true only): SIGKILL ourselves at the
 * named point when LATCHKEY_TEST_MIGRATE_KILL names it. */
void migrate_hook(const char *point);

#endif
