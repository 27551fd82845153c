/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ENROLL, KDF_PARAMS, AUTH_SUBMIT, REWRAP, and what needs the key held for
 * a live session (REWRAP and ROTATE without a source slot, ENCRYPT without
 * a key), through latchkeyd's handlers, with the protector file on disk
 * checked after each change. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "secret.h"

static void kdf_params(struct harness *h, struct peer *p, uid_t uid, uint32_t flags, struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_KDF_PARAMS, 0);
	lk_msg_set_uid(&req, uid);
	if (flags)
		lk_msg_set_flags(&req, flags);
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

/* REWRAP the login slot: from the slot w_old opens (or, w_old NULL, from
 * the P held for a live session) to a new one for w_new. */
static void rewrap(struct harness *h, struct peer *p, const uint8_t *w_old,
                   const uint8_t w_new[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf, struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_REWRAP, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_flags(&req, LK_RW_FLAGS(w_old ? LK_SLOT_LOGIN : 0, LK_SLOT_LOGIN));
	if (w_old)
		lk_msg_set_key(&req, w_old);
	lk_msg_set_new_key(&req, w_new);
	lk_msg_set_kdf(&req, kdf);
	harness_call(h, p, &req, rep);
}

/* ENCRYPT sent without a key (latchkeyctl's first try): the daemon must
 * hold P. The path is never reached in these tests. */
static void encrypt_without_key(struct harness *h, struct peer *p, struct lk_msg *rep)
{
	struct lk_msg req;

	lk_msg_init(&req, LK_REQ_ENCRYPT, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_path(&req, "/nonexistent/latchkey-test");
	harness_call(h, p, &req, rep);
}

/* Fresh parameters for the new slot, as a PAM host asks before a rewrap. */
static void fresh_kdf(struct harness *h, struct peer *root, struct lk_kdf_params *ret)
{
	struct lk_msg rep;

	kdf_params(h, root, h->uid, LK_KDF_F_FRESH, &rep);
	assert_int_equal(rep.type, LK_REP_KDF_PARAMS);
	assert_true(lk_msg_has(&rep, LK_T_KDF));
	*ret = rep.kdf;
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

/* The reply refuses with this status. */
static void assert_error(const struct lk_msg *rep, uint32_t status)
{
	assert_int_equal(rep->type, LK_REP_ERROR);
	assert_int_equal(rep->status, status);
}

static unsigned temp_files_in_protectors(struct harness *h)
{
	int fd = openat(h->d.store.protectors_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)))
		n += strstr(de->d_name, ".tmp-") != NULL;
	closedir(dir);
	return n;
}

static void test_enroll_and_kdf_params(void **state)
{
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0), self = harness_peer(h, h->uid),
	            other = harness_peer(h, h->uid + 1);
	uint8_t w[LK_WRAP_KEY_SIZE], p[LK_PROTECTOR_KEY_SIZE];
	struct lk_kdf_params kdf;
	struct lk_msg rep;

	/* Before enrolment there is nothing to ask for. */
	kdf_params(h, &root, h->uid, 0, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_NOT_ENROLLED);
	assert_int_equal(harness_load_protector(h, &(struct lk_protector){}), -ENOENT);

	harness_random_key(w);
	harness_enroll(h, w, &kdf);
	/* The file on disk has a login slot W opens. */
	assert_true(harness_disk_opens(h, w, p));

	/* A PAM host (root) and the user may read the login slot's
	 * parameters: exactly those it was enrolled with. */
	kdf_params(h, &root, h->uid, 0, &rep);
	assert_int_equal(rep.type, LK_REP_KDF_PARAMS);
	assert_kdf_equal(&rep.kdf, &kdf);
	kdf_params(h, &self, h->uid, 0, &rep);
	assert_int_equal(rep.type, LK_REP_KDF_PARAMS);
	assert_kdf_equal(&rep.kdf, &kdf);
	/* Another user may not. */
	kdf_params(h, &other, h->uid, 0, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_PERM);

	/* Fresh parameters: a new salt, the enrolled cost, one lane. Only
	 * root may ask (they are for a new slot). */
	kdf_params(h, &root, h->uid, LK_KDF_F_FRESH, &rep);
	assert_int_equal(rep.type, LK_REP_KDF_PARAMS);
	assert_int_equal(rep.kdf.alg, LK_KDF_ARGON2ID);
	assert_int_equal(rep.kdf.t_cost, kdf.t_cost);
	assert_int_equal(rep.kdf.m_cost_kib, kdf.m_cost_kib);
	assert_int_equal(rep.kdf.parallelism, 1);
	assert_int_equal(rep.kdf.salt_len, LK_SALT_MIN);
	assert_memory_not_equal(rep.kdf.salt, kdf.salt, LK_SALT_MIN);
	kdf_params(h, &self, h->uid, LK_KDF_F_FRESH, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_PERM);

	/* A second enrolment is refused and leaves the file as it was. */
	{
		struct lk_msg req;
		uint8_t w2[LK_WRAP_KEY_SIZE];

		harness_random_key(w2);
		lk_msg_init(&req, LK_REQ_ENROLL, 0);
		lk_msg_set_uid(&req, h->uid);
		lk_msg_set_kdf(&req, &kdf);
		lk_msg_set_key(&req, w2);
		harness_call(h, &root, &req, &rep);
		assert_int_equal(rep.type, LK_REP_ERROR);
		assert_int_equal(rep.status, LK_E_EXISTS);
		assert_true(harness_disk_opens(h, w, NULL));
		assert_false(harness_disk_opens(h, w2, NULL));
		/* Only root enrols. */
		harness_call(h, &self, &req, &rep);
		assert_int_equal(rep.type, LK_REP_ERROR);
		assert_int_equal(rep.status, LK_E_PERM);
	}
	lk_wipe(p, sizeof(p));
}

