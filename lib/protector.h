/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protector files: a user's protector key P wrapped once per slot
 * (login passphrase, recovery code). Format in include/latchkey/format.h. */
#ifndef LK_PROTECTOR_H
#define LK_PROTECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kdf.h"
#include "latchkey/format.h"

struct lk_slot {
	uint8_t kind;       /* enum lk_slot_kind */
	uint8_t derivation; /* LK_SLOT_DERIV_* */
	uint32_t slot_id;
	struct lk_kdf_params kdf;
	uint8_t nonce[LK_GCM_NONCE_SIZE];
	uint8_t ct[LK_PROTECTOR_KEY_SIZE];
	uint8_t tag[LK_GCM_TAG_SIZE];
};

/* What a V2 escrow slot is bound to besides the uid: not stored in the file,
 * supplied by whoever opens or adds one (lk_protector_set_binding). */
struct lk_slot_binding {
	char user[LK_BOUND_NAME_MAX + 1];
	uint8_t machine_id[LK_MACHINE_ID_SIZE];
};

struct lk_protector {
	uint32_t uid;
	uint32_t next_slot_id; /* the id the next slot gets; never reused */
	unsigned n_slots;
	struct lk_slot slots[LK_MAX_SLOTS];
	bool have_binding;
	struct lk_slot_binding binding;
};

/* Strict parse of version 1 or 2: magic, version, exact size, bounded KDF
 * parameters, unique slot ids below next_id, reserved fields zero. 0 or
 * -EBADMSG (malformed) / -EINVAL. No binding is set. */
int lk_protector_parse(const uint8_t *buf, size_t len, struct lk_protector *ret);
/* Serialise as version 2 into buf (cap >= LK_PROTECTOR_MAX_SIZE). Sets *ret_len. */
int lk_protector_serialize(const struct lk_protector *pr, uint8_t *buf, size_t cap, size_t *ret_len);

/* Bind V2 escrow slots of pr to this user name and machine. -EINVAL if the
 * name is empty or longer than LK_BOUND_NAME_MAX. */
int lk_protector_set_binding(struct lk_protector *pr, const char *user,
                             const uint8_t machine_id[LK_MACHINE_ID_SIZE]);

/*
 * Append a slot of the given kind wrapping P under W (= Argon2id output
 * for kdf, or the escrow W). Always derivation V2; an escrow slot needs the
 * binding (-EINVAL without). Fresh nonce; slot id = next_slot_id, which then
 * grows. -ENOSPC when full.
 */
int lk_protector_add_slot(struct lk_protector *pr, uint8_t kind, const struct lk_kdf_params *kdf,
                          const uint8_t wrap_key[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                          uint32_t *ret_slot_id);

/* Unwrap one slot with W. 0 or -EBADMSG (wrong key or tampered, or a V2
 * escrow slot without the binding it was made with). */
int lk_protector_open_slot(const struct lk_protector *pr, unsigned index,
                           const uint8_t wrap_key[LK_WRAP_KEY_SIZE], uint8_t p_out[LK_PROTECTOR_KEY_SIZE]);

/* Try every slot of the given kind (0 = any) with W; on success sets
 * *ret_index. -EBADMSG if none opens; another -errno (-ENOMEM) when a slot
 * could not be tried. */
int lk_protector_open(const struct lk_protector *pr, uint8_t kind, const uint8_t wrap_key[LK_WRAP_KEY_SIZE],
                      uint8_t p_out[LK_PROTECTOR_KEY_SIZE], unsigned *ret_index);

/* Remove the slot with this id. -ENOENT if absent, -EBUSY if it is the last one. */
int lk_protector_remove_slot(struct lk_protector *pr, uint32_t slot_id);

/* Index of the first slot of this kind, or -ENOENT. */
int lk_protector_find_kind(const struct lk_protector *pr, uint8_t kind);

#endif
