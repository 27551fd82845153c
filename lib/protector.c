/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "protector.h"
#include "secret.h"

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static bool all_zero(const uint8_t *b, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= b[i];
	return acc == 0;
}

static bool slot_kind_is_valid(uint8_t kind)
{
	return kind == LK_SLOT_LOGIN || kind == LK_SLOT_RECOVERY || kind == LK_SLOT_ESCROW ||
	       kind == LK_SLOT_TPM2;
}

/* Escrow slots, and only they, are opened by an X25519-derived key. */
static bool slot_kdf_matches_kind(uint8_t kind, const struct lk_kdf_params *kdf)
{
	return (kind == LK_SLOT_ESCROW) == (kdf->alg == LK_KDF_X25519);
}

static void header_encode(uint8_t hdr[LK_PROTECTOR_HDR_SIZE], uint16_t version, uint16_t n_slots,
                          uint32_t uid, uint32_t next_id)
{
	memset(hdr, 0, LK_PROTECTOR_HDR_SIZE);
	put32(hdr, LK_PROTECTOR_MAGIC);
	put16(hdr + 4, version);
	put16(hdr + 6, n_slots);
	put32(hdr + 8, uid);
	put32(hdr + 12, next_id);
}

/* Bytes 0..51 of a slot: everything that is authenticated but not secret. */
static void slot_encode_aad_part(const struct lk_slot *s, uint8_t b[LK_SLOT_AAD_SIZE])
{
	memset(b, 0, LK_SLOT_AAD_SIZE);
	b[0] = s->kind;
	b[1] = s->kdf.alg;
	b[2] = s->kdf.salt_len;
	b[3] = s->derivation;
	put32(b + 4, s->slot_id);
	put32(b + 8, s->kdf.t_cost);
	put32(b + 12, s->kdf.m_cost_kib);
	put32(b + 16, s->kdf.parallelism);
	memcpy(b + 20, s->kdf.salt, s->kdf.salt_len);
}

static void slot_encode(const struct lk_slot *s, uint8_t b[LK_SLOT_SIZE])
{
	slot_encode_aad_part(s, b);
	memcpy(b + 52, s->nonce, LK_GCM_NONCE_SIZE);
	memcpy(b + 64, s->ct, LK_PROTECTOR_KEY_SIZE);
	memcpy(b + 96, s->tag, LK_GCM_TAG_SIZE);
}

#define SLOT_AAD_MAX (LK_PROTECTOR_HDR_SIZE + LK_SLOT_AAD_SIZE + 1 + LK_BOUND_NAME_MAX + LK_MACHINE_ID_SIZE)

static bool slot_is_bound(const struct lk_slot *s)
{
	return s->kind == LK_SLOT_ESCROW && s->derivation == LK_SLOT_DERIV_V2;
}

/*
 * The AAD binds the slot to the file's uid, but not to n_slots or next_id,
 * so adding or removing another slot leaves this one valid; the version is
 * the slot's own (1 for V1 slots), so an old slot opens in a newer file. A
 * V2 escrow slot also binds the user name and the machine. Sets *ret_len;
 * -EINVAL when a bound slot has no binding to use.
 */
static int slot_aad(const struct lk_protector *pr, const struct lk_slot *s, uint8_t aad[SLOT_AAD_MAX],
                    size_t *ret_len)
{
	size_t len = LK_PROTECTOR_HDR_SIZE + LK_SLOT_AAD_SIZE, n;

	header_encode(aad, s->derivation == LK_SLOT_DERIV_V1 ? LK_PROTECTOR_VERSION_V1 : LK_PROTECTOR_VERSION,
	              0, pr->uid, 0);
	slot_encode_aad_part(s, aad + LK_PROTECTOR_HDR_SIZE);
	if (slot_is_bound(s)) {
		if (!pr->have_binding)
			return -EINVAL;
		n = strlen(pr->binding.user);
		aad[len++] = (uint8_t)n;
		memcpy(aad + len, pr->binding.user, n);
		len += n;
		memcpy(aad + len, pr->binding.machine_id, LK_MACHINE_ID_SIZE);
		len += LK_MACHINE_ID_SIZE;
	}
	*ret_len = len;
	return 0;
}

