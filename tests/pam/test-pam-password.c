/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_latchkey under pam_wrapper, the password side: pam_chauthtok rewraps
 * the login slot, and a login whose password latchkey's slot does not know
 * asks once for the previous password and rewraps. Every key the module
 * sends is derived again here from the password and the parameters the fake
 * daemon handed out, so a key derived from the wrong password or with the
 * wrong parameters fails the test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "harness.h"
#include "kdf.h"
#include "module.h"
#include "options.h"
#include "wire.h"

#define OLD_PW          "old-password"
#define NEW_PW          "new-password"
#define PREV_PW         "previous-password"
#define PREVIOUS_PROMPT "Previous password (to unlock your encrypted files): "
#define OUT_OF_SYNC     "does not open its latchkey protector"
#define QUICK_NS        1000000000LL

static struct script sc;

static void derive(const struct lk_kdf_params *kdf, const char *pw, uint8_t out[LK_WRAP_KEY_SIZE])
{
	assert_int_equal(lk_kdf_derive(kdf, pw, strlen(pw), out), 0);
}

static void assert_kdf_equal(const struct lk_kdf_params *a, const struct lk_kdf_params *b)
{
	assert_int_equal(a->alg, b->alg);
	assert_int_equal(a->t_cost, b->t_cost);
	assert_int_equal(a->m_cost_kib, b->m_cost_kib);
	assert_int_equal(a->parallelism, b->parallelism);
	assert_int_equal(a->salt_len, b->salt_len);
	assert_memory_equal(a->salt, b->salt, a->salt_len);
}

/* What pam_unix leaves for the password stack, through pam_set_items. */
static void set_tokens(const char *old, const char *new)
{
	if (old)
		assert_int_equal(setenv("PAM_OLDAUTHTOK", old, 1), 0);
	else
		unsetenv("PAM_OLDAUTHTOK");
	if (new)
		assert_int_equal(setenv("PAM_AUTHTOK", new, 1), 0);
	else
		unsetenv("PAM_AUTHTOK");
}

static void script(const char *a0, const char *a1)
{
	memset(&sc, 0, sizeof(sc));
	sc.answers[0] = a0;
	sc.answers[1] = a1;
}

static void chauthtok(int flags)
{
	run_script("lk_passwd", USER, PAMTEST_CHAUTHTOK, flags, PAM_SUCCESS, &sc, NULL);
}

/* The REWRAP the module sent: new_key = Argon2id(new, fresh parameters), to a login slot. */
static const struct lk_msg *check_rewrap(uint32_t from_kind, const char *new_pw)
{
	const struct lk_msg *m = &fake.rec->rewrap;
	uint8_t w[LK_WRAP_KEY_SIZE];

	assert_int_equal(fake.rec->got_rewrap, 1);
	assert_int_equal(m->uid, USER_UID);
	assert_true(lk_msg_has(m, LK_T_NEW_KEY) && lk_msg_has(m, LK_T_KDF) && lk_msg_has(m, LK_T_FLAGS));
	assert_int_equal(m->flags, LK_RW_FLAGS(from_kind, LK_SLOT_LOGIN));
	assert_int_equal(LK_RW_FROM_KIND(m->flags), from_kind);
	assert_int_equal(LK_RW_TO_KIND(m->flags), LK_SLOT_LOGIN);
	/* The new slot's parameters are the fresh ones, salt and all. */
	assert_kdf_equal(&m->kdf, &fake.rec->fresh);
	assert_int_equal(m->kdf.salt[0], FAKE_FRESH_SALT_BYTE);
	derive(&fake.rec->fresh, new_pw, w);
	assert_memory_equal(m->new_key, w, sizeof(w));
	/* ... and not the login slot's. */
	derive(&fake.rec->kdf, new_pw, w);
	assert_memory_not_equal(m->new_key, w, sizeof(w));
	return m;
}

static void assert_msg(int i, uint16_t type, uint32_t flags)
{
	assert_true(i < fake.rec->n_msgs);
	assert_int_equal(fake.rec->types[i], type);
	assert_int_equal(fake.rec->uids[i], USER_UID);
	assert_int_equal(fake.rec->flags[i], flags);
}

