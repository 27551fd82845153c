/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl migrate DIR --user USER, and latchkeyctl decrypt DIR: the
 * command lines, the journal check, and what is printed at the end. The
 * work is in migrate_plan.c and migrate_steps.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "migrate_run.h"
#include "json_out.h"
#include "output.h"
#include "units.h"

static void migrate_help(const char *op)
{
	bool enc = strcmp(op, "migrate") == 0;

	printf(enc ? "Usage: latchkeyctl migrate DIR --user USER [OPTIONS]\n\n"
	             "Encrypt DIR, which holds data, for USER: copy it into a new encrypted directory\n"
	             "beside it, verify the copy, swap the two atomically and remove the plaintext\n"
	             "original. An interrupted run (Ctrl-C, kill, power loss) continues where it\n"
	             "stopped when the same command is run again.\n"
	           : "Usage: latchkeyctl decrypt DIR [OPTIONS]\n\n"
	             "Turn the encrypted directory DIR (unlocked) back into a plain one: copy it into\n"
	             "a new plain directory beside it, verify, swap atomically, remove the encrypted\n"
	             "original and forget its key. Resumable like migrate.\n");
	printf("Must be run as root. The user must be logged out and nothing may use DIR.\n"
	       "\n"
	       "Options:\n"
	       "  -u, --user USER     %s\n"
	       "  --dry-run           check and print the plan; change nothing\n"
	       "  --force             go on although the user has processes or DIR is in use\n"
	       "  --passphrase-stdin  read USER's passphrase from standard input\n"
	       "  --quiet             no progress output\n"
	       "  --json              print a summary as JSON\n"
	       "  -h, --help          show this help\n",
	       enc ? "the user who will own the key (required)"
	           : "the user whose key it is (default: DIR's owner)");
}

void migrate_print_path_error(const struct migrate_run *m, const char *top, const struct migrate_tree *t,
                              int r)
{
	fprintf(stderr, "latchkeyctl: %s: ", m->op);
	text_print_escaped(stderr, top);
	if (t->path.len) {
		fputc('/', stderr);
		text_print_escaped(stderr, t->path.buf);
	}
	if (t->what && strncmp(t->what, "verify: ", 8) == 0)
		fprintf(stderr, ": the copy failed verification: %s", t->what + 8);
	else
		fprintf(stderr, ": cannot %s", t->what ? t->what : "copy");
	if (r < 0 && r != -ESTALE && r != -EBADMSG)
		fprintf(stderr, ": %s", strerror(-r));
	fputc('\n', stderr);
	if (r == -ENOSPC)
		fputs("The filesystem is full. Free some space.\n", stderr);
	else if (r == -EIO)
		fputs("The disk reported an I/O error: check it (dmesg) before you go on.\n", stderr);
	else if (r == -EACCES || r == -EPERM)
		fputs("Even root may not read or write this file (immutable or append-only?).\n", stderr);
	fprintf(stderr, "Nothing was removed. Fix this, then run the same command again to continue.\n");
}

static int split_dir(struct migrate_run *m, const char *arg)
{
	_cleanup_free_ char *real = NULL, *given = strdup(arg);
	char *slash;
	size_t n;

	if (!given)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "out of memory");
	n = strlen(given);
	while (n > 1 && given[n - 1] == '/')
		given[--n] = '\0';
	real = realpath(given, NULL);
	if (!real)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "%s: %s", arg, strerror(errno));
	if (strcmp(real, given) != 0) {
		fprintf(stderr, "latchkeyctl: %s: %s is not a canonical path; its real path is: ", m->op,
		        arg);
		text_print_escaped(stderr, real);
		fputs("\nRun again with the real path if that is the directory you mean.\n", stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(real, "/") == 0 || strlen(real) >= sizeof(m->dir))
		return ctl_usage_error(m->op, "DIR must be a directory below /");
	snprintf(m->dir, sizeof(m->dir), "%s", real);
	slash = strrchr(real, '/');
	*slash = '\0';
	snprintf(m->parent, sizeof(m->parent), "%s", slash == real ? "/" : real);
	if (strlen(slash + 1) + strlen(".latchkey-migrate.journal") + 2 > NAME_MAX)
		return ctl_usage_error(m->op, "DIR's name is too long for the copy's name beside it");
	snprintf(m->base, sizeof(m->base), "%s", slash + 1);
	if ((size_t)snprintf(m->sibling, sizeof(m->sibling), ".%s.latchkey-migrate", m->base) >=
	    sizeof(m->sibling))
		return ctl_usage_error(m->op, "DIR's name is too long");
	(void)migrate_journal_name(m->base, m->journal, sizeof(m->journal));
	if ((size_t)snprintf(m->sibling_path, sizeof(m->sibling_path), "%s%s%s",
	                     strcmp(m->parent, "/") ? m->parent : "", "/",
	                     m->sibling) >= sizeof(m->sibling_path))
		return ctl_usage_error(m->op, "DIR is too long");
	m->parent_fd = open(m->parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (m->parent_fd < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "%s: %s", m->parent, strerror(errno));
	return 0;
}

static int load_journal(struct migrate_run *m)
{
	int r = migrate_journal_load(m->parent_fd, m->journal, &m->j);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "%s/%s is not a journal of latchkeyctl (%s); move it away", m->parent,
		                m->journal, strerror(-r));
	if (m->j.direction != m->direction)
		return ctl_fail(CTL_EXIT_FAILED, m->op,
		                "a %s of %s is under way: finish it with latchkeyctl %s %s",
		                m->j.direction == MIGRATE_ENCRYPT ? "migration" : "decryption", m->dir,
		                m->j.direction == MIGRATE_ENCRYPT ? "migrate" : "decrypt", m->dir);
	if (m->have_user && m->j.uid != m->uid)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "the migration under way is for uid %u, not %s",
		                (unsigned)m->j.uid, m->user);
	m->uid = m->j.uid;
	m->resumed = true;
	m->resumed_from = m->j.phase;
	return 0;
}

