/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl tpm bind|unbind|reseal USER: add, remove or reseal USER's TPM2 slot. The
 * login passphrase is derived here (Argon2id, as at login) and only W goes
 * to latchkeyd, which does all the TPM work; this program never loads the
 * TSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"
#include "pcr_prediction.h"
#include "secret.h"
#include "wire.h"

static void tpm_help(void)
{
	printf("Usage: latchkeyctl tpm bind USER [--passphrase-stdin]\n"
	       "       latchkeyctl tpm unbind USER [--passphrase-stdin]\n"
	       "       latchkeyctl tpm reseal USER [--predict FILE] [--passphrase-stdin]\n"
	       "\n"
	       "bind    seal a new slot of USER's protector key to this machine's TPM2 (PCR policy\n"
	       "        tpm_pcrs of latchkey.conf, default sha256:7, and an auth value derived\n"
	       "        from the login passphrase). With tpm = required the password-only login\n"
	       "        slot is removed, so a stolen disk allows no offline guessing; with\n"
	       "        tpm = preferred it stays as the fallback. Refused while tpm = off, and\n"
	       "        until USER has a recovery code or an escrow slot.\n"
	       "unbind  remove the TPM2 slot, keeping a password-only login slot.\n"
	       "reseal  seal the TPM2 slot anew to the current PCR values; with --predict,\n"
	       "        to the current values OR those in FILE (PolicyOR), before a planned\n"
	       "        firmware or boot change, so that the first boot after it opens the\n"
	       "        slot. FILE: \"BANK:N=HEX\" lines for every PCR of tpm_pcrs (or the\n"
	       "        output of tpm2_pcrread); '#' starts a comment.\n"
	       "\n"
	       "All three ask for USER's login passphrase (terminal, or one line of stdin\n"
	       "with --passphrase-stdin). Root only.\n"
	       "\n"
	       "Options:\n"
	       "  --predict FILE      (reseal) also accept the PCR values in FILE\n"
	       "  --passphrase-stdin  read USER's passphrase from stdin\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "Exit status 5: wrong passphrase.\n");
}

#define PREDICTION_FILE_MAX (64 * 1024)

static int read_prediction(const char *path, struct lk_pcr_prediction *ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = malloc(PREDICTION_FILE_MAX);
	char why[256];
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return ctl_fail(CTL_EXIT_FAILED, "tpm reseal", "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ctl_fail(CTL_EXIT_FAILED, "tpm reseal", "cannot open %s: %s", path, strerror(errno));
	while ((n = read(fd, buf + len, PREDICTION_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		return ctl_fail(CTL_EXIT_FAILED, "tpm reseal", "cannot read %s: %s", path, strerror(errno));
	if (len == PREDICTION_FILE_MAX)
		return ctl_fail(CTL_EXIT_FAILED, "tpm reseal", "%s: larger than %d bytes", path,
		                PREDICTION_FILE_MAX);
	if (pcr_prediction_parse(buf, len, ret, why, sizeof(why)) < 0)
		return ctl_fail(CTL_EXIT_USAGE, "tpm reseal", "%s: %s", path, why);
	return 0;
}

int cmd_tpm(struct ctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
	    {"passphrase-stdin", no_argument, NULL, 's'},
	    {"predict", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_pcr_prediction pcr;
	bool from_stdin = false;
	const char *verb, *user, *op, *predict = NULL;
	uint16_t type;
	uid_t uid;
	int c, r;

	if (argc < 2)
		return ctl_usage_error("tpm", "expected bind, unbind or reseal");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		tpm_help();
		return CTL_EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "bind") == 0) {
		type = LK_REQ_TPM_BIND;
		op = "tpm bind";
	} else if (strcmp(verb, "unbind") == 0) {
		type = LK_REQ_TPM_UNBIND;
		op = "tpm unbind";
	} else if (strcmp(verb, "reseal") == 0) {
		type = LK_REQ_TPM_RESEAL;
		op = "tpm reseal";
	} else
		return ctl_usage_error("tpm", "unknown subcommand '%s'; expected bind, unbind or reseal",
		                       verb);
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
		else if (c == 'p' && type == LK_REQ_TPM_RESEAL)
			predict = optarg;
		else if (c == 'p')
			return ctl_usage_error("tpm", "--predict is for 'tpm reseal'");
		else
			return ctl_usage_error("tpm", "invalid option");
	}
	if (argc - optind != 1)
		return ctl_usage_error("tpm", "expected exactly one USER");
	user = argv[optind];
	r = ctl_require_root_user(op, user, &uid);
	if (r != 0)
		return r;
	/* The file before the passphrase: a typo in it costs no Argon2id run. */
	if (predict) {
		r = read_prediction(predict, &pcr);
		if (r != 0)
			return r;
	}
	r = ctl_derive_for_user(ctl, op, uid, user, from_stdin, &w);
	if (r != 0)
		return r;
	r = ctl_msgs_new(&req, &rep, type, uid);
	if (r != 0)
		return r;
	lk_msg_set_key(req, w.ptr);
	if (predict)
		lk_msg_set_pcr(req, &pcr);
	r = ctl_request(ctl, op, req, rep);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_OK) {
		if (lk_msg_status(rep) == LK_E_BAD_KEY)
			return ctl_fail(CTL_EXIT_AUTH, op, "wrong passphrase for %s; nothing was changed",
			                user);
		return ctl_reply_error(op, rep);
	}
	if (type == LK_REQ_TPM_BIND)
		printf("%s's protector key is now sealed to this machine's TPM.\n", user);
	else if (type == LK_REQ_TPM_UNBIND)
		printf("%s's TPM2 slot was removed; the login passphrase alone opens the protector.\n", user);
	else if (predict)
		printf("%s's TPM2 slot opens with the current PCR values and with those in %s; after the "
		       "change, "
		       "'latchkeyctl tpm reseal %s' drops the old ones.\n",
		       user, predict, user);
	else
		printf("%s's TPM2 slot is sealed to the current PCR values.\n", user);
	return CTL_EXIT_OK;
}
