/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl lock / unlock. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "output.h"
#include "secret.h"

static void lock_help(void)
{
	printf("Usage: latchkeyctl lock USER [--json]\n"
	       "\n"
	       "Remove USER's keys from the kernel, locking their encrypted directories.\n"
	       "Files still open keep their directory incompletely locked; latchkeyd keeps\n"
	       "retrying and the exit status is 1. Root may lock anybody, others themselves.\n"
	       "\n"
	       "Options:\n"
	       "  --json      print {\"user\",\"uid\",\"locked\",\"busy\"}\n"
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
 * Returns -1 to go on, or the exit status to return right away. */
static int parse(struct ctl *ctl, int argc, char **argv, bool is_unlock, const char **ret_user,
                 uid_t *ret_uid, bool *ret_stdin)
{
	enum { OPT_STDIN = 0x100, OPT_JSON };
	static const struct option lock_options[] = {
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
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			if (is_unlock)
				unlock_help();
			else
				lock_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error(cmd, "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error(cmd, "expected exactly one USER");
	*ret_user = argv[optind];
	r = ctl_resolve_user(cmd, *ret_user, ret_uid);
	if (r != 0)
		return r;
	return -1;
}

static void print_result(const struct ctl *ctl, const char *user, uid_t uid, const char *key, uint32_t count,
                         bool busy)
{
	if (ctl->json) {
		fputs("{\"user\":", stdout);
		json_print_string(stdout, user);
		printf(",\"uid\":%u,\"%s\":%u", (unsigned)uid, key, count);
		if (busy)
			fputs(",\"busy\":true", stdout);
		else if (strcmp(key, "locked") == 0)
			fputs(",\"busy\":false", stdout);
		fputs("}\n", stdout);
	} else {
		printf("%s %u director%s of %s.\n", strcmp(key, "locked") == 0 ? "Locked" : "Unlocked", count,
		       count == 1 ? "y" : "ies", user);
	}
}

int cmd_lock(struct ctl *ctl, int argc, char **argv)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	const char *user = NULL;
	bool unused = false, busy;
	uint32_t status;
	uid_t uid;
	int r;

	r = parse(ctl, argc, argv, false, &user, &uid, &unused);
	if (r >= 0)
		return r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_LOCK, uid);
	if (r != 0)
		return r;
	r = ctl_request(ctl, "lock", req, rep);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_LOCK_RESULT)
		return ctl_reply_error("lock", rep);

	status = lk_msg_has(rep, LK_T_STATUS) ? rep->status : LK_E_PROTOCOL;
	busy = status == LK_E_BUSY || (lk_msg_has(rep, LK_T_FLAGS) && (rep->flags & LK_RF_BUSY));
	print_result(ctl, user, uid, "locked", rep->count, busy);
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
	if (lk_msg_has(rep, LK_T_FLAGS) && (rep->flags & LK_RF_SOME_FAILED))
		return ctl_fail(CTL_EXIT_FAILED, "lock", "some directories could not be locked");
	return CTL_EXIT_OK;
}

int cmd_unlock(struct ctl *ctl, int argc, char **argv)
{
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	const char *user = NULL;
	bool from_stdin = false;
	uint32_t status, flags;
	uid_t uid;
	int r;

	r = parse(ctl, argc, argv, true, &user, &uid, &from_stdin);
	if (r >= 0)
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
	if (rep->type == LK_REP_ERROR && lk_msg_has(rep, LK_T_STATUS) && rep->status == LK_E_BAD_KEY)
		return ctl_fail(CTL_EXIT_AUTH, "unlock", "wrong passphrase");
	if (rep->type != LK_REP_UNLOCK_RESULT)
		return ctl_reply_error("unlock", rep);

	status = lk_msg_has(rep, LK_T_STATUS) ? rep->status : LK_E_PROTOCOL;
	flags = lk_msg_has(rep, LK_T_FLAGS) ? rep->flags : 0;
	if (status == LK_E_BAD_KEY)
		return ctl_fail(CTL_EXIT_AUTH, "unlock", "wrong passphrase");
	print_result(ctl, user, uid, "unlocked", rep->count, false);
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
