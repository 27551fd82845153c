/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Known-answer tests for HKDF and AES-256-GCM, and the hex helpers. */
#include "test-util.h"

#include <errno.h>

#include "crypto.h"

/* RFC 5869 appendix A.1, test case 1 (SHA-256). */
static void test_hkdf_rfc5869_tc1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];
	size_t n;
	uint8_t *want = unhex_alloc(
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", &n);

	memset(ikm, 0x0b, sizeof(ikm));
	for (size_t i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(info); i++)
		info[i] = (uint8_t)(0xf0 + i);
	assert_int_equal(
	    lk_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info, sizeof(info), okm, sizeof(okm)), 0);
	assert_int_equal(n, sizeof(okm));
	assert_memory_equal(okm, want, n);
	free(want);

	/* Bad sizes are refused, not silently accepted. */
	assert_int_equal(lk_hkdf_sha256(ikm, 0, NULL, 0, NULL, 0, okm, sizeof(okm)), -EINVAL);
	assert_int_equal(lk_hkdf_sha512(ikm, sizeof(ikm), NULL, 0, NULL, 0, okm, 0), -EINVAL);
}

/* RFC 5869 A.3: empty salt and info must equal "no salt" (HashLen zeros). */
static void test_hkdf_rfc5869_tc3(void **state)
{
	uint8_t ikm[22], okm[42];
	size_t n;
	uint8_t *want = unhex_alloc(
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", &n);

	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(lk_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, NULL, 0, okm, sizeof(okm)), 0);
	assert_memory_equal(okm, want, n);
	free(want);
}

struct gcm_vec {
	const char *name, *key, *iv, *aad, *pt, *ct, *tag;
	bool valid;
};

static const struct gcm_vec gcm_vectors[] = {
    /* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13-18 (AES-256). */
    {"gcm-tc13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b", true},
    {"gcm-tc14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919", true},
    {"gcm-tc15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf"
     "5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6"
     "393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c", true},
    {"gcm-tc16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf"
     "5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6"
     "393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b", true},
    {"gcm-tc17", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbad",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf"
     "5aa0de657ba637b39",
     "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0feb582d33934a4f0954cc2363bc73f7862ac430"
     "e64abe499f47c9b1f",
     "3a337dbf46a792c45e454913fe2ea8f2", true},
    {"gcm-tc18", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf"
     "5a0de6a57a637b39b",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf"
     "5aa0de657ba637b39",
     "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf40fc0c3b780f244452da3ebf1c5d82cdea241899"
     "7200ef82e44ae7e3f",
     "a44a8266ee1c8eb0c8b5d4cf5ae9f19a", true},
    /* Project Wycheproof testvectors_v1/aes_gcm_test.json, AES-256, 96-bit IV. */
    {"wycheproof-116", "0f112e59cdccd851c3b8e76c9f05a3b7c2e4feca5846afeb351c1cbcace82f04",
     "7147973339d86789a2c9a958",
     "37128be45f0a7f329546e1492c3c9c2d2534d5b1f5147e49ab91221e7c3edea21bbe47bfe3619437ce3c61e6e946c504f348296"
     "918219e51bf2c5598589cff",
     "102e5804dda1fb5d656077edb15cadb5d0bdee8c", "618ac626ae0e8d06c2fd2fb66be253dc26ed6e38",
     "d8d93ff975cb988f09174dcd439cb6a4", true},
    {"wycheproof-117", "2ce6b4c15f85fb2da5cc6c269491eef281980309181249ebf2832bd6d0732d0b",
     "c064fae9173b173fd6f11f34",
     "498d3075b09fed998280583d61bb36b6ce41f130063b80824d1586e143d349b126b16aa10fe57343ed223d6364ee602257fe313"
     "a7fc9bf9088f027795b8dc1d3",
     "f8a27a4baf00dc0555d222f2fa4fb42dc666ea3c", "aed58d8a252f740dba4bf6d36773bd5b41234bba",
     "01f93d7456aa184ebb49bea472b6d65d", true},
    {"wycheproof-118", "52350da5a572911ee0e0fcedb115af6f4570fbf9c74a11bc184444d6a621d60f",
     "d68ad045c1b9c2923cf5404c",
     "03a94b3841292d9bbf72f413c09167c54ee10537c049afe2bbcec43b18f3890b2fcdd3bb31e6d709274e199c0c4648eb3d8b38e"
     "0c1bf7f309443bef6937cde4123",
     "4e6e6dad2c16cfc6e7cac03636a4a6d88bd6a13e", "c7764411be13cfeaaece761bd3bb13552f088048",
     "bcc2544e79f34ea1076a12b76441d6fa", true},
    {"wycheproof-128", "00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f",
     "000000000000000000000000", "", "561008fa07a68f5c61285cd013464eaf", "23293e9b07ca7d1b0cae7cc489a973b3",
     "ffffffffffffffffffffffffffffffff", true},
    {"wycheproof-129", "00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f",
     "ffffffffffffffffffffffff", "", "c6152244cea1978d3e0bc274cf8c0b3b", "7cb6fc7c6abc009efe9551a99f36a421",
     "00000000000000000000000000000000", true},
    {"wycheproof-130", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "505152535455565758595a5b", "", "202122232425262728292a2b2c2d2e2f", "b2061457c0759fc1749f174ee1ccadfa",
     "9de8fef6d8ab1bf1bf887232eab590dd", false},
    {"wycheproof-131", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "505152535455565758595a5b", "", "202122232425262728292a2b2c2d2e2f", "b2061457c0759fc1749f174ee1ccadfa",
     "9ee8fef6d8ab1bf1bf887232eab590dd", false},
    {"wycheproof-132", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "505152535455565758595a5b", "", "202122232425262728292a2b2c2d2e2f", "b2061457c0759fc1749f174ee1ccadfa",
     "1ce8fef6d8ab1bf1bf887232eab590dd", false},
};

