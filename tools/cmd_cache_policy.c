/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl policy: per-user directories under shared roots (the
 * drop-ins of latchkey.conf(5)). This file holds the dispatcher, `list`,
 * and what assign and remove share.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "json_out.h"
#include "output.h"
#include "cache_policy_ctl.h"

static void cache_policy_help(void)
{
	printf("Usage: latchkeyctl policy COMMAND [ARGS...]\n"
	       "\n"
	       "Give every user a directory of their own under a shared root (a browser\n"
	       "cache, say), encrypted with a key that the user's login unlocks. The\n"
	       "policies are drop-ins in policy.d of latchkeyd's configuration directory\n"
	       "(%s unless it runs with --config-dir; latchkey.conf(5)).\n"
	       "\n"
	       "Commands:\n"
	       "  assign DIR --per-user  add a policy for the root DIR (root)\n"
	       "  list                   show the policies\n"
	       "  remove DIR             remove the policy of the root DIR (root)\n"
	       "\n"
	       "Run 'latchkeyctl policy COMMAND --help' for a command's options.\n",
	       LK_DEFAULT_CONFIG_DIR);
}

static void list_help(void)
{
	printf(
	    "Usage: latchkeyctl policy list [--json] [--config-dir DIR] [--vendor-dir DIR]\n"
	    "\n"
	    "Show the per-user directory policies of the configuration, as latchkeyd\n"
	    "reads it: drop-ins in the configuration directory override those of the\n"
	    "vendor directory file by file.\n"
	    "\n"
	    "Options:\n"
	    "  --json            print {\"policies\":[{\"name\",\"root\",\"per_user\",\"subdir\",\"mode\",\n"
	    "                    \"contents\",\"filenames\",\"padding\",\"iv_ino_lblk_64\",\n"
	    "                    \"lock_on_logout\",\"source\",\"line\"}]}\n"
	    "  --config-dir DIR  configuration directory (default: latchkeyd's, else %s)\n"
	    "  --vendor-dir DIR  vendor directory (default: latchkeyd's, else %s)\n"
	    "  -h, --help        show this help\n",
	    LK_DEFAULT_CONFIG_DIR, LK_VENDOR_CONFIG_DIR);
}

bool cache_policy_common_option(struct ctl *ctl, int opt, struct cache_policy_dirs *dirs)
{
	switch (opt) {
	case POLICY_OPT_JSON:
		ctl->json = true;
		return true;
	case POLICY_OPT_CONFIG:
		dirs->etc = optarg;
		return true;
	case POLICY_OPT_VENDOR:
		dirs->vendor = optarg;
		return true;
	default:
		return false;
	}
}

int cache_policy_load(const char *op, const struct cache_policy_dirs *d, struct lk_config *ret)
{
	struct lk_config_error err = {};
	char msg[sizeof(err.file) + sizeof(err.message) + 32];
	int r;

	r = lk_config_load(d->etc, d->vendor, ret, &err);
	if (r < 0) {
		lk_config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "latchkeyctl: %s: the configuration is not valid: ", op);
		text_print_escaped(stderr, msg);
		fputc('\n', stderr);
		return CTL_EXIT_FAILED;
	}
	return 0;
}

void cache_policy_dropin_path(const char *dir, const char *name, char *out, size_t size)
{
	size_t n = strlen(dir);

	/* As config/load.c joins them: no doubled '/'. */
	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(out, size, "%.*s/policy.d/%s", (int)n, dir, name);
}

static int open_or_make_dir(int at, const char *name, bool create)
{
	int fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (at == AT_FDCWD ? 0 : O_NOFOLLOW));
	if (fd >= 0 || errno != ENOENT || !create)
		return fd < 0 ? -errno : fd;
	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (at == AT_FDCWD ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return -errno;
	/* The umask must not decide who may read the configuration. */
	(void)fchmod(fd, 0755);
	return fd;
}

int cache_policy_open_dropin_dir(const char *op, const char *etc, bool create)
{
	_cleanup_close_ int etc_fd = -1, fd = -1;
	struct stat st;

	etc_fd = open_or_make_dir(AT_FDCWD, etc, create);
	if (etc_fd < 0)
		return -ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", etc, strerror(-etc_fd));
	fd = open_or_make_dir(etc_fd, "policy.d", create);
	if (fd < 0)
		return -ctl_fail(CTL_EXIT_FAILED, op, "%s/policy.d: %s", etc, strerror(-fd));
	/* The loader refuses anything else; better to say so before writing. */
	if (fstat(fd, &st) < 0)
		return -ctl_fail(CTL_EXIT_FAILED, op, "%s/policy.d: %s", etc, strerror(errno));
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -ctl_fail(CTL_EXIT_FAILED, op,
		                 "%s/policy.d must be owned by root and not writable by group or others; "
		                 "chown root:root and chmod 0755 it",
		                 etc);
	return TAKE_FD(fd);
}

enum cache_policy_reload cache_policy_reload(const struct ctl *ctl, const char *op, int *ret_exit)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	bool connected;
	int r;

	*ret_exit = CTL_EXIT_FAILED;
	if (ctl_msgs_new(&req, &rep, LK_REQ_RELOAD, LK_UID_NONE) != 0)
		return POLICY_NO_ANSWER;

	r = ctl_call_quiet(ctl, req, rep, &connected);
	if (!connected && r == -EPERM) {
		ctl_fail(CTL_EXIT_FAILED, op,
		         "warning: not asking %s to reload: the listening process is not root",
		         ctl->socket_path);
		return POLICY_UNREACHABLE;
	}
	if (!connected) {
		ctl_fail(CTL_EXIT_OK, op, "warning: latchkeyd is not running (%s: %s)", ctl->socket_path,
		         strerror(-r));
		return POLICY_UNREACHABLE;
	}
	if (r < 0) {
		ctl_fail(CTL_EXIT_FAILED, op, "no valid reply from latchkeyd to RELOAD: %s", strerror(-r));
		return POLICY_NO_ANSWER;
	}
	if (rep->type == LK_REP_OK)
		return POLICY_RELOADED;
	*ret_exit = ctl_reply_error(op, rep);
	return rep->type == LK_REP_ERROR ? POLICY_REFUSED : POLICY_NO_ANSWER;
}

