/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl policy assign: check a shared root, write its drop-in, reload. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ancestors.h"
#include "cleanup.h"
#include "fileio.h"
#include "fscrypt_ioctl.h"
#include "json_out.h"
#include "openat.h"
#include "output.h"
#include "cache_policy_ctl.h"

#define OP "policy assign"

static void assign_help(void)
{
	printf("Usage: latchkeyctl policy assign DIR --per-user [--name NAME] [--subdir TEMPLATE]\n"
	       "                                [--mode MODE] [--contents MODE --filenames MODE]\n"
	       "                                [--padding N] [--iv-ino-lblk-64] [--json]\n"
	       "                                [--config-dir DIR] [--vendor-dir DIR]\n"
	       "\n"
	       "Give every user a directory of their own under the shared root DIR, made by\n"
	       "latchkeyd at the user's login and encrypted with a key the login unlocks.\n"
	       "DIR must exist, be a canonical absolute path without symbolic links, be\n"
	       "owned by root and not writable by group or others, on ext4 or f2fs with\n"
	       "encryption enabled, below directories that are root's and not writable by\n"
	       "group or others unless sticky. The settings are tried on the kernel first.\n"
	       "Writes CONFIG-DIR/policy.d/NAME.conf and asks latchkeyd to reload; it applies\n"
	       "at each user's next login, and at once for users logged in now.\n"
	       "Must be run as root.\n"
	       "\n"
	       "Options:\n"
	       "  --per-user           one directory per user (required: the only kind)\n"
	       "  --name NAME          policy and file name (default: from DIR's last part)\n"
	       "  --subdir TEMPLATE    per-user directory name: %%u user name, %%U uid,\n"
	       "                       %%%% a '%%' (default %%u)\n"
	       "  --mode MODE          mode of each user's directory (default 0700)\n"
	       "  --contents MODE      AES-256-XTS (default) or Adiantum\n"
	       "  --filenames MODE     AES-256-CTS (default), AES-256-HCTR2 or Adiantum\n"
	       "  --padding N          file name padding: 4, 8, 16 or 32 (default 32)\n"
	       "  --iv-ino-lblk-64     the IV_INO_LBLK_64 flag (for inline encryption hardware)\n"
	       "  --json               print {\"policy\":{...},\"file\",\"daemon\"}\n"
	       "  --config-dir DIR     configuration directory (default: latchkeyd's, else %s)\n"
	       "  --vendor-dir DIR     vendor directory (default: latchkeyd's, else %s)\n"
	       "  -h, --help           show this help\n",
	       LK_DEFAULT_CONFIG_DIR, LK_VENDOR_CONFIG_DIR);
}

/* DIR's last component as a policy name: other bytes become '_'. */
static void default_name(const char *dir, char *out, size_t size)
{
	const char *base = strrchr(dir, '/');
	size_t o = 0;

	base = base ? base + 1 : dir;
	while (*base == '.')
		base++;
	for (; *base && o + 1 < size && o < LK_CACHE_POLICY_NAME_MAX; base++) {
		char ch = *base;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			ch = '_';
		out[o++] = ch;
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, size, "policy");
}

/* Open the root without following any symlink, and check what the daemon
 * will insist on anyway: a root-owned, not user-writable directory on a
 * filesystem that can encrypt, not itself encrypted, whose ancestors no
 * user can change. */
