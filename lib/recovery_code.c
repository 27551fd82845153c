/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "recovery_code.h"
#include "secret.h"

#define CHECK_SYMBOLS (LK_RECOVERY_CODE_SYMBOLS - LK_RECOVERY_CODE_DATA)

static const char alphabet[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* GF(32) with the primitive polynomial x^5 + x^2 + 1; alpha = x = 2.
 * Branch-free: the symbols are secret. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	for (int i = 0; i < 5; i++) {
		r ^= (uint8_t)(a & -(b & 1));
		b >>= 1;
		a = (uint8_t)((a << 1) ^ (0x25 & -((a >> 4) & 1)));
	}
	return r;
}

/* g(x) = (x - 1)(x - alpha)(x - alpha^2)(x - alpha^3), monic, g[0] the
 * x^3 coefficient down to g[3] the constant (minus is plus in GF(2^m)). */
static void generator(uint8_t g[CHECK_SYMBOLS])
{
	uint8_t poly[CHECK_SYMBOLS + 1] = {1}; /* poly[i]: coefficient of x^(deg - i) */
	uint8_t root = 1;

	for (int j = 0; j < CHECK_SYMBOLS; j++) {
		/* multiply poly (degree j) by (x + root) */
		for (int i = j + 1; i > 0; i--)
			poly[i] ^= gf_mul(poly[i - 1], root);
		root = gf_mul(root, 2);
	}
	memcpy(g, poly + 1, CHECK_SYMBOLS);
}

/* The check symbols: the remainder of data(x) * x^4 divided by g(x). */
static void check_symbols(const uint8_t data[LK_RECOVERY_CODE_DATA], uint8_t out[CHECK_SYMBOLS])
{
	uint8_t g[CHECK_SYMBOLS], rem[CHECK_SYMBOLS] = {0};

	generator(g);
	for (int i = 0; i < LK_RECOVERY_CODE_DATA; i++) {
		uint8_t fb = data[i] ^ rem[0];

		for (int k = 0; k < CHECK_SYMBOLS - 1; k++)
			rem[k] = rem[k + 1] ^ gf_mul(fb, g[k]);
		rem[CHECK_SYMBOLS - 1] = gf_mul(fb, g[CHECK_SYMBOLS - 1]);
	}
	memcpy(out, rem, CHECK_SYMBOLS);
	lk_wipe(rem, sizeof(rem));
}

/* A codeword is valid iff it vanishes at every root of g. */
static int codeword_is_valid(const uint8_t sym[LK_RECOVERY_CODE_SYMBOLS])
{
	uint8_t root = 1, bad = 0;

	for (int j = 0; j < CHECK_SYMBOLS; j++) {
		uint8_t acc = 0;

		for (int i = 0; i < LK_RECOVERY_CODE_SYMBOLS; i++)
			acc = gf_mul(acc, root) ^ sym[i];
		bad |= acc;
		root = gf_mul(root, 2);
	}
	return bad == 0;
}

void lk_recovery_code_format(const char canon[LK_RECOVERY_CODE_SYMBOLS + 1],
                             char out[LK_RECOVERY_CODE_PRINTED + 1])
{
	size_t o = 0;

	for (int i = 0; i < LK_RECOVERY_CODE_SYMBOLS; i++) {
		if (i > 0 && i % LK_RECOVERY_CODE_GROUP == 0)
			out[o++] = '-';
		out[o++] = canon[i];
	}
	out[o] = '\0';
}

int lk_recovery_code_generate(char out[LK_RECOVERY_CODE_PRINTED + 1])
{
	uint8_t sym[LK_RECOVERY_CODE_SYMBOLS];
	char canon[LK_RECOVERY_CODE_SYMBOLS + 1];
	int r;

	if (!out)
		return -EINVAL;
	r = lk_random_bytes(sym, LK_RECOVERY_CODE_DATA);
	if (r < 0)
		return r;
	/* 32 divides 256: the low five bits of a random byte are uniform. */
	for (int i = 0; i < LK_RECOVERY_CODE_DATA; i++)
		sym[i] &= 31;
	check_symbols(sym, sym + LK_RECOVERY_CODE_DATA);
	for (int i = 0; i < LK_RECOVERY_CODE_SYMBOLS; i++)
		canon[i] = alphabet[sym[i]];
	canon[LK_RECOVERY_CODE_SYMBOLS] = '\0';
	lk_recovery_code_format(canon, out);
	lk_wipe(sym, sizeof(sym));
	lk_wipe(canon, sizeof(canon));
	return 0;
}

/* Value of one input character, or -1. Look-alikes map as Crockford says. */
static int symbol_value(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	for (int v = 0; v < 32; v++)
		if (alphabet[v] == c)
			return v;
	return -1;
}

static int is_separator(char c)
{
	return c == '-' || c == ' ' || c == '\t';
}

int lk_recovery_code_normalise(const char *in, size_t len, char out[LK_RECOVERY_CODE_SYMBOLS + 1],
                               size_t *ret_bad_pos)
{
	uint8_t sym[LK_RECOVERY_CODE_SYMBOLS];
	size_t n = 0, bad_pos = 0;
	int r = 0;

	if (!in || !out)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v;

		if (is_separator(in[i]))
			continue;
		v = symbol_value(in[i]);
		if (v < 0 && bad_pos == 0)
			bad_pos = n + 1;
		if (n < LK_RECOVERY_CODE_SYMBOLS)
			sym[n] = (uint8_t)(v < 0 ? 0 : v);
		n++;
	}
	/* A wrong length is the likelier mistake (a group left out or typed
	 * twice), so it is reported before a bad character. */
	if (n != LK_RECOVERY_CODE_SYMBOLS)
		r = -EMSGSIZE;
	else if (bad_pos > 0) {
		if (ret_bad_pos)
			*ret_bad_pos = bad_pos;
		r = -EILSEQ;
	} else if (!codeword_is_valid(sym))
		r = -EBADMSG;
	else {
		for (int i = 0; i < LK_RECOVERY_CODE_SYMBOLS; i++)
			out[i] = alphabet[sym[i]];
		out[LK_RECOVERY_CODE_SYMBOLS] = '\0';
	}
	lk_wipe(sym, sizeof(sym));
	return r;
}
