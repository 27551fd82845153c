/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl recovery create|reset: a second protector slot of P, opened by
 * a code printed once (lib/recovery_code.h), and a passphrase reset with it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_out.h"
#include "output.h"
#include "recovery_code.h"
#include "slots.h"

static void recovery_help(void)
{
	printf("Usage: latchkeyctl recovery create USER [--passphrase-stdin] [--json]\n"
	       "       latchkeyctl recovery reset USER [--json]\n"
	       "\n"
	       "A recovery code is a second way to open USER's key: 30 characters printed\n"
	       "once, to be stored offline. With it, root can set a new passphrase for USER\n"
	       "without the old one. Must be run as root.\n"
	       "\n"
	       "create  make a new code (replacing any older one) and print it on stdout,\n"
	       "        alone on its line. If USER has no live session, USER's passphrase\n"
	       "        is needed (terminal, or one line of stdin with --passphrase-stdin).\n"
	       "reset   read the code (stdin line 1) and the new passphrase (asked twice on\n"
	       "        a terminal, else stdin line 2), and make that USER's passphrase.\n"
	       "        Then USER's protector key is rotated (see 'latchkeyctl rotate'): the\n"
	       "        code is retired and opens nothing on disk; make a new one.\n"
	       "\n"
	       "Options:\n"
	       "  --passphrase-stdin  create: read USER's passphrase from stdin\n"
	       "  --json              create: print {\"user\",\"uid\",\"code\"};\n"
	       "                      reset: print {\"user\",\"uid\",\"reset\"}\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "Exit status 5: wrong passphrase (create) or wrong recovery code (reset).\n");
}

/* Options of both subcommands: one USER, --json, and for create
 * --passphrase-stdin. 0 to go on, or the exit status to return: a
 * failure's, or CTL_EXIT_OK after --help (*ret_done). */
static int parse(struct ctl *ctl, const char *op, bool is_create, int argc, char **argv,
                 const char **ret_user, uid_t *ret_uid, bool *ret_stdin, bool *ret_done)
{
	enum { OPT_STDIN = 0x100, OPT_JSON };
	static const struct option create_options[] = {
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	/* reset takes no passphrase option: it reads the code and the new
	 * passphrase from stdin unless stdin is a terminal. */
	const struct option *options = is_create ? create_options : create_options + 1;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_STDIN:
			*ret_stdin = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			recovery_help();
			*ret_done = true;
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("recovery", "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("recovery", "expected exactly one USER");
	*ret_user = argv[optind];
	return ctl_require_root_user(op, *ret_user, ret_uid);
}

/* The code, once, on stdout; straight from secret memory (no stdio copy). */
static int print_code(const struct ctl *ctl, const char *user, uid_t uid, const char *code)
{
	int r;

	if (ctl->json) {
		/* The code goes straight from locked memory to the fd, never
		 * into json-c's heap: json-c prints the document up to it. */
		_cleanup_json_ struct json_object *o = json_out_user(user, uid);
		const char *head = o ? json_object_to_json_string_ext(o, JSON_OUT_FLAGS) : NULL;

		if (!head)
			return ctl_fail(CTL_EXIT_FAILED, "recovery create", "out of memory");
		/* head is {"user":...,"uid":N}: drop its '}' to go on */
		printf("%.*s,\"code\":\"", (int)strlen(head) - 1, head);
		r = ctl_write_secret(STDOUT_FILENO, code, strlen(code));
		if (r == 0 && (fputs("\"}\n", stdout) == EOF || fflush(stdout) == EOF))
			r = -EIO;
	} else {
		fprintf(stderr,
		        "Recovery code for %s, shown only this once. Write it down and keep it offline\n"
		        "(not on this machine): whoever has it can set a new passphrase for %s.\n",
		        user, user);
		r = ctl_write_secret(STDOUT_FILENO, code, strlen(code));
		if (r == 0)
			r = ctl_write_secret(STDOUT_FILENO, "\n", 1);
	}
	return r;
}

static int recovery_create(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "recovery create";
	struct lk_secret code _cleanup_secret_ = {};
	struct lk_secret canon _cleanup_secret_ = {};
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_kdf_params kdf;
	bool from_stdin = false, done = false;
	const char *user;
	uid_t uid;
	int r;

	r = parse(ctl, op, true, argc, argv, &user, &uid, &from_stdin, &done);
	if (r != 0 || done)
		return r;

	r = ctl_kdf_params(ctl, op, uid, LK_KDF_F_FRESH | LK_KDF_F_KIND(LK_SLOT_RECOVERY), &kdf);
	if (r != 0)
		return r;

	if (lk_secret_new(&code, LK_RECOVERY_CODE_PRINTED + 1) < 0 ||
	    lk_secret_new(&canon, LK_RECOVERY_CODE_SYMBOLS + 1) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory");
	r = lk_recovery_code_generate(code.ptr);
	if (r == 0)
		r = lk_recovery_code_normalise(code.ptr, LK_RECOVERY_CODE_PRINTED, canon.ptr, NULL);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot make a recovery code: %s", strerror(-r));

	fputs("Deriving the recovery key (Argon2id)...\n", stderr);
	r = ctl_derive(op, &kdf, canon.ptr, LK_RECOVERY_CODE_SYMBOLS, &w);
	if (r != 0)
		return r;

	r = ctl_add_slot(ctl, op, uid, user, from_stdin, LK_SLOT_RECOVERY, w.ptr, &kdf);
	if (r != 0)
		return r;

	r = print_code(ctl, user, uid, code.ptr);
	if (r < 0)
		/* The new slot exists and any older code is retired; a code
		 * nobody saw is no use, so say how to get another. */
		return ctl_fail(
		    CTL_EXIT_FAILED, op,
		    "could not print the new code (%s); run 'latchkeyctl recovery create %s' again",
		    strerror(-r), user);
	return CTL_EXIT_OK;
}

static int code_error(const char *op, int r, size_t bad_pos)
{
	switch (r) {
	case -EMSGSIZE:
		return ctl_fail(
		    CTL_EXIT_AUTH, op,
		    "a recovery code has %d characters in groups of %d; this one has another number "
		    "(a group left out or typed twice?)",
		    LK_RECOVERY_CODE_SYMBOLS, LK_RECOVERY_CODE_GROUP);
	case -EILSEQ:
		return ctl_fail(CTL_EXIT_AUTH, op,
		                "character %zu of the recovery code is not used in codes "
		                "(they use 0-9 and A-Z without U)",
		                bad_pos);
	case -EBADMSG:
		return ctl_fail(CTL_EXIT_AUTH, op,
		                "the recovery code has a typo (its check characters do not match); "
		                "compare it group by group with the written copy");
	default:
		return ctl_fail(CTL_EXIT_FAILED, op, "%s", strerror(-r));
	}
}

static int recovery_reset(struct ctl *ctl, int argc, char **argv)
{
	static const char op[] = "recovery reset";
	struct passphrase line _cleanup_passphrase_ = {};
	struct lk_secret canon _cleanup_secret_ = {};
	struct lk_secret w_code _cleanup_secret_ = {};
	struct lk_secret w_new _cleanup_secret_ = {};
	struct lk_kdf_params kdf_code, kdf_new;
	char bad[200];
	bool unused = false, done = false;
	size_t bad_pos = 0;
	const char *user;
	uid_t uid;
	int r;

	r = parse(ctl, op, false, argc, argv, &user, &uid, &unused, &done);
	if (r != 0 || done)
		return r;

	/* The code first, and checked at once: a typo should not cost the
	 * admin a passphrase typed twice and two Argon2id runs. */
	r = ctl_read_secret_line(op, "Recovery code: ", "recovery code", &line);
	if (r != 0)
		return r;
	if (lk_secret_new(&canon, LK_RECOVERY_CODE_SYMBOLS + 1) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory");
	r = lk_recovery_code_normalise(line.buf.ptr, line.len, canon.ptr, &bad_pos);
	passphrase_release(&line);
	if (r < 0)
		return code_error(op, r, bad_pos);

	r = ctl_kdf_params(ctl, op, uid, LK_KDF_F_KIND(LK_SLOT_RECOVERY), &kdf_code);
	if (r != 0)
		return r;

	r = ctl_new_login_key(ctl, op, uid, user, &kdf_new, &w_new);
	if (r != 0)
		return r;
	fputs("Deriving the recovery key (Argon2id)...\n", stderr);
	r = ctl_derive(op, &kdf_code, canon.ptr, LK_RECOVERY_CODE_SYMBOLS, &w_code);
	if (r != 0)
		return r;
	lk_secret_release(&canon);

	/* The code is used up: a new P, every wrapped key resealed, the
	 * recovery slot retired, so neither the code nor an old copy of the
	 * protector file opens what the disk holds now. */
	snprintf(bad, sizeof(bad),
	         "wrong recovery code for %s (or one that a newer 'recovery create' replaced); nothing was "
	         "changed",
	         user);
	r = ctl_rotate(ctl, op, uid, user, LK_SLOT_RECOVERY, w_code.ptr, w_new.ptr, &kdf_new, bad);
	if (r != 0)
		return r;
	ctl_print_reset_done(ctl, user, uid, NULL);
	return CTL_EXIT_OK;
}

int cmd_recovery(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage_error("recovery", "expected 'create' or 'reset'");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		recovery_help();
		return CTL_EXIT_OK;
	}
	/* getopt sees the subcommand as argv[0]. */
	if (strcmp(argv[1], "create") == 0)
		return recovery_create(ctl, argc - 1, argv + 1);
	if (strcmp(argv[1], "reset") == 0)
		return recovery_reset(ctl, argc - 1, argv + 1);
	return ctl_usage_error("recovery", "unknown subcommand '%s'; expected 'create' or 'reset'", argv[1]);
}
