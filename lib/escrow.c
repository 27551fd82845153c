/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cleanup_openssl.h"
#include "crypto.h"
#include "escrow.h"
#include "latchkey/format.h"
#include "secret.h"

int lk_escrow_public_from_private(const uint8_t priv[LK_ESCROW_KEY_SIZE], uint8_t pub[LK_ESCROW_KEY_SIZE])
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;
	size_t n = LK_ESCROW_KEY_SIZE;

	if (!priv || !pub)
		return -EINVAL;
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, LK_ESCROW_KEY_SIZE);
	if (!k)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != LK_ESCROW_KEY_SIZE)
		return -EIO;
	return 0;
}

int lk_escrow_keygen(uint8_t priv[LK_ESCROW_KEY_SIZE], uint8_t pub[LK_ESCROW_KEY_SIZE])
{
	int r;

	if (!priv || !pub)
		return -EINVAL;
	/* Any 32 bytes are a valid X25519 private key (RFC 7748 clamps
	 * them), so the key is made in the caller's memory from getrandom
	 * rather than in an OpenSSL object we would then have to copy out. */
	r = lk_random_bytes(priv, LK_ESCROW_KEY_SIZE);
	if (r < 0)
		return r;
	r = lk_escrow_public_from_private(priv, pub);
	if (r < 0)
		lk_wipe(priv, LK_ESCROW_KEY_SIZE);
	return r;
}

int lk_escrow_x25519(const uint8_t priv[LK_ESCROW_KEY_SIZE], const uint8_t peer[LK_ESCROW_KEY_SIZE],
                     uint8_t shared[LK_ESCROW_KEY_SIZE])
{
	static const uint8_t zero[LK_ESCROW_KEY_SIZE];
	_cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = NULL;
	_cleanup_(evp_pkey_freep) EVP_PKEY *mine = NULL, *theirs = NULL;
	uint8_t out[LK_ESCROW_KEY_SIZE];
	size_t n = sizeof(out);
	int r = -EIO;

	if (!priv || !peer || !shared)
		return -EINVAL;
	mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, LK_ESCROW_KEY_SIZE);
	theirs = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, LK_ESCROW_KEY_SIZE);
	if (!mine || !theirs)
		return -EIO;
	ctx = EVP_PKEY_CTX_new(mine, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, theirs) != 1)
		return -EIO;
	/* OpenSSL refuses an all-zero result itself; that is the case we
	 * report as -EINVAL, checked again below in case it ever stops. */
	if (EVP_PKEY_derive(ctx, out, &n) != 1 || n != sizeof(out)) {
		r = -EINVAL;
		goto out;
	}
	if (lk_secret_equal(out, zero, sizeof(out))) {
		r = -EINVAL;
		goto out;
	}
	memcpy(shared, out, sizeof(out));
	r = 0;
out:
	lk_wipe(out, sizeof(out));
	return r;
}

#define ESCROW_INFO_MAX                                                                                      \
	(sizeof(LK_INFO_ESCROW_V2) - 1 + 2 * LK_ESCROW_KEY_SIZE + 4 + 1 + LK_BOUND_NAME_MAX +                \
	 LK_MACHINE_ID_SIZE)

bool lk_escrow_binding_is_valid(const struct lk_escrow_binding *b)
{
	size_t n;

	if (!b || !b->user)
		return false;
	n = strlen(b->user);
	return n > 0 && n <= LK_BOUND_NAME_MAX;
}

/*
 * W = HKDF-SHA256(shared, salt "", info) with info = LK_INFO_ESCROW || E || R
 * (unbound, V1 slots), or LK_INFO_ESCROW_V2 || E || R || u32le uid || u8 len
 * || user || machine id: the holder's answer for one user of one machine is
 * then no key to any other user's or machine's slot.
 */
