/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TPM2 slots: the protector side of format.h §5. The TPM never sees W:
 * its auth value is HKDF(W, LK_INFO_TPM_AUTH || uid || slot_id), so a
 * sniffed or logged auth value is no Argon2id output to attack offline,
 * and no two slots share one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "crypto.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"
#include "secret.h"
#include "tpm_slot.h"
#if HAVE_TPM2
#include "tpm2.h"
#endif

#define TPM_DIR         "tpm"
#define LOG_INTERVAL_MS (60 * 1000)

int tpm_slot_login_kdf_index(const struct lk_protector *pr)
{
	int i = lk_protector_find_kind(pr, LK_SLOT_LOGIN);

	return i >= 0 ? i : lk_protector_find_kind(pr, LK_SLOT_TPM2);
}

static int tpm_dir(struct daemon *d, bool create)
{
	if (create && mkdirat(d->store.dir_fd, TPM_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	int fd = openat(d->store.dir_fd, TPM_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void blob_name(uint32_t uid, uint32_t slot_id, char name[32])
{
	snprintf(name, 32, "%u-%u", (unsigned)uid, (unsigned)slot_id);
}

void tpm_slot_forget(struct daemon *d, uint32_t uid, uint32_t slot_id)
{
	_cleanup_close_ int dfd = tpm_dir(d, false);
	char name[32];

	if (dfd < 0)
		return;
	blob_name(uid, slot_id, name);
	(void)lk_unlink_durable_at(dfd, name);
}

const char *tpm_slot_strerror(int r)
{
	switch (r) {
	case -EACCES:
		return "wrong passphrase (counted by the TPM's dictionary-attack protection)";
	case -EPERM:
		return "PCR values differ from when the slot was sealed (firmware or boot change), or "
		       "another TPM";
	case -EAGAIN:
		return "the TPM is in dictionary-attack lockout; wait for it to clear or clear it as the "
		       "admin "
		       "(tpm2_dictionarylockout --clear-lockout)";
	case -ENODEV:
		return "no TPM reachable at the configured TCTI";
	case -EBUSY:
		return "the TPM is busy";
	case -EBADMSG:
		return "the sealed object is malformed";
	case -EOPNOTSUPP:
		return "this latchkeyd was built without TPM2 support (libtss2-esys)";
	default:
		return "TPM error";
	}
}

#if HAVE_TPM2

bool tpm_slot_supported(void)
{
	return true;
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v;
	b[1] = v >> 8;
}
static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v);
	put16(b + 2, v >> 16);
}
static uint16_t get16(const uint8_t *b)
{
	return b[0] | (uint16_t)b[1] << 8;
}
static uint32_t get32(const uint8_t *b)
{
	return get16(b) | (uint32_t)get16(b + 2) << 16;
}

static int save_blob(struct daemon *d, uint32_t uid, uint32_t slot_id, const struct tpm2_sealed *s)
{
	_cleanup_close_ int dfd = -EBADF;
	uint8_t buf[LK_TPM_BLOB_MAX_SIZE];
	char name[32];
	size_t n = 0;

	if (25u + s->pub_len + s->priv_len + (size_t)s->n_branches * LK_TPM_DIGEST_SIZE > sizeof(buf))
		return -EOVERFLOW;
	put32(buf, LK_TPM_BLOB_MAGIC);
	put16(buf + 4, LK_TPM_BLOB_VERSION);
	put16(buf + 6, s->pcr_bank);
	put32(buf + 8, s->pcr_mask);
	put32(buf + 12, uid);
	put32(buf + 16, slot_id);
	n = 20;
	put16(buf + n, s->pub_len);
	memcpy(buf + n + 2, s->pub, s->pub_len);
	n += 2 + s->pub_len;
	put16(buf + n, s->priv_len);
	memcpy(buf + n + 2, s->priv, s->priv_len);
	n += 2 + s->priv_len;
	buf[n++] = s->n_branches;
	memcpy(buf + n, s->branches, (size_t)s->n_branches * LK_TPM_DIGEST_SIZE);
	n += (size_t)s->n_branches * LK_TPM_DIGEST_SIZE;
	dfd = tpm_dir(d, true);
	if (dfd < 0)
		return dfd;
	blob_name(uid, slot_id, name);
	return lk_write_file_atomic_at(dfd, name, buf, n, 0600);
}

static int load_blob(struct daemon *d, uint32_t uid, uint32_t slot_id, struct tpm2_sealed *ret)
{
	_cleanup_close_ int dfd = -EBADF;
	uint8_t buf[LK_TPM_BLOB_MAX_SIZE];
	struct tpm2_sealed s = {};
	size_t len, n;
	char name[32];
	unsigned version;
	int r;

	dfd = tpm_dir(d, false);
	if (dfd < 0)
		return dfd;
	blob_name(uid, slot_id, name);
	r = lk_read_file_at(dfd, name, 0, sizeof(buf), buf, &len);
	if (r < 0)
		return r;
	if (len < 24 || get32(buf) != LK_TPM_BLOB_MAGIC ||
	    (get16(buf + 4) != LK_TPM_BLOB_VERSION && get16(buf + 4) != LK_TPM_BLOB_VERSION_V1) ||
	    get32(buf + 12) != uid || get32(buf + 16) != slot_id)
		return -EBADMSG;
	version = get16(buf + 4);
	s.pcr_bank = get16(buf + 6);
	s.pcr_mask = get32(buf + 8);
	s.pub_len = get16(buf + 20);
	n = 22;
	if (s.pub_len > sizeof(s.pub) || n + s.pub_len + 2 > len)
		return -EBADMSG;
	memcpy(s.pub, buf + n, s.pub_len);
	n += s.pub_len;
	s.priv_len = get16(buf + n);
	n += 2;
	if (s.priv_len > sizeof(s.priv) || n + s.priv_len > len)
		return -EBADMSG;
	memcpy(s.priv, buf + n, s.priv_len);
	n += s.priv_len;
	if (version == LK_TPM_BLOB_VERSION) {
		if (n + 1 > len)
			return -EBADMSG;
		s.n_branches = buf[n++];
		if (s.n_branches == 1 || s.n_branches > LK_TPM_BRANCHES_MAX ||
		    n + (size_t)s.n_branches * LK_TPM_DIGEST_SIZE != len)
			return -EBADMSG;
		memcpy(s.branches, buf + n, (size_t)s.n_branches * LK_TPM_DIGEST_SIZE);
	} else if (n != len)
		return -EBADMSG;
	*ret = s;
	return 0;
}

static int auth_value(uint32_t uid, uint32_t slot_id, const uint8_t w[LK_WRAP_KEY_SIZE],
                      uint8_t out[LK_TPM_SECRET_SIZE])
{
	uint8_t info[sizeof(LK_INFO_TPM_AUTH) - 1 + 8];
	size_t n = sizeof(LK_INFO_TPM_AUTH) - 1;

	memcpy(info, LK_INFO_TPM_AUTH, n);
	put32(info + n, uid);
	put32(info + n + 4, slot_id);
	return lk_hkdf_sha256(w, LK_WRAP_KEY_SIZE, NULL, 0, info, sizeof(info), out, LK_TPM_SECRET_SIZE);
}

/* One line per reason a minute: a login storm with the TPM gone must not
 * flood the journal; the count of lines held back goes with the next one. */
static void log_fallback(struct daemon *d, int r, uint32_t uid)
{
	char lockout[160] = "";
	struct tpm2_lockout l;
	static uint64_t last_ms[8];
	static unsigned held[8];
	unsigned k = r == -EPERM ? 0 : r == -ENODEV ? 1 : r == -EAGAIN ? 2 : r == -EBUSY ? 3 : 4;
	uint64_t now = lk_now_ms();

	if (last_ms[k] && now - last_ms[k] < LOG_INTERVAL_MS) {
		held[k]++;
		return;
	}
	/* How long a lockout lasts is the TPM's to say: its counter drops by
	 * one every interval, and one try is allowed again below the limit. */
	if (r == -EAGAIN && tpm2_lockout_status(d->config.tpm.tcti, &l) == 0) {
		uint64_t wait_s =
		    (uint64_t)(l.counter >= l.max_tries ? l.counter - l.max_tries + 1 : 1) * l.interval_s;
		snprintf(lockout, sizeof(lockout),
		         " (%u failed tries counted, %u allowed: one try again within %llu s)", l.counter,
		         l.max_tries, (unsigned long long)wait_s);
	}
	log_warning("TPM2 slot of uid %u not opened: %s%s; falling back to the other login slots%s",
	            (unsigned)uid, tpm_slot_strerror(r), lockout,
	            held[k] ? " (same for earlier logins, not logged)" : "");
	last_ms[k] = now;
	held[k] = 0;
}

int tpm_slot_open(struct daemon *d, const struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                  uint8_t p_out[LK_PROTECTOR_KEY_SIZE])
{
	struct lk_secret auth _cleanup_secret_ = {};
	struct lk_secret s _cleanup_secret_ = {};
	struct tpm2_sealed sealed;
	int r = -ENOENT;

	for (unsigned i = 0; i < pr->n_slots; i++) {
		const struct lk_slot *slot = &pr->slots[i];

		if (slot->kind != LK_SLOT_TPM2)
			continue;
		r = load_blob(d, pr->uid, slot->slot_id, &sealed);
		if (r < 0) {
			log_warning_errno(
			    r,
			    "TPM2 slot %u of uid %u: sealed object unreadable; falling back to the "
			    "other login slots",
			    (unsigned)slot->slot_id, (unsigned)pr->uid);
			continue;
		}
		if ((r = lk_secret_new(&auth, LK_TPM_SECRET_SIZE)) < 0 ||
		    (r = lk_secret_new(&s, LK_TPM_SECRET_SIZE)) < 0 ||
		    (r = auth_value(pr->uid, slot->slot_id, w, auth.ptr)) < 0)
			return r;
		r = tpm2_unseal(d->config.tpm.tcti, &sealed, auth.ptr, s.ptr);
		if (r == 0) {
			r = lk_protector_open_slot(pr, i, s.ptr, p_out);
			if (r < 0)
				log_warning("TPM2 slot %u of uid %u: the TPM's secret does not open the slot "
				            "(object file swapped?)",
				            (unsigned)slot->slot_id, (unsigned)pr->uid);
			return r;
		}
		if (r == -EACCES)
			return r;
		log_fallback(d, r, pr->uid);
		return r;
	}
	return r;
}

static int add_sealed(struct daemon *d, struct lk_protector *pr, const struct lk_kdf_params *kdf,
                      const uint8_t w[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                      const uint8_t (*predicted)[LK_TPM_DIGEST_SIZE], unsigned n_predicted,
                      uint32_t *ret_slot_id)
{
	struct lk_secret auth _cleanup_secret_ = {};
	struct lk_secret s _cleanup_secret_ = {};
	struct lk_protector next = *pr;
	struct tpm2_sealed sealed;
	uint32_t id;
	int r;

	if ((r = lk_secret_new(&auth, LK_TPM_SECRET_SIZE)) < 0 ||
	    (r = lk_secret_new(&s, LK_TPM_SECRET_SIZE)) < 0 ||
	    (r = lk_random_bytes(s.ptr, LK_TPM_SECRET_SIZE)) < 0)
		return r;
	r = lk_protector_add_slot(&next, LK_SLOT_TPM2, kdf, s.ptr, p, &id);
	if (r < 0)
		return r;
	r = auth_value(pr->uid, id, w, auth.ptr);
	if (r < 0)
		return r;
	r = tpm2_seal(d->config.tpm.tcti, d->config.tpm.pcr_bank, d->config.tpm.pcr_mask, predicted,
	              n_predicted, auth.ptr, s.ptr, &sealed);
	if (r < 0)
		return r;
	/* The object file first: a crash before the protector is saved leaves
	 * only an orphan file, never a slot without its object. */
	r = save_blob(d, pr->uid, id, &sealed);
	if (r < 0)
		return r;
	*pr = next;
	if (ret_slot_id)
		*ret_slot_id = id;
	return 0;
}

int tpm_slot_add(struct daemon *d, struct lk_protector *pr, const struct lk_kdf_params *kdf,
                 const uint8_t w[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                 uint32_t *ret_slot_id)
{
	return add_sealed(d, pr, kdf, w, p, NULL, 0, ret_slot_id);
}

/* Replace pr's TPM2 slots with one new slot, save pr, remove the old object
 * files. pr is updated only on success. */
static int reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                  const uint8_t p[LK_PROTECTOR_KEY_SIZE], bool drop_password_slot,
                  const uint8_t (*predicted)[LK_TPM_DIGEST_SIZE], unsigned n_predicted, uint32_t *ret_id)
{
	struct lk_protector next = *pr;
	uint32_t old[LK_MAX_SLOTS], id;
	unsigned n = 0;
	int i, r;

	while ((i = lk_protector_find_kind(&next, LK_SLOT_TPM2)) >= 0) {
		old[n++] = next.slots[i].slot_id;
		(void)lk_protector_remove_slot(&next, next.slots[i].slot_id);
	}
	i = tpm_slot_login_kdf_index(&next);
	r = i < 0 ? -ENOENT : add_sealed(d, &next, &next.slots[i].kdf, w, p, predicted, n_predicted, &id);
	while (r == 0 && drop_password_slot && (i = lk_protector_find_kind(&next, LK_SLOT_LOGIN)) >= 0)
		(void)lk_protector_remove_slot(&next, next.slots[i].slot_id);
	if (r == 0) {
		r = store_save_protector(&d->store, &next);
		if (r < 0)
			tpm_slot_forget(d, pr->uid, id);
	}
	if (r < 0)
		return r;
	for (unsigned k = 0; k < n; k++)
		tpm_slot_forget(d, pr->uid, old[k]);
	*pr = next;
	*ret_id = id;
	return 0;
}

void tpm_slot_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                     const uint8_t p[LK_PROTECTOR_KEY_SIZE], bool drop_password_slot)
{
	uint32_t id;
	int r;

	r = reseal(d, pr, w, p, drop_password_slot, NULL, 0, &id);
	if (r < 0) {
		log_warning("TPM2 slot of uid %u not resealed: %s", (unsigned)pr->uid,
		            r == -ENOENT ? "no login slot" : tpm_slot_strerror(r));
		return;
	}
	log_info("TPM2 slot of uid %u resealed to this TPM's current PCR values and login key (slot %u)%s",
	         (unsigned)pr->uid, (unsigned)id, drop_password_slot ? "; password-only slot removed" : "");
}

int tpm_slot_reseal_to(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                       const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_pcr_prediction *predicted)
{
	uint32_t id;
	int r;

	if (predicted &&
	    (predicted->bank != d->config.tpm.pcr_bank || predicted->mask != d->config.tpm.pcr_mask))
		return -EDOM;
	r = reseal(d, pr, w, p, false, predicted ? &predicted->digest : NULL, predicted ? 1 : 0, &id);
	if (r < 0)
		return r;
	log_info("TPM2 slot of uid %u resealed to %s (slot %u)", (unsigned)pr->uid,
	         predicted ? "the current PCR values or the predicted ones (PolicyOR)"
	                   : "the current PCR values",
	         (unsigned)id);
	return 0;
}

#else /* !HAVE_TPM2 */

bool tpm_slot_supported(void)
{
	return false;
}

int tpm_slot_open(struct daemon *d, const struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                  uint8_t p_out[LK_PROTECTOR_KEY_SIZE])
{
	static bool logged;

	if (lk_protector_find_kind(pr, LK_SLOT_TPM2) < 0)
		return -ENOENT;
	if (!logged)
		log_warning("uid %u has a TPM2 slot, but this latchkeyd was built without TPM2 support "
		            "(libtss2-esys); falling back to the other login slots",
		            (unsigned)pr->uid);
	logged = true;
	return -EOPNOTSUPP;
}

int tpm_slot_add(struct daemon *d, struct lk_protector *pr, const struct lk_kdf_params *kdf,
                 const uint8_t w[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                 uint32_t *ret_slot_id)
{
	return -EOPNOTSUPP;
}

void tpm_slot_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                     const uint8_t p[LK_PROTECTOR_KEY_SIZE], bool drop_password_slot)
{
}

int tpm_slot_reseal_to(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                       const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_pcr_prediction *predicted)
{
	return -EOPNOTSUPP;
}

#endif
