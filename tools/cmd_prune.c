/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl prune: options, progress and the report. The work is in
 * prune_scan.c and prune_delete.c. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"
#include "json_out.h"
#include "output.h"
#include "prune.h"
#include "units.h"

static void prune_help(void)
{
	printf("Usage: latchkeyctl prune DIR (--free SIZE | --max-size SIZE | --max-age AGE)\n"
	       "                        [--include-unlocked] [--dry-run] [--json]\n"
	       "\n"
	       "Delete whole files from the per-user encrypted directories DIR/<user> of a\n"
	       "shared cache, without any key and without reading a byte of them. Files of\n"
	       "locked users go first, oldest (by modification time) first; files of unlocked\n"
	       "users only with --include-unlocked, after all locked users' files. Emptied\n"
	       "subdirectories are removed; DIR/<user> itself never is. Root only.\n"
	       "\n"
	       "A user's state comes from the kernel (key absent = locked). Directories with\n"
	       "a v1 policy count as unlocked: their key may sit in a user's keyring, where\n"
	       "root cannot see it. Entries of DIR that are not encrypted directories owned\n"
	       "by a non-root user are skipped with a warning and never entered.\n"
	       "\n"
	       "Options:\n"
	       "  --free SIZE         delete until at least SIZE is freed\n"
	       "  --max-size SIZE     delete until the per-user directories total at most SIZE\n"
	       "  --max-age AGE       delete every file older than AGE\n"
	       "  --include-unlocked  also delete files of unlocked users (after locked ones)\n"
	       "  --dry-run           delete nothing; report what would go\n"
	       "  --jobs N            threads for looking at and deleting files, 1 to 16\n"
	       "                      (default: the number of CPUs, at most 4)\n"
	       "  --json              print {\"dry_run\",\"mode\",\"target\",\"users\":[{\"user\",\"uid\",\n"
	       "                      "
	       "\"dir\",\"state\",\"files\",\"bytes\"}],\"files\",\"bytes\",\"satisfied\"}\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "SIZE: a number of bytes, or with K, M, G, T (or KiB, MiB, GiB, TiB; 1024-based).\n"
	       "AGE: a number of seconds, or with s, m (minutes), h, d or w.\n"
	       "Sizes are allocated blocks; a file with several hard links frees nothing.\n"
	       "\n"
	       "Exit status 0 if the target was met, 1 if not (or some file could not be\n"
	       "deleted), 2 usage error, 4 not root.\n");
}

static const char *mode_name(enum prune_mode m)
{
	return m == PRUNE_FREE ? "free" : m == PRUNE_MAX_SIZE ? "max-size" : "max-age";
}

/* Progress on a terminal, for runs long enough to wonder about: nothing in
 * the first second, then at most ten updates a second. */
static struct {
	struct timespec start, last;
	bool shown;
} progress;

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_update(const struct prune *p, const char *phase, uint64_t done, uint64_t total)
{
	char freed[FORMAT_SIZE_MAX];
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&progress.start, &now) < 1.0 || (progress.shown && elapsed(&progress.last, &now) < 0.1))
		return;
	progress.last = now;
	progress.shown = true;

	if (total == 0) {
		fprintf(stderr, "\r\033[Kprune: %s: %llu entries", phase, (unsigned long long)done);
	} else {
		unsigned width = 30, fill = (unsigned)(done * width / total);
		fprintf(stderr, "\r\033[Kprune: %s [%.*s%*s] %llu/%llu files, %s", phase, (int)fill,
		        "##############################", (int)(width - fill), "", (unsigned long long)done,
		        (unsigned long long)total, format_size(p->freed, freed));
	}
	fflush(stderr);
}

static void progress_end(void)
{
	if (progress.shown)
		fputs("\r\033[K", stderr);
}

static void print_json(const struct prune *p)
{
	const struct prune_options *o = p->opts;

	struct json_object *doc = json_object_new_object(), *users = json_object_new_array();

	json_out_add_bool(doc, "dry_run", o->dry_run);
	json_out_add_string(doc, "mode", mode_name(o->mode));
	json_out_add_uint(doc, "target", o->target);
	for (size_t i = 0; i < p->n_trees; i++) {
		const struct prune_tree *t = &p->trees[i];
		struct passwd *pw = getpwuid(t->uid);
		struct json_object *u = json_object_new_object();

		json_object_object_add(u, "user", pw ? json_out_string(pw->pw_name) : NULL);
		json_out_add_uint(u, "uid", t->uid);
		json_out_add_string(u, "dir", t->name);
		json_out_add_string(u, "state", lk_key_state_to_string(t->state));
		json_out_add_uint(u, "files", t->deleted);
		json_out_add_uint(u, "bytes", t->freed);
		json_object_array_add(users, u);
	}
	json_object_object_add(doc, "users", users);
	json_out_add_uint(doc, "files", p->deleted);
	json_out_add_uint(doc, "bytes", p->freed);
	json_out_add_bool(doc, "satisfied", p->satisfied);
	(void)json_out_print(doc);
}

/* s escaped for a terminal, left-aligned in width columns, then a space. */
static void print_cell(const char *s, int width)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		printf("%-*s ", width, "?");
		return;
	}
	text_print_escaped(f, s);
	fclose(f);
	printf("%-*s ", width, buf);
}