static int escrow_w(const uint8_t shared[LK_ESCROW_KEY_SIZE], const uint8_t E[LK_ESCROW_KEY_SIZE],
                    const uint8_t R[LK_ESCROW_KEY_SIZE], const struct lk_escrow_binding *b, uint8_t W[32])
{
	const char *label = b ? LK_INFO_ESCROW_V2 : LK_INFO_ESCROW;
	uint8_t info[ESCROW_INFO_MAX];
	size_t len = strlen(label), n;

	if (b && !lk_escrow_binding_is_valid(b))
		return -EINVAL;
	memcpy(info, label, len);
	memcpy(info + len, E, LK_ESCROW_KEY_SIZE);
	len += LK_ESCROW_KEY_SIZE;
	memcpy(info + len, R, LK_ESCROW_KEY_SIZE);
	len += LK_ESCROW_KEY_SIZE;
	if (b) {
		info[len++] = (uint8_t)b->uid;
		info[len++] = (uint8_t)(b->uid >> 8);
		info[len++] = (uint8_t)(b->uid >> 16);
		info[len++] = (uint8_t)(b->uid >> 24);
		n = strlen(b->user);
		info[len++] = (uint8_t)n;
		memcpy(info + len, b->user, n);
		len += n;
		memcpy(info + len, b->machine_id, LK_MACHINE_ID_SIZE);
		len += LK_MACHINE_ID_SIZE;
	}
	return lk_hkdf_sha256(shared, LK_ESCROW_KEY_SIZE, NULL, 0, info, len, W, 32);
}

/* X25519(priv, peer), then W over E, R and the binding, with the shared secret in secret memory. */
static int derive_w(const uint8_t priv[LK_ESCROW_KEY_SIZE], const uint8_t peer[LK_ESCROW_KEY_SIZE],
                    const uint8_t E[LK_ESCROW_KEY_SIZE], const uint8_t R[LK_ESCROW_KEY_SIZE],
                    const struct lk_escrow_binding *b, uint8_t W[32])
{
	struct lk_secret shared _cleanup_secret_ = {};
	int r;

	r = lk_secret_new(&shared, LK_ESCROW_KEY_SIZE);
	if (r < 0)
		return r;
	r = lk_escrow_x25519(priv, peer, shared.ptr);
	if (r < 0)
		return r;
	return escrow_w(shared.ptr, E, R, b, W);
}

int lk_escrow_seal_bound_with(const uint8_t e[LK_ESCROW_KEY_SIZE], const uint8_t R[LK_ESCROW_KEY_SIZE],
                              const struct lk_escrow_binding *b, uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32])
{
	uint8_t pubE[LK_ESCROW_KEY_SIZE];
	int r;

	if (!e || !R || !E || !W)
		return -EINVAL;
	r = lk_escrow_public_from_private(e, pubE);
	if (r < 0)
		return r;
	r = derive_w(e, R, pubE, R, b, W);
	if (r < 0)
		return r;
	memcpy(E, pubE, sizeof(pubE));
	return 0;
}

int lk_escrow_seal_with(const uint8_t e[LK_ESCROW_KEY_SIZE], const uint8_t R[LK_ESCROW_KEY_SIZE],
                        uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32])
{
	return lk_escrow_seal_bound_with(e, R, NULL, E, W);
}

int lk_escrow_seal(const uint8_t R[LK_ESCROW_KEY_SIZE], uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32])
{
	return lk_escrow_seal_bound(R, NULL, E, W);
}

int lk_escrow_seal_bound(const uint8_t R[LK_ESCROW_KEY_SIZE], const struct lk_escrow_binding *b,
                         uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32])
{
	struct lk_secret e _cleanup_secret_ = {};
	int r;

	if (!R || !E || !W)
		return -EINVAL;
	r = lk_secret_new(&e, LK_ESCROW_KEY_SIZE);
	if (r < 0)
		return r;
	r = lk_random_bytes(e.ptr, LK_ESCROW_KEY_SIZE);
	if (r < 0)
		return r;
	/* e is wiped on return: nobody on this machine can recompute W. */
	return lk_escrow_seal_bound_with(e.ptr, R, b, E, W);
}

int lk_escrow_open(const uint8_t r_priv[LK_ESCROW_KEY_SIZE], const uint8_t E[LK_ESCROW_KEY_SIZE],
                   uint8_t W[32])
{
	return lk_escrow_open_bound(r_priv, E, NULL, W);
}

int lk_escrow_open_bound(const uint8_t r_priv[LK_ESCROW_KEY_SIZE], const uint8_t E[LK_ESCROW_KEY_SIZE],
                         const struct lk_escrow_binding *b, uint8_t W[32])
{
	uint8_t R[LK_ESCROW_KEY_SIZE];
	int r;

	if (!r_priv || !E || !W)
		return -EINVAL;
	r = lk_escrow_public_from_private(r_priv, R);
	if (r < 0)
		return r;
	return derive_w(r_priv, E, E, R, b, W);
}

