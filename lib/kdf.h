/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Argon2id with bounded parameters: one-lane slots with a 16-byte salt (every
 * slot made now) through libsodium's vectorised crypto_pwhash_argon2id, on
 * the calling thread; legacy slots (several lanes or a 32-byte salt) through
 * libargon2. Both compute the same function: the slot's p and salt_len alone
 * choose the library, the stored record is the same.
 */
#ifndef LK_KDF_H
#define LK_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

struct lk_kdf_params {
	uint8_t alg; /* LK_KDF_ARGON2ID */
	uint8_t salt_len;
	uint32_t t_cost;
	uint32_t m_cost_kib;
	uint32_t parallelism;
	uint8_t salt[LK_SALT_MAX];
};

/* 0 if alg, salt_len and t/m/p are inside the LK_KDF_* bounds, else -EINVAL. */
int lk_kdf_params_check(const struct lk_kdf_params *p);

/* For a slot about to be written: lk_kdf_params_check, and Argon2id at least
 * at the documented floor (t >= LK_KDF_NEW_T_MIN; records below it are still
 * read). 0, -EINVAL, or -ERANGE (below the floor). */
int lk_kdf_params_check_new(const struct lk_kdf_params *p);

/*
 * W = Argon2id(passphrase, salt, t, m, p), LK_WRAP_KEY_SIZE bytes into out
 * (which should be secret memory), written only on success. The passphrase
 * is not modified. Checks the parameters first.
 * One lane, 16-byte salt: libsodium, no thread. It mmap()s Argon2's working
 * memory itself (not MADV_DONTDUMP on Linux, not wiped) and munmap()s it
 * before returning, so nothing of it is left in the process afterwards.
 * Otherwise libargon2 on p threads (joined before it returns), working
 * memory mmap()ed here with MADV_DONTDUMP and wiped by libargon2.
 * Returns 0, -EINVAL (bad parameters), -ENOMEM, or -EIO.
 */
int lk_kdf_derive(const struct lk_kdf_params *p, const char *passphrase, size_t passphrase_len,
                  uint8_t out[LK_WRAP_KEY_SIZE]);

/* true if a slot with these parameters is derived by libsodium. */
bool lk_kdf_uses_libsodium(uint32_t parallelism, size_t salt_len);

/*
 * Choose parameters for this machine: one lane (libsodium), memory grown
 * from LK_KDF_M_MIN_KIB towards mem_limit_kib (0 = min(1 GiB, a quarter of
 * MemAvailable)), then t grown until one derivation takes about target_ms.
 * Never below the floor (m = 64 MiB, t = 3). Fills a fresh random salt of
 * LK_SALT_MIN bytes. Takes roughly 2-4 x target_ms.
 */
int lk_kdf_tune(unsigned target_ms, uint64_t mem_limit_kib, struct lk_kdf_params *ret);

/* Floor parameters (m = 64 MiB, t = 3, p = 1) with a fresh 16-byte salt. */
int lk_kdf_floor(struct lk_kdf_params *ret);

/* Raw Argon2 for known-answer tests: type 0=d 1=i 2=id, version 0x13. */
int lk_argon2_raw(int type, uint32_t t, uint32_t m_kib, uint32_t p, const uint8_t *pwd, size_t pwd_len,
                  const uint8_t *salt, size_t salt_len, const uint8_t *secret, size_t secret_len,
                  const uint8_t *ad, size_t ad_len, uint8_t *out, size_t out_len);

/* Raw one-lane Argon2id v1.3 through libsodium (for the equal-output tests):
 * m_kib >= 8, t >= 1, out_len >= 16. */
int lk_argon2id_sodium(uint32_t t, uint32_t m_kib, const uint8_t *pwd, size_t pwd_len,
                       const uint8_t salt[LK_SALT_MIN], uint8_t *out, size_t out_len);

#endif
