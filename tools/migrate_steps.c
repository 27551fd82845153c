/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The phases of a migration, each one safe to repeat, with the journal
 * written before the step it announces:
 *
 *   copy      make the sibling (encrypted via latchkeyd, or plain), copy,
 *             syncfs, verify; then journal "verified"
 *   verified  RENAME_EXCHANGE DIR <-> sibling (skipped if the inodes show
 *             it happened), fsync the parent; journal "exchanged"
 *   exchanged RELOCATE the encrypted root to DIR; journal "removing"
 *   removing  remove the original (now at the sibling path), forget a
 *             decrypted root's key, remove the journal
 *
 * The original is touched only in "removing", which follows a verified
 * copy; the inode numbers in the journal make sure it is the original.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "fscrypt_ioctl.h"
#include "migrate_daemon.h"
#include "migrate_run.h"
#include "output.h"

static int save(struct migrate_run *m, enum migrate_phase phase)
{
	int r;

	m->j.phase = phase;
	r = migrate_journal_save(m->parent_fd, m->journal, &m->j);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot write the journal %s/%s: %s", m->parent,
		                m->journal, strerror(-r));
	return 0;
}

static uint64_t ino_at(int dir, const char *name)
{
	struct stat st;
	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t)st.st_ino : 0;
}

/* The encrypted sibling, made by latchkeyd and unlocked. */
static int prepare_encrypted(struct migrate_run *m, int fd)
{
	struct lk_fscrypt_policy pol;
	uint32_t state = LK_KEY_UNKNOWN, users;
	int r = lk_fscrypt_get_policy(fd, &pol);

	if (r == -ENODATA) {
		r = migrate_daemon_encrypt(m->ctl, m->op, m->uid, m->user, m->from_stdin, m->sibling_path,
		                           m->j.key_id);
		if (r != 0)
			return r;
		r = lk_fscrypt_get_policy(fd, &pol);
	}
	if (r < 0 || memcmp(pol.key_id, m->j.key_id, LK_KEY_ID_SIZE) != 0) {
		if (r == 0 && m->j.has_key_id)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "%s has another key than the journal records",
			                m->sibling_path);
		if (r < 0)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "%s: %s", m->sibling_path,
			                lk_fscrypt_strerror(-r, "get policy"));
		memcpy(m->j.key_id, pol.key_id, LK_KEY_ID_SIZE);
	}
	m->j.has_key_id = true;
	if (lk_fscrypt_key_status(m->parent_fd, m->j.key_id, &state, &users) == 0 &&
	    state != LK_KEY_PRESENT) {
		/* latchkeyd was restarted and locked it, or a login ended. */
		fprintf(stderr, "The unfinished copy is locked; unlocking it.\n");
		r = migrate_daemon_unlock(m->ctl, m->op, m->uid, m->user, m->from_stdin);
		if (r != 0)
			return r;
	}
	return 0;
}

static int prepare_sibling(struct migrate_run *m)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (mkdirat(m->parent_fd, m->sibling, 0700) < 0 && errno != EEXIST)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot create %s: %s", m->sibling_path,
		                strerror(errno));
	fd = migrate_open_dir_at(m->parent_fd, m->sibling);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot open %s: %s", m->sibling_path,
		                strerror(fd < 0 ? -fd : errno));
	if (m->j.copy_ino && m->j.copy_ino != st.st_ino)
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "%s is not the copy the journal records; move it away", m->sibling_path);
	if (m->direction == MIGRATE_ENCRYPT) {
		r = prepare_encrypted(m, fd);
		if (r != 0)
			return r;
	} else {
		struct lk_fscrypt_policy pol;
		if (lk_fscrypt_get_policy(fd, &pol) != -ENODATA)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "%s is encrypted; it should be a plain copy",
			                m->sibling_path);
	}
	if (m->j.copy_ino != st.st_ino) {
		m->j.copy_ino = st.st_ino;
		return save(m, MIGRATE_PHASE_COPY);
	}
	return 0;
}

