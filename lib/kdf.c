/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <argon2.h>
#include <sodium.h>

#include "crypto.h"
#include "kdf.h"
#include "secret.h"

#define LK_KDF_FLOOR_T    ((unsigned)LK_KDF_NEW_T_MIN)
#define LK_KDF_TUNE_T_MAX 10u

_Static_assert(crypto_pwhash_argon2id_SALTBYTES == LK_SALT_MIN,
               "libsodium's Argon2id salt is LK_SALT_MIN bytes");
_Static_assert(LK_WRAP_KEY_SIZE >= crypto_pwhash_argon2id_BYTES_MIN, "libsodium's minimum Argon2id output");

int lk_kdf_params_check_new(const struct lk_kdf_params *p)
{
	int r = lk_kdf_params_check(p);

	if (r < 0)
		return r;
	return p->alg == LK_KDF_ARGON2ID && p->t_cost < LK_KDF_NEW_T_MIN ? -ERANGE : 0;
}

/* Argon2's working memory holds passphrase-derived blocks: keep it out of
 * core dumps. libargon2 wipes it itself before calling the free callback. */
static int argon2_alloc_cb(uint8_t **memory, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return ARGON2_MEMORY_ALLOCATION_ERROR;
	(void)madvise(p, bytes, MADV_DONTDUMP);
#ifdef MADV_WIPEONFORK
	(void)madvise(p, bytes, MADV_WIPEONFORK);
#endif
	*memory = p;
	return ARGON2_OK;
}

static void argon2_free_cb(uint8_t *memory, size_t bytes)
{
	if (memory)
		(void)munmap(memory, bytes);
}

static int argon2_to_errno(int rc)
{
	switch (rc) {
	case ARGON2_OK:
		return 0;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return -ENOMEM;
	case ARGON2_THREAD_FAIL:
		return -EIO;
	default:
		return -EINVAL;
	}
}

/* Run Argon2 with our allocator; the output lands in secret memory first
 * so the caller's buffer is written only on success. pwd must be OUR copy:
 * it is cleared by libargon2 (ARGON2_FLAG_CLEAR_PASSWORD). */
static int run_argon2(argon2_type type, uint32_t t, uint32_t m_kib, uint32_t p, uint8_t *pwd, size_t pwd_len,
                      const uint8_t *salt, size_t salt_len, const uint8_t *secret, size_t secret_len,
                      const uint8_t *ad, size_t ad_len, uint8_t *out, size_t out_len)
{
	struct lk_secret tmp _cleanup_secret_ = {};
	argon2_context ctx = {};
	int r;

	if (out_len == 0 || out_len > UINT32_MAX || pwd_len > UINT32_MAX || salt_len > UINT32_MAX ||
	    secret_len > UINT32_MAX || ad_len > UINT32_MAX)
		return -EINVAL;
	r = lk_secret_new(&tmp, out_len);
	if (r < 0)
		return r;

	ctx.out = tmp.ptr;
	ctx.outlen = (uint32_t)out_len;
	ctx.pwd = pwd;
	ctx.pwdlen = (uint32_t)pwd_len;
	/* libargon2's context is not const-correct; it only reads these. */
	ctx.salt = (uint8_t *)salt;
	ctx.saltlen = (uint32_t)salt_len;
	ctx.secret = (uint8_t *)secret;
	ctx.secretlen = (uint32_t)secret_len;
	ctx.ad = (uint8_t *)ad;
	ctx.adlen = (uint32_t)ad_len;
	ctx.t_cost = t;
	ctx.m_cost = m_kib;
	ctx.lanes = p;
	ctx.threads = p;
	ctx.version = ARGON2_VERSION_13;
	ctx.allocate_cbk = argon2_alloc_cb;
	ctx.free_cbk = argon2_free_cb;
	ctx.flags = ARGON2_FLAG_CLEAR_PASSWORD;

	r = argon2_to_errno(argon2_ctx(&ctx, type));
	if (r < 0)
		return r;
	memcpy(out, tmp.ptr, out_len);
	return 0;
}

bool lk_kdf_uses_libsodium(uint32_t parallelism, size_t salt_len)
{
	return parallelism == 1 && salt_len == crypto_pwhash_argon2id_SALTBYTES;
}

