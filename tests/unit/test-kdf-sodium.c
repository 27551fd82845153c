/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one-lane Argon2id path through libsodium: equal outputs to libargon2
 * for the same inputs, which library each kind of slot goes to, and that the
 * new kind starts no thread. Linked with --wrap for crypto_pwhash_argon2id
 * and argon2_ctx, so the calls lib/kdf.c makes are counted on their way to
 * the real libraries.
 */
#include "test-util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <argon2.h>

#include "kdf.h"

static unsigned sodium_calls, argon2_calls;

int __real_crypto_pwhash_argon2id(unsigned char *out, unsigned long long outlen, const char *passwd,
                                  unsigned long long passwdlen, const unsigned char *salt,
                                  unsigned long long opslimit, size_t memlimit, int alg);
int __wrap_crypto_pwhash_argon2id(unsigned char *out, unsigned long long outlen, const char *passwd,
                                  unsigned long long passwdlen, const unsigned char *salt,
                                  unsigned long long opslimit, size_t memlimit, int alg);
int __real_argon2_ctx(argon2_context *ctx, argon2_type type);
int __wrap_argon2_ctx(argon2_context *ctx, argon2_type type);

int __wrap_crypto_pwhash_argon2id(unsigned char *out, unsigned long long outlen, const char *passwd,
                                  unsigned long long passwdlen, const unsigned char *salt,
                                  unsigned long long opslimit, size_t memlimit, int alg)
{
	sodium_calls++;
	return __real_crypto_pwhash_argon2id(out, outlen, passwd, passwdlen, salt, opslimit, memlimit, alg);
}

int __wrap_argon2_ctx(argon2_context *ctx, argon2_type type)
{
	argon2_calls++;
	return __real_argon2_ctx(ctx, type);
}

/* The same inputs through both libraries: one lane, 16-byte salt. */
static void test_equal_outputs(void **state)
{
	static const struct {
		uint32_t t, m_kib;
		size_t out_len;
	} costs[] = {
	    {1, 8, 32},    {2, 64, 32},   {3, 256, 16},  {4, 1024, 64},
	    {1, 4096, 32}, {3, 8192, 32}, {10, 512, 32}, {3, 65536, 32},
	};
	static const char *const passwords[] = {"", "x", "correct horse battery staple", "pässwörd\t\n"};
	uint8_t salt[LK_SALT_MIN], a[65], b[65];

	for (size_t i = 0; i < ELEMENTSOF(costs); i++)
		for (size_t j = 0; j < ELEMENTSOF(passwords); j++) {
			const uint8_t *pw = (const uint8_t *)passwords[j];
			size_t len = strlen(passwords[j]);

			for (size_t k = 0; k < sizeof(salt); k++)
				salt[k] = (uint8_t)(i * 31 + j * 7 + k);
			memset(a, 0x11, sizeof(a));
			memset(b, 0x22, sizeof(b));
			assert_int_equal(lk_argon2id_sodium(costs[i].t, costs[i].m_kib, pw, len, salt, a,
			                                    costs[i].out_len),
			                 0);
			assert_int_equal(lk_argon2_raw(2, costs[i].t, costs[i].m_kib, 1, pw, len, salt,
			                               sizeof(salt), NULL, 0, NULL, 0, b, costs[i].out_len),
			                 0);
			assert_memory_equal(a, b, costs[i].out_len);
			assert_int_equal(a[costs[i].out_len], 0x11); /* nothing written past the output */
		}
}

/* Fixed answers from a third implementation (python3-argon2, hash_secret_raw
 * with parallelism=1), so both libraries cannot drift together. */
static void test_fixed_answers(void **state)
{
	static const uint8_t salt1[LK_SALT_MIN] = "somesaltsomesalt";
	uint8_t salt2[LK_SALT_MIN], out[32];
	uint8_t *want;
	size_t n;

	for (size_t k = 0; k < sizeof(salt2); k++)
		salt2[k] = (uint8_t)k;
	want = unhex_alloc("fc33b78139231d34b71626bd6245c1d72efa190ad605c3d8166a72adcedfa2c2", &n);
	assert_int_equal(
	    lk_argon2id_sodium(2, 65536, (const uint8_t *)"password", 8, salt1, out, sizeof(out)), 0);
	assert_memory_equal(out, want, n);
	free(want);
	want = unhex_alloc("438cc9435932d59d4b31839da73a6a7438832e9ba0322d41a3e267003812badd", &n);
	assert_int_equal(lk_argon2id_sodium(3, 64, NULL, 0, salt2, out, sizeof(out)), 0);
	assert_memory_equal(out, want, n);
	free(want);
}