static int step_copy(struct migrate_run *m)
{
	struct migrate_tree t = {.src = -1, .dst = -1, .resume = m->j.copy_ino != 0};
	int r;

	if (ino_at(m->parent_fd, m->base) != m->j.orig_ino)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "%s is no longer the directory the journal records",
		                m->dir);
	r = prepare_sibling(m);
	if (r != 0)
		return r;
	/* The copy is root's until its last step gives the top directory
	 * the original's owner and mode: nobody else writes into it meanwhile. */
	if (fchownat(m->parent_fd, m->sibling, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(m->parent_fd, m->sibling, 0700, 0) < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot make %s root's: %s", m->sibling_path,
		                strerror(errno));
	t.src = migrate_open_dir_at(m->parent_fd, m->base);
	t.dst = migrate_open_dir_at(m->parent_fd, m->sibling);
	if (t.src < 0 || t.dst < 0) {
		r = ctl_fail(CTL_EXIT_FAILED, m->op, "cannot open %s: %s",
		             t.src < 0 ? m->dir : m->sibling_path, strerror(-(t.src < 0 ? t.src : t.dst)));
		goto out;
	}
	migrate_progress_start(&t.progress, "copy", m->totals.files + m->totals.dirs, m->totals.bytes,
	                       m->quiet);
	r = migrate_copy_tree(&t);
	m->copy_ms = migrate_progress_end(&t.progress);
	if (r < 0) {
		migrate_print_path_error(m, m->dir, &t, r);
		r = CTL_EXIT_FAILED;
		goto out;
	}
	migrate_progress_start(&t.progress, "verify", m->totals.files + m->totals.dirs, m->totals.bytes,
	                       m->quiet);
	r = migrate_verify_tree(&t);
	m->verify_ms = migrate_progress_end(&t.progress);
	if (r < 0) {
		migrate_print_path_error(m, m->dir, &t, r);
		r = CTL_EXIT_FAILED;
		goto out;
	}
	r = save(m, MIGRATE_PHASE_VERIFIED);
	migrate_hook("before-exchange");
out:
	if (t.src >= 0)
		close(t.src);
	if (t.dst >= 0)
		close(t.dst);
	migrate_tree_free(&t);
	return r;
}

static int step_exchange(struct migrate_run *m)
{
	uint64_t at_dir = ino_at(m->parent_fd, m->base), at_sib = ino_at(m->parent_fd, m->sibling);

	if (at_dir == m->j.orig_ino && at_sib == m->j.copy_ino) {
		if (renameat2(m->parent_fd, m->base, m->parent_fd, m->sibling, RENAME_EXCHANGE) < 0)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot swap %s and its copy: %s", m->dir,
			                strerror(errno));
	} else if (!(at_dir == m->j.copy_ino && at_sib == m->j.orig_ino)) {
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "%s or %s is not what the journal records; nothing removed", m->dir,
		                m->sibling_path);
	}
	if (fsync(m->parent_fd) < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "fsync %s: %s", m->parent, strerror(errno));
	migrate_hook("after-exchange");
	return save(m, MIGRATE_PHASE_EXCHANGED);
}

static int step_relocate(struct migrate_run *m)
{
	int r;

	if (m->direction == MIGRATE_ENCRYPT) {
		r = migrate_daemon_relocate(m->ctl, m->op, m->uid, m->j.key_id, m->dir, 0);
		if (r != 0)
			return r;
	}
	return save(m, MIGRATE_PHASE_REMOVING);
}

static int step_remove(struct migrate_run *m)
{
	struct migrate_progress p;
	struct migrate_path where = {};
	uint64_t at_sib = ino_at(m->parent_fd, m->sibling);
	char who[256];
	int r;

	if (ino_at(m->parent_fd, m->base) != m->j.copy_ino || (at_sib && at_sib != m->j.orig_ino))
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "%s or %s is not what the journal records; nothing removed", m->dir,
		                m->sibling_path);
	migrate_progress_start(&p, "remove", m->totals.files + m->totals.dirs, 0, m->quiet);
	r = migrate_remove_tree(m->parent_fd, m->sibling, &p, &where);
	m->remove_ms = migrate_progress_end(&p);
	if (r < 0) {
		struct migrate_tree t = {.path = where, .what = "remove the original"};
		migrate_print_path_error(m, m->sibling_path, &t, r);
		migrate_path_free(&where);
		return CTL_EXIT_FAILED;
	}
	migrate_path_free(&where);
	if (m->direction == MIGRATE_DECRYPT) {
		r = migrate_daemon_relocate(m->ctl, m->op, m->uid, m->j.key_id, m->dir, LK_RLF_FORGET);
		if (r != 0)
			return r;
	}
	r = lk_unlink_durable_at(m->parent_fd, m->journal);
	if (r < 0 && r != -ENOENT)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot remove the journal: %s", strerror(-r));
	/* The user is logged out (checked before the copy): the new encrypted
	 * directory should not stay unlocked until they log in and out. */
	if (m->direction == MIGRATE_ENCRYPT && migrate_find_users(m->dir, m->uid, who, sizeof(who)) == 0) {
		r = migrate_daemon_lock(m->ctl, m->op, m->uid);
		if (r != 0)
			return r;
		m->locked = true;
	}
	return 0;
}

int migrate_run_phases(struct migrate_run *m)
{
	int r = 0;

	if (m->j.phase == MIGRATE_PHASE_COPY)
		r = step_copy(m);
	if (r == 0 && m->j.phase == MIGRATE_PHASE_VERIFIED)
		r = step_exchange(m);
	if (r == 0 && m->j.phase == MIGRATE_PHASE_EXCHANGED)
		r = step_relocate(m);
	if (r == 0 && m->j.phase == MIGRATE_PHASE_REMOVING)
		r = step_remove(m);
	return r;
}
