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
#include "json_out.h"
#include "output.h"
#include "passphrase.h"
#include "secret.h"
#include "slots.h"

#define ENROLL_DEFAULT_MS 1000
#define ENROLL_MAX_MS     60000

static void enroll_help(void)
{
	printf("Usage: latchkeyctl enroll USER [--kdf-time MS] [--tpm] [--passphrase-stdin] [--config-dir "
	       "DIR] [--json]\n"
	       "\n"
	       "Set USER's latchkey passphrase (normally their login password). Argon2id is\n"
	       "tuned on this machine so that one derivation takes about MS milliseconds,\n"
	       "never below the built-in floor (t=3, m=64 MiB). Must be run as root.\n"
	       "If escrow is enabled (DIR/escrow.pub exists), USER also gets an escrow slot.\n"
	       "\n"
	       "Options:\n"
	       "  --kdf-time MS       target derivation time, 1..%d (default %d)\n"
	       "  --tpm               also seal a login slot to this machine's TPM2 (as\n"
	       "                      'latchkeyctl tpm bind'); needs escrow (escrow.pub), so that\n"
	       "                      the TPM2 slot is never the only way in\n"
	       "  --passphrase-stdin  read one line from standard input instead of asking twice\n"
	       "  --config-dir DIR    where escrow.pub lives (default: latchkeyd's configuration\n"
	       "                      directory, else %s)\n"
	       "  --json              print the chosen parameters as JSON\n"
	       "  -h, --help          show this help\n",
	       ENROLL_MAX_MS, ENROLL_DEFAULT_MS, LK_DEFAULT_CONFIG_DIR);
}

/* Right after enrolment, with the W just enrolled: an escrow slot sealed to R. */
static int enroll_escrow(const struct ctl *ctl, uid_t uid, const char *user,
                         const uint8_t R[LK_ESCROW_KEY_SIZE], const uint8_t w[LK_WRAP_KEY_SIZE])
{
	struct lk_secret w_esc _cleanup_secret_ = {};
	struct lk_msg *rep _cleanup_msg_ = ctl_msg_new();
	struct lk_kdf_params kdf;
	int r;

	if (!rep)
		return CTL_EXIT_FAILED;
	r = ctl_escrow_seal("enroll", R, uid, &kdf, &w_esc);
	if (r == 0)
		r = ctl_rewrap(ctl, "enroll", uid, LK_RW_FLAGS(LK_SLOT_LOGIN, LK_SLOT_ESCROW), w, w_esc.ptr,
		               &kdf, rep);
	if (r == 0 && rep->type != LK_REP_OK)
		r = ctl_reply_error("enroll", rep);
	if (r != 0)
		return ctl_fail(CTL_EXIT_FAILED, "enroll",
		                "%s is enrolled, but without the escrow slot; add it with "
		                "'latchkeyctl escrow add %s'",
		                user, user);
	return 0;
}

/* Right after enrolment (and the escrow slot), with the W just enrolled: the
 * TPM2 slot, as 'tpm bind' adds it. latchkeyd does the TPM work. */
static int enroll_tpm(const struct ctl *ctl, uid_t uid, const char *user, const uint8_t w[LK_WRAP_KEY_SIZE])
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_TPM_BIND, uid);
	if (r == 0) {
		lk_msg_set_key(req, w);
		r = ctl_request(ctl, "enroll", req, rep);
		lk_msg_wipe(req);
	}
	if (r == 0 && rep->type != LK_REP_OK)
		r = ctl_reply_error("enroll", rep);
	if (r != 0)
		return ctl_fail(
		    CTL_EXIT_FAILED, "enroll",
		    "%s is enrolled, but without the TPM2 slot; add it with 'latchkeyctl tpm bind %s'", user,
		    user);
	return 0;
}

