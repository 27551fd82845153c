/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A policy master key K wrapped by a user's protector key P, as stored in
 * the trusted.latchkey.key.<uid> xattr. Format in include/latchkey/format.h. */
#ifndef LK_WRAPPED_KEY_H
#define LK_WRAPPED_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

#define LK_V1_DESCRIPTOR_SIZE 8 /* FSCRYPT_KEY_DESCRIPTOR_SIZE */

/* The v1 key descriptor as e4crypt and fscrypt choose it: the first 8 bytes
 * of SHA-512(SHA-512(key)). The kernel does not check it against the key. */
int lk_fscrypt_v1_descriptor(const uint8_t *key, size_t key_len, uint8_t out[LK_V1_DESCRIPTOR_SIZE]);

/* The 16-byte identifier latchkey records for K of this kind (header, index,
 * STATUS): LK_WRAPPED_FSCRYPT_V2, the kernel's key identifier;
 * LK_WRAPPED_FSCRYPT_V1, the descriptor followed by 8 zero bytes. */
int lk_wrapped_key_id(uint16_t kind, const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_KEY_ID_SIZE]);

/* An identifier of the v1 shape (8 trailing zero bytes; a v2 identifier, a
 * hash, has them with probability 2^-64). */
bool lk_key_id_is_v1(const uint8_t key_id[LK_KEY_ID_SIZE]);

/* Wrap K (a v2 master key) for uid under P; the header gets K's identifier. */
int lk_wrapped_key_seal(uint32_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                        const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_WRAPPED_KEY_SIZE]);
/* The same for either kind (LK_WRAPPED_FSCRYPT_V1 or _V2). */
int lk_wrapped_key_seal_kind(uint16_t kind, uint32_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                             const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_WRAPPED_KEY_SIZE]);

/*
 * Parse and unwrap either kind. Checks magic, version, kind, exact size, that
 * the uid in the header equals expected_uid, and that the identifier
 * recomputed (for the header's kind) from the unwrapped K equals the
 * header's. On success writes K and its id. Callers that need one kind check
 * it with lk_wrapped_key_kind().
 * -EBADMSG (malformed, tampered, wrong P, wrong uid), -EINVAL.
 */
int lk_wrapped_key_open(const uint8_t *blob, size_t len, uint32_t expected_uid,
                        const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint8_t k_out[LK_MASTER_KEY_SIZE],
                        uint8_t key_id_out[LK_KEY_ID_SIZE]);

/* Header-only parse (no key needed): uid and key id. -EBADMSG if malformed. */
int lk_wrapped_key_peek(const uint8_t *blob, size_t len, uint32_t *ret_uid,
                        uint8_t ret_key_id[LK_KEY_ID_SIZE]);

/* The kind in a well-formed header (LK_WRAPPED_FSCRYPT_*), or -EBADMSG. */
int lk_wrapped_key_kind(const uint8_t *blob, size_t len);

/* "trusted.latchkey.key.<uid>" into buf. */
int lk_wrapped_key_xattr_name(uint32_t uid, char *buf, size_t cap);

#endif
