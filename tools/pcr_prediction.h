/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The predicted PCR values of `tpm reseal --predict FILE`, as the PolicyPCR
 * digest latchkeyd seals to. */
#ifndef LK_CTL_PCR_PREDICTION_H
#define LK_CTL_PCR_PREDICTION_H

#include <stddef.h>

#include "wire.h"

/*
 * Parse text: one "BANK:N=HEX" a line (sha1, sha256, sha384; PCR 0..23;
 * the value as hex, "0x" optional), or tpm2_pcrread's output ("BANK:" on
 * its own line, then "N : 0xHEX" lines); '#' comments and blank lines are
 * skipped. One bank, each PCR once. *ret gets the bank, the mask and the
 * SHA-256 of the values concatenated in index order. -EINVAL with a
 * "line N: ..." message in why otherwise.
 */
int pcr_prediction_parse(const char *text, size_t len, struct lk_pcr_prediction *ret, char *why,
                         size_t why_size);

#endif
