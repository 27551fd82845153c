/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl forget DIR, latchkeyctl unenroll USER: the end of a
 * directory's and of a user's life with latchkey. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"
#include "listing.h"
#include "names.h"
#include "json_out.h"
#include "output.h"

static void forget_help(void)
{
	printf("Usage: latchkeyctl forget DIR [--json]\n"
	       "\n"
	       "Lock the encrypted directory DIR (as listed by 'latchkeyctl status', which\n"
	       "says 'gone' for a deleted one) and drop it from its user's index, so that\n"
	       "latchkeyd no longer unlocks, locks or reports it. The directory and its files\n"
	       "are not touched. Must be run as root.\n"
	       "\n"
	       "Options:\n"
	       "  --json      print "
	       "{\"schema_version\",\"forgotten\":[{\"user\",\"uid\",\"path\",\"key_id\"}]}\n"
	       "  -h, --help  show this help\n");
}

static void unenroll_help(void)
{
	printf("Usage: latchkeyctl unenroll USER|--uid UID [--yes] [--json]\n"
	       "\n"
	       "Lock all of USER's encrypted directories, then delete USER's latchkey state:\n"
	       "the protector file with its login, recovery and escrow slots, and the index.\n"
	       "The directories stay, but nothing can unlock them any more: their files are\n"
	       "lost unless copied out first. Refused while USER is logged in. For an account\n"
	       "that was deleted (userdel), give its old name or --uid. Must be run as root;\n"
	       "asks for confirmation unless --yes.\n"
	       "\n"
	       "Options:\n"
	       "  --uid UID   the uid whose state to remove (its account may be gone)\n"
	       "  --yes       do not ask\n"
	       "  --json      print {\"schema_version\",\"user\",\"uid\",\"locked\"}\n"
	       "  -h, --help  show this help\n");
}

/* A DIR as status lists it: the real path of what exists, else as given
 * without trailing slashes. */
static char *normalise_dir(const char *arg)
{
	char *dir = realpath(arg, NULL);
	size_t n;

	if (dir)
		return dir;
	dir = strdup(arg);
	if (!dir)
		return NULL;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	return dir;
}

/* FORGET{uid, key_id}. 0, or an exit code after printing. */
static int forget_one(const struct ctl *ctl, const struct ctl_root *e)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_FORGET, e->uid);
	if (r != 0)
		return r;
	lk_msg_set_key_id(req, e->key_id);
	r = ctl_request_expect(ctl, "forget", req, rep, LK_REP_LOCK_RESULT);
	if (r != 0)
		return r;
	return 0;
}

int cmd_forget(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	_cleanup_free_ struct ctl_root *roots = NULL;
	_cleanup_free_ char *dir = NULL;
	_cleanup_json_ struct json_object *forgotten = json_object_new_array();
	size_t n = 0;
	unsigned done = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			forget_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("forget", "invalid option");
		}
	}
	if (argc - optind != 1 || argv[optind][0] != '/')
		return ctl_usage_error("forget", "expected one absolute DIR");
	r = ctl_require_root("forget");
	if (r != 0)
		return r;
	dir = normalise_dir(argv[optind]);
	if (!dir)
		return ctl_fail(CTL_EXIT_FAILED, "forget", "out of memory");
	r = ctl_list_roots(ctl, "forget", LK_UID_NONE, &roots, &n);
	if (r != 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		char key_id[2 * LK_KEY_ID_SIZE + 1];
		struct passwd *pw;

		if (strcmp(roots[i].path, dir) != 0)
			continue;
		r = forget_one(ctl, &roots[i]);
		if (r != 0)
			return r;
		hex_format(roots[i].key_id, LK_KEY_ID_SIZE, key_id);
		pw = getpwuid(roots[i].uid);
		if (ctl->json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "user", pw ? json_out_string(pw->pw_name) : NULL);
			json_out_add_uint(o, "uid", roots[i].uid);
			json_out_add_string(o, "path", roots[i].path);
			json_out_add_string(o, "key_id", key_id);
			json_object_array_add(forgotten, o);
		} else {
			fputs("Forgot ", stdout);
			text_print_escaped(stdout, roots[i].path);
			printf(" (uid %u, key %s): locked and dropped from the index.\n",
			       (unsigned)roots[i].uid, key_id);
		}
		done++;
	}
	if (done == 0) {
		fprintf(stderr, "latchkeyctl: forget: ");
		text_print_escaped(stderr, dir);
		fputs(" is not an encrypted directory latchkeyd knows ('latchkeyctl status' lists them)\n",
		      stderr);
		return ctl_fail(CTL_EXIT_FAILED, "forget", "no such directory in any index");
	}
	if (ctl->json) {
		struct json_object *doc = json_out_versioned();

		json_object_object_add(doc, "forgotten", json_object_get(forgotten));
		(void)json_out_print(doc);
	}
	return CTL_EXIT_OK;
}