static void test_gcm_vectors(void **state)
{
	for (size_t v = 0; v < ELEMENTSOF(gcm_vectors); v++) {
		const struct gcm_vec *t = &gcm_vectors[v];
		size_t klen, ivlen, alen, plen, clen, tlen;
		uint8_t *key = unhex_alloc(t->key, &klen), *iv = unhex_alloc(t->iv, &ivlen);
		uint8_t *aad = unhex_alloc(t->aad, &alen), *pt = unhex_alloc(t->pt, &plen);
		uint8_t *ct = unhex_alloc(t->ct, &clen), *tag = unhex_alloc(t->tag, &tlen);
		uint8_t out[128], otag[16];
		int r;

		print_message("vector %s\n", t->name);
		assert_int_equal(klen, 32);
		assert_int_equal(plen, clen);
		assert_true(plen <= sizeof(out));

		memset(out, 0xaa, sizeof(out));
		r = lk_aead_open_ex(key, iv, ivlen, aad, alen, ct, clen, tag, tlen, out);
		if (t->valid) {
			assert_int_equal(r, 0);
			assert_memory_equal(out, pt, plen);

			assert_int_equal(
			    lk_aead_seal_ex(key, iv, ivlen, aad, alen, pt, plen, out, otag, tlen), 0);
			assert_memory_equal(out, ct, clen);
			assert_memory_equal(otag, tag, tlen);
			if (ivlen == 12) {
				assert_int_equal(lk_aead_seal(key, iv, aad, alen, pt, plen, out, otag), 0);
				assert_memory_equal(otag, tag, 16);
				assert_int_equal(lk_aead_open(key, iv, aad, alen, ct, clen, tag, out), 0);
				assert_memory_equal(out, pt, plen);
			}

			/* Derived invalid cases: a flipped bit anywhere must fail and
			 * leave no plaintext behind. */
			tag[tlen - 1] ^= 0x80;
			memset(out, 0xaa, sizeof(out));
			assert_int_equal(lk_aead_open_ex(key, iv, ivlen, aad, alen, ct, clen, tag, tlen, out),
			                 -EBADMSG);
			tag[tlen - 1] ^= 0x80;
			if (clen > 0) {
				ct[0] ^= 1;
				assert_int_equal(
				    lk_aead_open_ex(key, iv, ivlen, aad, alen, ct, clen, tag, tlen, out),
				    -EBADMSG);
				for (size_t i = 0; i < clen; i++)
					assert_int_equal(out[i], 0);
				ct[0] ^= 1;
			}
			if (alen > 0) {
				aad[alen - 1] ^= 1;
				assert_int_equal(
				    lk_aead_open_ex(key, iv, ivlen, aad, alen, ct, clen, tag, tlen, out),
				    -EBADMSG);
				aad[alen - 1] ^= 1;
			}
			iv[0] ^= 1;
			assert_int_equal(lk_aead_open_ex(key, iv, ivlen, aad, alen, ct, clen, tag, tlen, out),
			                 -EBADMSG);
			iv[0] ^= 1;
		} else {
			assert_int_equal(r, -EBADMSG);
			for (size_t i = 0; i < clen; i++)
				assert_int_equal(out[i], 0);
		}
		free(key), free(iv), free(aad), free(pt), free(ct), free(tag);
	}
}

