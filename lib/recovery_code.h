/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recovery codes: what an administrator writes down once and types back,
 * perhaps years later, to set a new passphrase.
 *
 * A code is 30 symbols of Crockford's base32 alphabet
 * "0123456789ABCDEFGHJKMNPQRSTVWXYZ" (no I, L, O, U), printed as six groups
 * of five joined by '-':
 *
 *     Y0ZXS-CRGSX-6K8G0-8D8PG-9M1BV-XF87J
 *
 *   symbols 0..25  random (26 x 5 = 130 bits, from getrandom)
 *   symbols 26..29 check symbols: a Reed-Solomon code over GF(32)
 *                  (x^5 + x^2 + 1, roots alpha^0..alpha^3), so any 1 to 4
 *                  wrong symbols, including every swap of two symbols, are
 *                  always detected; random garbage passes with p = 2^-20.
 *
 * Input is normalised before it is checked: case is ignored, '-', spaces and
 * tabs are dropped, and the look-alikes O -> 0, I and L -> 1 are mapped as
 * Crockford specifies. The canonical form (30 upper-case symbols, no
 * separators) is the secret fed to Argon2id.
 */
#ifndef LK_RECOVERY_CODE_H
#define LK_RECOVERY_CODE_H

#include <stddef.h>

#define LK_RECOVERY_CODE_SYMBOLS 30
#define LK_RECOVERY_CODE_DATA    26
#define LK_RECOVERY_CODE_GROUP   5
/* Printed length without the NUL: 30 symbols and 5 dashes. */
#define LK_RECOVERY_CODE_PRINTED                                                                             \
	(LK_RECOVERY_CODE_SYMBOLS + LK_RECOVERY_CODE_SYMBOLS / LK_RECOVERY_CODE_GROUP - 1)

/* A fresh code in printed form, NUL-terminated (out: secret memory). */
int lk_recovery_code_generate(char out[LK_RECOVERY_CODE_PRINTED + 1]);

/*
 * Normalise and check in[0..len) into the canonical form, NUL-terminated
 * (out: secret memory). Errors: -EMSGSIZE (not 30 symbols), -EILSEQ (a
 * character outside the alphabet; *ret_bad_pos, if given, is its 1-based
 * position among the input's non-separator characters), -EBADMSG (check
 * symbols do not match: a typo). out is written only on success.
 */
int lk_recovery_code_normalise(const char *in, size_t len, char out[LK_RECOVERY_CODE_SYMBOLS + 1],
                               size_t *ret_bad_pos);

/* Printed form (groups and dashes) of a canonical code. */
void lk_recovery_code_format(const char canon[LK_RECOVERY_CODE_SYMBOLS + 1],
                             char out[LK_RECOVERY_CODE_PRINTED + 1]);

#endif
