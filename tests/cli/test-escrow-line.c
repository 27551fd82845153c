/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escrow_line_format / escrow_line_parse: the exact text, round trips, and
 * every malformed variant refused with the right error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow_line.h"

static int failures;

#define E_HEX "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define W_HEX "2acb0ee6bbff47aa29729de795d4e536ae75299266126a60a78ea43060de90d3"
#define REQ   "latchkey-escrow-request 1 uid=1001 E=" E_HEX
#define ANS   "latchkey-escrow-answer 1 uid=1001 E=" E_HEX " W=" W_HEX
#define M_HEX "3d1219c7c4c5404aaa1f6d2a48adfda4"
#define REQ2  "latchkey-escrow-request 2 uid=1001 user=alice machine=" M_HEX " E=" E_HEX
#define ANS2  "latchkey-escrow-answer 2 uid=1001 user=alice machine=" M_HEX " E=" E_HEX " W=" W_HEX

static void expect(const char *what, const char *in, bool answer, int want)
{
	struct escrow_line l;
	int r;

	memset(&l, 0xee, sizeof(l));
	r = escrow_line_parse(in, strlen(in), answer, &l);
	if (r != want) {
		fprintf(stderr, "FAIL %s: r=%d want %d\n", what, r, want);
		failures++;
	} else if (r == 0 && (l.uid != 1001 || l.E[0] != 0x85 || l.E[31] != 0x6a ||
	                      (answer && (l.W[0] != 0x2a || l.W[31] != 0xd3)))) {
		fprintf(stderr, "FAIL %s: wrong values\n", what);
		failures++;
	} else if (r < 0 && l.uid != 0xeeeeeeee) {
		fprintf(stderr, "FAIL %s: output written on error\n", what);
		failures++;
	}
}

int main(void)
{
	struct escrow_line l = {.version = 1, .uid = 1001}, p2;
	char out[ESCROW_LINE_MAX];

	for (int i = 0; i < 32; i++) {
		l.E[i] = (uint8_t)strtoul((char[]){E_HEX[2 * i], E_HEX[2 * i + 1], 0}, NULL, 16);
		l.W[i] = (uint8_t)strtoul((char[]){W_HEX[2 * i], W_HEX[2 * i + 1], 0}, NULL, 16);
	}
	if (escrow_line_format(out, sizeof(out), false, &l) != 0 || strcmp(out, REQ "\n") != 0) {
		fprintf(stderr, "FAIL request format: [%s]\n", out);
		failures++;
	}
	if (escrow_line_format(out, sizeof(out), true, &l) != 0 || strcmp(out, ANS "\n") != 0) {
		fprintf(stderr, "FAIL answer format: [%s]\n", out);
		failures++;
	}
	if (escrow_line_format(out, 40, true, &l) != -ENOBUFS) {
		fprintf(stderr, "FAIL short buffer accepted\n");
		failures++;
	}

	/* Version 2 names user and machine. */
	l.version = 2;
	strcpy(l.user, "alice");
	for (int i = 0; i < 16; i++)
		l.machine_id[i] = (uint8_t)strtoul((char[]){M_HEX[2 * i], M_HEX[2 * i + 1], 0}, NULL, 16);
	if (escrow_line_format(out, sizeof(out), false, &l) != 0 || strcmp(out, REQ2 "\n") != 0) {
		fprintf(stderr, "FAIL v2 request format: [%s]\n", out);
		failures++;
	}
	if (escrow_line_format(out, sizeof(out), true, &l) != 0 || strcmp(out, ANS2 "\n") != 0 ||
	    escrow_line_parse(out, strlen(out), true, &p2) != 0 || p2.version != 2 ||
	    strcmp(p2.user, "alice") != 0 || memcmp(p2.machine_id, l.machine_id, 16) != 0) {
		fprintf(stderr, "FAIL v2 answer round trip: [%s]\n", out);
		failures++;
	}
	strcpy(l.user, "al ice");
	if (escrow_line_format(out, sizeof(out), false, &l) != -EINVAL) {
		fprintf(stderr, "FAIL a user name with a blank was formatted\n");
		failures++;
	}
	expect("v2 request", REQ2, false, 0);
	expect("v2 answer", ANS2, true, 0);
	expect("v2 without user", "latchkey-escrow-request 2 uid=1001 machine=" M_HEX " E=" E_HEX, false,
	       -EINVAL);
	expect("v2 without machine", "latchkey-escrow-request 2 uid=1001 user=alice E=" E_HEX, false,
	       -EINVAL);
	expect("v2 short machine", "latchkey-escrow-request 2 uid=1001 user=alice machine=3d12 E=" E_HEX,
	       false, -EINVAL);
	expect("v2 empty user", "latchkey-escrow-request 2 uid=1001 user= machine=" M_HEX " E=" E_HEX, false,
	       -EINVAL);

	expect("request", REQ, false, 0);
	expect("answer", ANS, true, 0);
	expect("request, newline and CR", REQ "\r\n", false, 0);
	expect("answer, blanks around", "  \t" ANS "  ", true, 0);
	expect("upper-case hex",
	       "latchkey-escrow-request 1 uid=1001 "
	       "E=8520F0098930A754748B7DDCB43EF75A0DBF3A0D26381AF4EBA4A98EAA9B4E6A",
	       false, 0);

	expect("answer where a request is expected", ANS, false, -EBADRQC);
	expect("request where an answer is expected", REQ, true, -EBADRQC);
	expect("version 3", "latchkey-escrow-request 3 uid=1001 E=" E_HEX, false, -EPROTONOSUPPORT);
	expect("version 2 without its fields", "latchkey-escrow-request 2 uid=1001 E=" E_HEX, false, -EINVAL);
	expect("empty", "", false, -EINVAL);
	expect("other tag", "latchkey-escrow-requests 1 uid=1001 E=" E_HEX, false, -EINVAL);
	expect("two spaces", "latchkey-escrow-request 1  uid=1001 E=" E_HEX, false, -EINVAL);
	expect("uid missing", "latchkey-escrow-request 1 E=" E_HEX, false, -EINVAL);
	expect("uid empty", "latchkey-escrow-request 1 uid= E=" E_HEX, false, -EINVAL);
	expect("uid sign", "latchkey-escrow-request 1 uid=+1001 E=" E_HEX, false, -EINVAL);
	expect("uid leading zero", "latchkey-escrow-request 1 uid=01001 E=" E_HEX, false, -EINVAL);
	expect("uid too big", "latchkey-escrow-request 1 uid=4294967295 E=" E_HEX, false, -EINVAL);
	expect("uid junk", "latchkey-escrow-request 1 uid=10x1 E=" E_HEX, false, -EINVAL);
	expect("E 63 digits",
	       "latchkey-escrow-request 1 uid=1001 "
	       "E=520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	       false, -EINVAL);
	expect("E not hex",
	       "latchkey-escrow-request 1 uid=1001 "
	       "E=g520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	       false, -EINVAL);
	expect("trailing field", REQ " x=1", false, -EINVAL);
	expect("answer without W", "latchkey-escrow-answer 1 uid=1001 E=" E_HEX, true, -EINVAL);
	expect("answer W first", "latchkey-escrow-answer 1 uid=1001 W=" W_HEX " E=" E_HEX, true, -EINVAL);
	expect("answer trailing", ANS " ", true, 0);
	expect("answer extra", ANS " W=" W_HEX, true, -EINVAL);

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