static int open_root(const char *dir, int *ret_fd)
{
	struct lk_fscrypt_policy existing;
	_cleanup_close_ int fd = -1;
	char why[512];
	struct stat st;
	int r;

	r = lk_open_nofollow(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, &fd);
	if (r == -ELOOP)
		return ctl_fail(CTL_EXIT_FAILED, OP,
		                "%s: a part of the path is a symbolic link; give the real path", dir);
	if (r == -ENOENT)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s does not exist; create it first (mkdir -m 0755 %s)",
		                dir, dir);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s: %s", dir, strerror(-r));
	if (fstat(fd, &st) < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s: %s", dir, strerror(errno));
	/* The filesystem first: an allow-list (CVE-2016-1572). */
	r = lk_fscrypt_check_fs(fd);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s: %s", dir, lk_fscrypt_strerror(r, "check fs"));
	if (st.st_uid != 0)
		return ctl_fail(
		    CTL_EXIT_FAILED, OP,
		    "%s is owned by uid %u; a shared root must be owned by root: chown root:root %s", dir,
		    (unsigned)st.st_uid, dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return ctl_fail(
		    CTL_EXIT_FAILED, OP,
		    "%s is writable by group or others (mode %04o), so users could plant entries in it: "
		    "chmod 0755 %s",
		    dir, (unsigned)(st.st_mode & 07777), dir);
	r = lk_ancestors_check(dir, why, sizeof(why));
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s: cannot check its ancestors: %s", dir, strerror(-r));
	if (r > 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s", why);
	r = lk_fscrypt_get_policy(fd, &existing);
	if (r == 0)
		return ctl_fail(
		    CTL_EXIT_FAILED, OP,
		    "%s is itself encrypted; a shared root must not be (each user's directory gets its own "
		    "key): choose another directory",
		    dir);
	if (r != -ENODATA)
		return ctl_fail(CTL_EXIT_FAILED, OP, "%s: %s", dir, lk_fscrypt_strerror(r, "get policy"));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int probe(int fd, const struct lk_cache_policy *p)
{
	const char *step = NULL;
	int r = lk_cache_policy_probe(fd, p, &step);

	if (r == 0)
		return 0;
	if (r == -EINVAL && step && strcmp(step, "set policy") == 0)
		return ctl_fail(CTL_EXIT_FAILED, OP,
		                "this kernel or filesystem refuses contents %s with filenames %s%s%s",
		                lk_fscrypt_mode_name(p->contents_mode),
		                lk_fscrypt_mode_name(p->filenames_mode),
		                (p->flags & FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64) ? " and IV_INO_LBLK_64" : "",
		                (p->flags & FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64)
		                    ? " (IV_INO_LBLK_64 needs stable inode numbers: tune2fs -O stable_inodes)"
		                    : "; choose the defaults (AES-256-XTS, AES-256-CTS)");
	if (r == -ENOPKG)
		return ctl_fail(
		    CTL_EXIT_FAILED, OP,
		    "this kernel lacks a cipher that contents %s with filenames %s needs (the kernel log "
		    "names it); choose the defaults (AES-256-XTS, AES-256-CTS) or a kernel with it",
		    lk_fscrypt_mode_name(p->contents_mode), lk_fscrypt_mode_name(p->filenames_mode));
	return ctl_fail(CTL_EXIT_FAILED, OP, "trying the settings on the kernel failed at \"%s\": %s",
	                step ? step : "?", lk_fscrypt_strerror(r, step));
}

/* Add p, as the file would define it, to c and check it against the
 * policies there (names, equal or nested roots): before anything is written. */
static int check_against(struct lk_config *c, const char *path, const char *text, size_t len)
{
	struct lk_config_error err = {};
	char msg[sizeof(err.file) + sizeof(err.message) + 32];

	if (lk_config_parse_buffer(c, text, len, path, LK_CONFIG_DROPIN, &err) == 0 &&
	    lk_config_finish(c, &err) == 0)
		return 0;
	lk_config_error_format(&err, msg, sizeof(msg));
	fprintf(stderr, "latchkeyctl: " OP ": refused: ");
	text_print_escaped(stderr, msg);
	fputc('\n', stderr);
	return CTL_EXIT_FAILED;
}

int cache_policy_assign(struct ctl *ctl, int argc, char **argv)
{
	/* A policy key's option carries its enum lk_policy_key. */
	enum { OPT_KEY = 0x100, OPT_PER_USER = OPT_KEY + LK_POLICY_KEY_COUNT, OPT_NAME };
	static const struct option options[] = {
	    {"per-user", no_argument, NULL, OPT_PER_USER},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"subdir", required_argument, NULL, OPT_KEY + LK_POLICY_KEY_SUBDIR},
	    {"mode", required_argument, NULL, OPT_KEY + LK_POLICY_KEY_MODE},
	    {"contents", required_argument, NULL, OPT_KEY + LK_POLICY_KEY_CONTENTS},
	    {"filenames", required_argument, NULL, OPT_KEY + LK_POLICY_KEY_FILENAMES},
	    {"padding", required_argument, NULL, OPT_KEY + LK_POLICY_KEY_PADDING},
	    {"iv-ino-lblk-64", no_argument, NULL, OPT_KEY + LK_POLICY_KEY_IV_INO_LBLK_64},
	    POLICY_COMMON_OPTIONS,
	    {},
	};
	/* Option values in the order of lk_cache_policy_keys. */
	const char *values[LK_POLICY_KEY_COUNT] = {};
	struct cache_policy_dirs dirs = {};
	struct lk_config c _cleanup_(lk_config_free) = {};
	char name[LK_CACHE_POLICY_NAME_MAX + 1], fname[LK_CACHE_POLICY_NAME_MAX + 8], path[LK_PATH_MAX + 64],
	    vendor_path[LK_PATH_MAX + 64], text[LK_PATH_MAX + 1024], why[512];
	_cleanup_close_ int root_fd = -1, pd_fd = -1;
	_cleanup_free_ char *real = NULL;
	const char *dir, *given_name = NULL, *daemon = "reloaded";
	struct lk_cache_policy p;
	bool per_user = false;
	struct stat st;
	int opt, r, n, code;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cache_policy_common_option(ctl, opt, &dirs))
			continue;
		if (opt >= OPT_KEY && opt < OPT_KEY + LK_POLICY_KEY_COUNT)
			values[opt - OPT_KEY] = optarg ? optarg : "yes";
		else if (opt == OPT_PER_USER)
			per_user = true;
		else if (opt == OPT_NAME)
			given_name = optarg;
		else if (opt == 'h') {
			assign_help();
			return CTL_EXIT_OK;
		} else
			return ctl_usage_error(OP, "invalid option");
	}
	if (argc - optind != 1)
		return ctl_usage_error(OP, "expected exactly one DIR");
	dir = argv[optind];
	if (!per_user)
		return ctl_usage_error(
		    OP, "--per-user is required (per-user directories are the only kind of policy)");
	if (dir[0] != '/')
		return ctl_usage_error(OP, "DIR must be an absolute path");

	/* Every value through the parser's own checks, with its messages. */
	if (given_name && !lk_cache_policy_name_is_valid(given_name))
		return ctl_usage_error(
		    OP, "invalid --name '%s'; use 1 to %d of A-Z a-z 0-9 _ . - (not starting with '.')",
		    given_name, LK_CACHE_POLICY_NAME_MAX);
	if (given_name)
		snprintf(name, sizeof(name), "%s", given_name);
	else
		default_name(dir, name, sizeof(name));
	(void)lk_cache_policy_init(&p, name); /* valid by construction */
	values[LK_POLICY_KEY_ROOT] = dir;
	for (int k = 0; k < LK_POLICY_KEY_COUNT; k++)
		if (values[k] &&
		    (r = cache_policy_set_option(OP, &p, lk_cache_policy_keys[k], values[k])) != 0)
			return r;
	if (lk_cache_policy_check(&p, why, sizeof(why)) < 0)
		return ctl_usage_error(OP, "%s", why);

	r = ctl_require_root(OP);
	if (r != 0)
		return r;

	/* The configuration first: it costs nothing, and a policy that would
	 * clash must not even be probed inside another policy's root. */
	ctl_daemon_config_dirs(ctl, OP, &dirs.etc, &dirs.vendor);
	r = cache_policy_load(OP, &dirs, &c);
	if (r != 0)
		return r;
	snprintf(fname, sizeof(fname), "%s.conf", p.name);
	cache_policy_dropin_path(dirs.etc, fname, path, sizeof(path));
	if (dirs.vendor) {
		cache_policy_dropin_path(dirs.vendor, fname, vendor_path, sizeof(vendor_path));
		if (lstat(vendor_path, &st) == 0)
			return ctl_fail(
			    CTL_EXIT_FAILED, OP,
			    "%s would hide the vendor drop-in %s of the same name; choose another --name",
			    path, vendor_path);
	}

	n = snprintf(text, sizeof(text), "# Written by latchkeyctl policy assign; see latchkey.conf(5).\n");
	r = lk_cache_policy_format(&p, text + n, sizeof(text) - (size_t)n);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "cannot write the policy: %s", strerror(-r));
	n += r;
	r = check_against(&c, path, text, (size_t)n);
	if (r != 0)
		return r;
	if (lstat(path, &st) == 0)
		return ctl_fail(CTL_EXIT_FAILED, OP,
		                "%s already exists; choose another --name, or remove it first", path);

	/* Like encrypt: a symlink anywhere must be seen, and confirmed, by
	 * the administrator; openat2 below then refuses any that appears. */
	real = realpath(dir, NULL);
	if (real && strcmp(real, dir) != 0) {
		fprintf(stderr,
		        "latchkeyctl: " OP
		        ": %s is not a canonical path (symbolic link);\nits real path is: ",
		        dir);
		text_print_escaped(stderr, real);
		fputs("\nRun again with the real path if that is the directory you mean.\n", stderr);
		return CTL_EXIT_USAGE;
	}
	r = open_root(dir, &root_fd);
	if (r != 0)
		return r;
	r = probe(root_fd, &p);
	if (r != 0)
		return r;

	pd_fd = cache_policy_open_dropin_dir(OP, dirs.etc, true);
	if (pd_fd < 0)
		return -pd_fd;
	/* Again on the fd: the atomic write would replace a file made since. */
	if (fstatat(pd_fd, fname, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return ctl_fail(CTL_EXIT_FAILED, OP,
		                "%s already exists; choose another --name, or remove it first", path);
	r = lk_write_file_atomic_at(pd_fd, fname, text, (size_t)n, 0644);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, OP, "cannot write %s: %s", path, strerror(-r));

	switch (cache_policy_reload(ctl, OP, &code)) {
	case POLICY_RELOADED:
		break;
	case POLICY_UNREACHABLE:
		daemon = "not running";
		break;
	case POLICY_NO_ANSWER:
		fprintf(stderr, "latchkeyctl: " OP ": %s stays; check latchkeyd's log\n", path);
		return code;
	case POLICY_REFUSED:
		/* latchkeyd keeps its old configuration; so must the disk. */
		r = lk_unlink_durable_at(pd_fd, fname);
		if (r < 0)
			fprintf(stderr,
			        "latchkeyctl: " OP ": cannot remove %s again: %s; remove it yourself\n", path,
			        strerror(-r));
		else
			fprintf(stderr,
			        "latchkeyctl: " OP
			        ": latchkeyd refused the new configuration; %s removed again\n",
			        path);
		return code;
	}

	if (ctl->json) {
		struct json_object *doc = json_object_new_object();

		json_object_object_add(doc, "policy",
		                       cache_policy_to_json(&c.cache_policies[c.n_cache_policies - 1]));
		json_out_add_string(doc, "file", path);
		json_out_add_string(doc, "daemon", daemon);
		(void)json_out_print(doc);
	} else {
		printf("Assigned policy %s: every user gets a directory ", p.name);
		text_print_escaped(stdout, p.root);
		printf("/%s (mode %04o, %s/%s, padding %u), kept in ", p.subdir, (unsigned)p.mode,
		       lk_fscrypt_mode_name(p.contents_mode), lk_fscrypt_mode_name(p.filenames_mode),
		       4u << (p.flags & FSCRYPT_POLICY_FLAGS_PAD_MASK));
		text_print_escaped(stdout, path);
		if (strcmp(daemon, "reloaded") == 0)
			puts(".\nIt applies at each user's next login, and now for users logged in.");
		else
			puts(".\nlatchkeyd is not running: it applies from when latchkeyd starts.");
	}
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