int lk_argon2id_sodium(uint32_t t, uint32_t m_kib, const uint8_t *pwd, size_t pwd_len,
                       const uint8_t salt[LK_SALT_MIN], uint8_t *out, size_t out_len)
{
	struct lk_secret tmp _cleanup_secret_ = {};
	int r;

	if (!out || (pwd_len > 0 && !pwd) || !salt || out_len < crypto_pwhash_argon2id_BYTES_MIN ||
	    out_len > UINT32_MAX || pwd_len > crypto_pwhash_argon2id_PASSWD_MAX || t < 1 ||
	    (uint64_t)m_kib * 1024u > crypto_pwhash_argon2id_MEMLIMIT_MAX ||
	    (uint64_t)m_kib * 1024u < crypto_pwhash_argon2id_MEMLIMIT_MIN)
		return -EINVAL;
	/* Idempotent and thread-safe (a static mutex). It picks the AVX2 or
	 * AVX-512 Argon2 core for this CPU; without it libsodium runs its
	 * portable one. It keeps no file descriptor where getrandom() exists. */
	if (sodium_init() < 0)
		return -EIO;
	r = lk_secret_new(&tmp, out_len);
	if (r < 0)
		return r;
	/* libsodium only reads the password (it never clears it), so the
	 * caller's buffer goes in as is. It mmap()s Argon2's working memory
	 * itself: see lk_kdf_derive in kdf.h for what that means. */
	errno = 0;
	/* libsodium declares the password non-null even when it is empty. */
	if (crypto_pwhash_argon2id(tmp.ptr, out_len, pwd_len ? (const char *)pwd : "", pwd_len, salt, t,
	                           (size_t)m_kib * 1024u, crypto_pwhash_argon2id_ALG_ARGON2ID13) != 0)
		return errno == ENOMEM ? -ENOMEM : -EIO;
	memcpy(out, tmp.ptr, out_len);
	return 0;
}

static int derive_unchecked(uint32_t t, uint32_t m_kib, uint32_t p, const uint8_t *salt, size_t salt_len,
                            const char *passphrase, size_t passphrase_len, uint8_t *out, size_t out_len)
{
	struct lk_secret pwd _cleanup_secret_ = {};
	int r;

	if (lk_kdf_uses_libsodium(p, salt_len))
		return lk_argon2id_sodium(t, m_kib, (const uint8_t *)passphrase, passphrase_len, salt, out,
		                          out_len);

	/* A legacy slot (several lanes, or a 32-byte salt) goes to libargon2.
	 * Never hand it the caller's buffer: with CLEAR_PASSWORD it would wipe
	 * it, and it may be libpam's PAM_AUTHTOK. */
	r = lk_secret_new(&pwd, passphrase_len);
	if (r < 0)
		return r;
	if (passphrase_len > 0)
		memcpy(pwd.ptr, passphrase, passphrase_len);
	return run_argon2(Argon2_id, t, m_kib, p, pwd.ptr, passphrase_len, salt, salt_len, NULL, 0, NULL, 0,
	                  out, out_len);
}

int lk_kdf_derive(const struct lk_kdf_params *p, const char *passphrase, size_t passphrase_len,
                  uint8_t out[LK_WRAP_KEY_SIZE])
{
	int r;

	r = lk_kdf_params_check(p);
	if (r < 0)
		return r;
	if (p->alg != LK_KDF_ARGON2ID)
		return -EINVAL;
	if (!out || (passphrase_len > 0 && !passphrase))
		return -EINVAL;
	return derive_unchecked(p->t_cost, p->m_cost_kib, p->parallelism, p->salt, p->salt_len, passphrase,
	                        passphrase_len, out, LK_WRAP_KEY_SIZE);
}

int lk_argon2_raw(int type, uint32_t t, uint32_t m_kib, uint32_t p, const uint8_t *pwd, size_t pwd_len,
                  const uint8_t *salt, size_t salt_len, const uint8_t *secret, size_t secret_len,
                  const uint8_t *ad, size_t ad_len, uint8_t *out, size_t out_len)
{
	struct lk_secret copy _cleanup_secret_ = {};
	int r;

	if (type < Argon2_d || type > Argon2_id || !out || (pwd_len > 0 && !pwd))
		return -EINVAL;
	r = lk_secret_new(&copy, pwd_len);
	if (r < 0)
		return r;
	if (pwd_len > 0)
		memcpy(copy.ptr, pwd, pwd_len);
	return run_argon2((argon2_type)type, t, m_kib, p, copy.ptr, pwd_len, salt, salt_len, secret,
	                  secret_len, ad, ad_len, out, out_len);
}

