/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl lock / unlock. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "listing.h"
#include "json_out.h"
#include "output.h"
#include "secret.h"

static void lock_help(void)
{
	printf("Usage: latchkeyctl lock USER|--all [--json]\n"
	       "\n"
	       "Remove USER's keys from the kernel, locking their encrypted directories,\n"
	       "wherever they are now (renamed, moved or deleted ones too). Files still open\n"
	       "keep their directory incompletely locked; latchkeyd keeps retrying and the\n"
	       "exit status is 1. Root may lock anybody, others themselves.\n"
	       "\n"
	       "Options:\n"
	       "  --all       lock every user latchkeyd knows (root)\n"
	       "  --json      print {\"user\",\"uid\",\"locked\",\"busy\",\"already_locked\"};\n"
	       "              with --all {\"schema_version\",\"users\":[...]}\n"
	       "  -h, --help  show this help\n");
}

static void unlock_help(void)
{
	printf("Usage: latchkeyctl unlock USER [--passphrase-stdin] [--json]\n"
	       "\n"
	       "Unlock USER's encrypted directories with USER's passphrase.\n"
	       "A wrong passphrase gives exit status 5.\n"
	       "\n"
	       "Options:\n"
	       "  --passphrase-stdin  read the passphrase from standard input (one line)\n"
	       "  --json              print {\"user\",\"uid\",\"unlocked\"}\n"
	       "  -h, --help          show this help\n");
}

/* Common option parsing: one USER, --json, --help, and for unlock
 * --passphrase-stdin; then USER is resolved to ret_uid.
 * Returns 0 to go on, or the exit status to return right away: a failure's,
 * or CTL_EXIT_OK after --help (*ret_done). */
static int parse(struct ctl *ctl, int argc, char **argv, bool is_unlock, const char **ret_user,
                 uid_t *ret_uid, bool *ret_stdin, bool *ret_all, bool *ret_done)
{
	enum { OPT_STDIN = 0x100, OPT_JSON, OPT_ALL };
	static const struct option lock_options[] = {
	    {"all", no_argument, NULL, OPT_ALL},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	static const struct option unlock_options[] = {
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *cmd = is_unlock ? "unlock" : "lock";
	int c, r;

	while ((c = getopt_long(argc, argv, "h", is_unlock ? unlock_options : lock_options, NULL)) != -1) {
		switch (c) {
		case OPT_STDIN:
			*ret_stdin = true;
			break;
		case OPT_ALL:
			*ret_all = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			if (is_unlock)
				unlock_help();
			else
				lock_help();
			*ret_done = true;
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error(cmd, "invalid option");
		}
	}
	if (ret_all && *ret_all) {
		if (argc - optind != 0)
			return ctl_usage_error(cmd, "--all takes no USER");
		return 0;
	}
	if (argc - optind != 1)
		return ctl_usage_error(cmd, is_unlock ? "expected exactly one USER"
		                                      : "expected exactly one USER, or --all");
	*ret_user = argv[optind];
	r = ctl_resolve_user(cmd, *ret_user, ret_uid);
	if (r != 0)
		return r;
	return 0;
}

static void print_result(const struct ctl *ctl, const char *user, uid_t uid, const char *key, uint32_t count,
                         bool busy, uint32_t flags, struct json_object *list)
{
	bool is_lock = strcmp(key, "locked") == 0;
	bool already = is_lock && (flags & LK_RF_ALREADY_LOCKED);

	if (ctl->json) {
		struct json_object *o = json_out_user(user, uid);

		json_out_add_uint(o, key, count);
		if (busy || is_lock)
			json_out_add_bool(o, "busy", busy);
		if (is_lock)
			json_out_add_bool(o, "already_locked", already);
		if (list)
			json_object_array_add(list, o);
		else
			(void)json_out_print(o);
	} else if (already) {
		printf("%s was already locked.\n", user);
	} else if (is_lock && (flags & LK_RF_NOTHING_TO_DO)) {
		printf("%s has no encrypted directories.\n", user);
	} else {
		printf("%s %u director%s of %s.\n", is_lock ? "Locked" : "Unlocked", count,
		       count == 1 ? "y" : "ies", user);
	}
	if (!ctl->json && (flags & LK_RF_GONE))
		printf("Some of %s's directories no longer exist; 'latchkeyctl status %s' lists them.\n",
		       user, user);
}

/* LOCK{uid}; prints the result, or with --json and a list, appends it
 * to that array. 0, or an exit code. */
static int lock_one(const struct ctl *ctl, const char *user, uid_t uid, struct json_object *list)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	uint32_t status, flags;
	bool busy;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_LOCK, uid);
	if (r != 0)
		return r;
	r = ctl_request_expect(ctl, "lock", req, rep, LK_REP_LOCK_RESULT);
	if (r != 0)
		return r;

	status = lk_msg_status(rep);
	flags = lk_msg_has(rep, LK_T_FLAGS) ? rep->flags : 0;
	busy = status == LK_E_BUSY || (flags & LK_RF_BUSY);
	print_result(ctl, user, uid, "locked", rep->count, busy, flags, list);
	if (busy) {
		fputs(
		    "latchkeyctl: lock: incompletely locked: files still in use; latchkeyd keeps retrying\n",
		    stderr);
		return CTL_EXIT_FAILED;
	}
	if (status != LK_OK) {
		fprintf(stderr, "latchkeyctl: lock: %s\n", lk_status_to_string(status));
		return ctl_status_to_exit(status);
	}
	if (flags & LK_RF_SOME_FAILED)
		return ctl_fail(CTL_EXIT_FAILED, "lock", "some directories could not be locked");
	return CTL_EXIT_OK;
}

