/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A policy master key K wrapped by a user's protector key P, as stored in
 * the trusted.latchkey.key.<uid> xattr. Format in include/latchkey/format.h. */
#ifndef LK_WRAPPED_KEY_H
#define LK_WRAPPED_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "latchkey/format.h"
#include "latchkey/protocol.h"

/* Wrap K for uid under P. key_id must be K's fscrypt identifier (checked). */
int lk_wrapped_key_seal(uint32_t uid, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
			const uint8_t k[LK_MASTER_KEY_SIZE], uint8_t out[LK_WRAPPED_KEY_SIZE]);

/*
 * Parse and unwrap. Checks magic, version, kind, exact size, that the uid in
 * the header equals expected_uid, and that the identifier recomputed from
 * the unwrapped K equals the header's. On success writes K and its id.
 * -EBADMSG (malformed, tampered, wrong P, wrong uid), -EINVAL.
 */
int lk_wrapped_key_open(const uint8_t *blob, size_t len, uint32_t expected_uid,
			const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint8_t k_out[LK_MASTER_KEY_SIZE],
			uint8_t key_id_out[LK_KEY_ID_SIZE]);

/* Header-only parse (no key needed): uid and key id. -EBADMSG if malformed. */
int lk_wrapped_key_peek(const uint8_t *blob, size_t len, uint32_t *ret_uid, uint8_t ret_key_id[LK_KEY_ID_SIZE]);

/* "trusted.latchkey.key.<uid>" into buf. */
int lk_wrapped_key_xattr_name(uint32_t uid, char *buf, size_t cap);

#endif