/* The uid of USER: its account now, else a former account whose name the
 * state recorded. 0, or an exit code after printing. */
static int unenroll_target(const struct ctl *ctl, const char *user, uid_t *ret_uid)
{
	_cleanup_free_ struct ctl_user *users = NULL;
	struct passwd *pw;
	size_t n = 0;
	int r;

	pw = getpwnam(user);
	if (pw) {
		*ret_uid = pw->pw_uid;
		return 0;
	}
	r = ctl_list_users(ctl, "unenroll", LK_UID_NONE, &users, &n);
	if (r != 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strcmp(users[i].account, user) == 0) {
			*ret_uid = users[i].uid;
			return 0;
		}
	return ctl_fail(CTL_EXIT_FAILED, "unenroll",
	                "no account and no latchkey state of that name; give --uid UID");
}

/* yes/no on the terminal. */
static bool confirm(const char *user, uid_t uid)
{
	FILE *tty = fopen("/dev/tty", "r+e");
	char line[16];
	bool ok;

	if (!tty)
		return false;
	fprintf(tty,
	        "Remove all latchkey state of %s (uid %u)? Its encrypted directories stay, but nothing will\n"
	        "unlock them again: copy out what you need first. Type 'yes' to go on: ",
	        user, (unsigned)uid);
	fflush(tty);
	ok = fgets(line, sizeof(line), tty) && strcmp(line, "yes\n") == 0;
	fclose(tty);
	return ok;
}

int cmd_unenroll(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_UID = 0x100, OPT_YES, OPT_JSON };
	static const struct option options[] = {
	    {"uid", required_argument, NULL, OPT_UID},
	    {"yes", no_argument, NULL, OPT_YES},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	const char *user = NULL;
	char uidbuf[16];
	bool yes = false, have_uid = false;
	uid_t uid = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_UID:
			if (lk_parse_uid(optarg, &uid) < 0 || uid == 0)
				return ctl_usage_error("unenroll", "--uid needs a non-root uid");
			have_uid = true;
			break;
		case OPT_YES:
			yes = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			unenroll_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("unenroll", "invalid option");
		}
	}
	if (argc - optind != (have_uid ? 0 : 1))
		return ctl_usage_error("unenroll", "expected exactly one USER, or --uid UID");
	r = ctl_require_root("unenroll");
	if (r != 0)
		return r;
	if (!have_uid) {
		user = argv[optind];
		r = unenroll_target(ctl, user, &uid);
		if (r != 0)
			return r;
	} else {
		snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
		user = uidbuf;
	}
	if (!yes && !confirm(user, uid))
		return ctl_fail(CTL_EXIT_USAGE, "unenroll",
		                "not confirmed (give --yes when there is no terminal)");

	r = ctl_msgs_new(&req, &rep, LK_REQ_UNENROLL, uid);
	if (r != 0)
		return r;
	r = ctl_request_expect(ctl, "unenroll", req, rep, LK_REP_LOCK_RESULT);
	if (r != 0)
		return r;
	if (ctl->json) {
		struct json_object *doc = json_out_versioned();

		json_out_add_string(doc, "user", user);
		json_out_add_uint(doc, "uid", uid);
		json_out_add_uint(doc, "locked", rep->count);
		(void)json_out_print(doc);
	} else {
		printf("Unenrolled %s (uid %u): %u director%s locked; its login, recovery and escrow slots "
		       "and its\n"
		       "index are removed.\n",
		       user, (unsigned)uid, rep->count, rep->count == 1 ? "y" : "ies");
	}
	return CTL_EXIT_OK;
}
