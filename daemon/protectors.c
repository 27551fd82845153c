/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Operations on a user's protector file: opening it with a wrapping key
 * (failed guesses by users throttled) or with the key held for a live
 * session, the parameters of a slot or a new slot's, enrolment (a new
 * file), and the atomic replace of a slot. Below the request handlers.
 * Each returns 0 or -errno, with the meanings outcome.h lists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "cleanup.h"
#include "client.h"
#include "crypto.h"
#include "daemon.h"
#include "escrow_slots.h"
#include "kdf.h"
#include "log.h"
#include "log_event.h"
#include "outcome.h"
#include "protectors.h"
#include "secret.h"
#include "tpm_slot.h"

#define THROTTLE_FREE_FAILURES 3
#define THROTTLE_MAX_MS        60000

/*
 * Unwrap uid's protector key from a slot of the given kind with the wrapping
 * key W into p_out; *ret_pr (optional) gets the protector file. Failed
 * guesses by non-root peers are throttled (root's failures are the login's
 * own wrong passwords, which pam_unix and pam_faillock already govern).
 * Returns 0 or -errno (the list above).
 */
int protector_unwrap(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t kind,
                     const uint8_t w[LK_WRAP_KEY_SIZE], uint8_t *p_out, struct lk_protector *ret_pr)
{
	struct lk_protector pr;
	struct user *u;
	uint64_t now = lk_now_ms();
	unsigned idx;
	int r, tpm_r;

	/* A former account's protector is nobody's to open now. */
	if (account_check(d, uid, NULL) == ACCOUNT_FORMER)
		return -EOWNERDEAD;
	u = user_get(&d->users, uid, true);
	if (!u)
		return -ENOMEM;
	if (peer->uid != 0 && now < u->throttle_until_ms)
		return -EAGAIN;

	r = daemon_load_protector(d, uid, &pr);
	if (r == -ENOENT)
		return -ENOKEY;
	if (r < 0)
		return -EIO;
	/* A login's W opens the TPM2 slot first; when the TPM cannot (PCRs,
	 * no TPM, lockout: logged there) the password-only login slot, if the
	 * admin kept one (tpm = preferred). */
	tpm_r = kind == LK_SLOT_LOGIN ? tpm_slot_open(d, &pr, w, p_out) : -ENOENT;
	r = tpm_r == 0 ? 0 : lk_protector_open(&pr, kind, w, p_out, &idx);
	if (r < 0 && r != -EBADMSG)
		return -EIO; /* not a wrong key: no throttle, no "wrong passphrase" */
	if (r < 0 && tpm_r != -ENOENT && tpm_r != -EACCES && tpm_r != -EBADMSG &&
	    lk_protector_find_kind(&pr, LK_SLOT_LOGIN) < 0)
		return -ENODEV; /* tpm = required and the TPM cannot answer: not a wrong passphrase */
	if (r < 0) {
		/* From root, a login's mistyped password (pam_unix decides);
		 * from a user, a guess. */
		if (log_peer_allow(charge_uid, peer->uid == 0 ? LOG_NOTICE : LOG_WARNING))
			log_event(peer->uid == 0 ? LOG_NOTICE : LOG_WARNING, LK_MSG_PASSPHRASE_WRONG, uid,
			          NULL, NULL, "wrong %s for uid %u (from uid %u, pid %d)",
			          kind == LK_SLOT_LOGIN    ? "passphrase"
			          : kind == LK_SLOT_ESCROW ? "escrow answer"
			                                   : "recovery secret",
			          (unsigned)uid, (unsigned)peer->uid, (int)peer->pid);
		if (peer->uid != 0 && ++u->failures > THROTTLE_FREE_FAILURES) {
			unsigned shift = u->failures - THROTTLE_FREE_FAILURES;
			uint64_t delay = shift >= 16 ? THROTTLE_MAX_MS : 1000ull << (shift - 1);
			if (delay > THROTTLE_MAX_MS)
				delay = THROTTLE_MAX_MS;
			u->throttle_until_ms = now + delay;
			if (log_peer_allow(charge_uid, LOG_WARNING))
				log_event(LOG_WARNING, LK_MSG_THROTTLED, uid, NULL, NULL,
				          "throttling unlock attempts for uid %u for %llu ms", (unsigned)uid,
				          (unsigned long long)delay);
		}
		return -EBADMSG;
	}
	u->failures = 0;
	u->throttle_until_ms = 0;
	/* The password slot opened where the TPM2 slot did not: the PCRs changed
	 * (an update), or the slot's auth value is an old password's (a crash
	 * during a password change), which the TPM would count at every login. */
	if ((tpm_r == -EPERM || tpm_r == -EACCES) && r == 0)
		tpm_slot_reseal(d, &pr, w, p_out, false);
	if (ret_pr)
		*ret_pr = pr;
	return 0;
}

