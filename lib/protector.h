/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protector files: a user's protector key P wrapped once per slot
 * (login passphrase, recovery code). Format in include/latchkey/format.h. */
#ifndef LK_PROTECTOR_H
#define LK_PROTECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "kdf.h"
#include "latchkey/format.h"

struct lk_slot {
	uint8_t kind; /* enum lk_slot_kind */
	uint32_t slot_id;
	struct lk_kdf_params kdf;
	uint8_t nonce[LK_GCM_NONCE_SIZE];
	uint8_t ct[LK_PROTECTOR_KEY_SIZE];
	uint8_t tag[LK_GCM_TAG_SIZE];
};

struct lk_protector {
	uint32_t uid;
	unsigned n_slots;
	struct lk_slot slots[LK_MAX_SLOTS];
};

/* Strict parse: magic, version, exact size, bounded KDF parameters, unique
 * slot ids, reserved fields zero. 0 or -EBADMSG (malformed) / -EINVAL. */
int lk_protector_parse(const uint8_t *buf, size_t len, struct lk_protector *ret);
/* Serialise into buf (cap >= LK_PROTECTOR_MAX_SIZE). Sets *ret_len. */
int lk_protector_serialize(const struct lk_protector *pr, uint8_t *buf, size_t cap, size_t *ret_len);

/*
 * Append a slot of the given kind wrapping P under W (= Argon2id output
 * for kdf). Fresh nonce; slot id = max existing + 1. -ENOSPC when full.
 */
int lk_protector_add_slot(struct lk_protector *pr, uint8_t kind, const struct lk_kdf_params *kdf,
			  const uint8_t wrap_key[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
			  uint32_t *ret_slot_id);

/* Unwrap one slot with W. 0 or -EBADMSG (wrong key or tampered). */
int lk_protector_open_slot(const struct lk_protector *pr, unsigned index,
			   const uint8_t wrap_key[LK_WRAP_KEY_SIZE], uint8_t p_out[LK_PROTECTOR_KEY_SIZE]);

/* Try every slot of the given kind (0 = any) with W; on success sets
 * *ret_index. -EBADMSG if none opens. */
int lk_protector_open(const struct lk_protector *pr, uint8_t kind, const uint8_t wrap_key[LK_WRAP_KEY_SIZE],
		      uint8_t p_out[LK_PROTECTOR_KEY_SIZE], unsigned *ret_index);

/* Remove the slot with this id. -ENOENT if absent, -EBUSY if it is the last one. */
int lk_protector_remove_slot(struct lk_protector *pr, uint32_t slot_id);

/* Index of the first slot of this kind, or -ENOENT. */
int lk_protector_find_kind(const struct lk_protector *pr, uint8_t kind);

#endif