static int slot_check(const struct lk_slot *s)
{
	if (!slot_kind_is_valid(s->kind))
		return -EBADMSG;
	if (s->derivation != LK_SLOT_DERIV_V1 && s->derivation != LK_SLOT_DERIV_V2)
		return -EBADMSG;
	if (lk_kdf_params_check(&s->kdf) < 0 || !slot_kdf_matches_kind(s->kind, &s->kdf))
		return -EBADMSG;
	/* The unused tail of the salt is serialised as zero; demand it here so
	 * parse and serialise are exact inverses. */
	if (!all_zero(s->kdf.salt + s->kdf.salt_len, LK_SALT_MAX - s->kdf.salt_len))
		return -EBADMSG;
	return 0;
}

static int slots_check(const struct lk_protector *pr)
{
	int r;

	if (pr->n_slots < 1 || pr->n_slots > LK_MAX_SLOTS)
		return -EBADMSG;
	for (unsigned i = 0; i < pr->n_slots; i++) {
		r = slot_check(&pr->slots[i]);
		if (r < 0)
			return r;
		for (unsigned j = 0; j < i; j++)
			if (pr->slots[j].slot_id == pr->slots[i].slot_id)
				return -EBADMSG;
		/* The counter is above every id the file holds, or one would be reused. */
		if (pr->slots[i].slot_id >= pr->next_slot_id)
			return -EBADMSG;
	}
	return 0;
}

int lk_protector_parse(const uint8_t *buf, size_t len, struct lk_protector *ret)
{
	struct lk_protector pr = {};
	uint32_t max_id = 0;
	uint16_t version;
	unsigned n;
	int r;

	if (!buf || !ret)
		return -EINVAL;
	if (len < LK_PROTECTOR_HDR_SIZE || len > LK_PROTECTOR_MAX_SIZE)
		return -EBADMSG;
	version = get16(buf + 4);
	if (get32(buf) != LK_PROTECTOR_MAGIC ||
	    (version != LK_PROTECTOR_VERSION && version != LK_PROTECTOR_VERSION_V1))
		return -EBADMSG;
	if (version == LK_PROTECTOR_VERSION_V1 && get32(buf + 12) != 0)
		return -EBADMSG;
	n = get16(buf + 6);
	if (n < 1 || n > LK_MAX_SLOTS || len != LK_PROTECTOR_HDR_SIZE + (size_t)n * LK_SLOT_SIZE)
		return -EBADMSG;

	pr.uid = get32(buf + 8);
	pr.n_slots = n;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *b = buf + LK_PROTECTOR_HDR_SIZE + (size_t)i * LK_SLOT_SIZE;
		struct lk_slot *s = &pr.slots[i];

		/* Version 1 knew only the first derivation (the byte was reserved). */
		if (version == LK_PROTECTOR_VERSION_V1 && b[3] != LK_SLOT_DERIV_V1)
			return -EBADMSG;
		s->derivation = b[3];
		s->kind = b[0];
		s->kdf.alg = b[1];
		s->kdf.salt_len = b[2];
		s->slot_id = get32(b + 4);
		s->kdf.t_cost = get32(b + 8);
		s->kdf.m_cost_kib = get32(b + 12);
		s->kdf.parallelism = get32(b + 16);
		memcpy(s->kdf.salt, b + 20, LK_SALT_MAX);
		memcpy(s->nonce, b + 52, LK_GCM_NONCE_SIZE);
		memcpy(s->ct, b + 64, LK_PROTECTOR_KEY_SIZE);
		memcpy(s->tag, b + 96, LK_GCM_TAG_SIZE);
		if (s->slot_id > max_id)
			max_id = s->slot_id;
	}
	if (version == LK_PROTECTOR_VERSION)
		pr.next_slot_id = get32(buf + 12);
	else if (max_id == UINT32_MAX)
		return -EBADMSG; /* no id left to give */
	else
		/* A version 1 file remembers no counter: the best it can say. */
		pr.next_slot_id = max_id + 1;
	r = slots_check(&pr);
	if (r < 0)
		return r;
	*ret = pr;
	return 0;
}

