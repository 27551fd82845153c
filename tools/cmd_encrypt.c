/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl encrypt: ask latchkeyd to put a v2 (or, on request, a legacy
 * v1) policy on an empty directory. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "json_out.h"
#include "output.h"
#include "secret.h"

static void encrypt_help(void)
{
	printf("Usage: latchkeyctl encrypt DIR --user USER [--v1] [--passphrase-stdin] [--json]\n"
	       "\n"
	       "Encrypt the empty directory DIR with a new key that USER's passphrase unlocks.\n"
	       "DIR must be an absolute path without symbolic links. If latchkeyd does not\n"
	       "hold USER's key at the moment, USER's passphrase is asked for once.\n"
	       "Must be run as root.\n"
	       "\n"
	       "Options:\n"
	       "  -u, --user USER     the user who will own and unlock DIR (required)\n"
	       "  --v1                legacy v1 policy, key in USER's keyring (for kernels\n"
	       "                      before 5.4 only; weaker, see latchkeyctl(8))\n"
	       "  --passphrase-stdin  read USER's passphrase from standard input\n"
	       "  --json              print the result as JSON\n"
	       "  -h, --help          show this help\n");
}

int cmd_encrypt(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_STDIN = 0x100, OPT_JSON, OPT_V1 };
	static const struct option options[] = {
	    {"user", required_argument, NULL, 'u'},
	    {"v1", no_argument, NULL, OPT_V1},
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	_cleanup_free_ char *real = NULL;
	_cleanup_free_ char *given = NULL;
	const char *user = NULL;
	bool from_stdin = false, v1 = false;
	char key_id[2 * LK_KEY_ID_SIZE + 1];
	size_t n;
	uid_t uid;
	int c, r;

	while ((c = getopt_long(argc, argv, "hu:", options, NULL)) != -1) {
		switch (c) {
		case 'u':
			user = optarg;
			break;
		case OPT_STDIN:
			from_stdin = true;
			break;
		case OPT_V1:
			v1 = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			encrypt_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("encrypt", "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("encrypt", "expected exactly one DIR");
	if (!user)
		return ctl_usage_error("encrypt", "--user USER is required");
	if (argv[optind][0] != '/')
		return ctl_usage_error("encrypt", "DIR must be an absolute path");

	r = ctl_require_root_user("encrypt", user, &uid);
	if (r != 0)
		return r;

	/* The daemon works on the exact path it is given; an administrator
	 * who named a symlink must see, and confirm, where it really leads. */
	given = strdup(argv[optind]);
	if (!given)
		return ctl_fail(CTL_EXIT_FAILED, "encrypt", "out of memory");
	n = strlen(given);
	while (n > 1 && given[n - 1] == '/')
		given[--n] = '\0';
	real = realpath(given, NULL);
	if (!real)
		return ctl_fail(CTL_EXIT_FAILED, "encrypt", "%s: %s", argv[optind], strerror(errno));
	if (strcmp(real, given) != 0) {
		fprintf(stderr,
		        "latchkeyctl: encrypt: %s is not a canonical path (symbolic link, '.' or '..');\n"
		        "its real path is: ",
		        argv[optind]);
		text_print_escaped(stderr, real);
		fputs("\nRun again with the real path if that is the directory you mean.\n", stderr);
		return CTL_EXIT_USAGE;
	}

	r = ctl_msgs_new(&req, &rep, LK_REQ_ENCRYPT, uid);
	if (r != 0)
		return r;
	if (lk_msg_set_path(req, real) < 0)
		return ctl_usage_error("encrypt", "DIR is longer than %d bytes", LK_PATH_MAX);
	if (v1)
		lk_msg_set_flags(req, LK_EF_V1);

	r = ctl_request(ctl, "encrypt", req, rep);
	if (r != 0)
		return r;

	if (lk_msg_is_error(rep, LK_E_NEED_PASSPHRASE)) {
		r = ctl_derive_for_user(ctl, "encrypt", uid, user, from_stdin, &w);
		if (r != 0)
			return r;
		lk_msg_init(req, LK_REQ_ENCRYPT, 2);
		lk_msg_set_uid(req, uid);
		(void)lk_msg_set_path(req, real); /* fitted above */
		if (v1)
			lk_msg_set_flags(req, LK_EF_V1);
		lk_msg_set_key(req, w.ptr);
		lk_secret_release(&w);

		lk_msg_wipe(rep);
		r = ctl_request(ctl, "encrypt", req, rep);
		lk_msg_wipe(req);
		if (r != 0)
			return r;
	}

	if (rep->type != LK_REP_ENCRYPT_RESULT || !lk_msg_has(rep, LK_T_KEY_ID))
		return ctl_reply_error("encrypt", rep);

	hex_format(rep->key_id, LK_KEY_ID_SIZE, key_id);
	if (ctl->json) {
		struct json_object *doc = json_out_user(user, uid);

		json_out_add_string(doc, "path", lk_msg_has(rep, LK_T_PATH) ? rep->path : real);
		json_out_add_string(doc, "key_id", key_id);
		/* v1: the descriptor, as keyctl and xfs_io name it */
		if (v1) {
			json_out_add_uint(doc, "policy_version", 1);
			json_object_object_add(doc, "descriptor", json_object_new_string_len(key_id, 16));
		}
		(void)json_out_print(doc);
	} else {
		fputs("Encrypted ", stdout);
		text_print_escaped(stdout, lk_msg_has(rep, LK_T_PATH) ? rep->path : real);
		if (v1)
			printf(" for %s with a legacy v1 policy.\n"
			       "Key descriptor: %.16s (logon key fscrypt:%.16s)\n",
			       user, key_id, key_id);
		else
			printf(" for %s.\nKey identifier: %s\n", user, key_id);
	}
	return CTL_EXIT_OK;
}
