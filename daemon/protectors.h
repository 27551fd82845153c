/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A user's protector file: open, slot parameters, enrolment, atomic slot
 * replace. Each returns 0 or -errno; outcome.h lists the values and what
 * they mean, and a *ret_why a static text for the client, or NULL. */
#ifndef LKD_PROTECTORS_H
#define LKD_PROTECTORS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "latchkey/format.h"
#include "protector.h"
#include "secret.h"

struct daemon;

/* Unwrap uid's protector key from a slot of kind with W into p_out;
 * *ret_pr (optional) gets the protector file. peer is who asks, charge_uid
 * whose log budget a wrong guess uses. Failed guesses by non-root peers
 * are throttled. */
int protector_unwrap(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t kind,
                     const uint8_t w[LK_WRAP_KEY_SIZE], uint8_t *p_out, struct lk_protector *ret_pr);
/* protector_unwrap of the login slot into freshly allocated secret memory p. */
int protector_unwrap_login(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid,
                           const uint8_t w[LK_WRAP_KEY_SIZE], struct lk_secret *p);
/* P (into p, allocated here) and uid's protector file (into *ret_pr): from
 * the slot of kind from opened with W, or, when from is 0 (no secret of the
 * user's), the P held for a live session: -EKEYEXPIRED when none is held. */
int protector_open_from(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                        const uint8_t *w, struct lk_secret *p, struct lk_protector *ret_pr);
/* Parameters for a new login or recovery slot of pr, with a fresh salt. */
int protector_fresh_kdf(struct daemon *d, const struct lk_protector *pr, struct lk_kdf_params *ret);
/* KDF_PARAMS: the parameters of uid's slot of kind (the login slot's are
 * those its W is derived with, tpm_slot.h), or, with fresh, those for a new
 * slot; *ret_bound whether an escrow slot is bound to the user and machine. */
int protector_kdf_params(struct daemon *d, uid_t uid, uint8_t kind, bool fresh, struct lk_kdf_params *ret_kdf,
                         bool *ret_bound, const char **ret_why);
/* ENROLL: a new protector file for uid, a random P in one login slot under
 * (kdf, w), the account's name recorded first; kdf becomes the machine's
 * target for new slots. -EEXIST when uid is enrolled already. */
int protector_enroll(struct daemon *d, uid_t uid, const struct lk_kdf_params *kdf,
                     const uint8_t w[LK_WRAP_KEY_SIZE], const char **ret_why);
/* Replace pr's slots of kind with one wrapping p under (kdf, w), in one
 * atomic write of the protector file; pr becomes the new file. *ret_why
 * explains a failure. */
int protector_replace_slots(struct daemon *d, struct lk_protector *pr, uint8_t kind,
                            const struct lk_kdf_params *kdf, const uint8_t w[LK_WRAP_KEY_SIZE],
                            const uint8_t *p, const char **ret_why);
/* REWRAP: replace uid's slots of kind to with one under (kdf, w_new), P
 * taken as protector_open_from does (from, w_from); a new login slot
 * reseals the TPM2 slot with it. */
int protector_rewrap(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                     uint8_t to, const uint8_t *w_from, const struct lk_kdf_params *kdf,
                     const uint8_t w_new[LK_WRAP_KEY_SIZE], const char **ret_why);
/* "login", "recovery", "escrow", ... and "held" for kind 0 (the P held for
 * a live session). */
const char *slot_kind_name(uint8_t kind);

#endif