int lk_protector_serialize(const struct lk_protector *pr, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t len;

	if (!pr || !buf || !ret_len)
		return -EINVAL;
	/* Refuse to write what we would refuse to read. */
	if (slots_check(pr) < 0)
		return -EINVAL;
	len = LK_PROTECTOR_HDR_SIZE + (size_t)pr->n_slots * LK_SLOT_SIZE;
	if (cap < len)
		return -ENOBUFS;
	header_encode(buf, LK_PROTECTOR_VERSION, (uint16_t)pr->n_slots, pr->uid, pr->next_slot_id);
	for (unsigned i = 0; i < pr->n_slots; i++)
		slot_encode(&pr->slots[i], buf + LK_PROTECTOR_HDR_SIZE + (size_t)i * LK_SLOT_SIZE);
	*ret_len = len;
	return 0;
}

/* V2: the info names the slot's kind and uid, so a KEK is never shared
 * between kinds or users even if a W were (defence in depth beside the AAD). */
static int slot_kek(uint32_t uid, const struct lk_slot *s, const uint8_t wrap_key[LK_WRAP_KEY_SIZE],
                    uint8_t kek[32])
{
	uint8_t info[sizeof(LK_INFO_SLOT_V2) - 1 + 1 + 4];
	size_t n = sizeof(LK_INFO_SLOT_V2) - 1;

	if (s->derivation == LK_SLOT_DERIV_V1)
		return lk_hkdf_sha256(wrap_key, LK_WRAP_KEY_SIZE, NULL, 0, (const uint8_t *)LK_INFO_SLOT,
		                      strlen(LK_INFO_SLOT), kek, 32);
	memcpy(info, LK_INFO_SLOT_V2, n);
	info[n] = s->kind;
	put32(info + n + 1, uid);
	return lk_hkdf_sha256(wrap_key, LK_WRAP_KEY_SIZE, NULL, 0, info, sizeof(info), kek, 32);
}

int lk_protector_set_binding(struct lk_protector *pr, const char *user,
                             const uint8_t machine_id[LK_MACHINE_ID_SIZE])
{
	size_t n;

	if (!pr || !user || !machine_id)
		return -EINVAL;
	n = strlen(user);
	if (n == 0 || n > LK_BOUND_NAME_MAX)
		return -EINVAL;
	memcpy(pr->binding.user, user, n + 1);
	memcpy(pr->binding.machine_id, machine_id, LK_MACHINE_ID_SIZE);
	pr->have_binding = true;
	return 0;
}

