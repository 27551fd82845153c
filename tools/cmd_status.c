/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl status: list policies with their key state. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "ctl.h"
#include "output.h"
#include "status_home.h"

static void status_help(void)
{
	printf("Usage: latchkeyctl status [USER|DIR] [--json]\n"
	       "\n"
	       "Show encrypted directories, their key identifiers and whether they are\n"
	       "unlocked. With USER, only that user's; with DIR (an absolute path), only the\n"
	       "directory containing it. Without an argument root sees all users and\n"
	       "everybody else their own.\n"
	       "\n"
	       "States: unlocked, locked, incompletely-locked (files still in use),\n"
	       "unavailable (directory missing), unknown.\n"
	       "\n"
	       "Options:\n"
	       "  --json      print "
	       "{\"policies\":[{\"user\",\"uid\",\"path\",\"key_id\",\"state\",\"sessions\"}]}\n"
	       "              (with USER, \"home_not_encrypted\":PATH when USER's home is plain)\n"
	       "  -h, --help  show this help\n");
}

/* DIR is inside (or is) the policy root at path. */
static bool path_covers(const char *root, const char *dir)
{
	size_t n = strlen(root);

	if (strncmp(root, dir, n) != 0)
		return false;
	return dir[n] == '\0' || dir[n] == '/' || (n == 1 && root[0] == '/');
}

static void print_entry(const struct ctl *ctl, const struct lk_msg *e, bool first)
{
	char key_id[2 * LK_KEY_ID_SIZE + 1];
	char uidbuf[16];
	const char *user;
	struct passwd *pw;

	hex_format(e->key_id, LK_KEY_ID_SIZE, key_id);
	pw = getpwuid(e->uid);
	snprintf(uidbuf, sizeof(uidbuf), "%u", e->uid);
	user = pw ? pw->pw_name : uidbuf;

	if (ctl->json) {
		fputs(first ? "" : ",", stdout);
		fputs("{\"user\":", stdout);
		if (pw)
			json_print_string(stdout, user);
		else
			fputs("null", stdout);
		printf(",\"uid\":%u,\"path\":", e->uid);
		json_print_string(stdout, e->path);
		printf(",\"key_id\":\"%s\",\"state\":\"%s\",\"sessions\":", key_id,
		       lk_key_state_to_string(e->state));
		if (lk_msg_has(e, LK_T_COUNT))
			printf("%u}", e->count);
		else
			fputs("null}", stdout);
	} else {
		printf("%-12s ", user);
		text_print_escaped(stdout, e->path);
		printf(" %s %s ", key_id, lk_key_state_to_string(e->state));
		if (lk_msg_has(e, LK_T_COUNT))
			printf("%u\n", e->count);
		else
			puts("-");
	}
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *dir = NULL;
	uint32_t uid = LK_UID_NONE;
	unsigned shown = 0, received = 0;
	char home[4096], name[256];
	bool plain_home;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			status_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("status", "invalid option");
		}
	}
	if (argc - optind > 1)
		return ctl_usage_error("status", "expected at most one USER or DIR");

	if (argc - optind == 1 && argv[optind][0] == '/') {
		/* Policies are listed by real path; compare like with like. */
		dir = realpath(argv[optind], NULL);
		if (!dir)
			return ctl_fail(CTL_EXIT_FAILED, "status", "%s: %s", argv[optind], strerror(errno));
	} else if (argc - optind == 1) {
		uid_t u;
		r = ctl_resolve_user("status", argv[optind], &u);
		if (r != 0)
			return r;
		uid = u;
	} else if (geteuid() != 0) {
		uid = geteuid();
	}

	req = ctl_msg_new();
	rep = ctl_msg_new();
	if (!req || !rep)
		return CTL_EXIT_FAILED;
	lk_msg_init(req, LK_REQ_STATUS, 1);
	if (uid != LK_UID_NONE)
		lk_msg_set_uid(req, uid);

	fd = ctl_connect(ctl, "status");
	if (fd < 0)
		return -fd;
	r = lk_client_call(fd, req, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);

	if (ctl->json)
		fputs("{\"policies\":[", stdout);
	else if (r == 0 && rep->type == LK_REP_STATUS_ENTRY)
		printf("%-12s %s %-32s %s %s\n", "USER", "PATH", "KEY-ID", "STATE", "SESSIONS");

	while (r == 0 && rep->type == LK_REP_STATUS_ENTRY) {
		if (rep->seq != req->seq) {
			r = -EBADMSG;
			break;
		}
		received++;
		if (!dir || path_covers(rep->path, dir))
			print_entry(ctl, rep, shown++ == 0);
		r = lk_client_recv(fd, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
	}
	plain_home = uid != LK_UID_NONE && !dir && status_plain_home(uid, home, sizeof(home), name, sizeof(name));
	if (ctl->json) {
		fputs("]", stdout);
		if (plain_home) {
			fputs(",\"home_not_encrypted\":", stdout);
			json_print_string(stdout, home);
		}
		fputs("}\n", stdout);
	} else if (plain_home) {
		text_print_escaped(stdout, home);
		fputs(": not encrypted: run latchkeyctl migrate ", stdout);
		text_print_escaped(stdout, home);
		fputs(" --user ", stdout);
		text_print_escaped(stdout, name);
		fputc('\n', stdout);
	}
	fflush(stdout);

	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, "status", "no valid reply from latchkeyd: %s", strerror(-r));
	if (rep->type != LK_REP_STATUS_END)
		return ctl_reply_error("status", rep);
	/* A short list must not pass for a complete one. */
	if (!lk_msg_has(rep, LK_T_COUNT) || rep->count != received)
		return ctl_fail(CTL_EXIT_FAILED, "status", "latchkeyd announced %u entries but sent %u",
		                rep->count, received);
	if (!ctl->json && shown == 0 && !plain_home)
		fputs(dir ? "No encrypted directory contains this path.\n" : "No encrypted directories.\n",
		      stdout);
	return CTL_EXIT_OK;
}
