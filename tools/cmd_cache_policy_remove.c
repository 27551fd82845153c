/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl policy remove: drop a policy's drop-in (or mask the vendor's). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "json_out.h"
#include "output.h"
#include "cache_policy_ctl.h"

#define OP "policy remove"

static void remove_help(void)
{
	printf("Usage: latchkeyctl policy remove DIR [--json] [--config-dir DIR] [--vendor-dir DIR]\n"
	       "\n"
	       "Remove the policy whose shared root is DIR and ask latchkeyd to reload. A\n"
	       "drop-in in the configuration directory is deleted; a vendor drop-in is\n"
	       "masked with a link to /dev/null of the same name. A drop-in that defines\n"
	       "other policies too is left for you to edit.\n"
	       "The users' directories under DIR and their data are never touched: delete\n"
	       "them yourself, or free space with 'latchkeyctl prune DIR'.\n"
	       "Must be run as root.\n"
	       "\n"
	       "Options:\n"
	       "  --json            print {\"policy\":{...},\"file\",\"action\",\"daemon\"}\n"
	       "  --config-dir DIR  configuration directory (default: latchkeyd's, else %s)\n"
	       "  --vendor-dir DIR  vendor directory (default: latchkeyd's, else %s)\n"
	       "  -h, --help        show this help\n",
	       LK_DEFAULT_CONFIG_DIR, LK_VENDOR_CONFIG_DIR);
}