int protector_unwrap_login(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid,
                           const uint8_t w[LK_WRAP_KEY_SIZE], struct lk_secret *p)
{
	if (lk_secret_new(p, LK_PROTECTOR_KEY_SIZE) < 0)
		return -ENOMEM;
	return protector_unwrap(d, peer, charge_uid, uid, LK_SLOT_LOGIN, w, p->ptr, NULL);
}

int protector_open_from(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                        const uint8_t *w, struct lk_secret *p, struct lk_protector *ret_pr)
{
	struct user *u;
	int r;

	if (lk_secret_new(p, LK_PROTECTOR_KEY_SIZE) < 0)
		return -ENOMEM;
	if (from)
		return protector_unwrap(d, peer, charge_uid, uid, from, w, p->ptr, ret_pr);
	/* An admin's reset: no secret of the user's, so only the P held for
	 * a live session will do. */
	r = daemon_load_protector(d, uid, ret_pr);
	if (r == -ENOENT)
		return -ENOKEY;
	if (r < 0)
		return outcome_internal(r);
	u = user_get(&d->users, uid, false);
	if (!u || !u->p)
		return -EKEYEXPIRED;
	memcpy(p->ptr, u->p, LK_PROTECTOR_KEY_SIZE);
	return 0;
}

/* Parameters for a new slot: the machine's target t and m, or, if none was
 * recorded, those of the user's current login slot; always one lane and a
 * fresh 16-byte salt, the kind libsodium derives (lib/kdf.h), so a legacy
 * multi-lane slot becomes one at its next rewrap. Equal t and m at one lane
 * cost an attacker the same memory and passes, and the user less time. */
int protector_fresh_kdf(struct daemon *d, const struct lk_protector *pr, struct lk_kdf_params *ret)
{
	struct lk_kdf_params k;
	int i;

	if (store_load_kdf_target(&d->store, &k) < 0) {
		i = lk_protector_find_kind(pr, LK_SLOT_LOGIN);
		if (i < 0)
			return i;
		k = pr->slots[i].kdf;
	}
	/* A record from before the floor, or an old login slot, never lowers a new slot's cost. */
	if (k.t_cost < LK_KDF_NEW_T_MIN)
		k.t_cost = LK_KDF_NEW_T_MIN;
	k.alg = LK_KDF_ARGON2ID;
	k.parallelism = 1;
	k.salt_len = LK_SALT_MIN;
	memset(k.salt, 0, sizeof(k.salt));
	if (lk_random_bytes(k.salt, k.salt_len) < 0)
		return -EIO;
	*ret = k;
	return 0;
}

int protector_kdf_params(struct daemon *d, uid_t uid, uint8_t kind, bool fresh, struct lk_kdf_params *ret_kdf,
                         bool *ret_bound, const char **ret_why)
{
	struct lk_protector pr;
	int r, i;

	*ret_why = NULL;
	*ret_bound = false;
	/* To the account that has the uid now, a former account's state
	 * does not exist: the PAM module skips it like any unenrolled user. */
	if (account_check(d, uid, NULL) == ACCOUNT_FORMER) {
		*ret_why =
		    "this uid's latchkey state belongs to a former account (root: latchkeyctl unenroll "
		    "--uid)";
		return -ENOKEY;
	}
	r = daemon_load_protector(d, uid, &pr);
	if (r == -ENOENT)
		return -ENOKEY;
	if (r < 0) {
		*ret_why = "protector file unreadable";
		return outcome_internal(r);
	}
	if (fresh) {
		r = protector_fresh_kdf(d, &pr, ret_kdf);
		if (r < 0) {
			*ret_why = "cannot make new KDF parameters";
			return outcome_internal(r);
		}
		return 0;
	}
	i = kind == LK_SLOT_LOGIN ? tpm_slot_login_kdf_index(&pr) : lk_protector_find_kind(&pr, kind);
	if (i < 0) {
		*ret_why = "the user has no slot of that kind";
		return -ENOENT;
	}
	*ret_kdf = pr.slots[i].kdf;
	*ret_bound = kind == LK_SLOT_ESCROW && pr.slots[i].derivation == LK_SLOT_DERIV_V2;
	return 0;
}

/* Why ENROLL refuses a uid whose state is a former account's, naming it.
 * Static: a *why lives until the reply is sent, and the loop handles one
 * request at a time. */