/* lock --all: every user latchkeyd has state for; the worst exit status. */
static int lock_all(const struct ctl *ctl)
{
	_cleanup_free_ struct ctl_user *users = NULL;
	size_t n = 0;
	int r, worst = CTL_EXIT_OK;
	_cleanup_json_ struct json_object *list = ctl->json ? json_object_new_array() : NULL;

	r = ctl_require_root("lock");
	if (r != 0)
		return r;
	r = ctl_list_users(ctl, "lock", LK_UID_NONE, &users, &n);
	if (r != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char uidbuf[16];
		const char *name = users[i].account[0] ? users[i].account : uidbuf;

		snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)users[i].uid);
		r = lock_one(ctl, name, users[i].uid, list);
		if (r > worst)
			worst = r;
	}
	if (ctl->json) {
		struct json_object *doc = json_out_versioned();

		json_object_object_add(doc, "users", json_object_get(list));
		(void)json_out_print(doc);
	} else if (n == 0)
		puts("Nobody is enrolled.");
	return worst;
}

int cmd_lock(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL;
	bool unused = false, all = false, done = false;
	uid_t uid;
	int r;

	r = parse(ctl, argc, argv, false, &user, &uid, &unused, &all, &done);
	if (r != 0 || done)
		return r;
	if (all)
		return lock_all(ctl);
	return lock_one(ctl, user, uid, NULL);
}

int cmd_unlock(struct ctl *ctl, int argc, char **argv)
{
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	const char *user = NULL;
	bool from_stdin = false, done = false;
	uint32_t status, flags;
	uid_t uid;
	int r;

	r = parse(ctl, argc, argv, true, &user, &uid, &from_stdin, NULL, &done);
	if (r != 0 || done)
		return r;

	r = ctl_derive_for_user(ctl, "unlock", uid, user, from_stdin, &w);
	if (r != 0)
		return r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_UNLOCK, uid);
	if (r != 0)
		return r;
	lk_msg_set_key(req, w.ptr);
	lk_secret_release(&w);

	r = ctl_request(ctl, "unlock", req, rep);
	lk_msg_wipe(req);
	if (r != 0)
		return r;
	if (lk_msg_is_error(rep, LK_E_BAD_KEY))
		return ctl_fail(CTL_EXIT_AUTH, "unlock", "wrong passphrase");
	if (rep->type != LK_REP_UNLOCK_RESULT)
		return ctl_reply_error("unlock", rep);

	status = lk_msg_status(rep);
	flags = lk_msg_has(rep, LK_T_FLAGS) ? rep->flags : 0;
	if (status == LK_E_BAD_KEY)
		return ctl_fail(CTL_EXIT_AUTH, "unlock", "wrong passphrase");
	print_result(ctl, user, uid, "unlocked", rep->count, false, flags, NULL);
	if (status != LK_OK) {
		fprintf(stderr, "latchkeyctl: unlock: %s%s%s\n", lk_status_to_string(status),
		        lk_msg_has(rep, LK_T_TEXT) ? ": " : "", lk_msg_has(rep, LK_T_TEXT) ? rep->text : "");
		return ctl_status_to_exit(status);
	}
	if (flags & LK_RF_SOME_FAILED)
		return ctl_fail(CTL_EXIT_FAILED, "unlock", "some directories could not be unlocked");
	if ((flags & LK_RF_NOTHING_TO_DO) && !ctl->json)
		printf("%s has no encrypted directories.\n", user);
	return CTL_EXIT_OK;
}
