/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protector files: layout, tamper resistance, slot semantics. */
#include "test-util.h"

#include <errno.h>

#include "crypto.h"
#include "protector.h"

static struct lk_kdf_params kdf_params(uint8_t seed)
{
	struct lk_kdf_params k = {
	    .alg = LK_KDF_ARGON2ID,
	    .salt_len = LK_SALT_MIN,
	    .t_cost = 3,
	    .m_cost_kib = LK_KDF_M_MIN_KIB,
	    .parallelism = 2,
	};
	memset(k.salt, seed, k.salt_len);
	return k;
}

/* W is normally Argon2id output; these tests only need some 32 bytes. */
static void make_protector(struct lk_protector *pr, uint32_t uid, const uint8_t w[32], const uint8_t p[32])
{
	struct lk_kdf_params k = kdf_params(0x11);
	uint32_t id = 0;

	memset(pr, 0, sizeof(*pr));
	pr->uid = uid;
	assert_int_equal(lk_protector_add_slot(pr, LK_SLOT_LOGIN, &k, w, p, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(pr->n_slots, 1);
}

static void test_round_trip(void **state)
{
	uint8_t w[32], p[32], out[32], buf[LK_PROTECTOR_MAX_SIZE], buf2[LK_PROTECTOR_MAX_SIZE];
	struct lk_protector pr, pr2;
	size_t len, len2;
	unsigned idx = 99;

	memset(w, 0xa5, sizeof(w));
	memset(p, 0x3c, sizeof(p));
	make_protector(&pr, 1000, w, p);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, LK_PROTECTOR_HDR_SIZE + LK_SLOT_SIZE);
	/* Header bytes as format.h says: "LKPF", version 2, 1 slot, uid, next id 2. */
	assert_memory_equal(buf, "LKPF\x02\x00\x01\x00\xe8\x03\x00\x00\x02\x00\x00\x00", 16);

	assert_int_equal(lk_protector_parse(buf, len, &pr2), 0);
	assert_int_equal(pr2.uid, 1000);
	assert_int_equal(pr2.n_slots, 1);
	assert_int_equal(lk_protector_serialize(&pr2, buf2, sizeof(buf2), &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);

	assert_int_equal(lk_protector_open(&pr2, LK_SLOT_LOGIN, w, out, &idx), 0);
	assert_int_equal(idx, 0);
	assert_memory_equal(out, p, 32);
	assert_int_equal(lk_protector_open(&pr2, 0, w, out, &idx), 0);
	assert_int_equal(lk_protector_open(&pr2, LK_SLOT_RECOVERY, w, out, &idx), -EBADMSG);

	/* Wrong W, output untouched. */
	w[31] ^= 1;
	memset(out, 0x77, sizeof(out));
	assert_int_equal(lk_protector_open(&pr2, 0, w, out, NULL), -EBADMSG);
	assert_int_equal(lk_protector_open_slot(&pr2, 0, w, out), -EBADMSG);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0x77);
	assert_int_equal(lk_protector_open_slot(&pr2, 1, w, out), -EINVAL);

	/* Too small a buffer. */
	assert_int_equal(lk_protector_serialize(&pr, buf, len - 1, &len2), -ENOBUFS);
}

/* Flip every bit of a one-slot file: parse or open must fail, never both succeed. */
static void test_every_bit(void **state)
{
	uint8_t w[32], p[32], out[32], buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_protector pr, t;
	size_t len;
	unsigned parse_fail = 0, open_fail = 0;

	memset(w, 0x42, sizeof(w));
	memset(p, 0x24, sizeof(p));
	make_protector(&pr, 4242, w, p);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);

	for (size_t bit = 0; bit < len * 8; bit++) {
		/* The id counter (bytes 12..15) is outside every AAD, so that adding a
		 * slot leaves the others valid: a higher one only skips ids (checked
		 * in test_slot_ids), a lower one is refused by parse. */
		if (bit / 8 >= 12 && bit / 8 < 16)
			continue;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (lk_protector_parse(buf, len, &t) < 0)
			parse_fail++;
		else {
			assert_int_equal(lk_protector_open(&t, 0, w, out, NULL), -EBADMSG);
			open_fail++;
		}
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	print_message("%zu flips: %u rejected by parse, %u by open\n", len * 8, parse_fail, open_fail);
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(lk_protector_open(&t, 0, w, out, NULL), 0);
}

static void test_truncate_extend(void **state)
{
	uint8_t w[32] = {1}, p[32] = {2}, buf[LK_PROTECTOR_MAX_SIZE + 1] = {};
	struct lk_protector pr, t;
	size_t len;

	make_protector(&pr, 7, w, p);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	for (size_t l = 0; l < len; l++)
		assert_int_equal(lk_protector_parse(buf, l, &t), -EBADMSG);
	for (size_t l = len + 1; l <= sizeof(buf); l++)
		assert_int_equal(lk_protector_parse(buf, l, &t), -EBADMSG);
	/* n_slots edited to match a longer buffer: the bogus second slot fails. */
	buf[6] = 2;
	assert_true(lk_protector_parse(buf, len + LK_SLOT_SIZE, &t) < 0);
	buf[6] = 0;
	assert_int_equal(lk_protector_parse(buf, LK_PROTECTOR_HDR_SIZE, &t), -EBADMSG);
	buf[6] = 9;
	assert_int_equal(lk_protector_parse(buf, LK_PROTECTOR_HDR_SIZE + 9 * LK_SLOT_SIZE, &t), -EBADMSG);
}

/* A file made for uid B, header uid edited to A: must not open for A. */
static void test_uid_swap(void **state)
{
	uint8_t w[32], p[32], out[32], buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_protector pr, t;
	size_t len;

	memset(w, 0x99, sizeof(w));
	memset(p, 0x66, sizeof(p));
	make_protector(&pr, 2000, w, p);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	buf[8] = 0xe8, buf[9] = 0x03, buf[10] = 0, buf[11] = 0; /* uid 1000 */
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(t.uid, 1000);
	assert_int_equal(lk_protector_open(&t, 0, w, out, NULL), -EBADMSG);
}

static void test_fresh_nonce(void **state)
{
	uint8_t w[32] = {5}, p[32] = {6};
	struct lk_protector a, b;

	make_protector(&a, 1, w, p);
	make_protector(&b, 1, w, p);
	assert_memory_not_equal(a.slots[0].nonce, b.slots[0].nonce, LK_GCM_NONCE_SIZE);
	assert_memory_not_equal(a.slots[0].ct, b.slots[0].ct, LK_PROTECTOR_KEY_SIZE);
}

static void test_slots(void **state)
{
	uint8_t w1[32], w2[32], p[32], out[32], buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_kdf_params k2 = kdf_params(0x22);
	struct lk_protector pr, t;
	uint32_t id;
	unsigned idx;
	size_t len;

	memset(w1, 1, sizeof(w1));
	memset(w2, 2, sizeof(w2));
	memset(p, 3, sizeof(p));
	make_protector(&pr, 1000, w1, p);

	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_RECOVERY, &k2, w2, p, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(lk_protector_find_kind(&pr, LK_SLOT_RECOVERY), 1);
	assert_int_equal(lk_protector_find_kind(&pr, LK_SLOT_LOGIN), 0);
	assert_int_equal(lk_protector_open(&pr, LK_SLOT_RECOVERY, w2, out, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(lk_protector_open(&pr, LK_SLOT_LOGIN, w2, out, &idx), -EBADMSG);

	/* Removing slot 1 leaves slot 2 valid (n_slots is not in the AAD). */
	assert_int_equal(lk_protector_remove_slot(&pr, 1), 0);
	assert_int_equal(pr.n_slots, 1);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(lk_protector_open(&t, 0, w2, out, &idx), 0);
	assert_memory_equal(out, p, 32);
	assert_int_equal(lk_protector_find_kind(&t, LK_SLOT_LOGIN), -ENOENT);

	/* Never the last slot; unknown ids are -ENOENT. */
	assert_int_equal(lk_protector_remove_slot(&t, 2), -EBUSY);
	assert_int_equal(lk_protector_remove_slot(&t, 1), -ENOENT);

	/* Ids are never reused: the next is max + 1. */
	assert_int_equal(lk_protector_add_slot(&t, LK_SLOT_LOGIN, &k2, w1, p, &id), 0);
	assert_int_equal(id, 3);

	/* Fill up to LK_MAX_SLOTS, then -ENOSPC. */
	while (t.n_slots < LK_MAX_SLOTS)
		assert_int_equal(lk_protector_add_slot(&t, LK_SLOT_LOGIN, &k2, w1, p, NULL), 0);
	assert_int_equal(lk_protector_add_slot(&t, LK_SLOT_LOGIN, &k2, w1, p, NULL), -ENOSPC);
	assert_int_equal(lk_protector_serialize(&t, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, LK_PROTECTOR_MAX_SIZE);
	assert_int_equal(lk_protector_parse(buf, len, &pr), 0);

	/* Bad kind or KDF parameters are refused. */
	assert_int_equal(lk_protector_remove_slot(&pr, 3), 0);
	assert_int_equal(lk_protector_add_slot(&pr, 9, &k2, w1, p, NULL), -EINVAL);
	k2.t_cost = 0;
	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_LOGIN, &k2, w1, p, NULL), -EINVAL);
}

/* Structural checks of the parser beyond the AEAD. */
static void test_parse_strict(void **state)
{
	uint8_t w[32] = {8}, p[32] = {9}, buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_kdf_params k = kdf_params(0x33);
	struct lk_protector pr, t;
	size_t len;
	uint8_t *s1, *s2;

	make_protector(&pr, 1, w, p);
	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_LOGIN, &k, w, p, NULL), 0);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	s1 = buf + LK_PROTECTOR_HDR_SIZE;
	s2 = s1 + LK_SLOT_SIZE;

	/* Duplicate slot ids. */
	s2[4] = s1[4];
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	s2[4] = 2;
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	/* Non-zero reserved bytes (header and slot), salt tail, bad magic/version. */
	/* The id counter must stay above every id (3 > 2). */
	buf[12] = 2;
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	buf[12] = 3;
	s1[3] = 2; /* no such derivation */
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	s1[3] = LK_SLOT_DERIV_V2;
	s1[20 + LK_SALT_MIN] = 1;
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	s1[20 + LK_SALT_MIN] = 0;
	buf[4] = 3;
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	buf[4] = 2;
	/* KDF parameters out of bounds: a downgrade (m below 64 MiB) and a DoS (huge m). */
	s1[14] = 0; /* m_cost bits 16..23: 0x010000 -> 0 */
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	s1[14] = 1;
	s1[15] = 0xff;
	assert_int_equal(lk_protector_parse(buf, len, &t), -EBADMSG);
	s1[15] = 0;
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
}

