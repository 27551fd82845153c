/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl enroll: choose Argon2id parameters, derive W, hand it to latchkeyd. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "ctl.h"
#include "kdf.h"
#include "names.h"
#include "output.h"
#include "passphrase.h"
#include "secret.h"

#define ENROLL_DEFAULT_MS 1000
#define ENROLL_MAX_MS     60000

static void enroll_help(void)
{
	printf("Usage: latchkeyctl enroll USER [--kdf-time MS] [--passphrase-stdin] [--json]\n"
	       "\n"
	       "Set USER's latchkey passphrase (normally their login password). Argon2id is\n"
	       "tuned on this machine so that one derivation takes about MS milliseconds,\n"
	       "never below the built-in floor (t=3, m=64 MiB). Must be run as root.\n"
	       "\n"
	       "Options:\n"
	       "  --kdf-time MS       target derivation time, 1..%d (default %d)\n"
	       "  --passphrase-stdin  read one line from standard input instead of asking twice\n"
	       "  --json              print the chosen parameters as JSON\n"
	       "  -h, --help          show this help\n",
	       ENROLL_MAX_MS, ENROLL_DEFAULT_MS);
}

int cmd_enroll(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_KDF_TIME = 0x100, OPT_STDIN, OPT_JSON };
	static const struct option options[] = {
	    {"kdf-time", required_argument, NULL, OPT_KDF_TIME},
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passphrase pw _cleanup_passphrase_ = {};
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	struct lk_kdf_params kdf;
	unsigned long ms = ENROLL_DEFAULT_MS;
	bool from_stdin = false;
	const char *user;
	char prompt[128];
	uint64_t t0, took;
	uid_t uid;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_KDF_TIME:
			if (lk_parse_uint(optarg, 1, ENROLL_MAX_MS, &ms) < 0)
				return ctl_usage_error("enroll", "--kdf-time needs milliseconds in 1..%d",
				                       ENROLL_MAX_MS);
			break;
		case OPT_STDIN:
			from_stdin = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'h':
			enroll_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("enroll", "invalid option");
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("enroll", "expected exactly one USER");
	user = argv[optind];

	r = ctl_require_root_user("enroll", user, &uid);
	if (r != 0)
		return r;

	/* Fail now rather than after the passphrase prompt and seconds of tuning. */
	{
		_cleanup_close_ int probe = ctl_connect(ctl, "enroll");
		if (probe < 0)
			return -probe;
	}

	snprintf(prompt, sizeof(prompt), "New passphrase for %s: ", user);
	r = ctl_read_passphrase("enroll", prompt, true, from_stdin, &pw);
	if (r != 0)
		return r;

	fprintf(stderr, "Tuning Argon2id for ~%lu ms...\n", ms);
	r = lk_kdf_tune((unsigned)ms, 0, &kdf);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, "enroll", "tuning Argon2id failed: %s", strerror(-r));

	r = lk_secret_new(&w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, "enroll", "cannot allocate memory: %s", strerror(-r));
	t0 = lk_now_ms();
	r = lk_kdf_derive(&kdf, pw.buf.ptr, pw.len, w.ptr);
	took = lk_now_ms() - t0;
	passphrase_release(&pw); /* W is all we need from here on */
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, "enroll", "key derivation failed: %s", strerror(-r));

	r = ctl_msgs_new(&req, &rep, LK_REQ_ENROLL, uid);
	if (r != 0)
		return r;
	lk_msg_set_kdf(req, &kdf);
	lk_msg_set_key(req, w.ptr);
	lk_secret_release(&w);

	r = ctl_request(ctl, "enroll", req, rep);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_OK)
		return ctl_reply_error("enroll", rep);

	if (ctl->json) {
		fputs("{\"user\":", stdout);
		json_print_string(stdout, user);
		printf(",\"uid\":%u,\"kdf\":{\"algorithm\":\"argon2id\",\"t_cost\":%u,\"m_cost_kib\":%u,"
		       "\"parallelism\":%u},\"derive_ms\":%llu}\n",
		       (unsigned)uid, kdf.t_cost, kdf.m_cost_kib, kdf.parallelism, (unsigned long long)took);
	} else {
		printf("Enrolled %s (uid %u).\n", user, (unsigned)uid);
		printf("Argon2id: t=%u, m=%u MiB, p=%u; one derivation took %llu ms.\n", kdf.t_cost,
		       kdf.m_cost_kib / 1024, kdf.parallelism, (unsigned long long)took);
	}
	return CTL_EXIT_OK;
}