#define FRESH_FLAGS (LK_KDF_F_FRESH | LK_KDF_F_KIND(LK_SLOT_LOGIN))
#define RW_LOGIN    LK_RW_FLAGS(LK_SLOT_LOGIN, LK_SLOT_LOGIN)

/* ---- chauthtok ---- */

static void test_chauthtok_old_new(void **state)
{
	const struct lk_msg *m;
	uint8_t w[LK_WRAP_KEY_SIZE];

	start(FAKE_NORMAL, 0);
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);

	/* PRELIM_CHECK sent nothing; UPDATE_AUTHTOK: login parameters, fresh ones, REWRAP. */
	assert_int_equal(fake.rec->n_msgs, 3);
	assert_msg(0, LK_REQ_KDF_PARAMS, 0);
	assert_msg(1, LK_REQ_KDF_PARAMS, FRESH_FLAGS);
	assert_msg(2, LK_REQ_REWRAP, RW_LOGIN);
	m = check_rewrap(LK_SLOT_LOGIN, NEW_PW);
	assert_true(lk_msg_has(m, LK_T_KEY));
	derive(&fake.rec->kdf, OLD_PW, w);
	assert_memory_equal(m->key, w, sizeof(w));
	assert_int_equal(fake.rec->n_submits, 0);

	sync_fake();
	assert_module_connections(&fake, 1);
	assert_int_equal(fake.rec->open_at_probe, 0);
	assert_int_equal(sc.n_prompts, 0); /* never asks: pam_unix did */
	assert_int_equal(sc.n_info, 0);
	assert_int_equal(log_lines(&sc, "rewrapped to the new password"), 1);
}

/* root runs `passwd alice`: no old password, so the daemon is to use the key it holds. */
static void test_chauthtok_root_reset(void **state)
{
	const struct lk_msg *m;

	start(FAKE_NORMAL, 0);
	set_tokens(NULL, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);

	assert_int_equal(fake.rec->n_msgs, 2);
	assert_msg(0, LK_REQ_KDF_PARAMS, FRESH_FLAGS);
	assert_msg(1, LK_REQ_REWRAP, LK_RW_FLAGS(0, LK_SLOT_LOGIN));
	m = check_rewrap(0, NEW_PW);
	assert_false(lk_msg_has(m, LK_T_KEY));
	assert_int_equal(sc.n_info, 0);
	assert_int_equal(log_lines(&sc, "admin reset"), 1);
}

/* Admin reset and no live session: the password change goes through, the
 * admin is told, the next login will ask. */
static void test_chauthtok_need_passphrase(void **state)
{
	start(FAKE_NORMAL, 0);
	fake.rec->rewrap_status = LK_E_NEED_PASSPHRASE;
	set_tokens(NULL, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);
	assert_int_equal(fake.rec->got_rewrap, 1);
	assert_int_equal(sc.n_info, 1);
	assert_int_equal(info_with(&sc, "encrypted files of " USER " still use the previous password"), 1);
	assert_int_equal(info_with(&sc, "the next login will ask for it"), 1);
	assert_int_equal(log_lines(&sc, "which asks for it"), 1);

	/* PAM_SILENT: the same outcome and log, no message. */
	script(NULL, NULL);
	chauthtok(PAM_SILENT);
	assert_int_equal(sc.n_info, 0);
	assert_int_equal(log_lines(&sc, "which asks for it"), 1);
}

/* The old password was never latchkey's: already out of sync. */
static void test_chauthtok_bad_key(void **state)
{
	start(FAKE_NORMAL, 0);
	fake.rec->rewrap_status = LK_E_BAD_KEY;
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);
	assert_int_equal(fake.rec->got_rewrap, 1);
	assert_int_equal(sc.n_info, 1);
	assert_int_equal(info_with(&sc, "did not use your old password"), 1);
	assert_int_equal(log_lines(&sc, "already out of sync"), 1);
}

static void test_chauthtok_other_error(void **state)
{
	start(FAKE_NORMAL, 0);
	fake.rec->rewrap_status = LK_E_INTERNAL;
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);
	assert_int_equal(sc.n_info, 1);
	assert_int_equal(info_with(&sc, "still use your old password"), 1);
	assert_int_equal(log_lines(&sc, "could not rewrap"), 1);
}