int cmd_enroll(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_KDF_TIME = 0x100, OPT_STDIN, OPT_CONFIG, OPT_JSON, OPT_TPM };
	static const struct option options[] = {
	    {"kdf-time", required_argument, NULL, OPT_KDF_TIME},
	    {"passphrase-stdin", no_argument, NULL, OPT_STDIN},
	    {"config-dir", required_argument, NULL, OPT_CONFIG},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"tpm", no_argument, NULL, OPT_TPM},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passphrase pw _cleanup_passphrase_ = {};
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	struct lk_kdf_params kdf;
	const char *config_dir = NULL;
	uint8_t escrow_R[LK_ESCROW_KEY_SIZE];
	bool escrow = false, tpm = false;
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
		case OPT_CONFIG:
			if (optarg[0] != '/')
				return ctl_usage_error("enroll", "--config-dir needs an absolute path");
			config_dir = optarg;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_TPM:
			tpm = true;
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

	ctl_daemon_config_dirs(ctl, "enroll", &config_dir, NULL);
	/* A broken escrow key must stop the enrolment, not leave a user
	 * enrolled without the escrow slot the admin set up. */
	r = ctl_escrow_load("enroll", config_dir, escrow_R, &escrow);
	if (r != 0)
		return r;
	/* A TPM2 slot is never the only slot: a new user has no recovery code
	 * yet, so the escrow slot made here is what stands beside it. */
	if (tpm && !escrow)
		return ctl_fail(
		    CTL_EXIT_USAGE, "enroll",
		    "--tpm needs escrow (%s/%s), so that the TPM2 slot is not the only way in; "
		    "or enroll, then 'latchkeyctl recovery create %s' and 'latchkeyctl tpm bind %s'",
		    config_dir, CTL_ESCROW_PUB_NAME, user, user);

	/* Fail now rather than after the passphrase prompt and seconds of tuning. */
	{
		_cleanup_close_ int probe = -1;

		r = ctl_connect(ctl, "enroll", &probe);
		if (r != 0)
			return r;
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

	if (lk_kdf_params_check_new(&kdf) < 0)
		return ctl_fail(CTL_EXIT_FAILED, "enroll", "refusing Argon2id t=%u: the floor is t=%u",
		                kdf.t_cost, LK_KDF_NEW_T_MIN);
	r = ctl_msgs_new(&req, &rep, LK_REQ_ENROLL, uid);
	if (r != 0)
		return r;
	lk_msg_set_kdf(req, &kdf);
	lk_msg_set_key(req, w.ptr);

	r = ctl_request(ctl, "enroll", req, rep);
	lk_msg_wipe(req);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_OK)
		return ctl_reply_error("enroll", rep);

	if (escrow) {
		r = enroll_escrow(ctl, uid, user, escrow_R, w.ptr);
		if (r != 0)
			return r;
	}
	if (tpm) {
		r = enroll_tpm(ctl, uid, user, w.ptr);
		if (r != 0)
			return r;
	}
	lk_secret_release(&w);

	if (ctl->json) {
		struct json_object *doc = json_out_user(user, uid), *k = json_object_new_object();

		json_out_add_string(k, "algorithm", "argon2id");
		json_out_add_uint(k, "t_cost", kdf.t_cost);
		json_out_add_uint(k, "m_cost_kib", kdf.m_cost_kib);
		json_out_add_uint(k, "parallelism", kdf.parallelism);
		json_object_object_add(doc, "kdf", k);
		json_out_add_uint(doc, "derive_ms", took);
		json_out_add_bool(doc, "escrow", escrow);
		json_out_add_bool(doc, "tpm", tpm);
		(void)json_out_print(doc);
	} else {
		printf("Enrolled %s (uid %u).\n", user, (unsigned)uid);
		printf("Argon2id: t=%u, m=%u MiB, p=%u; one derivation took %llu ms.\n", kdf.t_cost,
		       kdf.m_cost_kib / 1024, kdf.parallelism, (unsigned long long)took);
		if (escrow)
			printf("Added an escrow slot (%s/%s).\n", config_dir, CTL_ESCROW_PUB_NAME);
		if (tpm)
			printf("Sealed a login slot to this machine's TPM2.\n");
	}
	return CTL_EXIT_OK;
}
