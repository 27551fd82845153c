/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Argon2 known answers (RFC 9106 section 5), parameter bounds, derivation. */
#include "test-util.h"

#include <errno.h>
#include <time.h>

#include "kdf.h"

static void rfc9106_kat(int type, const char *want_hex)
{
	uint8_t pwd[32], salt[16], secret[8], ad[12], out[32];
	size_t n;
	uint8_t *want = unhex_alloc(want_hex, &n);

	memset(pwd, 0x01, sizeof(pwd));
	memset(salt, 0x02, sizeof(salt));
	memset(secret, 0x03, sizeof(secret));
	memset(ad, 0x04, sizeof(ad));
	assert_int_equal(lk_argon2_raw(type, 3, 32, 4, pwd, sizeof(pwd), salt, sizeof(salt), secret,
	                               sizeof(secret), ad, sizeof(ad), out, sizeof(out)),
	                 0);
	assert_memory_equal(out, want, n);
	/* The caller's password buffer is never cleared. */
	for (size_t i = 0; i < sizeof(pwd); i++)
		assert_int_equal(pwd[i], 0x01);
	free(want);
}

static void test_argon2d_rfc9106(void **state)
{
	rfc9106_kat(0, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb");
}

static void test_argon2i_rfc9106(void **state)
{
	rfc9106_kat(1, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8");
}

static void test_argon2id_rfc9106(void **state)
{
	rfc9106_kat(2, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
}

static struct lk_kdf_params valid_params(void)
{
	struct lk_kdf_params p = {
	    .alg = LK_KDF_ARGON2ID,
	    .salt_len = LK_SALT_MIN,
	    .t_cost = 3,
	    .m_cost_kib = LK_KDF_M_MIN_KIB,
	    .parallelism = 1,
	};
	memset(p.salt, 0x5a, p.salt_len);
	return p;
}

static void test_params_bounds(void **state)
{
	struct lk_kdf_params p = valid_params();
	struct {
		uint32_t *field;
		uint32_t lo, hi;
	} bounds[] = {
	    {&p.t_cost, LK_KDF_T_MIN, LK_KDF_T_MAX},
	    {&p.m_cost_kib, LK_KDF_M_MIN_KIB, LK_KDF_M_MAX_KIB},
	    {&p.parallelism, LK_KDF_P_MIN, LK_KDF_P_MAX},
	};

	assert_int_equal(lk_kdf_params_check(&p), 0);
	for (size_t i = 0; i < ELEMENTSOF(bounds); i++) {
		uint32_t saved = *bounds[i].field;

		*bounds[i].field = bounds[i].lo - 1;
		assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
		*bounds[i].field = bounds[i].lo;
		assert_int_equal(lk_kdf_params_check(&p), 0);
		*bounds[i].field = bounds[i].hi;
		assert_int_equal(lk_kdf_params_check(&p), 0);
		*bounds[i].field = bounds[i].hi + 1;
		assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
		*bounds[i].field = UINT32_MAX;
		assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
		*bounds[i].field = saved;
	}

	p.salt_len = LK_SALT_MIN - 1;
	assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
	p.salt_len = LK_SALT_MIN;
	assert_int_equal(lk_kdf_params_check(&p), 0);
	p.salt_len = LK_SALT_MAX;
	assert_int_equal(lk_kdf_params_check(&p), 0);
	p.salt_len = LK_SALT_MAX + 1;
	assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
	p.salt_len = 0;
	assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
	p.salt_len = LK_SALT_MIN;

	p.alg = 0;
	assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
	p.alg = LK_KDF_ARGON2ID + 1;
	assert_int_equal(lk_kdf_params_check(&p), -EINVAL);
	assert_int_equal(lk_kdf_params_check(NULL), -EINVAL);
}

static void test_derive(void **state)
{
	static const char pw[] = "correct horse battery staple";
	struct lk_kdf_params p = valid_params();
	uint8_t a[LK_WRAP_KEY_SIZE], b[LK_WRAP_KEY_SIZE], c[LK_WRAP_KEY_SIZE];
	char copy[sizeof(pw)];

	memcpy(copy, pw, sizeof(pw));
	assert_int_equal(lk_kdf_derive(&p, copy, strlen(copy), a), 0);
	assert_string_equal(copy, pw); /* the caller's passphrase is not wiped */
	assert_int_equal(lk_kdf_derive(&p, copy, strlen(copy), b), 0);
	assert_memory_equal(a, b, sizeof(a));

	p.salt[0] ^= 1;
	assert_int_equal(lk_kdf_derive(&p, copy, strlen(copy), c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	p.salt[0] ^= 1;

	/* Out-of-bounds parameters are refused before any work, output untouched. */
	memset(c, 0x77, sizeof(c));
	p.m_cost_kib = LK_KDF_M_MAX_KIB + 1;
	assert_int_equal(lk_kdf_derive(&p, copy, strlen(copy), c), -EINVAL);
	assert_int_equal(c[0], 0x77);

	/* An empty passphrase is a valid input (the caller decides policy). */
	p = valid_params();
	assert_int_equal(lk_kdf_derive(&p, "", 0, c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_floor(void **state)
{
	struct lk_kdf_params a, b;
	uint8_t w[LK_WRAP_KEY_SIZE];
	double t0;

	assert_int_equal(lk_kdf_floor(&a), 0);
	assert_int_equal(lk_kdf_floor(&b), 0);
	assert_int_equal(lk_kdf_params_check(&a), 0);
	assert_int_equal(a.t_cost, 3);
	assert_int_equal(a.m_cost_kib, LK_KDF_M_MIN_KIB);
	assert_int_equal(a.parallelism, 1); /* one lane: libsodium */
	assert_int_equal(a.salt_len, LK_SALT_MIN);
	assert_memory_not_equal(a.salt, b.salt, LK_SALT_MIN);

	t0 = now_ms();
	assert_int_equal(lk_kdf_derive(&a, "x", 1, w), 0);
	print_message("Argon2id floor (t=%u m=%u KiB p=%u): %.0f ms\n", a.t_cost, a.m_cost_kib, a.parallelism,
	              now_ms() - t0);
}

static void test_tune(void **state)
{
	struct lk_kdf_params p;

	/* A small target: tuning must still never go below the floor. */
	assert_int_equal(lk_kdf_tune(50, 0, &p), 0);
	assert_int_equal(lk_kdf_params_check(&p), 0);
	assert_true(p.t_cost >= 3 && p.t_cost <= 10);
	assert_true(p.m_cost_kib >= LK_KDF_M_MIN_KIB);
	print_message("tuned for 50 ms: t=%u m=%u KiB p=%u\n", p.t_cost, p.m_cost_kib, p.parallelism);

	/* A memory limit below the floor still yields the floor. */
	assert_int_equal(lk_kdf_tune(50, 1024, &p), 0);
	assert_int_equal(p.m_cost_kib, LK_KDF_M_MIN_KIB);
	assert_int_equal(lk_kdf_tune(0, 0, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_argon2d_rfc9106),
	    cmocka_unit_test(test_argon2i_rfc9106),
	    cmocka_unit_test(test_argon2id_rfc9106),
	    cmocka_unit_test(test_params_bounds),
	    cmocka_unit_test(test_derive),
	    cmocka_unit_test(test_floor),
	    cmocka_unit_test(test_tune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
