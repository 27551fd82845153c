/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Recovery codes: shape, randomness, normalisation, and that every typo
 * of up to four symbols and every swap is caught (not just most). */
#include "test-util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "recovery_code.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void canon_of(const char *printed, char out[LK_RECOVERY_CODE_SYMBOLS + 1])
{
	size_t o = 0;

	for (const char *p = printed; *p; p++)
		if (*p != '-')
			out[o++] = *p;
	out[o] = '\0';
}

static int check(const char *s)
{
	char out[LK_RECOVERY_CODE_SYMBOLS + 1];

	return lk_recovery_code_normalise(s, strlen(s), out, NULL);
}

static void test_shape(void **state)
{
	char code[LK_RECOVERY_CODE_PRINTED + 1];

	assert_int_equal(LK_RECOVERY_CODE_PRINTED, 35);
	for (int n = 0; n < 200; n++) {
		assert_int_equal(lk_recovery_code_generate(code), 0);
		assert_int_equal(strlen(code), 35);
		for (int i = 0; i < 35; i++) {
			if (i % 6 == 5)
				assert_int_equal(code[i], '-');
			else
				assert_non_null(strchr(alphabet, code[i]));
		}
	}
}

/* Two codes never repeat, and each of the 32 symbols shows up in the data
 * part: a crude check that the 130 random bits are not, say, 16 bits. */
static void test_random(void **state)
{
	char a[LK_RECOVERY_CODE_PRINTED + 1], b[LK_RECOVERY_CODE_PRINTED + 1];
	int seen[32] = {0};

	for (int n = 0; n < 100; n++) {
		assert_int_equal(lk_recovery_code_generate(a), 0);
		assert_int_equal(lk_recovery_code_generate(b), 0);
		assert_string_not_equal(a, b);
		for (int i = 0; i < 35; i++)
			if (a[i] != '-')
				seen[strchr(alphabet, a[i]) - alphabet]++;
	}
	for (int v = 0; v < 32; v++)
		assert_true(seen[v] > 0);
}

static void test_normalise(void **state)
{
	char code[LK_RECOVERY_CODE_PRINTED + 1], canon[LK_RECOVERY_CODE_SYMBOLS + 1];
	char out[LK_RECOVERY_CODE_SYMBOLS + 1], in[128], formatted[LK_RECOVERY_CODE_PRINTED + 1];

	assert_int_equal(lk_recovery_code_generate(code), 0);
	canon_of(code, canon);

	/* as printed */
	assert_int_equal(lk_recovery_code_normalise(code, strlen(code), out, NULL), 0);
	assert_string_equal(out, canon);
	/* lower case, spaces instead of dashes, surrounding blanks */
	snprintf(in, sizeof(in), "  %s\t", code);
	for (char *p = in; *p; p++)
		*p = *p == '-' ? ' ' : (char)tolower((unsigned char)*p);
	assert_int_equal(lk_recovery_code_normalise(in, strlen(in), out, NULL), 0);
	assert_string_equal(out, canon);
	/* no separators at all */
	assert_int_equal(lk_recovery_code_normalise(canon, strlen(canon), out, NULL), 0);
	assert_string_equal(out, canon);
	/* only len bytes are read */
	snprintf(in, sizeof(in), "%sXYZ", code);
	assert_int_equal(lk_recovery_code_normalise(in, strlen(code), out, NULL), 0);

	lk_recovery_code_format(canon, formatted);
	assert_string_equal(formatted, code);
}

/* O, I and L are read as 0, 1 and 1; U is no symbol. */
static void test_lookalikes(void **state)
{
	/* Find a code with a 0 and a 1 in it (about 60 % of codes have both). */
	char code[LK_RECOVERY_CODE_PRINTED + 1], canon[LK_RECOVERY_CODE_SYMBOLS + 1];
	char in[LK_RECOVERY_CODE_PRINTED + 1], out[LK_RECOVERY_CODE_SYMBOLS + 1];
	char *zero, *one;
	size_t bad = 0;

	do {
		assert_int_equal(lk_recovery_code_generate(code), 0);
		zero = strchr(code, '0');
		one = strchr(code, '1');
	} while (!zero || !one);
	canon_of(code, canon);

	strcpy(in, code);
	in[zero - code] = 'o';
	in[one - code] = 'I';
	assert_int_equal(lk_recovery_code_normalise(in, strlen(in), out, NULL), 0);
	assert_string_equal(out, canon);
	in[one - code] = 'l';
	assert_int_equal(lk_recovery_code_normalise(in, strlen(in), out, NULL), 0);
	assert_string_equal(out, canon);

	strcpy(in, code);
	in[7] = 'U'; /* position 7 in print = 7th symbol (after one dash) */
	assert_int_equal(lk_recovery_code_normalise(in, strlen(in), out, &bad), -EILSEQ);
	assert_int_equal(bad, 7);
	in[7] = '*';
	assert_int_equal(lk_recovery_code_normalise(in, strlen(in), out, &bad), -EILSEQ);
}