static void test_chauthtok_not_enrolled(void **state)
{
	start(FAKE_NORMAL, 0);
	fake.rec->kdf_status = LK_E_NOT_ENROLLED;
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	chauthtok(0);
	assert_int_equal(fake.rec->n_msgs, 1);
	assert_int_equal(fake.rec->got_rewrap, 0);
	assert_int_equal(sc.n_info, 0);
	assert_int_equal(log_lines(&sc, "is not enrolled"), 1); /* debug, in this service */

	/* Without the old password the first request is the fresh parameters. */
	set_tokens(NULL, NEW_PW);
	chauthtok(0);
	assert_int_equal(fake.rec->n_msgs, 2);
	assert_int_equal(fake.rec->got_rewrap, 0);
	assert_int_equal(sc.n_info, 0);
}

/* No daemon, or one that never answers: the change succeeds, soon. */
static void test_chauthtok_daemon_down(void **state)
{
	long long ns;

	(void)unlink(sock_path);
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	run_script("lk_passwd", USER, PAMTEST_CHAUTHTOK, 0, PAM_SUCCESS, &sc, &ns);
	assert_true(ns < QUICK_NS);
	assert_int_equal(sc.n_info, 0);
	assert_int_equal(log_lines(&sc, "not reachable"), 1);

	start(FAKE_HANG, 0);
	run_script("lk_passwd", USER, PAMTEST_CHAUTHTOK, 0, PAM_SUCCESS, &sc, &ns);
	assert_true(ns < BUDGET_NS);
	assert_int_equal(fake.rec->n_msgs, 1);
}

/* §8.48: a daemon that answers each request just under the deadline delays
 * a PAM call by at most timeout_ms (1500 by default) in all, plus the
 * Argon2id runs, which are not waits on the daemon. The change that could
 * not finish is told to the user. */
static void test_slow_daemon_one_deadline(void **state)
{
	const long long timeout_ns = 1500000000LL, slack_ns = 400000000LL;
	uint8_t w[LK_WRAP_KEY_SIZE];
	long long t0, kdf_ns, ns;

	start(FAKE_SLOW, 0);
	fake.rec->reply_delay_ms = 1300;
	t0 = now_ns();
	derive(&fake.rec->kdf, RIGHT_PW, w);
	kdf_ns = now_ns() - t0;

	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, &ns);
	assert_true(ns < timeout_ns + kdf_ns + slack_ns);

	sync_fake(); /* the fake answers one request at a time: let it finish the late one */
	set_tokens(OLD_PW, NEW_PW);
	script(NULL, NULL);
	run_script("lk_passwd", USER, PAMTEST_CHAUTHTOK, 0, PAM_SUCCESS, &sc, &ns);
	assert_true(ns < timeout_ns + 2 * kdf_ns + slack_ns);
	assert_int_equal(fake.rec->got_rewrap, 0);
	assert_int_equal(sc.n_info, 1);
	assert_non_null(strstr(sc.info[0], "still use your old password"));
}

/* The password module left no new password: nothing to do, and said so. */
static void test_chauthtok_no_new_password(void **state)
{
	start(FAKE_NORMAL, 0);
	set_tokens(OLD_PW, NULL);
	script(NULL, NULL);
	chauthtok(0);
	sync_fake();
	assert_module_connections(&fake, 0);
	assert_int_equal(log_lines(&sc, "no new password"), 1);
}

/* PAM_PRELIM_CHECK on its own (pam_unix may still refuse the change): no traffic. */
static void test_chauthtok_prelim_check(void **state)
{
	char arg[160];
	const char *argv[] = {arg};
	struct pam_conv conv = {NULL, NULL};
	struct lk_pam_options o;
	pam_handle_t *ph = NULL;

	start(FAKE_NORMAL, 0);
	snprintf(arg, sizeof(arg), "socket=%s", sock_path);
	lk_pam_options_parse(NULL, 1, argv, &o);
	assert_string_equal(o.socket_path, sock_path);
	assert_int_equal(pam_start("lk_passwd", USER, &conv, &ph), PAM_SUCCESS);
	assert_int_equal(lk_pam_do_chauthtok(ph, PAM_PRELIM_CHECK, &o), LK_PAM_SKIP);
	assert_int_equal(lk_pam_do_chauthtok(ph, PAM_PRELIM_CHECK | PAM_SILENT, &o), LK_PAM_SKIP);
	assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
	sync_fake();
	assert_module_connections(&fake, 0);
}