/* DIR is still the original: the exchange has not happened. */
static bool still_original(const struct migrate_run *m)
{
	struct stat st;
	return fstatat(m->parent_fd, m->base, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == m->j.orig_ino;
}

/* A resumed copy needs the totals for its progress bar. */
static int rescan(struct migrate_run *m)
{
	_cleanup_close_ int fd = migrate_open_dir_at(m->parent_fd, m->base);
	struct migrate_tree t = {};
	int r;

	if (fd < 0)
		return ctl_fail(CTL_EXIT_FAILED, m->op, "%s: %s", m->dir, strerror(-fd));
	r = migrate_scan_tree(fd, &m->totals, &t.path);
	if (r < 0) {
		t.what = "scan";
		migrate_print_path_error(m, m->dir, &t, r);
	}
	migrate_tree_free(&t);
	return r < 0 ? CTL_EXIT_FAILED : 0;
}

static void print_summary(const struct migrate_run *m)
{
	char key_id[2 * LK_KEY_ID_SIZE + 1], size[FORMAT_SIZE_MAX], rate[FORMAT_SIZE_MAX];
	uint64_t per_s = m->copy_ms ? m->totals.bytes * 1000 / m->copy_ms : 0;
	bool enc = m->direction == MIGRATE_ENCRYPT;

	lk_hex(m->j.key_id, LK_KEY_ID_SIZE, key_id);
	if (m->ctl->json) {
		struct json_object *doc = json_object_new_object();

		json_out_add_string(doc, "operation", m->op);
		json_out_add_string(doc, "dir", m->dir);
		json_out_add_uint(doc, "uid", m->uid);
		json_out_add_string(doc, "key_id", key_id);
		json_out_add_uint(doc, "files", m->totals.files);
		json_out_add_uint(doc, "dirs", m->totals.dirs);
		json_out_add_uint(doc, "bytes", m->totals.bytes);
		json_out_add_uint(doc, "copy_ms", m->copy_ms);
		json_out_add_uint(doc, "copy_bytes_per_s", per_s);
		json_out_add_uint(doc, "verify_ms", m->verify_ms);
		json_out_add_uint(doc, "remove_ms", m->remove_ms);
		json_object_object_add(doc, "resumed_from",
		                       m->resumed ? json_out_string(migrate_phase_name(m->resumed_from))
		                                  : NULL);
		json_out_add_bool(doc, "original_removed", true);
		json_out_add_bool(doc, "locked", m->locked);
		(void)json_out_print(doc);
	} else {
		fputs(enc ? "Encrypted " : "Decrypted ", stdout);
		text_print_escaped(stdout, m->dir);
		if (enc)
			printf(" for uid %u (key %s).\n", (unsigned)m->uid, key_id);
		else
			printf(" (key %s of uid %u forgotten).\n", key_id, (unsigned)m->uid);
		if (m->copy_ms)
			printf("Copied %llu files, %s in %.1f s (%s/s); verified in %.1f s.\n",
			       (unsigned long long)m->totals.files, format_size(m->totals.bytes, size),
			       (double)m->copy_ms / 1000, format_size(per_s, rate),
			       (double)m->verify_ms / 1000);
	}
	if (m->locked && !m->ctl->json)
		printf("Locked: it unlocks at the user's next login.\n");
	if (enc)
		fputs("Warning: the removed plaintext may remain in the filesystem's free blocks.\n"
		      "On an SSD run 'fstrim' on this filesystem; on a disk, overwrite its free space\n"
		      "(or the whole disk) if that matters to you.\n",
		      stderr);
}

static int run(struct migrate_run *m, int argc, char **argv)
{
	enum { OPT_STDIN = 0x100, OPT_JSON, OPT_DRY, OPT_FORCE, OPT_QUIET };
	static const struct option options[] = {
	    {"user", required_argument, NULL, 'u'},  {"dry-run", no_argument, NULL, OPT_DRY},
	    {"force", no_argument, NULL, OPT_FORCE}, {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"quiet", no_argument, NULL, OPT_QUIET}, {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},        {},
	};
	struct rlimit rl;
	int c, r;

	while ((c = getopt_long(argc, argv, "hu:", options, NULL)) != -1) {
		switch (c) {
		case 'u':
			m->user = optarg;
			break;
		case OPT_DRY:
			m->dry_run = true;
			break;
		case OPT_FORCE:
			m->force = true;
			break;
		case OPT_STDIN:
			m->from_stdin = true;
			break;
		case OPT_QUIET:
			m->quiet = true;
			break;
		case OPT_JSON:
			m->ctl->json = true;
			break;
		case 'h':
			migrate_help(m->op);
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error(m->op, "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error(m->op, "expected exactly one DIR");
	if (m->direction == MIGRATE_ENCRYPT && !m->user)
		return ctl_usage_error(m->op, "--user USER is required");
	if (argv[optind][0] != '/')
		return ctl_usage_error(m->op, "DIR must be an absolute path");
	r = m->user ? ctl_require_root_user(m->op, m->user, &m->uid) : ctl_require_root(m->op);
	if (r != 0)
		return r;
	m->have_user = m->user != NULL;
	r = split_dir(m, argv[optind]);
	if (r == 0)
		r = load_journal(m);
	if (r != 0)
		return r;

	/* One fd per level of nesting during the copy and the verification. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	umask(077);

	if (!m->resumed) {
		r = migrate_check_fresh(m);
		if (r != 0)
			return r;
	} else {
		fprintf(stderr, "Continuing the %s of %s from phase '%s'.\n", m->op, m->dir,
		        migrate_phase_name(m->j.phase));
		/* Verified, but not yet swapped: the original may have been
		 * written since, so copy what changed and verify again (files
		 * already complete are kept) before anything is swapped. */
		if (m->j.phase == MIGRATE_PHASE_VERIFIED && still_original(m))
			m->j.phase = MIGRATE_PHASE_COPY;
		if (m->j.phase == MIGRATE_PHASE_COPY && (r = rescan(m)) != 0)
			return r;
	}
	if (m->j.phase == MIGRATE_PHASE_COPY && (r = migrate_check_users(m)) != 0)
		return r;
	if (!m->user && m->uid) {
		struct passwd *pw = getpwuid(m->uid);
		m->user = m->user_owned = pw ? strdup(pw->pw_name) : NULL;
		if (!m->user)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "uid %u has no user name", (unsigned)m->uid);
	}
	if (m->uid == 0)
		return ctl_fail(CTL_EXIT_USAGE, m->op, "DIR belongs to root; name its user with --user");
	if (m->dry_run) {
		if (m->resumed)
			printf("A %s is under way at phase '%s'; run without --dry-run to finish it.\n",
			       m->op, migrate_phase_name(m->j.phase));
		else
			migrate_print_plan(m);
		return CTL_EXIT_OK;
	}
	if (!m->resumed) {
		r = migrate_journal_save(m->parent_fd, m->journal, &m->j);
		if (r < 0)
			return ctl_fail(CTL_EXIT_FAILED, m->op, "cannot write the journal %s/%s: %s",
			                m->parent, m->journal, strerror(-r));
	}
	r = migrate_run_phases(m);
	if (r != 0)
		return r;
	print_summary(m);
	return CTL_EXIT_OK;
}

static int run_op(struct ctl *ctl, int argc, char **argv, const char *op, enum migrate_direction direction)
{
	struct migrate_run m = {.ctl = ctl, .op = op, .direction = direction, .parent_fd = -1};
	int r = run(&m, argc, argv);

	if (m.parent_fd >= 0)
		close(m.parent_fd);
	free(m.user_owned);
	return r;
}

int cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	return run_op(ctl, argc, argv, "migrate", MIGRATE_ENCRYPT);
}

int cmd_decrypt(struct ctl *ctl, int argc, char **argv)
{
	return run_op(ctl, argc, argv, "decrypt", MIGRATE_DECRYPT);
}