static void test_auth_submit(void **state)
{
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0), self = harness_peer(h, h->uid);
	uint8_t w[LK_WRAP_KEY_SIZE], wrong[LK_WRAP_KEY_SIZE];
	struct user *u;
	struct lk_msg rep;

	harness_random_key(w);
	harness_random_key(wrong);
	harness_enroll(h, w, NULL);

	auth_submit(h, &root, wrong, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_BAD_KEY);
	u = user_get(&h->d.users, h->uid, false);
	assert_true(!u || !u->pending);

	/* The right W: P is kept as the pending credential for the session. */
	auth_submit(h, &root, w, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	u = user_get(&h->d.users, h->uid, false);
	assert_non_null(u);
	assert_non_null(u->pending);

	/* AUTH_SUBMIT is a PAM host's request: a user cannot send it. */
	auth_submit(h, &self, w, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_PERM);
}

static void test_rewrap(void **state)
{
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0);
	uint8_t w1[LK_WRAP_KEY_SIZE], w2[LK_WRAP_KEY_SIZE], wrong[LK_WRAP_KEY_SIZE];
	uint8_t p1[LK_PROTECTOR_KEY_SIZE], p2[LK_PROTECTOR_KEY_SIZE];
	struct lk_kdf_params enrolled, kdf;
	struct lk_msg rep;

	harness_random_key(w1);
	harness_random_key(w2);
	harness_random_key(wrong);
	harness_enroll(h, w1, &enrolled);
	assert_true(harness_disk_opens(h, w1, p1));

	/* The new slot may not reuse the old one's salt. */
	rewrap(h, &root, w1, w2, &enrolled, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_INVALID);
	/* Nor be made from a wrong old key. */
	fresh_kdf(h, &root, &kdf);
	rewrap(h, &root, wrong, w2, &kdf, &rep);
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_BAD_KEY);
	assert_true(harness_disk_opens(h, w1, NULL));
	assert_false(harness_disk_opens(h, w2, NULL));

	rewrap(h, &root, w1, w2, &kdf, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	/* On disk: the new W opens the same P, the old one nothing. */
	assert_true(harness_disk_opens(h, w2, p2));
	assert_memory_equal(p1, p2, sizeof(p1));
	assert_false(harness_disk_opens(h, w1, NULL));
	/* And the daemon reads the new slot: its parameters are the ones sent. */
	{
		struct lk_msg req;

		lk_msg_init(&req, LK_REQ_KDF_PARAMS, 0);
		lk_msg_set_uid(&req, h->uid);
		harness_call(h, &root, &req, &rep);
		assert_int_equal(rep.type, LK_REP_KDF_PARAMS);
		assert_kdf_equal(&rep.kdf, &kdf);
	}
	auth_submit(h, &root, w2, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	auth_submit(h, &root, w1, &rep);
	assert_int_equal(rep.status, LK_E_BAD_KEY);

	/* Only root rewraps. */
	{
		struct peer self = harness_peer(h, h->uid);

		fresh_kdf(h, &root, &kdf);
		rewrap(h, &self, w2, w1, &kdf, &rep);
		assert_int_equal(rep.type, LK_REP_ERROR);
		assert_int_equal(rep.status, LK_E_PERM);
		assert_true(harness_disk_opens(h, w2, NULL));
	}
	lk_wipe(p1, sizeof(p1));
	lk_wipe(p2, sizeof(p2));
}

/* Without a secret of the user's, only the P held for a live session will
 * do: with none held the client is told to send a passphrase, and nothing
 * changes on disk. */
static void test_no_key_held(void **state)
{
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0);
	uint8_t w1[LK_WRAP_KEY_SIZE], w2[LK_WRAP_KEY_SIZE], p1[LK_PROTECTOR_KEY_SIZE],
	    p2[LK_PROTECTOR_KEY_SIZE];
	struct lk_kdf_params kdf;
	struct lk_msg req, rep;

	harness_random_key(w1);
	harness_random_key(w2);

	/* Not enrolled: nothing to hold, nothing to ask for. */
	encrypt_without_key(h, &root, &rep);
	assert_error(&rep, LK_E_NOT_ENROLLED);
	harness_kdf(&kdf);
	rewrap(h, &root, NULL, w2, &kdf, &rep);
	assert_error(&rep, LK_E_NOT_ENROLLED);

	harness_enroll(h, w1, NULL);
	assert_true(harness_disk_opens(h, w1, p1));
	fresh_kdf(h, &root, &kdf);
	rewrap(h, &root, NULL, w2, &kdf, &rep);
	assert_error(&rep, LK_E_NEED_PASSPHRASE);
	assert_true(harness_disk_opens(h, w1, NULL));
	assert_false(harness_disk_opens(h, w2, NULL));

	lk_msg_init(&req, LK_REQ_ROTATE, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_flags(&req, 0);
	lk_msg_set_new_key(&req, w2);
	lk_msg_set_kdf(&req, &kdf);
	harness_call(h, &root, &req, &rep);
	assert_error(&rep, LK_E_NEED_PASSPHRASE);
	assert_true(harness_disk_opens(h, w1, p2));
	assert_memory_equal(p1, p2, sizeof(p1));

	encrypt_without_key(h, &root, &rep);
	assert_error(&rep, LK_E_NEED_PASSPHRASE);

	/* An unlock with the password holds P: now the admin's reset goes
	 * through, and the new W opens the same P. */
	lk_msg_init(&req, LK_REQ_UNLOCK, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_key(&req, w1);
	harness_call(h, &root, &req, &rep);
	assert_int_equal(rep.type, LK_REP_UNLOCK_RESULT);
	rewrap(h, &root, NULL, w2, &kdf, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	assert_true(harness_disk_opens(h, w2, p2));
	assert_memory_equal(p1, p2, sizeof(p1));
	assert_false(harness_disk_opens(h, w1, NULL));
	lk_wipe(p1, sizeof(p1));
	lk_wipe(p2, sizeof(p2));
}

/* The write fails at its rename: nothing changed, the old password still
 * opens, and the daemon says so. */
static void test_rewrap_fails_before_rename(void **state)
{
	HARNESS_REQUIRE_TEST_HOOKS();
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0);
	uint8_t w1[LK_WRAP_KEY_SIZE], w2[LK_WRAP_KEY_SIZE];
	struct lk_kdf_params kdf;
	struct lk_msg rep;

	harness_random_key(w1);
	harness_random_key(w2);
	harness_enroll(h, w1, NULL);
	fresh_kdf(h, &root, &kdf);

	assert_int_equal(setenv("LATCHKEY_TEST_FAIL_AT", "rename", 1), 0);
	rewrap(h, &root, w1, w2, &kdf, &rep);
	unsetenv("LATCHKEY_TEST_FAIL_AT");
	assert_int_equal(rep.type, LK_REP_ERROR);
	assert_int_equal(rep.status, LK_E_INTERNAL);
	assert_true(lk_msg_has(&rep, LK_T_TEXT));
	assert_non_null(strstr(rep.text, "nothing was changed"));
	assert_true(harness_disk_opens(h, w1, NULL));
	assert_false(harness_disk_opens(h, w2, NULL));
	assert_int_equal(temp_files_in_protectors(h), 0);
	auth_submit(h, &root, w1, &rep);
	assert_int_equal(rep.type, LK_REP_OK);

	/* The same request again, with a healthy disk, goes through. */
	rewrap(h, &root, w1, w2, &kdf, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	assert_true(harness_disk_opens(h, w2, NULL));
}

/* The write fails after its rename (the directory's fsync): the new file is
 * in place, so the reply is OK, and the new password is what opens.
 * Fault injection (LATCHKEY_TEST_FAIL_AT) exists in test builds only. */
static void test_rewrap_fails_after_rename(void **state)
{
	HARNESS_REQUIRE_TEST_HOOKS();
	struct harness *h = *state;
	struct peer root = harness_peer(h, 0);
	uint8_t w1[LK_WRAP_KEY_SIZE], w2[LK_WRAP_KEY_SIZE];
	struct lk_kdf_params kdf;
	struct lk_msg rep;

	harness_random_key(w1);
	harness_random_key(w2);
	harness_enroll(h, w1, NULL);
	fresh_kdf(h, &root, &kdf);

	assert_int_equal(setenv("LATCHKEY_TEST_FAIL_AT", "dirsync", 1), 0);
	rewrap(h, &root, w1, w2, &kdf, &rep);
	unsetenv("LATCHKEY_TEST_FAIL_AT");
	assert_int_equal(rep.type, LK_REP_OK);
	assert_true(harness_disk_opens(h, w2, NULL));
	assert_false(harness_disk_opens(h, w1, NULL));
	auth_submit(h, &root, w2, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	auth_submit(h, &root, w1, &rep);
	assert_int_equal(rep.status, LK_E_BAD_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enroll_and_kdf_params, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_auth_submit, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrap, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_no_key_held, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrap_fails_before_rename, harness_setup, harness_teardown),
	    cmocka_unit_test_setup_teardown(test_rewrap_fails_after_rename, harness_setup, harness_teardown),
	};

	if (!harness_can_run())
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
