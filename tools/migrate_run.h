/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One run of latchkeyctl migrate or decrypt: options, the places it works
 * on, and what it measured (for --json and the bench). */
#ifndef LK_CTL_MIGRATE_RUN_H
#define LK_CTL_MIGRATE_RUN_H

#include <limits.h>

#include "ctl.h"
#include "migrate.h"

struct migrate_run {
	struct ctl *ctl;
	const char *op; /* "migrate" or "decrypt" */
	enum migrate_direction direction;
	bool force, dry_run, from_stdin, quiet;
	const char *user;
	char *user_owned; /* user, when looked up from the uid (freed at the end) */
	uid_t uid;
	bool have_user;

	char dir[PATH_MAX];    /* canonical DIR */
	char parent[PATH_MAX]; /* its parent */
	char base[NAME_MAX + 1];
	char sibling[NAME_MAX + 1]; /* ".<base>.latchkey-migrate" */
	char sibling_path[PATH_MAX];
	char journal[NAME_MAX + 1];
	int parent_fd;

	struct migrate_journal j;
	bool resumed;
	bool locked; /* the user's directories were locked at the end */
	enum migrate_phase resumed_from;
	struct migrate_totals totals;
	uint64_t need_bytes, free_bytes, free_inodes;
	uint64_t copy_ms, verify_ms, remove_ms;
};

/* cmd_migrate.c */
void migrate_print_path_error(const struct migrate_run *m, const char *top, const struct migrate_tree *t,
                              int r);

/* migrate_plan.c: checks before any change, the space figures, --dry-run. */
int migrate_check_fresh(struct migrate_run *m);
int migrate_check_users(struct migrate_run *m);
void migrate_print_plan(const struct migrate_run *m);

/* migrate_steps.c: the phases, each resumable. */
int migrate_run_phases(struct migrate_run *m);

#endif
