/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escrow: RFC 7748 X25519 vector, a seal known-answer, seal/open round
 * trips, and that the wrong key or a tampered E gives another W. */
#include "test-util.h"

#include <errno.h>

#include "escrow.h"

/* RFC 7748 section 6.1. */
#define ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
/* HKDF-SHA256(SHARED, salt "", "latchkey v1 escrow" || ALICE_PUB || BOB_PUB),
 * computed with Python's hmac module (RFC 5869 by hand), not with our code. */
#define SEAL_W "2acb0ee6bbff47aa29729de795d4e536ae75299266126a60a78ea43060de90d3"

/* The same with the version 2 binding: uid 1000, user "alice", machine id
 * 00 01 .. 0f (HKDF by hand with Python's hmac, as above). */
#define SEAL_W_BOUND "5033a7578d5440f63426412672d535ee171fd93106c48f8e334cc2086b4e58c6"

static void unhex32(const char *hex, uint8_t out[32])
{
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(lk_unhex(hex, out, 32), 0);
}

static void test_rfc7748(void **state)
{
	uint8_t a[32], b[32], A[32], B[32], k[32], got[32];

	unhex32(ALICE_PRIV, a);
	unhex32(BOB_PRIV, b);
	unhex32(ALICE_PUB, A);
	unhex32(BOB_PUB, B);
	unhex32(SHARED, k);

	assert_int_equal(lk_escrow_public_from_private(a, got), 0);
	assert_memory_equal(got, A, 32);
	assert_int_equal(lk_escrow_public_from_private(b, got), 0);
	assert_memory_equal(got, B, 32);
	assert_int_equal(lk_escrow_x25519(a, B, got), 0);
	assert_memory_equal(got, k, 32);
	assert_int_equal(lk_escrow_x25519(b, A, got), 0);
	assert_memory_equal(got, k, 32);
}

/* Sealing with Alice as the ephemeral key to Bob as the recipient: E is
 * Alice's public key and W the independently computed HKDF output; Bob's
 * open gives the same W. */
static void test_seal_known_answer(void **state)
{
	uint8_t a[32], b[32], A[32], B[32], want[32], E[32], W[32], W2[32];

	unhex32(ALICE_PRIV, a);
	unhex32(BOB_PRIV, b);
	unhex32(ALICE_PUB, A);
	unhex32(BOB_PUB, B);
	unhex32(SEAL_W, want);

	assert_int_equal(lk_escrow_seal_with(a, B, E, W), 0);
	assert_memory_equal(E, A, 32);
	assert_memory_equal(W, want, 32);
	assert_int_equal(lk_escrow_open(b, E, W2), 0);
	assert_memory_equal(W2, want, 32);
}

/* V2: a known answer, and W changes with the uid, the user name and the
 * machine id, so an answer for one of them opens no other's slot. */
static void test_bound(void **state)
{
	uint8_t a[32], b[32], B[32], want[32], E[32], W[32], W2[32];
	struct lk_escrow_binding bind = {.uid = 1000, .user = "alice"};

	for (int i = 0; i < 16; i++)
		bind.machine_id[i] = (uint8_t)i;
	unhex32(ALICE_PRIV, a);
	unhex32(BOB_PRIV, b);
	unhex32(BOB_PUB, B);
	unhex32(SEAL_W_BOUND, want);
	assert_int_equal(lk_escrow_seal_bound_with(a, B, &bind, E, W), 0);
	assert_memory_equal(W, want, 32);
	assert_int_equal(lk_escrow_open_bound(b, E, &bind, W2), 0);
	assert_memory_equal(W2, want, 32);

	bind.uid = 1001;
	assert_int_equal(lk_escrow_open_bound(b, E, &bind, W2), 0);
	assert_memory_not_equal(W2, want, 32);
	bind.uid = 1000;
	bind.user = "alicf";
	assert_int_equal(lk_escrow_open_bound(b, E, &bind, W2), 0);
	assert_memory_not_equal(W2, want, 32);
	bind.user = "alice";
	bind.machine_id[15] ^= 1;
	assert_int_equal(lk_escrow_open_bound(b, E, &bind, W2), 0);
	assert_memory_not_equal(W2, want, 32);
	/* Unbound (v1) is another W again; an empty user name is refused. */
	assert_int_equal(lk_escrow_open(b, E, W2), 0);
	assert_memory_not_equal(W2, want, 32);
	bind.user = "";
	assert_int_equal(lk_escrow_open_bound(b, E, &bind, W2), -EINVAL);
}

