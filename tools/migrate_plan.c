/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What migrate checks before it changes anything, and the plan it prints
 * for --dry-run. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fscrypt_ioctl.h"
#include "migrate_run.h"
#include "json_out.h"
#include "output.h"
#include "units.h"

/* The copy needs what the tree allocates, plus room for directories that
 * grow with encrypted names and the filesystem's own reserve for
 * metadata: 1/64 and 16 MiB. */
#define SPACE_MARGIN_MIN (16ull << 20)

static int check_space(struct migrate_run *m)
{
	struct statvfs sv;
	char need[FORMAT_SIZE_MAX], have[FORMAT_SIZE_MAX];

	if (fstatvfs(m->parent_fd, &sv) < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot read the free space of %s: %s", m->parent,
		                strerror(errno));
	m->need_bytes = m->totals.alloc_bytes + m->totals.alloc_bytes / 64 + SPACE_MARGIN_MIN;
	m->free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	m->free_inodes = sv.f_favail;
	format_size(m->need_bytes, need);
	format_size(m->free_bytes, have);
	if (m->need_bytes > m->free_bytes)
		return ctl_fail(
		    CTL_EXIT_FAILED, m->op,
		    "not enough free space: the copy needs %s (%llu bytes allocated now, plus a margin),\n"
		    "but the filesystem has %s (%llu bytes) free. Nothing was changed.\n"
		    "Free at least %llu bytes, then run the same command again.",
		    need, (unsigned long long)m->totals.alloc_bytes, have, (unsigned long long)m->free_bytes,
		    (unsigned long long)(m->need_bytes - m->free_bytes));
	if (m->totals.inodes > m->free_inodes)
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "not enough free inodes: the copy needs %llu, the filesystem has %llu. "
		                "Nothing was changed.",
		                (unsigned long long)m->totals.inodes, (unsigned long long)m->free_inodes);
	return 0;
}

static int fail_path(struct migrate_run *m, const char *name, const char *why)
{
	fprintf(stderr, "latchkeyctl: %s: ", m->op);
	text_print_escaped(stderr, name);
	fprintf(stderr, ": %s\n", why);
	return CTL_EXIT_FAILED;
}

int migrate_check_fresh(struct migrate_run *m)
{
	_cleanup_close_ int fd = migrate_open_dir_at(m->parent_fd, m->base);
	struct lk_fscrypt_policy pol;
	struct stat st, pst, sib;
	struct migrate_tree t = {};
	int r;

	if (fd < 0)
		return fail_path(m, m->dir, fd == -ENOTDIR ? "not a directory" : strerror(-fd));
	if (fstat(fd, &st) < 0 || fstat(m->parent_fd, &pst) < 0)
		return fail_path(m, m->dir, strerror(errno));
	if (st.st_dev != pst.st_dev)
		return fail_path(m, m->dir,
		                 "is a mount point; migrate works on a directory inside a filesystem");
	if (lk_fscrypt_check_fs(fd) < 0)
		return fail_path(m, m->dir, "is not on ext4 or f2fs");
	r = lk_fscrypt_get_policy(fd, &pol);
	if (m->direction == MIGRATE_ENCRYPT && r == 0)
		return fail_path(m, m->dir, "is already encrypted");
	if (m->direction == MIGRATE_ENCRYPT && r != -ENODATA)
		return fail_path(m, m->dir, lk_fscrypt_strerror(-r, "get policy"));
	if (m->direction == MIGRATE_DECRYPT) {
		uint32_t state = LK_KEY_UNKNOWN, users;
		if (r < 0)
			return fail_path(m, m->dir,
			                 r == -ENODATA ? "is not encrypted"
			                               : lk_fscrypt_strerror(-r, "get policy"));
		if (pol.version != 2)
			return fail_path(m, m->dir, "has a legacy v1 policy, which decrypt does not handle");
		if (lk_fscrypt_key_status(m->parent_fd, pol.key_id, &state, &users) < 0 ||
		    state != LK_KEY_PRESENT)
			return fail_path(m, m->dir, "is locked: unlock it first (latchkeyctl unlock USER)");
		memcpy(m->j.key_id, pol.key_id, LK_KEY_ID_SIZE);
		m->j.has_key_id = true;
		if (!m->have_user)
			m->uid = st.st_uid;
	}
	if (fstatat(m->parent_fd, m->sibling, &sib, AT_SYMLINK_NOFOLLOW) == 0)
		return fail_path(
		    m, m->sibling_path,
		    "exists, but no migration of this directory is recorded; move it away and run again");

	r = migrate_scan_tree(fd, &m->totals, &t.path);
	if (r < 0) {
		t.what = r == -EXDEV ? "a mount point inside the directory: unmount it first" : "scan";
		migrate_print_path_error(m, m->dir, &t, r == -EXDEV ? 0 : r);
		migrate_tree_free(&t);
		return CTL_EXIT_FAILED;
	}
	migrate_tree_free(&t);
	m->j.direction = m->direction;
	m->j.phase = MIGRATE_PHASE_COPY;
	m->j.uid = m->uid;
	m->j.orig_ino = st.st_ino;
	return check_space(m);
}

