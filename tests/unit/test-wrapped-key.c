/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wrapped policy keys: layout, tamper resistance, uid and identifier binding. */
#include "test-util.h"

#include <errno.h>

#include "wrapped_key.h"

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static void test_round_trip(void **state)
{
	uint8_t p[32], k[64], id[16], blob[LK_WRAPPED_KEY_SIZE], blob2[LK_WRAPPED_KEY_SIZE], kout[64],
	    idout[16];
	uint8_t peek_id[16];
	uint32_t uid = 0;

	fill(p, sizeof(p), 1);
	fill(k, sizeof(k), 2);
	assert_int_equal(lk_fscrypt_key_identifier(k, sizeof(k), id), 0);
	assert_int_equal(lk_wrapped_key_seal(1000, p, k, blob), 0);
	assert_memory_equal(blob, "LKWK\x01\x00\x01\x00\xe8\x03\x00\x00", 12);
	assert_memory_equal(blob + 12, id, 16);

	assert_int_equal(lk_wrapped_key_peek(blob, sizeof(blob), &uid, peek_id), 0);
	assert_int_equal(uid, 1000);
	assert_memory_equal(peek_id, id, 16);

	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, idout), 0);
	assert_memory_equal(kout, k, 64);
	assert_memory_equal(idout, id, 16);

	/* Fresh nonce each time. */
	assert_int_equal(lk_wrapped_key_seal(1000, p, k, blob2), 0);
	assert_memory_not_equal(blob + 28, blob2 + 28, 12);
	assert_memory_not_equal(blob + 40, blob2 + 40, 64);
}

static void test_every_bit(void **state)
{
	uint8_t p[32], k[64], blob[LK_WRAPPED_KEY_SIZE], kout[64];

	fill(p, sizeof(p), 3);
	fill(k, sizeof(k), 4);
	assert_int_equal(lk_wrapped_key_seal(5, p, k, blob), 0);
	for (size_t bit = 0; bit < sizeof(blob) * 8; bit++) {
		blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(kout, 0x55, sizeof(kout));
		assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 5, p, kout, NULL), -EBADMSG);
		assert_int_equal(kout[0], 0x55);
		blob[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 5, p, kout, NULL), 0);
	for (size_t l = 0; l < sizeof(blob); l++)
		assert_int_equal(lk_wrapped_key_open(blob, l, 5, p, kout, NULL), -EBADMSG);
	assert_int_equal(lk_wrapped_key_peek(blob, sizeof(blob) + 1, NULL, NULL), -EBADMSG);
}

static void test_wrong_uid_and_p(void **state)
{
	uint8_t p[32], k[64], blob[LK_WRAPPED_KEY_SIZE], kout[64];

	fill(p, sizeof(p), 5);
	fill(k, sizeof(k), 6);
	assert_int_equal(lk_wrapped_key_seal(2000, p, k, blob), 0);
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, NULL), -EBADMSG);
	/* Header uid edited to the caller's: the AAD catches it. */
	blob[8] = 0xe8, blob[9] = 0x03;
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, NULL), -EBADMSG);
	blob[8] = 0xd0, blob[9] = 0x07;
	p[0] ^= 1;
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 2000, p, kout, NULL), -EBADMSG);
	p[0] ^= 1;
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 2000, p, kout, NULL), 0);
}

/* A well-formed, authentic blob whose header names another key's identifier
 * (as a buggy or malicious writer holding P could produce) is refused. */
static void test_key_id_mismatch(void **state)
{
	uint8_t p[32], k[64], blob[LK_WRAPPED_KEY_SIZE], kout[64], kek[32];
	static const char info[] = LK_INFO_POLICY;

	fill(p, sizeof(p), 7);
	fill(k, sizeof(k), 8);
	assert_int_equal(lk_wrapped_key_seal(9, p, k, blob), 0);
	blob[12] ^= 0xff; /* wrong identifier ... */
	/* ... then re-seal honestly with the edited header as AAD. */
	assert_int_equal(lk_hkdf_sha256(p, 32, NULL, 0, (const uint8_t *)info, strlen(info), kek, 32), 0);
	assert_int_equal(lk_aead_seal(kek, blob + 28, blob, 28, k, 64, blob + 40, blob + 104), 0);
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 9, p, kout, NULL), -EBADMSG);
	blob[12] ^= 0xff;
	assert_int_equal(lk_aead_seal(kek, blob + 28, blob, 28, k, 64, blob + 40, blob + 104), 0);
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 9, p, kout, NULL), 0);
}

