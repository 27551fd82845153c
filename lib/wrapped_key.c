/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "secret.h"
#include "wrapped_key.h"

#define OFF_UID    8
#define OFF_KEY_ID 12
#define OFF_NONCE  28
#define OFF_CT     40
#define OFF_TAG    104

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static int policy_kek(const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint8_t kek[32])
{
	return lk_hkdf_sha256(p, LK_PROTECTOR_KEY_SIZE, NULL, 0, (const uint8_t *)LK_INFO_POLICY,
	                      strlen(LK_INFO_POLICY), kek, 32);
}

int lk_fscrypt_v1_descriptor(const uint8_t *key, size_t key_len, uint8_t out[LK_V1_DESCRIPTOR_SIZE])
{
	uint8_t h1[EVP_MAX_MD_SIZE], h2[EVP_MAX_MD_SIZE];
	unsigned n1 = 0, n2 = 0;
	int r = 0;

	if (!key || !out || key_len == 0)
		return -EINVAL;
	if (EVP_Digest(key, key_len, h1, &n1, EVP_sha512(), NULL) != 1 ||
	    EVP_Digest(h1, n1, h2, &n2, EVP_sha512(), NULL) != 1 || n2 < LK_V1_DESCRIPTOR_SIZE)
		r = -EIO;
	else
		memcpy(out, h2, LK_V1_DESCRIPTOR_SIZE);
	/* The inner digest is as good as the key for computing descriptors of
	 * guesses; neither digest outlives this call. */
	lk_wipe(h1, sizeof(h1));
	lk_wipe(h2, sizeof(h2));
	return r;
}

int lk_wrapped_key_id(uint16_t kind, const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_KEY_ID_SIZE])
{
	uint8_t id[LK_KEY_ID_SIZE] = {};
	int r;

	switch (kind) {
	case LK_WRAPPED_FSCRYPT_V2:
		r = lk_fscrypt_key_identifier(k, LK_MASTER_KEY_SIZE, id);
		break;
	case LK_WRAPPED_FSCRYPT_V1:
		r = lk_fscrypt_v1_descriptor(k, LK_MASTER_KEY_SIZE, id);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return r;
	memcpy(out, id, LK_KEY_ID_SIZE);
	return 0;
}

bool lk_key_id_is_v1(const uint8_t key_id[LK_KEY_ID_SIZE])
{
	static const uint8_t zero[LK_KEY_ID_SIZE - LK_V1_DESCRIPTOR_SIZE];

	return memcmp(key_id + LK_V1_DESCRIPTOR_SIZE, zero, sizeof(zero)) == 0;
}

int lk_wrapped_key_seal(uint32_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                        const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_WRAPPED_KEY_SIZE])
{
	return lk_wrapped_key_seal_kind(LK_WRAPPED_FSCRYPT_V2, uid, p, k, out);
}

int lk_wrapped_key_seal_kind(uint16_t kind, uint32_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                             const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_WRAPPED_KEY_SIZE])
{
	struct lk_secret kek _cleanup_secret_ = {};
	uint8_t blob[LK_WRAPPED_KEY_SIZE] = {};
	int r;

	if (!p || !k || !out)
		return -EINVAL;

	put32(blob, LK_WRAPPED_KEY_MAGIC);
	put16(blob + 4, LK_WRAPPED_KEY_VERSION);
	put16(blob + 6, kind);
	put32(blob + OFF_UID, uid);
	r = lk_wrapped_key_id(kind, k, blob + OFF_KEY_ID);
	if (r < 0)
		return r;
	r = lk_random_bytes(blob + OFF_NONCE, LK_GCM_NONCE_SIZE);
	if (r < 0)
		return r;

	r = lk_secret_new(&kek, 32);
	if (r < 0)
		return r;
	r = policy_kek(p, kek.ptr);
	if (r < 0)
		return r;
	r = lk_aead_seal(kek.ptr, blob + OFF_NONCE, blob, LK_WRAPPED_KEY_AAD_SIZE, k, LK_MASTER_KEY_SIZE,
	                 blob + OFF_CT, blob + OFF_TAG);
	if (r < 0)
		return r;
	memcpy(out, blob, sizeof(blob));
	return 0;
}

int lk_wrapped_key_kind(const uint8_t *blob, size_t len)
{
	uint16_t kind;

	if (!blob)
		return -EINVAL;
	if (len != LK_WRAPPED_KEY_SIZE || get32(blob) != LK_WRAPPED_KEY_MAGIC ||
	    get16(blob + 4) != LK_WRAPPED_KEY_VERSION)
		return -EBADMSG;
	kind = get16(blob + 6);
	if (kind != LK_WRAPPED_FSCRYPT_V2 && kind != LK_WRAPPED_FSCRYPT_V1)
		return -EBADMSG;
	return kind;
}

int lk_wrapped_key_peek(const uint8_t *blob, size_t len, uint32_t *ret_uid,
                        uint8_t ret_key_id[LK_KEY_ID_SIZE])
{
	int r = lk_wrapped_key_kind(blob, len);

	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = get32(blob + OFF_UID);
	if (ret_key_id)
		memcpy(ret_key_id, blob + OFF_KEY_ID, LK_KEY_ID_SIZE);
	return 0;
}

int lk_wrapped_key_open(const uint8_t *blob, size_t len, uint32_t expected_uid,
                        const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint8_t k_out[LK_MASTER_KEY_SIZE],
                        uint8_t key_id_out[LK_KEY_ID_SIZE])
{
	struct lk_secret kek _cleanup_secret_ = {};
	struct lk_secret k _cleanup_secret_ = {};
	uint8_t id[LK_KEY_ID_SIZE];
	uint32_t uid;
	int kind, r;

	if (!blob || !p || !k_out)
		return -EINVAL;
	kind = lk_wrapped_key_kind(blob, len);
	if (kind < 0)
		return kind;
	uid = get32(blob + OFF_UID);
	/* The uid is also in the AAD, but a copy wrapped for another user must
	 * be refused even if that user's P were somehow presented. */
	if (uid != expected_uid)
		return -EBADMSG;

	r = lk_secret_new(&kek, 32);
	if (r < 0)
		return r;
	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return r;
	r = policy_kek(p, kek.ptr);
	if (r < 0)
		return r;
	r = lk_aead_open(kek.ptr, blob + OFF_NONCE, blob, LK_WRAPPED_KEY_AAD_SIZE, blob + OFF_CT,
	                 LK_MASTER_KEY_SIZE, blob + OFF_TAG, k.ptr);
	if (r < 0)
		return r;

	/* The header's identifier is what the index and the kernel policy
	 * name; a key that does not hash to it is the wrong key. For v1 this
	 * is latchkey's own check: the kernel never verifies a v1 key. */
	r = lk_wrapped_key_id((uint16_t)kind, k.ptr, id);
	if (r < 0)
		return r;
	if (!lk_secret_equal(id, blob + OFF_KEY_ID, LK_KEY_ID_SIZE))
		return -EBADMSG;

	memcpy(k_out, k.ptr, LK_MASTER_KEY_SIZE);
	if (key_id_out)
		memcpy(key_id_out, id, LK_KEY_ID_SIZE);
	return 0;
}

int lk_wrapped_key_xattr_name(uint32_t uid, char *buf, size_t cap)
{
	int n;

	if (!buf)
		return -EINVAL;
	n = snprintf(buf, cap, LK_XATTR_KEY_PREFIX "%u", uid);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= cap)
		return -ENOBUFS;
	return 0;
}
