/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoding and decoding of protocol messages (include/latchkey/protocol.h). */
#ifndef LK_WIRE_H
#define LK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kdf.h"
#include "latchkey/protocol.h"

/* Bits of lk_msg.fields: which tags are present. */
#define LK_F(tag) (1u << (tag))

/*
 * A decoded message. It can carry a wrapping key, so callers that fill or
 * receive one keep it in secret memory (lk_secret_alloc) and wipe it.
 */
/* LK_T_PCR */
#define LK_PCR_DIGEST_SIZE 32
struct lk_pcr_prediction {
	uint16_t bank;
	uint32_t mask;
	uint8_t digest[LK_PCR_DIGEST_SIZE];
};

struct lk_msg {
	uint16_t type;
	uint32_t seq;
	uint32_t fields; /* LK_F(LK_T_*) bits */
	uint32_t uid;
	uint32_t status;
	int32_t error;
	uint32_t flags;
	uint32_t count;
	uint32_t state;
	struct lk_kdf_params kdf;
	uint8_t key[LK_WRAP_KEY_SIZE];
	uint8_t new_key[LK_WRAP_KEY_SIZE];
	uint8_t key_id[LK_KEY_ID_SIZE];
	char path[LK_PATH_MAX + 1];
	char text[LK_TEXT_MAX + 1];
	char account[LK_ACCOUNT_MAX + 1];
	struct lk_pcr_prediction pcr;
};

/* Reset m to an empty message of this type (fields = 0). */
void lk_msg_init(struct lk_msg *m, uint16_t type, uint32_t seq);

/* Setters mark the field present. Strings are truncated never: -EINVAL if too long. */
void lk_msg_set_uid(struct lk_msg *m, uint32_t uid);
void lk_msg_set_status(struct lk_msg *m, uint32_t status);
void lk_msg_set_error(struct lk_msg *m, int32_t error);
void lk_msg_set_flags(struct lk_msg *m, uint32_t flags);
void lk_msg_set_count(struct lk_msg *m, uint32_t count);
void lk_msg_set_state(struct lk_msg *m, uint32_t state);
void lk_msg_set_kdf(struct lk_msg *m, const struct lk_kdf_params *kdf);
void lk_msg_set_key(struct lk_msg *m, const uint8_t key[LK_WRAP_KEY_SIZE]);
void lk_msg_set_new_key(struct lk_msg *m, const uint8_t key[LK_WRAP_KEY_SIZE]);
void lk_msg_set_key_id(struct lk_msg *m, const uint8_t key_id[LK_KEY_ID_SIZE]);
int lk_msg_set_path(struct lk_msg *m, const char *path);
int lk_msg_set_text(struct lk_msg *m, const char *text);
int lk_msg_set_account(struct lk_msg *m, const char *account);
void lk_msg_set_pcr(struct lk_msg *m, const struct lk_pcr_prediction *pcr);

static inline int lk_msg_has(const struct lk_msg *m, int tag)
{
	return (m->fields & LK_F(tag)) != 0;
}

/* The status a reply carries. The daemon sets one on every error reply and
 * every *_RESULT; a reply without one does not follow the protocol, so it
 * reads as LK_E_PROTOCOL for every client (not as an internal error of the
 * daemon, which would blame the wrong side). */
static inline uint32_t lk_msg_status(const struct lk_msg *m)
{
	return lk_msg_has(m, LK_T_STATUS) ? m->status : LK_E_PROTOCOL;
}

/* Whether rep is an error reply with this status. */
static inline bool lk_msg_is_error(const struct lk_msg *rep, uint32_t status)
{
	return rep->type == LK_REP_ERROR && lk_msg_status(rep) == status;
}

/* Encode into buf (cap >= LK_MSG_MAX). 0 or -EINVAL/-EMSGSIZE. */
int lk_msg_encode(const struct lk_msg *m, uint8_t *buf, size_t cap, size_t *ret_len);

/*
 * Strict decode of one packet: header magic/version/length, known type,
 * each tag at most once with its exact or bounded length, strings without
 * NUL, KDF salt length in range. Decodes in place; on failure *ret is
 * wiped. 0 or -EBADMSG (malformed), -EPROTONOSUPPORT (other version).
 */
int lk_msg_decode(const uint8_t *buf, size_t len, struct lk_msg *ret);

/* Wipe the key field (and everything else) of a message. */
void lk_msg_wipe(struct lk_msg *m);

/* Human-readable name of a status code ("bad key", ...). Never NULL. */
const char *lk_status_to_string(uint32_t status);
/* "login", "recovery", "escrow" (enum lk_slot_kind), else "unknown". */
const char *lk_slot_kind_to_string(uint8_t kind);
/* Name of a key state ("locked", "unlocked", "incompletely locked", ...). */
const char *lk_key_state_to_string(uint32_t state);
/* Name of a message type, for debug logs. */
const char *lk_msg_type_to_string(uint16_t type);

#endif