static void test_gcm_bad_sizes(void **state)
{
	uint8_t key[32] = {}, iv[12] = {}, buf[16] = {}, tag[16] = {};

	assert_int_equal(lk_aead_seal_ex(key, iv, 0, NULL, 0, buf, sizeof(buf), buf + 0, tag, 16), -EINVAL);
	assert_int_equal(lk_aead_seal_ex(key, iv, 12, NULL, 0, buf, sizeof(buf), buf, tag, 17), -EINVAL);
	assert_int_equal(lk_aead_open_ex(key, iv, 12, NULL, 0, buf, sizeof(buf), tag, 0, buf), -EINVAL);
}

static void test_hex(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	uint8_t out[4] = {9, 9, 9, 9};
	char s[9];

	assert_string_equal(lk_hex(in, sizeof(in), s), "0001abff");
	assert_int_equal(lk_unhex("0001abff", out, 4), 0);
	assert_memory_equal(out, in, 4);
	assert_int_equal(lk_unhex("0001ABFF", out, 4), 0);
	memset(out, 9, sizeof(out));
	assert_int_equal(lk_unhex("0001abfg", out, 4), -EINVAL);
	assert_int_equal(lk_unhex("0001ab", out, 4), -EINVAL); /* too short: stops at the NUL */
	assert_int_equal(lk_unhex(" 001abff", out, 4), -EINVAL);
	/* Output untouched on failure. */
	assert_int_equal(out[0], 9);
}

static void test_random(void **state)
{
	uint8_t a[64] = {}, b[64] = {}, zero[64] = {};

	assert_int_equal(lk_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(lk_random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(lk_random_bytes(a, 0), 0);
}

/* The identifier is HKDF-SHA512 with info "fscrypt\0" 0x01; recompute it
 * with the generic HKDF as an independent check of the wrapper. The
 * kernel cross-check is test-keyid-kernel.sh (root tier). */
static void test_fscrypt_identifier(void **state)
{
	static const uint8_t info[9] = {'f', 's', 'c', 'r', 'y', 'p', 't', 0, 1};
	uint8_t key[64], id1[16], id2[16];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(lk_fscrypt_key_identifier(key, sizeof(key), id1), 0);
	assert_int_equal(lk_hkdf_sha512(key, sizeof(key), NULL, 0, info, sizeof(info), id2, 16), 0);
	assert_memory_equal(id1, id2, 16);
	key[63] ^= 1;
	assert_int_equal(lk_fscrypt_key_identifier(key, sizeof(key), id2), 0);
	assert_memory_not_equal(id1, id2, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hkdf_rfc5869_tc1),
	    cmocka_unit_test(test_hkdf_rfc5869_tc3),
	    cmocka_unit_test(test_gcm_vectors),
	    cmocka_unit_test(test_gcm_bad_sizes),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_fscrypt_identifier),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
