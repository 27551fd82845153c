/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "pcr_prediction.h"

#define PCR_COUNT     24
#define PCR_VALUE_MAX 48 /* SHA-384 */

static const struct {
	const char *name;
	uint16_t alg; /* TPM2_ALG_* */
	size_t size;
} banks[] = {{"sha1", 0x0004, 20}, {"sha256", 0x000b, 32}, {"sha384", 0x000c, 48}};

static int fail(char *why, size_t size, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, size, "line %u: ", line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < size)
		vsnprintf(why + n, size - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int bank_index(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		if (strlen(banks[i].name) == n && strncmp(s, banks[i].name, n) == 0)
			return (int)i;
	return -1;
}

static int unhex(const char *s, size_t n, uint8_t *out, size_t max, size_t *ret_len)
{
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
		    sscanf(s + i, "%2x", &v) != 1)
			return -EINVAL;
		out[i / 2] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

int pcr_prediction_parse(const char *text, size_t len, struct lk_pcr_prediction *ret, char *why,
                         size_t why_size)
{
	uint8_t values[PCR_COUNT][PCR_VALUE_MAX];
	uint32_t mask = 0;
	int bank = -1, section = -1;
	unsigned line = 0;
	const char *p = text, *end = text + len;
	EVP_MD_CTX *ctx;
	unsigned dlen = 0;
	int ok;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *e = nl ? nl : end, *s = p, *colon, *sep;
		size_t vlen;
		unsigned long idx;
		char *num_end;

		p = nl ? nl + 1 : end;
		line++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (memchr(s, '\0', e - s))
			return fail(why, why_size, line, "a NUL byte");
		colon = memchr(s, ':', e - s);
		if (colon && colon + 1 == e) { /* "sha256:" of tpm2_pcrread */
			section = bank_index(s, colon - s);
			if (section < 0)
				return fail(why, why_size, line, "unknown bank '%.*s' (sha1, sha256, sha384)",
				            (int)(colon - s), s);
			continue;
		}
		int b = section;
		const char *n0 = s;
		if (colon && (sep = memchr(colon, '=', e - colon))) { /* "sha256:7=HEX" */
			b = bank_index(s, colon - s);
			if (b < 0)
				return fail(why, why_size, line, "unknown bank '%.*s' (sha1, sha256, sha384)",
				            (int)(colon - s), s);
			n0 = colon + 1;
		} else if (colon && section >= 0) { /* "7 : 0xHEX" */
			sep = colon;
		} else
			return fail(why, why_size, line, "expected BANK:N=HEX");
		if (bank >= 0 && b != bank)
			return fail(why, why_size, line,
			            "a second bank: one prediction has one bank (tpm_pcrs)");
		bank = b;
		idx = strtoul(n0, &num_end, 10);
		while (num_end < sep && isspace((unsigned char)*num_end))
			num_end++;
		if (num_end == n0 || num_end != sep || !isdigit((unsigned char)*n0) || idx >= PCR_COUNT)
			return fail(why, why_size, line, "a PCR number 0..23 is expected before '%c'", *sep);
		if (mask & (1u << idx))
			return fail(why, why_size, line, "PCR %lu given twice", idx);
		s = sep + 1;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (unhex(s, e - s, values[idx], PCR_VALUE_MAX, &vlen) < 0 || vlen != banks[bank].size)
			return fail(why, why_size, line, "PCR %lu: expected %zu bytes of hex for %s", idx,
			            banks[bank].size, banks[bank].name);
		mask |= 1u << idx;
	}
	if (!mask) {
		snprintf(why, why_size, "no PCR values (expected BANK:N=HEX lines)");
		return -EINVAL;
	}
	/* PolicyPCR's digest, in the session's hash (SHA-256): the values of
	 * the selected PCRs, concatenated in index order. */
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (unsigned i = 0; ok && i < PCR_COUNT; i++)
		if (mask & (1u << i))
			ok = EVP_DigestUpdate(ctx, values[i], banks[bank].size);
	ok = ok && EVP_DigestFinal_ex(ctx, ret->digest, &dlen) && dlen == LK_PCR_DIGEST_SIZE;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		snprintf(why, why_size, "SHA-256 failed");
		return -EIO;
	}
	ret->bank = banks[bank].alg;
	ret->mask = mask;
	return 0;
}