static void test_round_trip_and_wrong_keys(void **state)
{
	uint8_t r[32], R[32], r2[32], R2[32], E[32], W[32], Wo[32], E2[32], Wseal2[32];

	assert_int_equal(lk_escrow_keygen(r, R), 0);
	assert_int_equal(lk_escrow_keygen(r2, R2), 0);
	assert_memory_not_equal(r, r2, 32);

	assert_int_equal(lk_escrow_seal(R, E, W), 0);
	assert_int_equal(lk_escrow_open(r, E, Wo), 0);
	assert_memory_equal(W, Wo, 32);

	/* Another private key: another W. */
	assert_int_equal(lk_escrow_open(r2, E, Wo), 0);
	assert_memory_not_equal(W, Wo, 32);

	/* A tampered E (each single bit flip of the first and last byte): another W. */
	for (int bit = 0; bit < 8; bit++) {
		uint8_t Et[32];

		memcpy(Et, E, 32);
		Et[0] ^= (uint8_t)(1u << bit);
		assert_int_equal(lk_escrow_open(r, Et, Wo), 0);
		assert_memory_not_equal(W, Wo, 32);
		memcpy(Et, E, 32);
		/* bit 7 of the last byte is masked by X25519 (RFC 7748 5.):
		 * the point is the same, but E is hashed into W, so W differs. */
		Et[31] ^= (uint8_t)(1u << bit);
		assert_int_equal(lk_escrow_open(r, Et, Wo), 0);
		assert_memory_not_equal(W, Wo, 32);
	}

	/* Two seals to the same recipient: fresh ephemeral keys, fresh W. */
	assert_int_equal(lk_escrow_seal(R, E2, Wseal2), 0);
	assert_memory_not_equal(E, E2, 32);
	assert_memory_not_equal(W, Wseal2, 32);
}

/* A low-order point as E (here 0 and 1) would make W the same for every
 * private key: refused. */
static void test_low_order_point(void **state)
{
	uint8_t r[32], R[32], E[32] = {0}, W[32];

	assert_int_equal(lk_escrow_keygen(r, R), 0);
	assert_int_equal(lk_escrow_open(r, E, W), -EINVAL);
	E[0] = 1;
	assert_int_equal(lk_escrow_open(r, E, W), -EINVAL);
	assert_int_equal(lk_escrow_seal(E, R, W), -EINVAL);
}

static void test_pem_round_trip(void **state)
{
	uint8_t r[32], R[32], got[32];
	char pem[LK_ESCROW_PEM_MAX], fp[LK_ESCROW_FINGERPRINT_SIZE];
	size_t n;

	assert_int_equal(lk_escrow_keygen(r, R), 0);

	assert_int_equal(lk_escrow_private_to_pem(r, pem, sizeof(pem), &n), 0);
	assert_int_equal(strlen(pem), n);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	assert_int_equal(lk_escrow_private_from_pem(pem, n, got), 0);
	assert_memory_equal(got, r, 32);
	/* A private key is not a public key and vice versa. */
	assert_int_equal(lk_escrow_public_from_pem(pem, n, got), -EINVAL);

	assert_int_equal(lk_escrow_public_to_pem(R, pem, sizeof(pem), &n), 0);
	assert_non_null(strstr(pem, "-----BEGIN PUBLIC KEY-----\n"));
	assert_int_equal(lk_escrow_public_from_pem(pem, n, got), 0);
	assert_memory_equal(got, R, 32);
	assert_int_equal(lk_escrow_private_from_pem(pem, n, got), -EINVAL);

	/* Too small an output buffer is an error, not a truncated PEM. */
	assert_int_equal(lk_escrow_public_to_pem(R, pem, 40, &n), -ENOBUFS);

	assert_int_equal(lk_escrow_fingerprint(R, fp), 0);
	assert_int_equal(strlen(fp), 64);
}

/* Keys of other types and garbage are refused. The Ed25519 key below is
 * RFC 8410 section 10.3's example; X448 would be refused the same way. */
static void test_pem_wrong_type(void **state)
{
	static const char ed25519_priv[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
	    "-----END PRIVATE KEY-----\n";
	static const char ed25519_pub[] = "-----BEGIN PUBLIC KEY-----\n"
	                                  "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
	                                  "-----END PUBLIC KEY-----\n";
	static const char garbage[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	uint8_t out[32];

	assert_int_equal(lk_escrow_private_from_pem(ed25519_priv, strlen(ed25519_priv), out), -EINVAL);
	assert_int_equal(lk_escrow_public_from_pem(ed25519_pub, strlen(ed25519_pub), out), -EINVAL);
	assert_int_equal(lk_escrow_public_from_pem(garbage, strlen(garbage), out), -EINVAL);
	assert_int_equal(lk_escrow_public_from_pem("", 0, out), -EINVAL);
}

/* An encrypted PKCS#8 key: -ENOKEY, and no prompt on the terminal. Made
 * with: openssl genpkey -algorithm X25519 | openssl pkcs8 -topk8 -v2 aes256
 * -passout pass:x */
static void test_pem_encrypted(void **state)
{
	static const char enc[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	                          "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgTHQzHIcSo2gICCAAw\n"
	                          "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEFYg5zulwk66H0T02etRqW8EQJLe\n"
	                          "Va1UnVRK/OsvVRVkjjcsYVbEHa7Q/1EgVnWChvaRFp0QzxB3UQ/1e0l/monGzOn7\n"
	                          "8kaUT4NmcJ4BXg1DHzI=\n"
	                          "-----END ENCRYPTED PRIVATE KEY-----\n";
	uint8_t out[32];

	assert_int_equal(lk_escrow_private_from_pem(enc, strlen(enc), out), -ENOKEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc7748),         cmocka_unit_test(test_seal_known_answer),
	    cmocka_unit_test(test_bound),           cmocka_unit_test(test_round_trip_and_wrong_keys),
	    cmocka_unit_test(test_low_order_point), cmocka_unit_test(test_pem_round_trip),
	    cmocka_unit_test(test_pem_wrong_type),  cmocka_unit_test(test_pem_encrypted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
