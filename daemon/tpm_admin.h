/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin's TPM2 operations on a user's protector (latchkeyctl tpm bind,
 * unbind, reseal), on pr already opened with the login's W (p its key):
 * what may be done, the sealing (tpm_slot.c), and one atomic write of the
 * protector file. pr becomes the new file on success. Each returns 0 or
 * -errno with a static text for the client in *why:
 *   -ENODEV  no TPM2 support in this build, or the TPM could not seal
 *   -EINVAL  tpm = off; the TPM2 slot would be the only way in; a
 *            prediction for other PCRs than tpm_pcrs
 *   -EEXIST  already bound (bind)
 *   -ENOENT  not bound (unbind, reseal), or no login slot
 *   other    the protector file could not be written
 */
#ifndef LKD_TPM_ADMIN_H
#define LKD_TPM_ADMIN_H

#include <stdint.h>

#include "latchkey/format.h"
#include "protector.h"
#include "wire.h"

struct daemon;

/* Add a TPM2 slot; with tpm = required the password-only login slots go. */
int tpm_bind(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
             const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char **why);
/* Remove the TPM2 slots, keeping (or restoring) a password-only login slot. */
int tpm_unbind(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
               const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char **why);
/* Seal the TPM2 slot anew to the current PCR values, or (predicted) to them
 * or the predicted ones. */
int tpm_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
               const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_pcr_prediction *predicted,
               const char **why);

#endif