/* ---- a login out of sync: pam_unix accepts the password, latchkey does not ---- */

/* The daemon accepts only the previous password's key. */
static void start_out_of_sync(void)
{
	start(FAKE_NORMAL, 0);
	derive(&fake.rec->kdf, PREV_PW, fake.rec->good_key);
	fake.rec->check_key = 1;
	assert_int_equal(setenv("PAM_AUTHTOK", RIGHT_PW, 1), 0);
}

static void login(const char *service, int flags, int expected)
{
	run_script(service, USER, PAMTEST_AUTHENTICATE, flags, expected, &sc, NULL);
}

static void test_resync(void **state)
{
	const struct lk_msg *m;
	uint8_t w[LK_WRAP_KEY_SIZE];

	start_out_of_sync();
	script(RIGHT_PW, PREV_PW);
	login("lk_prompt", 0, PAM_SUCCESS);

	/* pam_matrix asked for the password, then the module, once, echo off. */
	assert_int_equal(sc.n_prompts, 2);
	assert_string_equal(sc.prompts[1], PREVIOUS_PROMPT);

	assert_int_equal(fake.rec->n_msgs, 5);
	assert_msg(0, LK_REQ_KDF_PARAMS, 0);
	assert_msg(1, LK_REQ_AUTH_SUBMIT, 0);
	assert_msg(2, LK_REQ_AUTH_SUBMIT, 0);
	assert_msg(3, LK_REQ_KDF_PARAMS, FRESH_FLAGS);
	assert_msg(4, LK_REQ_REWRAP, RW_LOGIN);
	assert_int_equal(fake.rec->n_submits, 2);
	derive(&fake.rec->kdf, RIGHT_PW, w);
	assert_memory_equal(fake.rec->submits[0], w, sizeof(w));
	assert_memory_equal(fake.rec->submits[1], fake.rec->good_key, sizeof(w));

	/* From the previous password's slot to the current password. */
	m = check_rewrap(LK_SLOT_LOGIN, RIGHT_PW);
	assert_true(lk_msg_has(m, LK_T_KEY));
	assert_memory_equal(m->key, fake.rec->good_key, sizeof(w));

	assert_int_equal(sc.n_info, 1);
	assert_int_equal(info_with(&sc, "your encrypted files now use your new password"), 1);
	/* Not connected while the user types: one connection before the prompt, one after. */
	sync_fake();
	assert_module_connections(&fake, 2);
	assert_int_equal(fake.rec->open_at_probe, 0);
}

static void test_resync_wrong_previous(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, "not-the-previous-one");
	login("lk_prompt", 0, PAM_SUCCESS);
	assert_int_equal(sc.n_prompts, 2);
	assert_int_equal(fake.rec->n_submits, 2);
	assert_int_equal(fake.rec->got_rewrap, 0);
	assert_int_equal(info_with(&sc, "does not unlock your encrypted files either"), 1);
	assert_int_equal(log_lines(&sc, "nor does the previous password"), 1);
}

/* The previous password is accepted (the session will unlock) but the
 * rewrap fails: the user hears that the files keep the previous password. */
static void test_resync_rewrap_fails(void **state)
{
	start_out_of_sync();
	fake.rec->rewrap_status = LK_E_INTERNAL;
	script(RIGHT_PW, PREV_PW);
	login("lk_prompt", 0, PAM_SUCCESS);
	assert_int_equal(fake.rec->n_submits, 2);
	assert_int_equal(fake.rec->got_rewrap, 1);
	assert_int_equal(info_with(&sc, "unlocked but still use your previous password"), 1);
	assert_int_equal(info_with(&sc, "now use your new password"), 0);
}

