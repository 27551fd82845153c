/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl tpm bind|unbind USER: add or remove USER's TPM2 slot. The
 * login passphrase is derived here (Argon2id, as at login) and only W goes
 * to latchkeyd, which does all the TPM work; this program never loads the
 * TSS.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "secret.h"
#include "wire.h"

static void tpm_help(void)
{
	printf("Usage: latchkeyctl tpm bind USER [--passphrase-stdin]\n"
	       "       latchkeyctl tpm unbind USER [--passphrase-stdin]\n"
	       "\n"
	       "bind    seal a new slot of USER's protector key to this machine's TPM2 (PCR policy\n"
	       "        tpm_pcrs of latchkey.conf, default sha256:7, and an auth value derived\n"
	       "        from the login passphrase). With tpm = required the password-only login\n"
	       "        slot is removed, so a stolen disk allows no offline guessing; with\n"
	       "        tpm = preferred it stays as the fallback. Refused while tpm = off, and\n"
	       "        until USER has a recovery code or an escrow slot.\n"
	       "unbind  remove the TPM2 slot, keeping a password-only login slot.\n"
	       "\n"
	       "Both ask for USER's login passphrase (terminal, or one line of stdin with\n"
	       "--passphrase-stdin). Root only.\n"
	       "\n"
	       "Exit status 5: wrong passphrase.\n");
}

int cmd_tpm(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"passphrase-stdin", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	struct lk_secret w _cleanup_secret_ = {};
	bool from_stdin = false, bind;
	const char *verb, *user, *op;
	uid_t uid;
	int c, r;

	if (argc < 2)
		return ctl_usage_error("tpm", "expected bind or unbind");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		tpm_help();
		return CTL_EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "bind") != 0 && strcmp(verb, "unbind") != 0)
		return ctl_usage_error("tpm", "unknown subcommand '%s'; expected 'bind' or 'unbind'", verb);
	bind = strcmp(verb, "bind") == 0;
	op = bind ? "tpm bind" : "tpm unbind";
	/* getopt sees the subcommand as argv[0]. */
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			tpm_help();
			return CTL_EXIT_OK;
		}
		if (c == 's')
			from_stdin = true;
		else
			return ctl_usage_error("tpm", "invalid option");
	}
	if (argc - optind != 1)
		return ctl_usage_error("tpm", "expected exactly one USER");
	user = argv[optind];
	r = ctl_require_root_user(op, user, &uid);
	if (r != 0)
		return r;
	r = ctl_derive_for_user(ctl, op, uid, user, from_stdin, &w);
	if (r != 0)
		return r;
	r = ctl_msgs_new(&req, &rep, bind ? LK_REQ_TPM_BIND : LK_REQ_TPM_UNBIND, uid);
	if (r != 0)
		return r;
	lk_msg_set_key(req, w.ptr);
	r = ctl_request(ctl, op, req, rep);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_OK) {
		if (lk_msg_status(rep) == LK_E_BAD_KEY)
			return ctl_fail(CTL_EXIT_AUTH, op, "wrong passphrase for %s; nothing was changed", user);
		return ctl_reply_error(op, rep);
	}
	printf(bind ? "%s's protector key is now sealed to this machine's TPM.\n"
		    : "%s's TPM2 slot was removed; the login passphrase alone opens the protector.\n",
	       user);
	return CTL_EXIT_OK;
}