/* --- PEM --- */

/* Copy a memory BIO's contents out as a NUL-terminated string. */
static int bio_to_string(BIO *b, char *out, size_t cap, size_t *ret_len)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return -EIO;
	if ((size_t)n >= cap)
		return -ENOBUFS;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	if (ret_len)
		*ret_len = (size_t)n;
	return 0;
}

/* PKCS#8 for a private key (in a "secure memory" BIO, which OpenSSL
 * cleanses when freed), SubjectPublicKeyInfo for a public one. */
static int key_to_pem(const uint8_t key[LK_ESCROW_KEY_SIZE], bool private, char *out, size_t cap,
                      size_t *ret_len)
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;
	_cleanup_(bio_freep) BIO *b = NULL;

	if (!key || !out)
		return -EINVAL;
	k = private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, key, LK_ESCROW_KEY_SIZE)
	            : EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, key, LK_ESCROW_KEY_SIZE);
	b = BIO_new(private ? BIO_s_secmem() : BIO_s_mem());
	if (!k || !b)
		return -ENOMEM;
	if ((private ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
	             : PEM_write_bio_PUBKEY(b, k)) != 1)
		return -EIO;
	return bio_to_string(b, out, cap, ret_len);
}

int lk_escrow_private_to_pem(const uint8_t priv[LK_ESCROW_KEY_SIZE], char *out, size_t cap, size_t *ret_len)
{
	return key_to_pem(priv, true, out, cap, ret_len);
}

int lk_escrow_public_to_pem(const uint8_t pub[LK_ESCROW_KEY_SIZE], char *out, size_t cap, size_t *ret_len)
{
	return key_to_pem(pub, false, out, cap, ret_len);
}

/* Never prompt: a PEM read must not reach for the terminal behind our back. */
static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
	*(int *)u = 1;
	return -1;
}

int lk_escrow_private_from_pem(const char *pem, size_t len, uint8_t priv[LK_ESCROW_KEY_SIZE])
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;
	_cleanup_(bio_freep) BIO *b = NULL;
	size_t n = LK_ESCROW_KEY_SIZE;
	int wanted_password = 0;

	if (!pem || !priv || len == 0 || len > LK_ESCROW_PEM_MAX)
		return -EINVAL;
	b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return -ENOMEM;
	k = PEM_read_bio_PrivateKey(b, NULL, no_password_cb, &wanted_password);
	if (!k)
		return wanted_password ? -ENOKEY : -EINVAL;
	if (!EVP_PKEY_is_a(k, "X25519"))
		return -EINVAL;
	if (EVP_PKEY_get_raw_private_key(k, priv, &n) != 1 || n != LK_ESCROW_KEY_SIZE) {
		lk_wipe(priv, LK_ESCROW_KEY_SIZE);
		return -EINVAL;
	}
	return 0;
}

int lk_escrow_public_from_pem(const char *pem, size_t len, uint8_t pub[LK_ESCROW_KEY_SIZE])
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;
	_cleanup_(bio_freep) BIO *b = NULL;
	uint8_t raw[LK_ESCROW_KEY_SIZE];
	size_t n = sizeof(raw);

	if (!pem || !pub || len == 0 || len > LK_ESCROW_PEM_MAX)
		return -EINVAL;
	b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return -ENOMEM;
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (!k || !EVP_PKEY_is_a(k, "X25519"))
		return -EINVAL;
	if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != sizeof(raw))
		return -EINVAL;
	memcpy(pub, raw, sizeof(raw));
	return 0;
}

int lk_escrow_fingerprint(const uint8_t pub[LK_ESCROW_KEY_SIZE], char out[LK_ESCROW_FINGERPRINT_SIZE])
{
	uint8_t md[32];
	unsigned n = 0;

	if (!pub || !out)
		return -EINVAL;
	if (EVP_Digest(pub, LK_ESCROW_KEY_SIZE, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof(md))
		return -EIO;
	lk_hex(md, sizeof(md), out);
	return 0;
}