static const char *former_account_text(uid_t uid, const char *recorded)
{
	static char text[LK_TEXT_MAX + 1];

	snprintf(text, sizeof(text),
	         "uid %u still holds the latchkey state of the former account %s; remove it first with "
	         "'latchkeyctl unenroll --uid %u'",
	         (unsigned)uid, recorded[0] ? recorded : "(unknown)", (unsigned)uid);
	return text;
}

int protector_enroll(struct daemon *d, uid_t uid, const struct lk_kdf_params *kdf,
                     const uint8_t w[LK_WRAP_KEY_SIZE], const char **ret_why)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct lk_protector pr = {};
	char recorded[LK_ACCOUNT_MAX + 1], name[LK_ACCOUNT_MAX + 1];
	int r;

	*ret_why = NULL;
	if (uid == 0) {
		*ret_why = "root cannot be enrolled";
		return -EINVAL;
	}
	r = lk_kdf_params_check_new(kdf);
	if (r < 0 || kdf->alg != LK_KDF_ARGON2ID) {
		*ret_why = r == -ERANGE ? "Argon2id passes below the floor (t >= 3)"
		                        : "Argon2id parameters out of bounds";
		return -EINVAL;
	}
	if (account_check(d, uid, recorded) == ACCOUNT_FORMER) {
		*ret_why = former_account_text(uid, recorded);
		return -EOWNERDEAD;
	}
	if (account_current_name(uid, name) < 0) {
		*ret_why = "no such user";
		return -EINVAL;
	}
	r = store_load_protector(&d->store, uid, &pr);
	if (r != -ENOENT) {
		*ret_why = r == 0 ? "user already enrolled" : "existing protector file unreadable";
		return r == 0 ? -EEXIST : -EIO;
	}
	pr.uid = uid;
	pr.n_slots = 0;
	r = lk_secret_new(&p, LK_PROTECTOR_KEY_SIZE);
	if (r >= 0)
		r = lk_random_bytes(p.ptr, LK_PROTECTOR_KEY_SIZE);
	if (r >= 0)
		r = lk_protector_add_slot(&pr, LK_SLOT_LOGIN, kdf, w, p.ptr, NULL);
	if (r < 0) {
		*ret_why = "cannot create the protector";
		return outcome_internal(r);
	}
	/* The name first: a protector without it would be adopted by
	 * whichever account has the uid next (trust on first use). */
	r = account_record(d, uid, name);
	if (r < 0) {
		*ret_why = "cannot write the root index";
		return outcome_internal(r);
	}
	r = store_save_protector(&d->store, &pr);
	if (r < 0) {
		*ret_why = "cannot write the protector file";
		return outcome_internal(r);
	}
	log_info("enrolled uid %u (Argon2id t=%u m=%u KiB p=%u)", (unsigned)uid, kdf->t_cost, kdf->m_cost_kib,
	         kdf->parallelism);
	/* The enroller tuned these on this machine: later password changes
	 * and recovery codes use them too. */
	if (store_save_kdf_target(&d->store, kdf) < 0)
		log_warning("cannot record the KDF target; new slots will copy the login slot's cost");
	return 0;
}

/*
 * Replace the slots of one kind with a new one, in one atomic write of the
 * protector file (temp file, fsync, rename, fsync of the directory): at
 * every instant the file on disk is the old one or the new one, so the old
 * or the new secret opens P, never neither. The new slot is checked in
 * memory before the write and again from disk after it.
 */