/* Put a /dev/null symlink at name, replacing what is there, durably. */
static int mask_at(int dfd, const char *name)
{
	char tmp[NAME_MAX + 1];
	int r;

	/* A dot name: the loader never reads it, even if left by a crash. */
	if (snprintf(tmp, sizeof(tmp), ".%s.mask", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlinkat(dfd, tmp, 0);
	if (symlinkat("/dev/null", dfd, tmp) < 0)
		return -errno;
	if (renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	return fsync(dfd) < 0 ? -errno : 0;
}

/* Only drop-ins that define nothing else can go as a whole. */
static int refuse_shared_file(const struct lk_config *c, const struct lk_cache_policy *p)
{
	char others[512] = "";
	size_t used = 0;
	unsigned n = 0;

	for (unsigned i = 0; i < c->n_cache_policies; i++)
		if (strcmp(c->cache_policies[i].source, p->source) == 0 && &c->cache_policies[i] != p) {
			n++;
			if (used < sizeof(others))
				used += (size_t)snprintf(others + used, sizeof(others) - used, "%s%s",
				                         used ? ", " : "", c->cache_policies[i].name);
		}
	if (n == 0)
		return 0;
	fprintf(stderr, "latchkeyctl: " OP ": ");
	text_print_escaped(stderr, p->source);
	fprintf(stderr, " also defines %s; remove the section [policy %s] from it yourself\n", others,
	        p->name);
	return CTL_EXIT_FAILED;
}

int cache_policy_remove(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    POLICY_COMMON_OPTIONS,
	    {},
	};
	struct cache_policy_dirs dirs = {};
	struct lk_config c _cleanup_(lk_config_free) = {};
	char etc_path[LK_PATH_MAX + 64], vendor_path[LK_PATH_MAX + 64], why[512];
	_cleanup_free_ uint8_t *saved = NULL;
	_cleanup_close_ int pd_fd = -1;
	const struct lk_cache_policy *p = NULL;
	const char *dir, *base, *daemon = "reloaded";
	bool in_etc, over_vendor = false;
	size_t saved_len = 0;
	struct stat st;
	int opt, r, code;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cache_policy_common_option(ctl, opt, &dirs))
			continue;
		if (opt == 'h') {
			remove_help();
			return CTL_EXIT_OK;
		}
		return ctl_usage_error(OP, "invalid option");
	}
	if (argc - optind != 1)
		return ctl_usage_error(OP, "expected exactly one DIR");
	dir = argv[optind];
	if (dir[0] != '/')
		return ctl_usage_error(OP, "DIR must be an absolute path");
	/* DIR may be gone already: compare it as the configuration spells roots. */
	if (lk_config_check_root(dir, why, sizeof(why)) < 0)
		return ctl_usage_error(OP, "%s", why);
	r = ctl_require_root(OP);
	if (r != 0)
		return r;

	ctl_daemon_config_dirs(ctl, OP, &dirs.etc, &dirs.vendor);
	r = cache_policy_load(OP, &dirs, &c);
	if (r != 0)
		return r;
	for (unsigned i = 0; i < c.n_cache_policies && !p; i++)
		if (strcmp(c.cache_policies[i].root, dir) == 0)
			p = &c.cache_policies[i];
	if (!p)
		return ctl_fail(CTL_EXIT_FAILED, OP,
		                "no policy has the root %s; 'latchkeyctl policy list' shows them", dir);
	r = refuse_shared_file(&c, p);
	if (r != 0)
		return r;

	base = strrchr(p->source, '/');
	base = base ? base + 1 : p->source;
	cache_policy_dropin_path(dirs.etc, base, etc_path, sizeof(etc_path));
	in_etc = strcmp(p->source, etc_path) == 0;
	if (dirs.vendor) {
		cache_policy_dropin_path(dirs.vendor, base, vendor_path, sizeof(vendor_path));
		over_vendor = lstat(vendor_path, &st) == 0;
	}
	if (!in_etc && !over_vendor)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s is neither in %s nor in %s", p->source, dirs.etc,
		                dirs.vendor ? dirs.vendor : "a vendor directory");

	pd_fd = cache_policy_open_dropin_dir(OP, dirs.etc, !in_etc);
	if (pd_fd < 0)
		return -pd_fd;
	if (in_etc) {
		/* Kept to put back if latchkeyd refuses the result. */
		saved = malloc(LK_CONFIG_FILE_MAX);
		if (!saved)
			return ctl_fail(CTL_EXIT_FAILED, OP, "out of memory");
		r = lk_read_file_at(pd_fd, base, 0, LK_CONFIG_FILE_MAX, saved, &saved_len);
		if (r < 0)
			return ctl_fail(CTL_EXIT_FAILED, OP, "cannot read %s: %s", etc_path, strerror(-r));
	}
	/* Deleting an etc file that overrides a vendor file of the same name
	 * would bring the vendor's policy back: mask it instead. */
	if (over_vendor)
		r = mask_at(pd_fd, base);
	else
		r = lk_unlink_durable_at(pd_fd, base);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "cannot %s %s: %s", over_vendor ? "mask" : "remove",
		                etc_path, strerror(-r));

	switch (cache_policy_reload(ctl, OP, &code)) {
	case POLICY_RELOADED:
		break;
	case POLICY_UNREACHABLE:
		daemon = "not running";
		break;
	case POLICY_NO_ANSWER:
		fprintf(stderr, "latchkeyctl: " OP ": %s is %s; check latchkeyd's log\n", etc_path,
		        over_vendor ? "masked" : "removed");
		return code;
	case POLICY_REFUSED:
		if (in_etc)
			r = lk_write_file_atomic_at(pd_fd, base, saved, saved_len, 0644);
		else
			r = lk_unlink_durable_at(pd_fd, base);
		if (r < 0)
			fprintf(stderr, "latchkeyctl: " OP ": cannot put %s back: %s\n", etc_path,
			        strerror(-r));
		else
			fprintf(stderr,
			        "latchkeyctl: " OP ": latchkeyd refused the new configuration; %s put back\n",
			        etc_path);
		return code;
	}

	if (ctl->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "policy", cache_policy_to_json(p));
		json_out_add_string(doc, "file", etc_path);
		json_out_add_string(doc, "action", over_vendor ? "masked" : "deleted");
		json_out_add_string(doc, "daemon", daemon);
		(void)json_out_print(doc);
	} else {
		printf("Removed policy %s (root ", p->name);
		text_print_escaped(stdout, p->root);
		fputs("): ", stdout);
		text_print_escaped(stdout, etc_path);
		puts(over_vendor ? " now masks the vendor drop-in (a link to /dev/null)." : " deleted.");
		puts(
		    "No new per-user directories are made there. The existing ones and their data are kept:\n"
		    "delete them yourself, or free space with 'latchkeyctl prune DIR'.");
		if (strcmp(daemon, "reloaded") != 0)
			puts("latchkeyd is not running: this applies from when it starts.");
	}
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
