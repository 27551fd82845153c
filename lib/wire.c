/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Protocol message encoding and strict decoding. See latchkey/protocol.h. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "secret.h"
#include "wire.h"

void lk_msg_init(struct lk_msg *m, uint16_t type, uint32_t seq)
{
	lk_wipe(m, sizeof(*m));
	m->type = type;
	m->seq = seq;
	m->uid = LK_UID_NONE;
}

void lk_msg_wipe(struct lk_msg *m)
{
	lk_wipe(m, sizeof(*m));
}

#define SETTER(name, field, tag, ctype)                                                                      \
	void lk_msg_set_##name(struct lk_msg *m, ctype v)                                                    \
	{                                                                                                    \
		m->field = v;                                                                                \
		m->fields |= LK_F(tag);                                                                      \
	}
SETTER(uid, uid, LK_T_UID, uint32_t)
SETTER(status, status, LK_T_STATUS, uint32_t)
SETTER(error, error, LK_T_ERROR, int32_t)
SETTER(flags, flags, LK_T_FLAGS, uint32_t)
SETTER(count, count, LK_T_COUNT, uint32_t)
SETTER(state, state, LK_T_STATE, uint32_t)
#undef SETTER

void lk_msg_set_kdf(struct lk_msg *m, const struct lk_kdf_params *kdf)
{
	m->kdf = *kdf;
	m->fields |= LK_F(LK_T_KDF);
}

void lk_msg_set_key(struct lk_msg *m, const uint8_t key[LK_WRAP_KEY_SIZE])
{
	memcpy(m->key, key, LK_WRAP_KEY_SIZE);
	m->fields |= LK_F(LK_T_KEY);
}

void lk_msg_set_new_key(struct lk_msg *m, const uint8_t key[LK_WRAP_KEY_SIZE])
{
	memcpy(m->new_key, key, LK_WRAP_KEY_SIZE);
	m->fields |= LK_F(LK_T_NEW_KEY);
}

void lk_msg_set_key_id(struct lk_msg *m, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	memcpy(m->key_id, key_id, LK_KEY_ID_SIZE);
	m->fields |= LK_F(LK_T_KEY_ID);
}

static int set_string(char *dst, size_t max, const char *s)
{
	size_t n = strlen(s);

	if (n > max)
		return -EINVAL;
	memcpy(dst, s, n + 1);
	return 0;
}

int lk_msg_set_path(struct lk_msg *m, const char *path)
{
	if (!path || path[0] != '/' || set_string(m->path, LK_PATH_MAX, path) < 0)
		return -EINVAL;
	m->fields |= LK_F(LK_T_PATH);
	return 0;
}

int lk_msg_set_account(struct lk_msg *m, const char *account)
{
	if (!account || !account[0] || set_string(m->account, LK_ACCOUNT_MAX, account) < 0)
		return -EINVAL;
	m->fields |= LK_F(LK_T_ACCOUNT);
	return 0;
}

void lk_msg_set_pcr(struct lk_msg *m, const struct lk_pcr_prediction *pcr)
{
	m->pcr = *pcr;
	m->fields |= LK_F(LK_T_PCR);
}

int lk_msg_set_text(struct lk_msg *m, const char *text)
{
	if (set_string(m->text, LK_TEXT_MAX, text) < 0)
		return -EINVAL;
	m->fields |= LK_F(LK_T_TEXT);
	return 0;
}

/* --- encoding --- */

struct writer {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (w->err)
		return;
	if (n > w->cap - w->len) {
		w->err = -EMSGSIZE;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_u8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = {v & 0xff, v >> 8};
	put(w, b, 2);
}

static void put_u32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
	put(w, b, 4);
}

static void put_tlv(struct writer *w, uint16_t tag, const void *p, size_t n)
{
	put_u16(w, tag);
	put_u16(w, (uint16_t)n);
	put(w, p, n);
}

static void put_tlv_u32(struct writer *w, uint16_t tag, uint32_t v)
{
	put_u16(w, tag);
	put_u16(w, 4);
	put_u32(w, v);
}