int migrate_check_users(struct migrate_run *m)
{
	char who[256];
	int r;

	if (m->force)
		return 0;
	r = migrate_find_users(m->dir, m->uid, who, sizeof(who));
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot scan /proc: %s", strerror(-r));
	if (r == 0)
		return 0;
	fprintf(stderr, "latchkeyctl: %s: the directory is in use: %s.\n", m->op, who);
	fputs("Files written during the copy would be lost. Log the user out and close what\n"
	      "uses the directory, then run again (or pass --force if you are sure).\n",
	      stderr);
	return CTL_EXIT_FAILED;
}

void migrate_print_plan(const struct migrate_run *m)
{
	char bytes[FORMAT_SIZE_MAX], alloc[FORMAT_SIZE_MAX], need[FORMAT_SIZE_MAX], have[FORMAT_SIZE_MAX];
	bool enc = m->direction == MIGRATE_ENCRYPT;

	format_size(m->totals.bytes, bytes);
	format_size(m->totals.alloc_bytes, alloc);
	format_size(m->need_bytes, need);
	format_size(m->free_bytes, have);
	if (m->ctl->json) {
		struct json_object *doc = json_object_new_object();

		json_out_add_bool(doc, "dry_run", true);
		json_out_add_string(doc, "operation", m->op);
		json_out_add_string(doc, "dir", m->dir);
		json_out_add_uint(doc, "uid", m->uid);
		json_out_add_uint(doc, "files", m->totals.files);
		json_out_add_uint(doc, "dirs", m->totals.dirs);
		json_out_add_uint(doc, "bytes", m->totals.bytes);
		json_out_add_uint(doc, "allocated", m->totals.alloc_bytes);
		json_out_add_uint(doc, "need_bytes", m->need_bytes);
		json_out_add_uint(doc, "free_bytes", m->free_bytes);
		json_out_add_string(doc, "copy", m->sibling_path);
		(void)json_out_print(doc);
		return;
	}
	fputs(enc ? "Plan: encrypt " : "Plan: decrypt ", stdout);
	text_print_escaped(stdout, m->dir);
	printf(" (uid %u)\n", (unsigned)m->uid);
	printf("  contents: %llu files, %llu directories, %s in regular files, %s allocated\n",
	       (unsigned long long)m->totals.files, (unsigned long long)m->totals.dirs, bytes, alloc);
	printf("  space:    needs %s, %s free\n", need, have);
	fputs(enc ? "  1. create the encrypted directory " : "  1. create the plain directory ", stdout);
	text_print_escaped(stdout, m->sibling_path);
	puts(enc ? " (latchkeyd, the user's key)" : "");
	puts("  2. copy everything (contents, owner, mode, times, ACLs, xattrs, hard links, holes)\n"
	     "  3. verify the copy (content hashes and metadata)\n"
	     "  4. swap the two directories atomically (RENAME_EXCHANGE)");
	puts(enc ? "  5. record the new place with latchkeyd\n  6. remove the plaintext original"
	         : "  5. remove the encrypted original\n  6. forget its key");
	fputs("  journal:  ", stdout);
	text_print_escaped(stdout, m->parent);
	printf("/%s\nNothing was changed (--dry-run).\n", m->journal);
}