int lk_protector_add_slot(struct lk_protector *pr, uint8_t kind, const struct lk_kdf_params *kdf,
                          const uint8_t wrap_key[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                          uint32_t *ret_slot_id)
{
	uint8_t aad[SLOT_AAD_MAX];
	struct lk_secret kek _cleanup_secret_ = {};
	struct lk_slot s = {};
	uint32_t max_id = 0;
	size_t aad_len;
	int r;

	if (!pr || !kdf || !wrap_key || !p || !slot_kind_is_valid(kind) || lk_kdf_params_check(kdf) < 0 ||
	    !slot_kdf_matches_kind(kind, kdf))
		return -EINVAL;
	if (pr->n_slots >= LK_MAX_SLOTS)
		return -ENOSPC;
	for (unsigned i = 0; i < pr->n_slots; i++)
		if (pr->slots[i].slot_id > max_id)
			max_id = pr->slots[i].slot_id;
	/* A counter behind the ids (a struct made by hand) catches up. */
	if (pr->next_slot_id <= max_id)
		pr->next_slot_id = max_id + 1;
	/* Ids are never reused, so never wrap around. */
	if (pr->next_slot_id == 0 || pr->next_slot_id == UINT32_MAX)
		return -EOVERFLOW;

	s.kind = kind;
	s.derivation = LK_SLOT_DERIV_V2;
	s.slot_id = pr->next_slot_id;
	s.kdf = *kdf;
	memset(s.kdf.salt + s.kdf.salt_len, 0, LK_SALT_MAX - s.kdf.salt_len);
	r = lk_random_bytes(s.nonce, sizeof(s.nonce));
	if (r < 0)
		return r;

	r = lk_secret_new(&kek, 32);
	if (r < 0)
		return r;
	r = slot_aad(pr, &s, aad, &aad_len);
	if (r < 0)
		return r;
	r = slot_kek(pr->uid, &s, wrap_key, kek.ptr);
	if (r < 0)
		return r;
	r = lk_aead_seal(kek.ptr, s.nonce, aad, aad_len, p, LK_PROTECTOR_KEY_SIZE, s.ct, s.tag);
	if (r < 0)
		return r;

	pr->next_slot_id++;
	pr->slots[pr->n_slots++] = s;
	if (ret_slot_id)
		*ret_slot_id = s.slot_id;
	return 0;
}

int lk_protector_open_slot(const struct lk_protector *pr, unsigned index,
                           const uint8_t wrap_key[LK_WRAP_KEY_SIZE], uint8_t p_out[LK_PROTECTOR_KEY_SIZE])
{
	uint8_t aad[SLOT_AAD_MAX];
	struct lk_secret kek _cleanup_secret_ = {};
	struct lk_secret pt _cleanup_secret_ = {};
	const struct lk_slot *s;
	size_t aad_len;
	int r;

	if (!pr || !wrap_key || !p_out || index >= pr->n_slots || pr->n_slots > LK_MAX_SLOTS)
		return -EINVAL;
	s = &pr->slots[index];
	if (slot_check(s) < 0)
		return -EBADMSG;

	r = lk_secret_new(&kek, 32);
	if (r < 0)
		return r;
	r = lk_secret_new(&pt, LK_PROTECTOR_KEY_SIZE);
	if (r < 0)
		return r;
	/* A bound slot without its binding cannot be opened: "not this key". */
	if (slot_aad(pr, s, aad, &aad_len) < 0)
		return -EBADMSG;
	r = slot_kek(pr->uid, s, wrap_key, kek.ptr);
	if (r < 0)
		return r;
	r = lk_aead_open(kek.ptr, s->nonce, aad, aad_len, s->ct, LK_PROTECTOR_KEY_SIZE, s->tag, pt.ptr);
	if (r < 0)
		return r;
	memcpy(p_out, pt.ptr, LK_PROTECTOR_KEY_SIZE);
	return 0;
}

int lk_protector_open(const struct lk_protector *pr, uint8_t kind, const uint8_t wrap_key[LK_WRAP_KEY_SIZE],
                      uint8_t p_out[LK_PROTECTOR_KEY_SIZE], unsigned *ret_index)
{
	if (!pr || !wrap_key || !p_out || pr->n_slots > LK_MAX_SLOTS)
		return -EINVAL;
	for (unsigned i = 0; i < pr->n_slots; i++) {
		int r;

		if (kind != 0 && pr->slots[i].kind != kind)
			continue;
		r = lk_protector_open_slot(pr, i, wrap_key, p_out);
		if (r == 0) {
			if (ret_index)
				*ret_index = i;
			return 0;
		}
		/* -EBADMSG only means "not this slot"; anything else (no memory
		 * for the KEK) is no verdict on the key and must not pass for one. */
		if (r != -EBADMSG)
			return r;
	}
	return -EBADMSG;
}

int lk_protector_remove_slot(struct lk_protector *pr, uint32_t slot_id)
{
	unsigned i;

	if (!pr || pr->n_slots > LK_MAX_SLOTS)
		return -EINVAL;
	for (i = 0; i < pr->n_slots; i++)
		if (pr->slots[i].slot_id == slot_id)
			break;
	if (i == pr->n_slots)
		return -ENOENT;
	/* A protector without slots would lose P, and with it every policy. */
	if (pr->n_slots == 1)
		return -EBUSY;
	memmove(&pr->slots[i], &pr->slots[i + 1], (pr->n_slots - i - 1) * sizeof(pr->slots[0]));
	pr->n_slots--;
	memset(&pr->slots[pr->n_slots], 0, sizeof(pr->slots[0]));
	return 0;
}

int lk_protector_find_kind(const struct lk_protector *pr, uint8_t kind)
{
	if (!pr || pr->n_slots > LK_MAX_SLOTS)
		return -EINVAL;
	for (unsigned i = 0; i < pr->n_slots; i++)
		if (pr->slots[i].kind == kind)
			return (int)i;
	return -ENOENT;
}