/* Ids are never reused: the counter survives removal and a round trip. */
static void test_slot_ids(void **state)
{
	uint8_t w[32] = {5}, p[32] = {6}, buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_kdf_params k = kdf_params(0x44);
	struct lk_protector pr, t;
	uint32_t id;
	size_t len;

	make_protector(&pr, 77, w, p);
	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_RECOVERY, &k, w, p, &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(lk_protector_remove_slot(&pr, 2), 0);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(t.next_slot_id, 3);
	k.salt[0] ^= 1;
	assert_int_equal(lk_protector_add_slot(&t, LK_SLOT_RECOVERY, &k, w, p, &id), 0);
	assert_int_equal(id, 3); /* not 2, which a removed slot had */
}

/*
 * A version 1 file (slot KEK info LK_INFO_SLOT, AAD header version 1), made
 * here by hand as the old code wrote it: parsed, opened, rewritten as version
 * 2 with the old slot kept bit for bit (it still opens), and a new slot is V2,
 * whose KEK (kind and uid in the info) and AAD are recomputed independently.
 */
static void test_v1_upgrade(void **state)
{
	static const uint8_t hdr_v1[16] = {'L', 'K', 'P', 'F', 1, 0, 1, 0, 0x39, 0x30, 0, 0, 0, 0, 0, 0};
	uint8_t w[32], p[32], out[32], kek[32], aad[16 + 52], file[16 + 112], buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_kdf_params k = kdf_params(0x55);
	struct lk_protector pr, t;
	uint8_t *slot = file + 16, info[sizeof(LK_INFO_SLOT_V2) - 1 + 5];
	uint32_t id;
	size_t len;

	memset(w, 0x71, sizeof(w));
	memset(p, 0x72, sizeof(p));
	memcpy(file, hdr_v1, 16);
	memset(slot, 0, 112);
	slot[0] = LK_SLOT_LOGIN, slot[1] = LK_KDF_ARGON2ID, slot[2] = LK_SALT_MIN, slot[4] = 7; /* id 7 */
	slot[8] = 3, slot[14] = 1, slot[16] = 2; /* t=3, m=64 MiB, p=2 */
	memcpy(slot + 20, k.salt, LK_SALT_MIN);
	memset(slot + 52, 0x13, 12);
	memcpy(aad, hdr_v1, 16);
	aad[6] = 0; /* n_slots forced to 0 */
	memcpy(aad + 16, slot, 52);
	assert_int_equal(
	    lk_hkdf_sha256(w, 32, NULL, 0, (const uint8_t *)LK_INFO_SLOT, strlen(LK_INFO_SLOT), kek, 32), 0);
	assert_int_equal(lk_aead_seal(kek, slot + 52, aad, sizeof(aad), p, 32, slot + 64, slot + 96), 0);

	assert_int_equal(lk_protector_parse(file, sizeof(file), &pr), 0);
	assert_int_equal(pr.next_slot_id, 8);
	assert_int_equal(lk_protector_open(&pr, LK_SLOT_LOGIN, w, out, NULL), 0);
	assert_memory_equal(out, p, 32);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	assert_int_equal(buf[4], 2);
	assert_int_equal(buf[12], 8);
	assert_memory_equal(buf + 16, slot, 112); /* the old slot unchanged */
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(lk_protector_open(&t, LK_SLOT_LOGIN, w, out, NULL), 0);
	/* A v1 file may not claim the second derivation. */
	file[16 + 3] = LK_SLOT_DERIV_V2;
	assert_int_equal(lk_protector_parse(file, sizeof(file), &pr), -EBADMSG);

	k.salt[0] ^= 1;
	w[0] ^= 1;
	assert_int_equal(lk_protector_add_slot(&t, LK_SLOT_RECOVERY, &k, w, p, &id), 0);
	assert_int_equal(id, 8);
	assert_int_equal(lk_protector_serialize(&t, buf, sizeof(buf), &len), 0);
	slot = buf + 16 + 112;
	assert_int_equal(slot[3], LK_SLOT_DERIV_V2);
	memcpy(info, LK_INFO_SLOT_V2, sizeof(LK_INFO_SLOT_V2) - 1);
	memcpy(info + sizeof(LK_INFO_SLOT_V2) - 1, (const uint8_t[]){LK_SLOT_RECOVERY, 0x39, 0x30, 0, 0}, 5);
	assert_int_equal(lk_hkdf_sha256(w, 32, NULL, 0, info, sizeof(info), kek, 32), 0);
	memcpy(aad, buf, 16);
	aad[6] = 0, aad[12] = 0; /* n_slots and next_id forced to 0 */
	memcpy(aad + 16, slot, 52);
	assert_int_equal(lk_aead_open(kek, slot + 52, aad, sizeof(aad), slot + 64, 32, slot + 96, out), 0);
	assert_memory_equal(out, p, 32);
	/* The same slot under the v1 info does not open: the info is the kind's. */
	assert_int_equal(
	    lk_hkdf_sha256(w, 32, NULL, 0, (const uint8_t *)LK_INFO_SLOT, strlen(LK_INFO_SLOT), kek, 32), 0);
	assert_int_equal(lk_aead_open(kek, slot + 52, aad, sizeof(aad), slot + 64, 32, slot + 96, out),
	                 -EBADMSG);
}