static void test_length(void **state)
{
	char code[LK_RECOVERY_CODE_PRINTED + 1], in[64];
	char out[LK_RECOVERY_CODE_SYMBOLS + 1] = "untouched";

	assert_int_equal(lk_recovery_code_generate(code), 0);
	/* a group left out */
	assert_int_equal(check(code + 6), -EMSGSIZE);
	/* a symbol left out, a symbol doubled */
	snprintf(in, sizeof(in), "%.34s", code);
	assert_int_equal(check(in), -EMSGSIZE);
	snprintf(in, sizeof(in), "%sA", code);
	assert_int_equal(check(in), -EMSGSIZE);
	assert_int_equal(check(""), -EMSGSIZE);
	assert_int_equal(check("-- -"), -EMSGSIZE);
	/* out stays untouched on error */
	assert_int_equal(lk_recovery_code_normalise(code + 6, strlen(code + 6), out, NULL), -EMSGSIZE);
	assert_string_equal(out, "untouched");
}

/* Every single-symbol substitution at every position (30 x 31), and every
 * swap of two different neighbours, fails the check: guaranteed by the
 * code's minimum distance of 5, so this test is deterministic. */
static void test_typos_always_caught(void **state)
{
	for (int n = 0; n < 20; n++) {
		char code[LK_RECOVERY_CODE_PRINTED + 1], canon[LK_RECOVERY_CODE_SYMBOLS + 1];
		char t[LK_RECOVERY_CODE_SYMBOLS + 1];

		assert_int_equal(lk_recovery_code_generate(code), 0);
		canon_of(code, canon);
		assert_int_equal(check(canon), 0);

		for (int i = 0; i < LK_RECOVERY_CODE_SYMBOLS; i++)
			for (int v = 0; v < 32; v++) {
				if (alphabet[v] == canon[i])
					continue;
				strcpy(t, canon);
				t[i] = alphabet[v];
				assert_int_equal(check(t), -EBADMSG);
			}
		for (int i = 0; i + 1 < LK_RECOVERY_CODE_SYMBOLS; i++) {
			if (canon[i] == canon[i + 1])
				continue;
			strcpy(t, canon);
			t[i] = canon[i + 1];
			t[i + 1] = canon[i];
			assert_int_equal(check(t), -EBADMSG);
		}
	}
}

/* Up to four wrong symbols anywhere: always caught (random samples). */
static void test_four_errors_caught(void **state)
{
	char code[LK_RECOVERY_CODE_PRINTED + 1], canon[LK_RECOVERY_CODE_SYMBOLS + 1];
	char t[LK_RECOVERY_CODE_SYMBOLS + 1];
	uint8_t rnd[4 * 3];

	assert_int_equal(lk_recovery_code_generate(code), 0);
	canon_of(code, canon);
	for (int n = 0; n < 20000; n++) {
		int k = 1 + n % 4;

		assert_int_equal(lk_random_bytes(rnd, sizeof(rnd)), 0);
		strcpy(t, canon);
		for (int e = 0; e < k; e++) {
			int pos = rnd[3 * e] % LK_RECOVERY_CODE_SYMBOLS;
			int delta = 1 + rnd[3 * e + 1] % 31; /* never 0: a real change */
			int v = (int)(strchr(alphabet, canon[pos]) - alphabet);

			/* Positions may repeat; then fewer symbols change, still 1..4. */
			t[pos] = alphabet[(v + delta) % 32];
		}
		if (strcmp(t, canon) != 0)
			assert_int_equal(check(t), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shape),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test(test_lookalikes),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test(test_typos_always_caught),
	    cmocka_unit_test(test_four_errors_caught),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