/* No prompt where none is allowed or possible: one log line, no more traffic. */
static void check_not_asked(int expected_prompts, const char *why)
{
	/* pam_matrix's prompt, and the module's only if it tried. */
	assert_int_equal(sc.n_prompts, expected_prompts);
	assert_int_equal(prompts_with(&sc, "Previous password"), expected_prompts - 1);
	assert_int_equal(fake.rec->n_submits, 1);
	assert_int_equal(fake.rec->got_rewrap, 0);
	assert_int_equal(fake.rec->n_msgs, 2);
	assert_int_equal(log_lines(&sc, NULL), 1);
	assert_int_equal(log_lines(&sc, OUT_OF_SYNC), 1);
	assert_int_equal(log_lines(&sc, why), 1);
}

static void test_resync_no_prompt_option(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, PREV_PW);
	login("lk_noprompt", 0, PAM_SUCCESS);
	check_not_asked(1, "no_prompt");
	assert_int_equal(info_with(&sc, "still use a previous password and stay locked"), 1);
}

static void test_resync_silent(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, PREV_PW);
	login("lk_prompt", PAM_SILENT, PAM_SUCCESS);
	check_not_asked(1, "PAM_SILENT");
	assert_int_equal(sc.n_info, 0);
}

static void test_resync_conversation_fails(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, NULL);
	login("lk_prompt", 0, PAM_SUCCESS);
	check_not_asked(2, "could not be asked for");
}

static void test_resync_empty_answer(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, "");
	login("lk_prompt", 0, PAM_SUCCESS);
	check_not_asked(2, "could not be asked for (no answer)");
}

/* sshd's password authentication answers every prompt with the password. */
static void test_resync_answer_is_login_password(void **state)
{
	start_out_of_sync();
	script(RIGHT_PW, RIGHT_PW);
	login("lk_prompt", 0, PAM_SUCCESS);
	check_not_asked(2, "answered the previous-password prompt with the login password");
}

/*
 * "auth required pam_unix.so" and then the module: after a wrong password
 * pam_unix has failed, the stack goes on, and the module must neither send
 * the key nor ask for a previous password (which would rewrap the slot to
 * the wrong one). The same stack with pam_unix succeeding shows the module
 * does ask there.
 */
static void test_password_module_failed(void **state)
{
	start_out_of_sync();
	assert_int_equal(setenv("PAM_AUTHTOK", WRONG_PW, 1), 0);
	script(WRONG_PW, PREV_PW);
	login("lk_unixfail", 0, PAM_AUTH_ERR);
	assert_int_equal(sc.n_prompts, 1);
	assert_int_equal(fake.rec->n_msgs, 0);

	assert_int_equal(setenv("PAM_AUTHTOK", RIGHT_PW, 1), 0);
	script(RIGHT_PW, NULL);
	login("lk_unixok", 0, PAM_SUCCESS);
	assert_int_equal(sc.n_prompts, 2);
	assert_int_equal(fake.rec->n_submits, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_chauthtok_old_new, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_root_reset, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_need_passphrase, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_bad_key, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_other_error, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_not_enrolled, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_daemon_down, teardown),
	    cmocka_unit_test_teardown(test_slow_daemon_one_deadline, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_no_new_password, teardown),
	    cmocka_unit_test_teardown(test_chauthtok_prelim_check, teardown),
	    cmocka_unit_test_teardown(test_resync, teardown),
	    cmocka_unit_test_teardown(test_resync_wrong_previous, teardown),
	    cmocka_unit_test_teardown(test_resync_rewrap_fails, teardown),
	    cmocka_unit_test_teardown(test_resync_no_prompt_option, teardown),
	    cmocka_unit_test_teardown(test_resync_silent, teardown),
	    cmocka_unit_test_teardown(test_resync_conversation_fails, teardown),
	    cmocka_unit_test_teardown(test_resync_empty_answer, teardown),
	    cmocka_unit_test_teardown(test_resync_answer_is_login_password, teardown),
	    cmocka_unit_test_teardown(test_password_module_failed, teardown),
	};

	if (harness_init() != 0)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
