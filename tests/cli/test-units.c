/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prune's SIZE and AGE arguments, and sizes printed for humans. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

static int failures;

static void check(const char *what, int (*fn)(const char *, uint64_t *), const char *in, int want_r,
                  uint64_t want)
{
	uint64_t v = 12345; /* must stay untouched on failure */
	int r = fn(in, &v);

	if (r != want_r || (r == 0 && v != want) || (r < 0 && v != 12345)) {
		fprintf(stderr, "FAIL %s(\"%s\"): r=%d v=%llu, want r=%d v=%llu\n", what, in, r,
		        (unsigned long long)v, want_r, (unsigned long long)want);
		failures++;
	}
}

static void check_format(uint64_t in, const char *want)
{
	char buf[FORMAT_SIZE_MAX];

	format_size(in, buf);
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "FAIL format_size(%llu): [%s], want [%s]\n", (unsigned long long)in, buf,
		        want);
		failures++;
	}
}

#define SIZE(in, r, v) check("parse_size", parse_size, in, r, v)
#define AGE(in, r, v)  check("parse_age", parse_age, in, r, v)

int main(void)
{
	/* Sizes: plain bytes, every unit in both spellings and cases. */
	SIZE("0", 0, 0);
	SIZE("4096", 0, 4096);
	SIZE("10B", 0, 10);
	SIZE("1K", 0, 1024);
	SIZE("1k", 0, 1024);
	SIZE("3KiB", 0, 3072);
	SIZE("3kib", 0, 3072);
	SIZE("2M", 0, 2ULL << 20);
	SIZE("2MiB", 0, 2ULL << 20);
	SIZE("5G", 0, 5ULL << 30);
	SIZE("5GiB", 0, 5ULL << 30);
	SIZE("7T", 0, 7ULL << 40);
	SIZE("7TiB", 0, 7ULL << 40);
	SIZE("007K", 0, 7168);
	/* The largest values that fit, and one more. */
	SIZE("18446744073709551615", 0, UINT64_MAX);
	SIZE("18446744073709551616", -ERANGE, 0);
	SIZE("16777215T", 0, 16777215ULL << 40);
	SIZE("16777216T", -ERANGE, 0);
	SIZE("99999999999999999999999", -ERANGE, 0);
	/* Malformed: empty, signs, spaces, fractions, hex, ambiguous or
	 * unknown units, units alone, trailing junk. */
	SIZE("", -EINVAL, 0);
	SIZE("-1", -EINVAL, 0);
	SIZE("+1", -EINVAL, 0);
	SIZE(" 1", -EINVAL, 0);
	SIZE("1 K", -EINVAL, 0);
	SIZE("1.5G", -EINVAL, 0);
	SIZE("0x10", -EINVAL, 0);
	SIZE("1KB", -EINVAL, 0);
	SIZE("1MB", -EINVAL, 0);
	SIZE("1P", -EINVAL, 0);
	SIZE("1Ki", -EINVAL, 0);
	SIZE("K", -EINVAL, 0);
	SIZE("1KK", -EINVAL, 0);
	SIZE("1G\n", -EINVAL, 0);
	check("parse_size", parse_size, NULL, -EINVAL, 0);

	/* Ages: bare seconds and each unit; "M" and "D" are not units. */
	AGE("0", 0, 0);
	AGE("90", 0, 90);
	AGE("90s", 0, 90);
	AGE("30m", 0, 1800);
	AGE("12h", 0, 43200);
	AGE("7d", 0, 604800);
	AGE("2w", 0, 1209600);
	AGE("30M", -EINVAL, 0);
	AGE("7D", -EINVAL, 0);
	AGE("1y", -EINVAL, 0);
	AGE("1d12h", -EINVAL, 0);
	AGE("-1d", -EINVAL, 0);
	AGE("d", -EINVAL, 0);
	AGE("", -EINVAL, 0);
	AGE("1.5d", -EINVAL, 0);
	AGE("30503599627370496w", -ERANGE, 0);
	AGE("18446744073709551615s", 0, UINT64_MAX);

	check("parse_uint", parse_uint, "4", 0, 4);
	check("parse_uint", parse_uint, "4K", -EINVAL, 0);
	check("parse_uint", parse_uint, "", -EINVAL, 0);

	/* Printing: bytes below 1 KiB, one decimal rounded down above. */
	check_format(0, "0 B");
	check_format(1023, "1023 B");
	check_format(1024, "1.0 KiB");
	check_format(1536, "1.5 KiB");
	check_format(1048575, "1023.9 KiB");
	check_format(1048576, "1.0 MiB");
	check_format(40960000, "39.0 MiB");
	check_format(5ULL << 40, "5.0 TiB");
	check_format(UINT64_MAX, "15.9 EiB");

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
