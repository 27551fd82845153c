/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Primitives on OpenSSL EVP. All return 0 or a negative errno:
 * -EBADMSG when authentication fails, -EINVAL on bad sizes, -EIO when
 * OpenSSL fails for another reason. Outputs are written only on success
 * (on failure any partial output is wiped). */
#ifndef LK_CRYPTO_H
#define LK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* getrandom(2), looping on EINTR and short reads. */
int lk_random_bytes(void *buf, size_t len);

/* HKDF (RFC 5869) with SHA-256 or SHA-512; salt may be NULL/0. */
int lk_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);
int lk_hkdf_sha512(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* AES-256-GCM, 12-byte nonce, 16-byte tag. ct/pt may not overlap. */
int lk_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                 const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16]);
int lk_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                 const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt);
/* General form for test vectors with other nonce/tag lengths. */
int lk_aead_open_ex(const uint8_t key[32], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *ct, size_t len, const uint8_t *tag, size_t tag_len,
                    uint8_t *pt);
int lk_aead_seal_ex(const uint8_t key[32], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag, size_t tag_len);

/* The fscrypt v2 key identifier, computed as the kernel does:
 * HKDF-SHA512(ikm = key, salt = none, info = "fscrypt\0" || 0x01), 16 bytes. */
int lk_fscrypt_key_identifier(const uint8_t *key, size_t key_len, uint8_t out[16]);

/* Lowercase hex of len bytes into out (2*len+1 bytes). Returns out. */
char *lk_hex(const uint8_t *in, size_t len, char *out);
/* Parse exactly 2*len hex digits. 0 or -EINVAL. */
int lk_unhex(const char *in, uint8_t *out, size_t len);

#endif