int lk_msg_encode(const struct lk_msg *m, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct writer w = {.buf = buf, .cap = cap < LK_MSG_MAX ? cap : LK_MSG_MAX};

	if (cap < LK_HDR_SIZE)
		return -EMSGSIZE;

	put_u32(&w, LK_PROTO_MAGIC);
	put_u16(&w, LK_PROTO_VERSION);
	put_u16(&w, m->type);
	put_u32(&w, m->seq);
	put_u32(&w, 0); /* body_len, patched below */

	if (lk_msg_has(m, LK_T_UID))
		put_tlv_u32(&w, LK_T_UID, m->uid);
	if (lk_msg_has(m, LK_T_STATUS))
		put_tlv_u32(&w, LK_T_STATUS, m->status);
	if (lk_msg_has(m, LK_T_ERROR))
		put_tlv_u32(&w, LK_T_ERROR, (uint32_t)m->error);
	if (lk_msg_has(m, LK_T_FLAGS))
		put_tlv_u32(&w, LK_T_FLAGS, m->flags);
	if (lk_msg_has(m, LK_T_COUNT))
		put_tlv_u32(&w, LK_T_COUNT, m->count);
	if (lk_msg_has(m, LK_T_STATE))
		put_tlv_u32(&w, LK_T_STATE, m->state);
	if (lk_msg_has(m, LK_T_KDF)) {
		if (m->kdf.salt_len > LK_SALT_MAX)
			return -EINVAL;
		put_u16(&w, LK_T_KDF);
		put_u16(&w, 16 + m->kdf.salt_len);
		put_u8(&w, m->kdf.alg);
		put_u8(&w, m->kdf.salt_len);
		put_u16(&w, 0);
		put_u32(&w, m->kdf.t_cost);
		put_u32(&w, m->kdf.m_cost_kib);
		put_u32(&w, m->kdf.parallelism);
		put(&w, m->kdf.salt, m->kdf.salt_len);
	}
	if (lk_msg_has(m, LK_T_KEY))
		put_tlv(&w, LK_T_KEY, m->key, LK_WRAP_KEY_SIZE);
	if (lk_msg_has(m, LK_T_NEW_KEY))
		put_tlv(&w, LK_T_NEW_KEY, m->new_key, LK_WRAP_KEY_SIZE);
	if (lk_msg_has(m, LK_T_KEY_ID))
		put_tlv(&w, LK_T_KEY_ID, m->key_id, LK_KEY_ID_SIZE);
	if (lk_msg_has(m, LK_T_PATH)) {
		size_t n = strnlen(m->path, LK_PATH_MAX + 1);
		if (n == 0 || n > LK_PATH_MAX)
			return -EINVAL;
		put_tlv(&w, LK_T_PATH, m->path, n);
	}
	if (lk_msg_has(m, LK_T_TEXT)) {
		size_t n = strnlen(m->text, LK_TEXT_MAX + 1);
		if (n > LK_TEXT_MAX)
			return -EINVAL;
		put_tlv(&w, LK_T_TEXT, m->text, n);
	}
	if (lk_msg_has(m, LK_T_PCR)) {
		put_u16(&w, LK_T_PCR);
		put_u16(&w, 8 + LK_PCR_DIGEST_SIZE);
		put_u16(&w, m->pcr.bank);
		put_u16(&w, 0);
		put_u32(&w, m->pcr.mask);
		put(&w, m->pcr.digest, LK_PCR_DIGEST_SIZE);
	}
	if (lk_msg_has(m, LK_T_ACCOUNT)) {
		size_t n = strnlen(m->account, LK_ACCOUNT_MAX + 1);
		if (n == 0 || n > LK_ACCOUNT_MAX)
			return -EINVAL;
		put_tlv(&w, LK_T_ACCOUNT, m->account, n);
	}
	if (w.err) {
		lk_wipe(buf, w.len);
		return w.err;
	}

	uint32_t body = (uint32_t)(w.len - LK_HDR_SIZE);
	buf[12] = body & 0xff;
	buf[13] = (body >> 8) & 0xff;
	buf[14] = (body >> 16) & 0xff;
	buf[15] = body >> 24;
	*ret_len = w.len;
	return 0;
}

/* --- decoding --- */

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool type_is_known(uint16_t t)
{
	return (t >= LK_REQ_KDF_PARAMS && t < _LK_REQ_MAX) || (t >= LK_REP_OK && t < _LK_REP_MAX);
}

