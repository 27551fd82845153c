/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "cleanup_openssl.h"
#include "crypto.h"
#include "secret.h"

static int hkdf(const char *digest, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	/* EVP_KDF_CTX_free cleanses the PRK it holds. */
	_cleanup_(evp_kdf_ctx_freep) EVP_KDF_CTX *ctx = NULL;
	_cleanup_(evp_kdf_freep) EVP_KDF *kdf = NULL;
	OSSL_PARAM params[5], *q = params;

	if (!ikm || ikm_len == 0 || !out || out_len == 0 || (salt_len > 0 && !salt) ||
	    (info_len > 0 && !info))
		return -EINVAL;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -EIO;
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx)
		return -EIO;

	/* The const casts are OpenSSL's API: the params are read, not written. */
	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	/* No salt parameter means RFC 5869's default: HashLen zero bytes. */
	if (salt_len > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	if (info_len > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*q = OSSL_PARAM_construct_end();

	if (EVP_KDF_derive(ctx, out, out_len, params) <= 0) {
		lk_wipe(out, out_len);
		return -EIO;
	}
	return 0;
}

int lk_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	return hkdf("SHA256", ikm, ikm_len, salt, salt_len, info, info_len, out, out_len);
}

int lk_hkdf_sha512(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	return hkdf("SHA512", ikm, ikm_len, salt, salt_len, info, info_len, out, out_len);
}

/* What seal and open share: argument checks, then AES-256-GCM keyed with
 * key and nonce, fed the AAD. enc is 1 to seal (in = pt, out = ct) and 0
 * to open (in = ct, out = pt). On failure *ret may hold a context for the
 * caller's cleanup to free. */
static int aead_start(EVP_CIPHER_CTX **ret, int enc, const uint8_t key[32], const uint8_t *nonce,
                      size_t nonce_len, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                      const uint8_t *out, size_t len, const uint8_t *tag, size_t tag_len)
{
	EVP_CIPHER_CTX *ctx;
	int outl;

	if (!key || !nonce || nonce_len == 0 || nonce_len > INT_MAX || aad_len > INT_MAX || len > INT_MAX ||
	    !tag || tag_len < 4 || tag_len > 16 || (len > 0 && (!in || !out)) || (aad_len > 0 && !aad))
		return -EINVAL;

	ctx = *ret = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce_len, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return -EIO;
	if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		return -EIO;
	return 0;
}

int lk_aead_seal_ex(const uint8_t key[32], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag, size_t tag_len)
{
	_cleanup_(evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
	uint8_t scratch[16];
	int outl, r;

	r = aead_start(&ctx, 1, key, nonce, nonce_len, aad, aad_len, pt, ct, len, tag, tag_len);
	if (r < 0)
		return r;
	if (len > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1)
		goto fail;
	/* GCM is a stream mode: Final emits no bytes; the scratch buffer only
	 * satisfies the API. */
	if (EVP_EncryptFinal_ex(ctx, scratch, &outl) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)tag_len, tag) != 1)
		goto fail;
	return 0;
fail:
	if (len > 0)
		lk_wipe(ct, len);
	return -EIO;
}

int lk_aead_open_ex(const uint8_t key[32], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *ct, size_t len, const uint8_t *tag, size_t tag_len,
                    uint8_t *pt)
{
	_cleanup_(evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = NULL;
	uint8_t scratch[16];
	int outl, r;

	r = aead_start(&ctx, 0, key, nonce, nonce_len, aad, aad_len, ct, pt, len, tag, tag_len);
	if (r < 0)
		return r;
	r = -EIO;
	if (len > 0 && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) != 1)
		goto fail;
	/* The expected tag must be set before Final, which compares it in
	 * constant time. */
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)tag_len, (void *)tag) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, scratch, &outl) != 1) {
		r = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	/* Plaintext that did not authenticate must never reach the caller. */
	if (len > 0)
		lk_wipe(pt, len);
	return r;
}

int lk_aead_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                 const uint8_t *pt, size_t len, uint8_t *ct, uint8_t tag[16])
{
	return lk_aead_seal_ex(key, nonce, 12, aad, aad_len, pt, len, ct, tag, 16);
}

int lk_aead_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                 const uint8_t *ct, size_t len, const uint8_t tag[16], uint8_t *pt)
{
	return lk_aead_open_ex(key, nonce, 12, aad, aad_len, ct, len, tag, 16, pt);
}

int lk_fscrypt_key_identifier(const uint8_t *key, size_t key_len, uint8_t out[16])
{
	/* fs/crypto/hkdf.c: info = "fscrypt\0" || context byte, with
	 * HKDF_CONTEXT_KEY_IDENTIFIER = 1 and an empty application info. */
	static const uint8_t info[9] = {'f', 's', 'c', 'r', 'y', 'p', 't', '\0', 0x01};

	return lk_hkdf_sha512(key, key_len, NULL, 0, info, sizeof(info), out, 16);
}

char *lk_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lk_unhex(const char *in, uint8_t *out, size_t len)
{
	if (!in || (len > 0 && !out))
		return -EINVAL;
	/* Validate everything before writing anything: outputs only on success. */
	for (size_t i = 0; i < 2 * len; i++)
		if (unhex_digit(in[i]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(unhex_digit(in[2 * i]) << 4 | unhex_digit(in[2 * i + 1]));
	return 0;
}
