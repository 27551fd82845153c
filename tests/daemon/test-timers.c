/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What latchkeyd does over time: the throttle after a user's wrong
 * passwords, and the expiry of a pending credential nobody claimed. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "client.h"

static void unlock(struct harness *h, struct peer *p, const uint8_t *w, struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_UNLOCK, 0);
	lk_msg_set_uid(&req, h->uid);
	if (w)
		lk_msg_set_key(&req, w);
	harness_call(h, p, &req, rep);
}

static void auth_submit(struct harness *h, struct peer *p, const uint8_t w[LK_WRAP_KEY_SIZE],
                        struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_AUTH_SUBMIT, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_key(&req, w);
	harness_call(h, p, &req, rep);
}

static void session_open(struct harness *h, struct peer *p, struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_SESSION_OPEN, 0);
	lk_msg_set_uid(&req, h->uid);
	harness_call(h, p, &req, rep);
}

/* How long the daemon now refuses the user's attempts, in ms from now. */
static uint64_t throttle_left_ms(struct harness *h)
{
	struct user *u = user_get(&h->d.users, h->uid, false);
	uint64_t now = lk_now_ms();

	assert_non_null(u);
	return u->throttle_until_ms > now ? u->throttle_until_ms - now : 0;
}

/* The user guessing their own password (UNLOCK with a key, as latchkeyctl
 * unlock sends it): three free mistakes, then a delay that doubles with
 * each further one, during which even the right password is refused. */
static void test_throttle_grows(void **state)
{
	struct harness *h = *state;
	struct peer self = harness_peer(h, h->uid);
	uint8_t w[LK_WRAP_KEY_SIZE], wrong[LK_WRAP_KEY_SIZE];
	uint64_t expected = 1000;
	struct lk_msg rep;
	struct user *u;

	harness_random_key(w);
	harness_random_key(wrong);
	harness_enroll(h, w, NULL);

	for (unsigned i = 0; i < 3; i++) {
		unlock(h, &self, wrong, &rep);
		assert_int_equal(rep.type, LK_REP_ERROR);
		assert_int_equal(rep.status, LK_E_BAD_KEY);
		assert_int_equal(throttle_left_ms(h), 0);
	}
	for (unsigned i = 0; i < 4; i++, expected *= 2) {
		uint64_t left;

		unlock(h, &self, wrong, &rep);
		assert_int_equal(rep.status, LK_E_BAD_KEY);
		left = throttle_left_ms(h);
		assert_true(left <= expected && left + 500 > expected);
		/* Throttled: the right password is not even tried. */
		unlock(h, &self, w, &rep);
		assert_int_equal(rep.type, LK_REP_ERROR);
		assert_int_equal(rep.status, LK_E_THROTTLED);
		/* Stand in for the wait: the delay is over, the count is not. */
		user_get(&h->d.users, h->uid, false)->throttle_until_ms = 0;
	}

	/* With the delay over, the right password opens and clears the count. */
	unlock(h, &self, w, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	assert_int_equal(rep.status, LK_OK);
	u = user_get(&h->d.users, h->uid, false);
	assert_non_null(u);
	assert_int_equal(u->failures, 0);

	/* Three mistakes are free again; the fourth is throttled for a
	 * second, which the daemon lifts on its own when it has passed. */
	for (unsigned i = 0; i < 4; i++) {
		unlock(h, &self, wrong, &rep);
		assert_int_equal(rep.status, LK_E_BAD_KEY);
		assert_int_equal(throttle_left_ms(h) > 0, i == 3);
	}
	unlock(h, &self, w, &rep);
	assert_int_equal(rep.status, LK_E_THROTTLED);
	while (throttle_left_ms(h) > 0)
		usleep((useconds_t)(throttle_left_ms(h) + 20) * 1000);
	unlock(h, &self, w, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	assert_int_equal(rep.status, LK_OK);
	assert_int_equal(u->failures, 0);
}

/* A PAM host's wrong passwords are the login's (pam_unix and pam_faillock
 * govern those): never throttled. */
static void test_root_not_throttled(void **state)
{
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0);
	uint8_t w[LK_WRAP_KEY_SIZE], wrong[LK_WRAP_KEY_SIZE];
	struct lk_msg rep;

	harness_random_key(w);
	harness_random_key(wrong);
	harness_enroll(h, w, NULL);
	for (unsigned i = 0; i < 8; i++) {
		auth_submit(h, &root, wrong, &rep);
		assert_int_equal(rep.status, LK_E_BAD_KEY);
	}
	auth_submit(h, &root, w, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
}

/* auth, then the session claims the pending credential: the daemon holds P
 * for the user (an UNLOCK without a password works). */
static void test_pending_claimed(void **state)
{
	struct harness *h = *state;
	struct peer host = harness_peer(h, 0), session = harness_peer(h, 0);
	uint8_t w[LK_WRAP_KEY_SIZE];
	struct lk_msg rep;

	harness_random_key(w);
	harness_enroll(h, w, NULL);
	unlock(h, &host, NULL, &rep);
	assert_int_equal(rep.status, LK_E_NEED_PASSPHRASE);

	auth_submit(h, &host, w, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	session_open(h, &session, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	assert_int_equal(rep.status, LK_OK);
	unlock(h, &host, NULL, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	assert_int_equal(rep.status, LK_OK);
}

/* auth, and no session claims it: the timer wipes the pending P at its
 * expiry (LATCHKEY_TEST_PENDING_TTL_MS shortens it), and a session opened
 * afterwards gets no key. Test builds only: without the hook the expiry
 * takes PENDING_TTL_MS (30 s). */
static void test_pending_expires(void **state)
{
	HARNESS_REQUIRE_TEST_HOOKS();
	struct harness *h = *state;
	struct peer host = harness_peer(h, 0), session = harness_peer(h, 0);
	uint8_t w[LK_WRAP_KEY_SIZE];
	struct lk_msg rep;
	struct user *u;
	uint64_t start;

	harness_random_key(w);
	harness_enroll(h, w, NULL);
	assert_int_equal(setenv("LATCHKEY_TEST_PENDING_TTL_MS", "300", 1), 0);
	start = lk_now_ms();
	auth_submit(h, &host, w, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	u = user_get(&h->d.users, h->uid, false);
	assert_non_null(u);
	assert_non_null(u->pending);
	assert_non_null(u->pending_timer);

	/* Not before its time (sd-event may fire late, never early)... */
	while (u->pending && lk_now_ms() < start + 5000)
		assert_true(sd_event_run(h->d.event, 50 * 1000) >= 0);
	assert_null(u->pending);
	assert_true(lk_now_ms() >= start + 300);
	/* ...and then the timer is gone too. */
	assert_null(u->pending_timer);
	assert_int_equal(u->pending_expiry_ms, 0);

	session_open(h, &session, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	unlock(h, &host, NULL, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_NEED_PASSPHRASE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_throttle_grows, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_root_not_throttled, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_pending_claimed, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_pending_expires, harness_setup, harness_teardown),
	};

	if (!harness_can_run())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