static int decode_string(char *dst, size_t max, bool nonempty, const uint8_t *v, uint16_t n)
{
	if (n > max || (nonempty && n == 0) || memchr(v, '\0', n))
		return -EBADMSG;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int decode_field(struct lk_msg *m, uint16_t tag, const uint8_t *v, uint16_t n)
{
	switch (tag) {
	case LK_T_UID:
	case LK_T_STATUS:
	case LK_T_ERROR:
	case LK_T_FLAGS:
	case LK_T_COUNT:
	case LK_T_STATE: {
		if (n != 4)
			return -EBADMSG;
		uint32_t x = get_u32(v);
		if (tag == LK_T_UID)
			m->uid = x;
		else if (tag == LK_T_STATUS)
			m->status = x;
		else if (tag == LK_T_ERROR)
			m->error = (int32_t)x;
		else if (tag == LK_T_FLAGS)
			m->flags = x;
		else if (tag == LK_T_COUNT)
			m->count = x;
		else
			m->state = x;
		return 0;
	}
	case LK_T_KDF:
		if (n < 16 + LK_SALT_MIN || n > 16 + LK_SALT_MAX || v[1] != n - 16 || get_u16(v + 2) != 0)
			return -EBADMSG;
		m->kdf.alg = v[0];
		m->kdf.salt_len = v[1];
		m->kdf.t_cost = get_u32(v + 4);
		m->kdf.m_cost_kib = get_u32(v + 8);
		m->kdf.parallelism = get_u32(v + 12);
		memcpy(m->kdf.salt, v + 16, m->kdf.salt_len);
		return 0;
	case LK_T_KEY:
		if (n != LK_WRAP_KEY_SIZE)
			return -EBADMSG;
		memcpy(m->key, v, n);
		return 0;
	case LK_T_NEW_KEY:
		if (n != LK_WRAP_KEY_SIZE)
			return -EBADMSG;
		memcpy(m->new_key, v, n);
		return 0;
	case LK_T_KEY_ID:
		if (n != LK_KEY_ID_SIZE)
			return -EBADMSG;
		memcpy(m->key_id, v, n);
		return 0;
	case LK_T_PATH:
		if (decode_string(m->path, LK_PATH_MAX, true, v, n) < 0 || m->path[0] != '/')
			return -EBADMSG;
		return 0;
	case LK_T_TEXT:
		return decode_string(m->text, LK_TEXT_MAX, false, v, n);
	case LK_T_ACCOUNT:
		return decode_string(m->account, LK_ACCOUNT_MAX, true, v, n);
	case LK_T_PCR:
		if (n != 8 + LK_PCR_DIGEST_SIZE || get_u16(v + 2) != 0)
			return -EBADMSG;
		m->pcr.bank = get_u16(v);
		m->pcr.mask = get_u32(v + 4);
		memcpy(m->pcr.digest, v + 8, LK_PCR_DIGEST_SIZE);
		return 0;
	default:
		return -EBADMSG;
	}
}

static int decode(const uint8_t *buf, size_t len, struct lk_msg *m)
{
	size_t off;
	int r;

	if (len < LK_HDR_SIZE || len > LK_MSG_MAX)
		return -EBADMSG;
	if (get_u32(buf) != LK_PROTO_MAGIC)
		return -EBADMSG;
	if (get_u16(buf + 4) != LK_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (get_u32(buf + 12) != len - LK_HDR_SIZE)
		return -EBADMSG;

	lk_msg_init(m, get_u16(buf + 6), get_u32(buf + 8));
	if (!type_is_known(m->type))
		return -EBADMSG;

	for (off = LK_HDR_SIZE; off < len;) {
		if (len - off < 4)
			return -EBADMSG;
		uint16_t tag = get_u16(buf + off);
		uint16_t n = get_u16(buf + off + 2);
		off += 4;
		if (n > len - off)
			return -EBADMSG;
		if (tag == 0 || tag >= _LK_T_MAX || (m->fields & LK_F(tag)))
			return -EBADMSG;
		r = decode_field(m, tag, buf + off, n);
		if (r < 0)
			return r;
		m->fields |= LK_F(tag);
		off += n;
	}
	return 0;
}

int lk_msg_decode(const uint8_t *buf, size_t len, struct lk_msg *ret)
{
	/* Decoded in place (callers hand in secret memory when a key may
	 * arrive); a rejected message leaves nothing half-decoded behind. */
	int r = decode(buf, len, ret);
	if (r < 0)
		lk_msg_wipe(ret);
	return r;
}

/* --- names --- */

const char *lk_status_to_string(uint32_t status)
{
	static const char *const names[_LK_STATUS_MAX] = {
	    [LK_OK] = "success",
	    [LK_E_PROTOCOL] = "protocol error",
	    [LK_E_PERM] = "permission denied",
	    [LK_E_NOT_ENROLLED] = "user not enrolled",
	    [LK_E_BAD_KEY] = "authentication failed (wrong passphrase?)",
	    [LK_E_NO_CREDENTIAL] = "no credential from login",
	    [LK_E_NEED_PASSPHRASE] = "passphrase needed",
	    [LK_E_INVALID] = "invalid argument",
	    [LK_E_EXISTS] = "already exists",
	    [LK_E_NOT_FOUND] = "not found",
	    [LK_E_UNSUPPORTED] = "not supported by this filesystem or kernel",
	    [LK_E_BUSY] = "files still in use",
	    [LK_E_THROTTLED] = "too many failed attempts, try again later",
	    [LK_E_INTERNAL] = "internal error in latchkeyd",
	    [LK_E_PARTIAL] = "partly done",
	    [LK_E_OTHER_ACCOUNT] = "the uid's latchkey state belongs to a former account",
	    [LK_E_TPM] = "the TPM is unavailable or refused",
	};
	if (status < _LK_STATUS_MAX && names[status])
		return names[status];
	return "unknown status";
}

const char *lk_slot_kind_to_string(uint8_t kind)
{
	switch (kind) {
	case LK_SLOT_LOGIN:
		return "login";
	case LK_SLOT_RECOVERY:
		return "recovery";
	case LK_SLOT_ESCROW:
		return "escrow";
	case LK_SLOT_TPM2:
		return "tpm2";
	default:
		return "unknown";
	}
}

const char *lk_key_state_to_string(uint32_t state)
{
	switch (state) {
	case LK_KEY_ABSENT:
		return "locked";
	case LK_KEY_PRESENT:
		return "unlocked";
	case LK_KEY_INCOMPLETELY_REMOVED:
		return "incompletely-locked";
	case LK_KEY_UNAVAILABLE:
		return "unavailable";
	case LK_KEY_GONE:
		return "gone";
	default:
		return "unknown";
	}
}

const char *lk_msg_type_to_string(uint16_t type)
{
	switch (type) {
	case LK_REQ_KDF_PARAMS:
		return "KDF_PARAMS";
	case LK_REQ_AUTH_SUBMIT:
		return "AUTH_SUBMIT";
	case LK_REQ_SESSION_OPEN:
		return "SESSION_OPEN";
	case LK_REQ_SESSION_CLOSE:
		return "SESSION_CLOSE";
	case LK_REQ_UNLOCK:
		return "UNLOCK";
	case LK_REQ_LOCK:
		return "LOCK";
	case LK_REQ_STATUS:
		return "STATUS";
	case LK_REQ_ENROLL:
		return "ENROLL";
	case LK_REQ_ENCRYPT:
		return "ENCRYPT";
	case LK_REQ_REWRAP:
		return "REWRAP";
	case LK_REQ_RELOAD:
		return "RELOAD";
	case LK_REQ_FORGET:
		return "FORGET";
	case LK_REQ_UNENROLL:
		return "UNENROLL";
	case LK_REQ_USERS:
		return "USERS";
	case LK_REQ_CONFIG_DIR:
		return "CONFIG_DIR";
	case LK_REQ_TPM_BIND:
		return "TPM_BIND";
	case LK_REQ_TPM_UNBIND:
		return "TPM_UNBIND";
	case LK_REQ_TPM_RESEAL:
		return "TPM_RESEAL";

	case LK_REQ_RELOCATE:
		return "RELOCATE";
	case LK_REQ_LOGIN_ENROLL:
		return "LOGIN_ENROLL";
	case LK_REP_OK:
		return "OK";
	case LK_REP_ERROR:
		return "ERROR";
	case LK_REP_KDF_PARAMS:
		return "KDF_PARAMS reply";
	case LK_REP_UNLOCK_RESULT:
		return "UNLOCK_RESULT";
	case LK_REP_LOCK_RESULT:
		return "LOCK_RESULT";
	case LK_REP_STATUS_ENTRY:
		return "STATUS_ENTRY";
	case LK_REP_STATUS_END:
		return "STATUS_END";
	case LK_REP_ENCRYPT_RESULT:
		return "ENCRYPT_RESULT";
	case LK_REP_USER_ENTRY:
		return "USER_ENTRY";
	case LK_REP_SLOT_ENTRY:
		return "SLOT_ENTRY";
	default:
		return "unknown";
	}
}
