/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TPM2 slots of a protector (format.h §5): the slot wraps P under a random
 * S; S is sealed by the TPM with an auth value derived from the login's W,
 * and the sealed object is kept in <state>/tpm/<uid>-<slot_id>. */
#ifndef LKD_TPM_SLOT_H
#define LKD_TPM_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "protector.h"
#include "wire.h"

struct daemon;

/* Whether this latchkeyd was built with the TPM2 slot kind (libtss2-esys). */
bool tpm_slot_supported(void);

/* Open a TPM2 slot of pr with the login's W into p_out. 0; -ENOENT when pr
 * has none; -EACCES wrong W; otherwise the TPM could not open it (PCRs,
 * no TPM, lockout, ...): one rate-limited log line says why and the caller
 * falls back to the other login slots. */
int tpm_slot_open(struct daemon *d, const struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                  uint8_t p_out[LK_PROTECTOR_KEY_SIZE]);

/* Seal a fresh S to this TPM (tpm_pcrs of latchkey.conf), write its object
 * file, and add the slot to pr (not saved: the caller saves pr). kdf is the
 * login slot's, whose W is given. -EOPNOTSUPP without TPM2 support. */
int tpm_slot_add(struct daemon *d, struct lk_protector *pr, const struct lk_kdf_params *kdf,
                 const uint8_t w[LK_WRAP_KEY_SIZE], const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                 uint32_t *ret_slot_id);

/* Seal a new TPM2 slot of pr to the current PCR values and the login's W,
 * drop the old TPM2 slots (and, with drop_password_slot, the login slots),
 * save pr. For a login that opened the password slot because the TPM
 * refused the PCR policy, and after a password change. Failures are
 * logged; pr is updated only on success. */
void tpm_slot_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                     const uint8_t p[LK_PROTECTOR_KEY_SIZE], bool drop_password_slot);

/* latchkeyctl tpm reseal: replace pr's TPM2 slots with one sealed to the
 * current PCR values, or (predicted, for a planned update) to the PolicyOR
 * of the current values and the predicted ones, and save pr. -EDOM when
 * predicted's bank and mask are not tpm_pcrs of latchkey.conf; other errors
 * as tpm_slot_add. A PolicyOR object opens under both until the next reseal
 * (a password change, or tpm reseal without a prediction). */
int tpm_slot_reseal_to(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
                       const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_pcr_prediction *predicted);

/* Remove the object file of a slot no longer in the protector file. */
void tpm_slot_forget(struct daemon *d, uint32_t uid, uint32_t slot_id);

/* What an error of tpm_slot_open or tpm_slot_add means, and the fix. */
const char *tpm_slot_strerror(int r);

/* The KDF parameters a login's W is derived with: the login slot's, or the
 * TPM2 slot's when the user has no password-only login slot (tpm = required). */
int tpm_slot_login_kdf_index(const struct lk_protector *pr);

#endif