struct json_object *cache_policy_to_json(const struct lk_cache_policy *p)
{
	static const unsigned pads[] = {4, 8, 16, 32};
	struct json_object *o = json_object_new_object();
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)p->mode);
	json_out_add_string(o, "name", p->name);
	json_out_add_string(o, "root", p->root);
	json_out_add_bool(o, "per_user", true);
	json_out_add_string(o, "subdir", p->subdir);
	json_out_add_string(o, "mode", mode);
	json_out_add_string(o, "contents", lk_fscrypt_mode_name(p->contents_mode) ?: "?");
	json_out_add_string(o, "filenames", lk_fscrypt_mode_name(p->filenames_mode) ?: "?");
	json_out_add_uint(o, "padding", pads[p->flags & FSCRYPT_POLICY_FLAGS_PAD_MASK]);
	json_out_add_bool(o, "iv_ino_lblk_64", p->flags & FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64);
	json_object_object_add(
	    o, "lock_on_logout",
	    p->lock_on_logout == LK_INHERIT ? NULL : json_object_new_boolean(p->lock_on_logout == LK_YES));
	json_out_add_string(o, "source", p->source);
	json_out_add_uint(o, "line", p->line);
	return o;
}

int cache_policy_set_option(const char *op, struct lk_cache_policy *p, const char *key, const char *value)
{
	char why[512];

	if (lk_cache_policy_set(p, key, value, why, sizeof(why)) < 0)
		return ctl_usage_error(op, "%s", why);
	return 0;
}

/* Column of at least width characters, hostile bytes escaped. */
static void print_cell(const char *s, size_t width)
{
	size_t n = strlen(s);

	text_print_escaped(stdout, s);
	for (; n < width; n++)
		putchar(' ');
	putchar(' ');
}

static void print_table(const struct lk_config *c)
{
	static const unsigned pads[] = {4, 8, 16, 32};
	size_t w_name = 4, w_root = 4, w_subdir = 6;
	char modes[64];

	for (unsigned i = 0; i < c->n_cache_policies; i++) {
		const struct lk_cache_policy *p = &c->cache_policies[i];

		w_name = strlen(p->name) > w_name ? strlen(p->name) : w_name;
		w_root = strlen(p->root) > w_root ? strlen(p->root) : w_root;
		w_subdir = strlen(p->subdir) > w_subdir ? strlen(p->subdir) : w_subdir;
	}
	print_cell("NAME", w_name);
	print_cell("ROOT", w_root);
	print_cell("SUBDIR", w_subdir);
	printf("%-27s %-7s %s\n", "CONTENTS/FILENAMES", "PADDING", "SOURCE");
	for (unsigned i = 0; i < c->n_cache_policies; i++) {
		const struct lk_cache_policy *p = &c->cache_policies[i];

		print_cell(p->name, w_name);
		print_cell(p->root, w_root);
		print_cell(p->subdir, w_subdir);
		snprintf(modes, sizeof(modes), "%s/%s", lk_fscrypt_mode_name(p->contents_mode) ?: "?",
		         lk_fscrypt_mode_name(p->filenames_mode) ?: "?");
		printf("%-27s %-7u ", modes, pads[p->flags & FSCRYPT_POLICY_FLAGS_PAD_MASK]);
		text_print_escaped(stdout, p->source);
		printf(":%u\n", p->line);
	}
}

static int cache_policy_list(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    POLICY_COMMON_OPTIONS,
	    {},
	};
	struct cache_policy_dirs dirs = {};
	struct lk_config c;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cache_policy_common_option(ctl, opt, &dirs))
			continue;
		if (opt == 'h') {
			list_help();
			return CTL_EXIT_OK;
		}
		return ctl_usage_error("policy list", "invalid option");
	}
	if (optind != argc)
		return ctl_usage_error("policy list", "unexpected argument '%s'", argv[optind]);

	ctl_daemon_config_dirs(ctl, "policy list", &dirs.etc, &dirs.vendor);
	r = cache_policy_load("policy list", &dirs, &c);
	if (r != 0)
		return r;
	if (ctl->json) {
		struct json_object *doc = json_object_new_object(), *list = json_object_new_array();

		for (unsigned i = 0; i < c.n_cache_policies; i++)
			json_object_array_add(list, cache_policy_to_json(&c.cache_policies[i]));
		json_object_object_add(doc, "policies", list);
		(void)json_out_print(doc);
	} else if (c.n_cache_policies == 0) {
		puts("No per-user directory policies.");
	} else {
		print_table(&c);
	}
	lk_config_free(&c);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}

int cmd_policy(struct ctl *ctl, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct ctl *ctl, int argc, char **argv);
	} subs[] = {
	    {"assign", cache_policy_assign},
	    {"list", cache_policy_list},
	    {"remove", cache_policy_remove},
	};

	if (argc < 2)
		return ctl_usage_error("policy", "missing command: assign, list or remove");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cache_policy_help();
		return CTL_EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			/* 0 makes glibc's getopt start over for the subcommand. */
			optind = 0;
			return subs[i].run(ctl, argc - 1, argv + 1);
		}
	return ctl_usage_error("policy", "unknown command '%s'; use assign, list or remove", argv[1]);
}