int lk_kdf_floor(struct lk_kdf_params *ret)
{
	struct lk_kdf_params p = {
	    .alg = LK_KDF_ARGON2ID,
	    .salt_len = LK_SALT_MIN,
	    .t_cost = LK_KDF_FLOOR_T,
	    .m_cost_kib = LK_KDF_M_MIN_KIB,
	    .parallelism = 1,
	};
	int r;

	if (!ret)
		return -EINVAL;
	r = lk_random_bytes(p.salt, p.salt_len);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}

/* MemAvailable from /proc/meminfo in KiB, or 0 if unknown. */
static uint64_t mem_available_kib(void)
{
	char line[256];
	uint64_t v = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The cgroup v2 memory limit in KiB, or 0 if none ("max") or unknown. */
static uint64_t cgroup_memory_max_kib(void)
{
	char buf[64] = {};
	uint64_t v;
	char *end;
	FILE *f;

	f = fopen("/sys/fs/cgroup/memory.max", "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	if (buf[0] < '0' || buf[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return v / 1024;
}

static int time_one_pass(uint32_t m_kib, uint32_t p, const uint8_t *salt, size_t salt_len, uint64_t *ret_ms)
{
	static const char probe[] = "latchkey-kdf-calibration";
	struct lk_secret out _cleanup_secret_ = {};
	struct timespec a, b;
	int r;

	r = lk_secret_new(&out, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = derive_unchecked(1, m_kib, p, salt, salt_len, probe, sizeof(probe) - 1, out.ptr,
	                     LK_WRAP_KEY_SIZE);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (r < 0)
		return r;
	*ret_ms = (uint64_t)(b.tv_sec - a.tv_sec) * 1000u + (uint64_t)((b.tv_nsec - a.tv_nsec) / 1000000);
	if (*ret_ms == 0)
		*ret_ms = 1;
	return 0;
}

int lk_kdf_tune(unsigned target_ms, uint64_t mem_limit_kib, struct lk_kdf_params *ret)
{
	struct lk_kdf_params p = {};
	uint64_t limit = mem_limit_kib, cg, ms = 0, t;
	int r;

	if (!ret || target_ms == 0)
		return -EINVAL;
	r = lk_kdf_floor(&p);
	if (r < 0)
		return r;

	if (limit == 0) {
		uint64_t avail = mem_available_kib();

		limit = LK_KDF_M_MAX_KIB;
		if (avail > 0 && avail / 4 < limit)
			limit = avail / 4;
	}
	/* Inside a container the cgroup limit is the real ceiling; staying
	 * under half of it leaves room for everything else in there. */
	cg = cgroup_memory_max_kib();
	if (cg > 0 && cg / 2 < limit)
		limit = cg / 2;
	if (limit > LK_KDF_M_MAX_KIB)
		limit = LK_KDF_M_MAX_KIB;

	r = time_one_pass(p.m_cost_kib, p.parallelism, p.salt, p.salt_len, &ms);
	if (r < 0)
		return r;
	while (ms < target_ms / 3 && (uint64_t)p.m_cost_kib * 2 <= limit) {
		uint64_t next_ms;

		r = time_one_pass(p.m_cost_kib * 2, p.parallelism, p.salt, p.salt_len, &next_ms);
		if (r == -ENOMEM)
			break; /* the limit said yes but the system said no: keep what worked */
		if (r < 0)
			return r;
		p.m_cost_kib *= 2;
		ms = next_ms;
	}

	t = (target_ms + ms / 2) / ms;
	if (t < LK_KDF_FLOOR_T)
		t = LK_KDF_FLOOR_T;
	if (t > LK_KDF_TUNE_T_MAX)
		t = LK_KDF_TUNE_T_MAX;
	p.t_cost = (uint32_t)t;

	r = lk_kdf_params_check(&p);
	if (r < 0)
		return r;
	*ret = p;
	return 0;
}