/* The v1 descriptor against values computed independently (python3:
 * hashlib.sha512(hashlib.sha512(k).digest()).hexdigest()[:16]). */
static void test_v1_descriptor(void **state)
{
	uint8_t k[64], d[LK_V1_DESCRIPTOR_SIZE], id[LK_KEY_ID_SIZE];
	char hex[2 * LK_KEY_ID_SIZE + 1];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	assert_int_equal(lk_fscrypt_v1_descriptor(k, sizeof(k), d), 0);
	assert_string_equal(lk_hex(d, sizeof(d), hex), "04334e23057a6e2d");
	assert_int_equal(lk_wrapped_key_id(LK_WRAPPED_FSCRYPT_V1, k, id), 0);
	assert_string_equal(lk_hex(id, sizeof(id), hex), "04334e23057a6e2d0000000000000000");
	assert_true(lk_key_id_is_v1(id));

	memset(k, 0x5a, sizeof(k));
	assert_int_equal(lk_fscrypt_v1_descriptor(k, sizeof(k), d), 0);
	assert_string_equal(lk_hex(d, sizeof(d), hex), "37d1a5a45557972c");

	/* A v2 identifier is a different hash of the same key. */
	assert_int_equal(lk_wrapped_key_id(LK_WRAPPED_FSCRYPT_V2, k, id), 0);
	assert_false(lk_key_id_is_v1(id));
	assert_memory_not_equal(id, d, sizeof(d));
	assert_int_equal(lk_wrapped_key_id(3, k, id), -EINVAL);
}

/* A v1 copy: its kind and the descriptor-shaped identifier are in the
 * authenticated header, and neither kind passes for the other. */
static void test_v1_round_trip(void **state)
{
	uint8_t p[32], k[64], d[8], blob[LK_WRAPPED_KEY_SIZE], kout[64], idout[16];
	static const char info[] = LK_INFO_POLICY;
	uint8_t kek[32];

	fill(p, sizeof(p), 9);
	fill(k, sizeof(k), 10);
	assert_int_equal(lk_fscrypt_v1_descriptor(k, sizeof(k), d), 0);
	assert_int_equal(lk_wrapped_key_seal_kind(LK_WRAPPED_FSCRYPT_V1, 1000, p, k, blob), 0);
	assert_memory_equal(blob, "LKWK\x01\x00\x02\x00\xe8\x03\x00\x00", 12);
	assert_memory_equal(blob + 12, d, 8);
	assert_memory_equal(blob + 20, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(lk_wrapped_key_kind(blob, sizeof(blob)), LK_WRAPPED_FSCRYPT_V1);
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, idout), 0);
	assert_memory_equal(kout, k, 64);
	assert_memory_equal(idout, blob + 12, 16);

	/* Relabelled as v2 and re-sealed by someone holding P: the v2
	 * identifier of K is not the descriptor, so it is refused. */
	blob[6] = LK_WRAPPED_FSCRYPT_V2;
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, NULL), -EBADMSG);
	assert_int_equal(lk_hkdf_sha256(p, 32, NULL, 0, (const uint8_t *)info, strlen(info), kek, 32), 0);
	assert_int_equal(lk_aead_seal(kek, blob + 28, blob, 28, k, 64, blob + 40, blob + 104), 0);
	assert_int_equal(lk_wrapped_key_open(blob, sizeof(blob), 1000, p, kout, NULL), -EBADMSG);

	/* Unknown kinds are malformed. */
	blob[6] = 3;
	assert_int_equal(lk_wrapped_key_kind(blob, sizeof(blob)), -EBADMSG);
	assert_int_equal(lk_wrapped_key_peek(blob, sizeof(blob), NULL, NULL), -EBADMSG);
}

static void test_xattr_name(void **state)
{
	char buf[64];

	assert_int_equal(lk_wrapped_key_xattr_name(1000, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "trusted.latchkey.key.1000");
	assert_int_equal(lk_wrapped_key_xattr_name(4294967295u, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "trusted.latchkey.key.4294967295");
	assert_int_equal(lk_wrapped_key_xattr_name(1000, buf, 25), -ENOBUFS);
	assert_int_equal(lk_wrapped_key_xattr_name(1000, buf, 26), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_every_bit),
	    cmocka_unit_test(test_wrong_uid_and_p), cmocka_unit_test(test_key_id_mismatch),
	    cmocka_unit_test(test_v1_descriptor),   cmocka_unit_test(test_v1_round_trip),
	    cmocka_unit_test(test_xattr_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