static void print_text(const struct prune *p)
{
	const struct prune_options *o = p->opts;
	char freed[FORMAT_SIZE_MAX], left[FORMAT_SIZE_MAX], target[FORMAT_SIZE_MAX];
	const char *verb = o->dry_run ? "Would free" : "Freed";

	printf("%-16s %-10s %-20s %10s %14s %s\n", "USER", "UID", "STATE", "FILES",
	       o->dry_run ? "WOULD-FREE" : "FREED", "DIR");
	for (size_t i = 0; i < p->n_trees; i++) {
		const struct prune_tree *t = &p->trees[i];
		struct passwd *pw = getpwuid(t->uid);
		char uid[16];

		snprintf(uid, sizeof(uid), "%u", (unsigned)t->uid);
		print_cell(pw ? pw->pw_name : uid, 16);
		printf("%-10s %-20s %10llu %14llu ", uid, lk_key_state_to_string(t->state),
		       (unsigned long long)t->deleted, (unsigned long long)t->freed);
		text_print_escaped(stdout, t->name);
		putchar('\n');
	}
	printf("%-16s %-10s %-20s %10llu %14llu\n", "total", "", "", (unsigned long long)p->deleted,
	       (unsigned long long)p->freed);

	format_size(p->freed, freed);
	format_size(o->target, target);
	switch (o->mode) {
	case PRUNE_FREE:
		printf("%s %s of the %s asked for: ", verb, freed, target);
		break;
	case PRUNE_MAX_SIZE:
		format_size(p->freed < p->total ? p->total - p->freed : 0, left);
		printf("%s %s; the per-user directories %s %s, at most %s asked for: ", verb, freed,
		       o->dry_run ? "would total" : "now total", left, target);
		break;
	case PRUNE_MAX_AGE:
		printf("%s %s in files older than %llu s: ", verb, freed, (unsigned long long)o->target);
		break;
	}
	puts(p->satisfied ? "target met." : "target NOT met.");
	if (o->dry_run)
		puts("Dry run: nothing was deleted.");
}

/* Mode and target from one of the three target options; a second one is
 * refused. 0 to go on, or an exit status. */
static int set_target(struct prune_options *o, bool *have, enum prune_mode mode, const char *arg)
{
	int r;

	if (*have)
		return ctl_usage_error("prune", "give only one of --free, --max-size and --max-age");
	*have = true;
	o->mode = mode;
	if (mode == PRUNE_MAX_AGE)
		r = parse_age(arg, &o->target);
	else
		r = parse_size(arg, &o->target);
	if (r < 0)
		return ctl_usage_error("prune", "--%s: invalid %s '%s'%s", mode_name(mode),
		                       mode == PRUNE_MAX_AGE ? "age" : "size", arg,
		                       r == -ERANGE            ? " (too large)"
		                       : mode == PRUNE_MAX_AGE ? " (use e.g. 90s, 30m, 12h, 7d, 2w)"
		                                               : " (use e.g. 512M, 10G or 10GiB)");
	return 0;
}

int cmd_prune(struct ctl *ctl, int argc, char **argv)
{
	enum {
		OPT_FREE = 0x100,
		OPT_MAX_SIZE,
		OPT_MAX_AGE,
		OPT_INCLUDE_UNLOCKED,
		OPT_DRY_RUN,
		OPT_JOBS,
		OPT_JSON
	};
	static const struct option options[] = {
	    {"free", required_argument, NULL, OPT_FREE},
	    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
	    {"max-age", required_argument, NULL, OPT_MAX_AGE},
	    {"include-unlocked", no_argument, NULL, OPT_INCLUDE_UNLOCKED},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"jobs", required_argument, NULL, OPT_JOBS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct prune_options o = {
	    .jobs = cpus < 1                        ? 1
	            : cpus > PRUNE_JOBS_DEFAULT_MAX ? PRUNE_JOBS_DEFAULT_MAX
	                                            : (unsigned)cpus,
	};
	uint64_t jobs;
	struct prune p = {.opts = &o, .root_fd = -1};
	bool have_target = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_FREE:
		case OPT_MAX_SIZE:
		case OPT_MAX_AGE:
			r = set_target(&o, &have_target,
			               c == OPT_FREE       ? PRUNE_FREE
			               : c == OPT_MAX_SIZE ? PRUNE_MAX_SIZE
			                                   : PRUNE_MAX_AGE,
			               optarg);
			if (r != 0)
				return r;
			break;
		case OPT_INCLUDE_UNLOCKED:
			o.include_unlocked = true;
			break;
		case OPT_DRY_RUN:
			o.dry_run = true;
			break;
		case OPT_JOBS:
			if (parse_uint(optarg, &jobs) < 0 || jobs < 1 || jobs > PRUNE_JOBS_MAX)
				return ctl_usage_error("prune", "--jobs: expected a number from 1 to %d",
				                       PRUNE_JOBS_MAX);
			o.jobs = (unsigned)jobs;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			prune_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("prune", "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("prune", "expected exactly one DIR");
	if (!have_target)
		return ctl_usage_error("prune", "give one of --free, --max-size and --max-age");
	r = ctl_require_root("prune");
	if (r != 0)
		return r;

	if (isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &progress.start);
		p.progress = progress_update;
	}
	r = prune_open(&p, argv[optind]);
	if (r == 0) {
		r = prune_scan(&p);
		if (r == 0)
			r = prune_delete(&p);
		progress_end();
		if (r < 0)
			r = ctl_fail(CTL_EXIT_FAILED, "prune", "%s: %s", argv[optind], strerror(-r));
	}
	if (r == 0) {
		if (ctl->json)
			print_json(&p);
		else
			print_text(&p);
		fflush(stdout);
		if (p.errors)
			r = ctl_fail(CTL_EXIT_FAILED, "prune",
			             "%llu files or directories could not be handled",
			             (unsigned long long)p.errors);
		else
			r = p.satisfied ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	}
	prune_free(&p);
	return r;
}