/* A V2 escrow slot opens only with the binding it was made with: the user
 * name and machine id are in its AAD, though not in the file. */
static void test_escrow_binding(void **state)
{
	static const uint8_t mid[LK_MACHINE_ID_SIZE] = {1, 2, 3}, other[LK_MACHINE_ID_SIZE] = {1, 2, 4};
	struct lk_kdf_params k = {.alg = LK_KDF_X25519, .salt_len = 32};
	uint8_t w[32] = {0x61}, we[32] = {0x62}, p[32] = {0x63}, out[32], buf[LK_PROTECTOR_MAX_SIZE];
	struct lk_protector pr, t;
	size_t len;

	memset(k.salt, 0x64, 32);
	make_protector(&pr, 1234, w, p);
	/* Without a binding no escrow slot can be made. */
	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_ESCROW, &k, we, p, NULL), -EINVAL);
	assert_int_equal(lk_protector_set_binding(&pr, "alice", mid), 0);
	assert_int_equal(lk_protector_add_slot(&pr, LK_SLOT_ESCROW, &k, we, p, NULL), 0);
	assert_int_equal(lk_protector_serialize(&pr, buf, sizeof(buf), &len), 0);
	assert_int_equal(lk_protector_parse(buf, len, &t), 0);
	assert_int_equal(lk_protector_open(&t, LK_SLOT_ESCROW, we, out, NULL), -EBADMSG);
	assert_int_equal(lk_protector_set_binding(&t, "alice", other), 0);
	assert_int_equal(lk_protector_open(&t, LK_SLOT_ESCROW, we, out, NULL), -EBADMSG);
	assert_int_equal(lk_protector_set_binding(&t, "bob", mid), 0);
	assert_int_equal(lk_protector_open(&t, LK_SLOT_ESCROW, we, out, NULL), -EBADMSG);
	assert_int_equal(lk_protector_set_binding(&t, "alice", mid), 0);
	assert_int_equal(lk_protector_open(&t, LK_SLOT_ESCROW, we, out, NULL), 0);
	assert_memory_equal(out, p, 32);
	/* The login slot opens whatever the binding. */
	assert_int_equal(lk_protector_open(&t, LK_SLOT_LOGIN, w, out, NULL), 0);
	assert_int_equal(lk_protector_set_binding(&t, "", mid), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_every_bit),
	    cmocka_unit_test(test_truncate_extend), cmocka_unit_test(test_uid_swap),
	    cmocka_unit_test(test_fresh_nonce),     cmocka_unit_test(test_slots),
	    cmocka_unit_test(test_parse_strict),    cmocka_unit_test(test_slot_ids),
	    cmocka_unit_test(test_v1_upgrade),      cmocka_unit_test(test_escrow_binding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
