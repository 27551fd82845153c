/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl rotate USER: a new protector key P for USER. Every wrapped
 * policy key is resealed under it and the protector file gets a new login
 * slot (the same passphrase, fresh salt) and, where escrow is enabled, a new
 * escrow slot; the recovery code is retired. Afterwards no secret that opened
 * an older protector file opens the wrapped keys as they are on disk.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "output.h"
#include "slots.h"

static void rotate_help(void)
{
	printf("Usage: latchkeyctl rotate USER [--passphrase-stdin] [--json]\n"
	       "\n"
	       "Give USER a new protector key and reseal every wrapped directory key under\n"
	       "it (root). Needs USER's login passphrase (terminal, or one line of stdin with\n"
	       "--passphrase-stdin), which stays the same. The recovery code is retired (make\n"
	       "a new one with 'latchkeyctl recovery create USER'); the escrow slot is resealed\n"
	       "when escrow.pub is installed.\n"
	       "\n"
	       "What it ends: a used escrow answer, an old passphrase or a retired recovery\n"
	       "code, together with an old copy of the protector file, opens nothing in the\n"
	       "wrapped keys as they are on disk afterwards. What it cannot end: the directory\n"
	       "keys themselves stay the same (fscrypt cannot re-key a directory in place), so\n"
	       "an old copy of the disk (protector file and xattrs) still gives them, and with\n"
	       "them every file as it was then and since. Only copying the data into a newly\n"
	       "encrypted directory (a new key) ends that.\n"
	       "'escrow recover' and 'recovery reset' rotate by themselves.\n"
	       "\n"
	       "Options:\n"
	       "  --passphrase-stdin  read USER's passphrase from stdin\n"
	       "  --json              print {\"user\",\"uid\",\"rotated\"} on stdout\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "Exit status 5: wrong passphrase.\n");
}

int cmd_rotate(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "rotate";
	static const struct option options[] = {
	    {"passphrase-stdin", no_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passphrase pw _cleanup_passphrase_ = {};
	struct lk_secret w_old _cleanup_secret_ = {};
	struct lk_secret w_new _cleanup_secret_ = {};
	struct lk_kdf_params kdf_old, kdf_new;
	bool from_stdin = false;
	char prompt[128], bad[160];
	const char *user;
	uid_t uid;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (c == 'h') {
			rotate_help();
			return CTL_EXIT_OK;
		}
		if (c == 's')
			from_stdin = true;
		else if (c == 'j')
			ctl->json = true;
		else
			return ctl_usage_error("rotate", "invalid option");
	}
	if (argc - optind != 1)
		return ctl_usage_error("rotate", "expected exactly one USER");
	user = argv[optind];
	r = ctl_require_root_user(op, user, &uid);
	if (r != 0)
		return r;

	/* Both derivations of the one passphrase: the current slot's, which
	 * opens P, and fresh parameters for the new slot. */
	r = ctl_kdf_params(ctl, op, uid, LK_KDF_F_KIND(LK_SLOT_LOGIN), &kdf_old);
	if (r == 0)
		r = ctl_kdf_params(ctl, op, uid, LK_KDF_F_FRESH | LK_KDF_F_KIND(LK_SLOT_LOGIN), &kdf_new);
	if (r != 0)
		return r;
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", user);
	r = ctl_read_passphrase(op, prompt, false, from_stdin, &pw);
	if (r != 0)
		return r;
	r = ctl_derive(op, &kdf_old, pw.buf.ptr, pw.len, &w_old);
	if (r == 0)
		r = ctl_derive(op, &kdf_new, pw.buf.ptr, pw.len, &w_new);
	passphrase_release(&pw);
	if (r != 0)
		return r;
	snprintf(bad, sizeof(bad), "wrong passphrase for %s; nothing was changed", user);
	r = ctl_rotate(ctl, op, uid, user, LK_SLOT_LOGIN, w_old.ptr, w_new.ptr, &kdf_new, bad);
	if (r != 0)
		return r;
	if (ctl->json)
		json_out_print_user_result(user, uid, "rotated");
	return CTL_EXIT_OK;
}
