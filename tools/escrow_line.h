/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The two lines an escrow recovery carries between the machine and the
 * offline holder of the escrow private key (latchkeyctl(8), ESCROW):
 *
 *   latchkey-escrow-request 2 uid=<uid> user=<name> machine=<32 hex> E=<64 hex>
 *   latchkey-escrow-answer 2 uid=<uid> user=<name> machine=<32 hex> E=<64 hex> W=<64 hex>
 *
 * Version 2 is for V2 escrow slots, whose W binds uid, user name and machine
 * id (format.h); version 1 lines (no user=, no machine=) for the V1 slots
 * made before, bound to nothing but the slot.
 * uid is decimal; E is the escrow slot's ephemeral public key, W the key
 * that opens that slot (a secret: the answer line belongs in secret memory).
 * Fields are separated by one space; surrounding blanks and a CR are
 * tolerated (lines pasted from mail), hex digits in either case.
 */
#ifndef LK_CTL_ESCROW_LINE_H
#define LK_CTL_ESCROW_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESCROW_REQUEST_TAG "latchkey-escrow-request"
#define ESCROW_ANSWER_TAG  "latchkey-escrow-answer"
#define ESCROW_LINE_MAX    384 /* longest line with its newline and NUL */

#include "latchkey/format.h"

struct escrow_line {
	unsigned version; /* 1 or 2 */
	uint32_t uid;
	char user[LK_BOUND_NAME_MAX + 1];       /* version 2 */
	uint8_t machine_id[LK_MACHINE_ID_SIZE]; /* version 2 */
	uint8_t E[32];
	uint8_t W[32]; /* answers only */
};

/* Format a request (answer = false) or an answer with a trailing newline. */
int escrow_line_format(char *out, size_t cap, bool answer, const struct escrow_line *l);

/*
 * Parse in[0..len). Returns 0, -EBADRQC (the other kind of line: a request
 * where an answer was expected or the reverse), -EPROTONOSUPPORT (another
 * version), or -EINVAL (anything else). *ret is written only on success.
 */
int escrow_line_parse(const char *in, size_t len, bool answer, struct escrow_line *ret);

#endif