static void test_raw_bounds(void **state)
{
	uint8_t salt[LK_SALT_MIN] = {}, out[32];

	memset(out, 0x77, sizeof(out));
	assert_int_equal(lk_argon2id_sodium(0, 64, (const uint8_t *)"x", 1, salt, out, 32), -EINVAL);
	assert_int_equal(lk_argon2id_sodium(1, 7, (const uint8_t *)"x", 1, salt, out, 32), -EINVAL);
	assert_int_equal(lk_argon2id_sodium(1, 64, (const uint8_t *)"x", 1, salt, out, 15), -EINVAL);
	assert_int_equal(lk_argon2id_sodium(1, 64, NULL, 1, salt, out, 32), -EINVAL);
	assert_int_equal(out[0], 0x77);
}

static struct lk_kdf_params params(uint32_t p, uint8_t salt_len)
{
	struct lk_kdf_params k = {
	    .alg = LK_KDF_ARGON2ID,
	    .salt_len = salt_len,
	    .t_cost = 1,
	    .m_cost_kib = LK_KDF_M_MIN_KIB,
	    .parallelism = p,
	};

	for (size_t i = 0; i < salt_len; i++)
		k.salt[i] = (uint8_t)(0xa0 + i);
	return k;
}

/* p = 1 with a 16-byte salt goes to libsodium; anything else to libargon2;
 * the same t, m and salt give the same key either way. */
static void test_dispatch(void **state)
{
	static const char pw[] = "dispatch";
	struct lk_kdf_params one = params(1, LK_SALT_MIN), two = params(2, LK_SALT_MIN),
	                     long_salt = params(1, 32);
	uint8_t w[LK_WRAP_KEY_SIZE], ref[LK_WRAP_KEY_SIZE];

	assert_true(lk_kdf_uses_libsodium(1, LK_SALT_MIN));
	assert_false(lk_kdf_uses_libsodium(2, LK_SALT_MIN));
	assert_false(lk_kdf_uses_libsodium(1, LK_SALT_MAX));

	sodium_calls = argon2_calls = 0;
	assert_int_equal(lk_kdf_derive(&one, pw, strlen(pw), w), 0);
	assert_int_equal(sodium_calls, 1);
	assert_int_equal(argon2_calls, 0);
	assert_int_equal(lk_argon2_raw(2, 1, LK_KDF_M_MIN_KIB, 1, (const uint8_t *)pw, strlen(pw), one.salt,
	                               LK_SALT_MIN, NULL, 0, NULL, 0, ref, sizeof(ref)),
	                 0);
	assert_memory_equal(w, ref, sizeof(w));

	sodium_calls = argon2_calls = 0;
	assert_int_equal(lk_kdf_derive(&two, pw, strlen(pw), w), 0);
	assert_int_equal(lk_kdf_derive(&long_salt, pw, strlen(pw), w), 0);
	assert_int_equal(sodium_calls, 0);
	assert_int_equal(argon2_calls, 2);

	/* What enrolment and the floor make now is the libsodium kind. */
	assert_int_equal(lk_kdf_floor(&one), 0);
	assert_int_equal(one.parallelism, 1);
	assert_int_equal(one.salt_len, LK_SALT_MIN);
	assert_true(lk_kdf_uses_libsodium(one.parallelism, one.salt_len));
}

#if defined(__x86_64__) && defined(__NR_clone3)
/* From here on this process cannot create a thread: clone3 answers ENOSYS
 * (glibc then falls back to clone) and clone with CLONE_THREAD EPERM. */
static void forbid_threads(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(99);
}

/* Exit status of a child that derives with p lanes where no thread can be
 * made: 0 and the parent's key, 1 a different key, 2 an error. */
static int derive_without_threads(uint32_t p, const uint8_t want[LK_WRAP_KEY_SIZE])
{
	struct lk_kdf_params k = params(p, LK_SALT_MIN);
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t w[LK_WRAP_KEY_SIZE];

		forbid_threads();
		if (lk_kdf_derive(&k, "threads", 7, w) < 0)
			_exit(2);
		_exit(memcmp(w, want, sizeof(w)) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_no_thread(void **state)
{
	struct lk_kdf_params one = params(1, LK_SALT_MIN), two = params(2, LK_SALT_MIN);
	uint8_t w1[LK_WRAP_KEY_SIZE], w2[LK_WRAP_KEY_SIZE];

	assert_int_equal(lk_kdf_derive(&one, "threads", 7, w1), 0);
	assert_int_equal(lk_kdf_derive(&two, "threads", 7, w2), 0);
	/* The new kind derives the same key where no thread can start... */
	assert_int_equal(derive_without_threads(1, w1), 0);
	/* ...and the control shows the filter bites: libargon2 with two lanes
	 * starts two threads, cannot, and fails. */
	assert_int_equal(derive_without_threads(2, w2), 2);
}
#else
static void test_no_thread(void **state)
{
	skip();
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equal_outputs), cmocka_unit_test(test_fixed_answers),
	    cmocka_unit_test(test_raw_bounds),    cmocka_unit_test(test_dispatch),
	    cmocka_unit_test(test_no_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