int protector_replace_slots(struct daemon *d, struct lk_protector *pr, uint8_t kind,
                            const struct lk_kdf_params *kdf, const uint8_t w[LK_WRAP_KEY_SIZE],
                            const uint8_t *p, const char **ret_why)
{
	struct lk_secret check _cleanup_secret_ = {};
	struct lk_protector next = *pr, disk;
	bool upgraded = false;
	uint32_t new_id;
	unsigned idx;
	int r;

	for (unsigned i = 0; i < pr->n_slots; i++)
		if (pr->slots[i].kind == kind && pr->slots[i].kdf.salt_len == kdf->salt_len &&
		    memcmp(pr->slots[i].kdf.salt, kdf->salt, kdf->salt_len) == 0) {
			*ret_why = "the new slot reuses the old slot's salt: ask for fresh parameters";
			return -EINVAL;
		}
	/* Retire the old slots of this kind in the new file; the old file
	 * keeps them until the rename. */
	for (unsigned i = next.n_slots; i-- > 0;)
		if (next.slots[i].kind == kind) {
			memmove(&next.slots[i], &next.slots[i + 1],
			        (next.n_slots - i - 1) * sizeof(next.slots[0]));
			next.n_slots--;
		}
	r = lk_protector_add_slot(&next, kind, kdf, w, p, &new_id);
	if (r < 0) {
		*ret_why = r == -ENOSPC ? "the protector has no free slot" : "cannot make the new slot";
		return r == -ENOSPC ? -EINVAL : r;
	}
	/* A V1 escrow slot (bound to nothing but itself) becomes V2 in the same
	 * write; if that cannot be done it stays as it is. */
	if (kind != LK_SLOT_ESCROW && daemon_escrow_reseal(d, &next, p, true, &upgraded) == 0 && upgraded)
		log_info("uid %u: escrow slot upgraded to one bound to the user and this machine",
		         (unsigned)pr->uid);
	if (lk_secret_new(&check, LK_PROTECTOR_KEY_SIZE) < 0 ||
	    lk_protector_open(&next, kind, w, check.ptr, &idx) < 0 || next.slots[idx].slot_id != new_id ||
	    !lk_secret_equal(check.ptr, p, LK_PROTECTOR_KEY_SIZE)) {
		*ret_why = "the new slot did not verify";
		return -EIO;
	}
	r = store_save_protector(&d->store, &next);
	if (r < 0) {
		/* A failure after the rename (the directory's fsync) leaves the
		 * new file in place: say what the disk holds, not what failed. */
		if (daemon_load_protector(d, pr->uid, &disk) == 0 &&
		    lk_protector_open(&disk, kind, w, check.ptr, &idx) == 0 &&
		    lk_secret_equal(check.ptr, p, LK_PROTECTOR_KEY_SIZE)) {
			log_warning_errno(
			    r,
			    "uid %u: the new slot is in place, but the protector directory could "
			    "not be synced: a power cut now could bring back the old one",
			    (unsigned)pr->uid);
			*pr = next;
			return 0;
		}
		*ret_why = r == -ENOSPC ? "no space left for the protector file; nothing was changed"
		                        : "cannot write the protector file; nothing was changed";
		return r == -ENOSPC ? -EIO : r;
	}
	if (daemon_load_protector(d, pr->uid, &disk) < 0 ||
	    lk_protector_open(&disk, kind, w, check.ptr, &idx) < 0 ||
	    !lk_secret_equal(check.ptr, p, LK_PROTECTOR_KEY_SIZE)) {
		*ret_why = "the written protector file did not verify";
		return -EIO;
	}
	*pr = next;
	return 0;
}

int protector_rewrap(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                     uint8_t to, const uint8_t *w_from, const struct lk_kdf_params *kdf,
                     const uint8_t w_new[LK_WRAP_KEY_SIZE], const char **ret_why)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct lk_protector pr;
	int r;

	*ret_why = NULL;
	if (account_check(d, uid, NULL) == ACCOUNT_FORMER)
		return -EOWNERDEAD;
	r = protector_open_from(d, peer, charge_uid, uid, from, w_from, &p, &pr);
	if (r == -EKEYEXPIRED && to == LK_SLOT_LOGIN)
		log_info("uid %u: new password not applied: no live session holds the key; the next login "
		         "will ask for the previous password",
		         (unsigned)uid);
	else if (r == -EKEYEXPIRED)
		log_debug("uid %u: no key held for a live session; the client must send a passphrase",
		          (unsigned)uid);
	if (r < 0)
		return r;
	r = protector_replace_slots(d, &pr, to, kdf, w_new, p.ptr, ret_why);
	if (r < 0) {
		log_error("uid %u: %s slot not replaced: %s", (unsigned)uid, slot_kind_name(to), *ret_why);
		return r;
	}
	log_event(LOG_INFO, LK_MSG_REWRAPPED, uid, NULL, NULL,
	          "uid %u: %s slot rewrapped (from the %s key; KDF t=%u m=%u KiB p=%u)", (unsigned)uid,
	          slot_kind_name(to), slot_kind_name(from), kdf->t_cost, kdf->m_cost_kib, kdf->parallelism);
	/* A TPM2 slot keeps opening with the new password (its auth value is
	 * derived from W); with tpm = required no password-only slot stays. */
	if (to == LK_SLOT_LOGIN && lk_protector_find_kind(&pr, LK_SLOT_TPM2) >= 0)
		tpm_slot_reseal(d, &pr, w_new, p.ptr, d->config.tpm.mode == LK_TPM_REQUIRED);
	return 0;
}

const char *slot_kind_name(uint8_t kind)
{
	return kind == 0 ? "held" : lk_slot_kind_to_string(kind);
}
