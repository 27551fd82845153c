/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sealing a 32-byte secret to this machine's TPM2 (format.h §5). Built
 * only with libtss2-esys (meson option tpm2) and linked only into
 * latchkeyd: the TSS reads TSS2_LOG and TSS2_LOGFILE from the environment,
 * which a setuid login host would let a user choose. */
#ifndef LKD_TPM2_H
#define LKD_TPM2_H

#include <stddef.h>
#include <stdint.h>

#define LK_TPM_SECRET_SIZE  32
#define LK_TPM_PUB_MAX      256
#define LK_TPM_PRIV_MAX     512
#define LK_TPM_DIGEST_SIZE  32 /* SHA-256: the policy sessions' hash */
#define LK_TPM_BRANCHES_MAX 8  /* PolicyOR takes 2 to 8 */

struct tpm2_sealed {
	uint16_t pcr_bank; /* TPM2_ALG_* */
	uint32_t pcr_mask;
	uint16_t pub_len, priv_len;
	uint8_t pub[LK_TPM_PUB_MAX];   /* marshalled TPM2B_PUBLIC */
	uint8_t priv[LK_TPM_PRIV_MAX]; /* marshalled TPM2B_PRIVATE */
	/* 0: the policy is PolicyPCR(values at sealing) + PolicyAuthValue.
	 * 2..8: PolicyOR of these branches, each PolicyPCR(one set of values)
	 * + PolicyAuthValue; the first is the values at sealing. */
	uint8_t n_branches;
	uint8_t branches[LK_TPM_BRANCHES_MAX][LK_TPM_DIGEST_SIZE];
};

/* Seal secret under PolicyPCR(bank, mask, current values) + PolicyAuthValue
 * with this auth value. tcti: a TCTI configuration string, never NULL.
 * With n_predicted (1..7) PolicyPCR digests of predicted values (SHA-256 of
 * the values of mask's PCRs, concatenated in index order), the policy is
 * the PolicyOR of the current values' branch and one branch for each: the
 * object opens now and after the planned change. */
int tpm2_seal(const char *tcti, uint16_t pcr_bank, uint32_t pcr_mask,
              const uint8_t (*predicted)[LK_TPM_DIGEST_SIZE], unsigned n_predicted,
              const uint8_t auth[LK_TPM_SECRET_SIZE], const uint8_t secret[LK_TPM_SECRET_SIZE],
              struct tpm2_sealed *ret);

/* Unseal into secret_out (written only on success). Errors: -EACCES wrong
 * auth value (counted by the TPM), -EPERM the PCRs differ from sealing time
 * or the object is not this TPM's, -EAGAIN lockout, -ENODEV no TPM at tcti,
 * -EIO other TPM or TSS failure. */
int tpm2_unseal(const char *tcti, const struct tpm2_sealed *s, const uint8_t auth[LK_TPM_SECRET_SIZE],
                uint8_t secret_out[LK_TPM_SECRET_SIZE]);

/* The dictionary-attack state (public, read without authorisation): failed
 * tries counted, tries allowed before lockout, and seconds until the count
 * drops by one (a locked-out TPM takes one try again after at most that). */
struct tpm2_lockout {
	uint32_t counter, max_tries, interval_s;
};
int tpm2_lockout_status(const char *tcti, struct tpm2_lockout *ret);

#endif
