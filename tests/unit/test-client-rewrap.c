/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's KDF_PARAMS -> derive -> REWRAP sequence against a fake
 * transport: what goes out, and what each kind of reply comes back as. */
#include "test-util.h"

#include <errno.h>

#include "client.h"

struct fake {
	unsigned calls, derives;
	uint16_t sent_type;
	uint32_t sent_flags, sent_fields;
	uint8_t sent_key[LK_WRAP_KEY_SIZE], sent_new_key[LK_WRAP_KEY_SIZE];
	uint16_t reply_type;
	uint32_t reply_status; /* 0: none */
	int derive_r;
};

static void good_kdf(struct lk_kdf_params *k)
{
	*k = (struct lk_kdf_params){.alg = LK_KDF_ARGON2ID,
	                            .salt_len = 16,
	                            .t_cost = 3,
	                            .m_cost_kib = LK_KDF_M_MIN_KIB,
	                            .parallelism = 1};
	memset(k->salt, 0x5a, 16);
}

static int fake_call(void *userdata, struct lk_msg *req, struct lk_msg *rep)
{
	struct fake *f = userdata;

	f->calls++;
	f->sent_type = req->type;
	f->sent_flags = req->flags;
	f->sent_fields = req->fields;
	memcpy(f->sent_key, req->key, sizeof(f->sent_key));
	memcpy(f->sent_new_key, req->new_key, sizeof(f->sent_new_key));
	lk_msg_init(rep, f->reply_type, req->seq);
	if (f->reply_status)
		lk_msg_set_status(rep, f->reply_status);
	if (f->reply_type == LK_REP_KDF_PARAMS) {
		struct lk_kdf_params k;

		good_kdf(&k);
		lk_msg_set_kdf(rep, &k);
	}
	return 0;
}

static int fake_derive(void *userdata, const struct lk_kdf_params *kdf, const char *secret, size_t len,
                       uint8_t out[LK_WRAP_KEY_SIZE])
{
	struct fake *f = userdata;

	f->derives++;
	assert_int_equal(kdf->t_cost, 3);
	assert_int_equal(len, strlen(secret));
	memset(out, 0x77, LK_WRAP_KEY_SIZE);
	return f->derive_r;
}

static void test_fresh_key(void **state)
{
	struct fake f = {.reply_type = LK_REP_KDF_PARAMS};
	const struct lk_client_io io = {.call = fake_call, .derive = fake_derive, .userdata = &f};
	struct lk_msg req, rep;
	struct lk_kdf_params kdf;
	uint8_t key[LK_WRAP_KEY_SIZE], all77[LK_WRAP_KEY_SIZE], zero[LK_WRAP_KEY_SIZE] = {};

	memset(all77, 0x77, sizeof(all77));
	assert_int_equal(lk_client_fresh_key(&io, 1000, LK_SLOT_RECOVERY, "pw", 2, &req, &rep, &kdf, key), 0);
	assert_int_equal(f.sent_type, LK_REQ_KDF_PARAMS);
	assert_int_equal(f.sent_flags, LK_KDF_F_FRESH | LK_KDF_F_KIND(LK_SLOT_RECOVERY));
	assert_int_equal(f.derives, 1);
	assert_int_equal(kdf.t_cost, 3);
	assert_memory_equal(key, all77, sizeof(key));

	/* The daemon refuses: 1, its error in rep, no derivation. */
	f = (struct fake){.reply_type = LK_REP_ERROR, .reply_status = LK_E_NOT_ENROLLED};
	assert_int_equal(lk_client_fresh_key(&io, 1000, LK_SLOT_LOGIN, "pw", 2, &req, &rep, &kdf, key), 1);
	assert_true(lk_msg_is_error(&rep, LK_E_NOT_ENROLLED));
	assert_int_equal(f.derives, 0);

	/* Another reply, or no parameters: -EBADMSG. */
	f = (struct fake){.reply_type = LK_REP_OK};
	assert_int_equal(lk_client_fresh_key(&io, 1000, LK_SLOT_LOGIN, "pw", 2, &req, &rep, &kdf, key),
	                 -EBADMSG);
	assert_int_equal(f.derives, 0);

	/* A failed derivation leaves no partial key. */
	f = (struct fake){.reply_type = LK_REP_KDF_PARAMS, .derive_r = -ENOMEM};
	assert_int_equal(lk_client_fresh_key(&io, 1000, LK_SLOT_LOGIN, "pw", 2, &req, &rep, &kdf, key),
	                 -ENOMEM);
	assert_memory_equal(key, zero, sizeof(key));
}

static void test_rewrap(void **state)
{
	struct fake f = {.reply_type = LK_REP_OK};
	const struct lk_client_io io = {.call = fake_call, .userdata = &f};
	struct lk_msg req, rep;
	struct lk_kdf_params kdf;
	uint8_t old[LK_WRAP_KEY_SIZE], new_key[LK_WRAP_KEY_SIZE], zero[LK_WRAP_KEY_SIZE] = {};

	good_kdf(&kdf);
	memset(old, 0x11, sizeof(old));
	memset(new_key, 0x22, sizeof(new_key));
	assert_int_equal(
	    lk_client_rewrap(&io, 1000, LK_SLOT_LOGIN, old, LK_SLOT_LOGIN, &kdf, new_key, &req, &rep), 0);
	assert_int_equal(f.sent_type, LK_REQ_REWRAP);
	assert_int_equal(f.sent_flags, LK_RW_FLAGS(LK_SLOT_LOGIN, LK_SLOT_LOGIN));
	assert_true(f.sent_fields & LK_F(LK_T_KEY));
	assert_true(f.sent_fields & LK_F(LK_T_KDF));
	assert_memory_equal(f.sent_key, old, sizeof(old));
	assert_memory_equal(f.sent_new_key, new_key, sizeof(new_key));
	/* The request, which held both keys, is wiped after the call. */
	assert_memory_equal(req.key, zero, sizeof(zero));
	assert_memory_equal(req.new_key, zero, sizeof(zero));

	/* From a live session: no key sent. */
	f = (struct fake){.reply_type = LK_REP_ERROR, .reply_status = LK_E_NEED_PASSPHRASE};
	assert_int_equal(lk_client_rewrap(&io, 1000, 0, NULL, LK_SLOT_RECOVERY, &kdf, new_key, &req, &rep),
	                 0);
	assert_false(f.sent_fields & LK_F(LK_T_KEY));
	assert_int_equal(f.sent_flags, LK_RW_FLAGS(0, LK_SLOT_RECOVERY));
	assert_true(lk_msg_is_error(&rep, LK_E_NEED_PASSPHRASE));

	f = (struct fake){.reply_type = LK_REP_KDF_PARAMS};
	assert_int_equal(lk_client_rewrap(&io, 1000, 0, NULL, LK_SLOT_LOGIN, &kdf, new_key, &req, &rep),
	                 -EBADMSG);
	/* A key exactly when a source slot is named. */
	f = (struct fake){.reply_type = LK_REP_OK};
	assert_int_equal(
	    lk_client_rewrap(&io, 1000, LK_SLOT_LOGIN, NULL, LK_SLOT_LOGIN, &kdf, new_key, &req, &rep),
	    -EINVAL);
	assert_int_equal(lk_client_rewrap(&io, 1000, 0, old, LK_SLOT_LOGIN, &kdf, new_key, &req, &rep),
	                 -EINVAL);
	assert_int_equal(f.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_key),
	    cmocka_unit_test(test_rewrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
