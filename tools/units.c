/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "units.h"

struct unit {
	const char *name;
	uint64_t factor;
};

/* Digits into *ret, *end after the last digit. No sign, no spaces, no
 * hex or octal: strtoull would accept all of those. */
static int parse_digits(const char *s, const char **end, uint64_t *ret)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*ret = v;
	return 0;
}

static int parse_with_units(const char *s, const struct unit *units, size_t n_units, bool match_case,
                            uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(s, &end, &v);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_units; i++) {
		if ((match_case ? strcmp(end, units[i].name) : strcasecmp(end, units[i].name)) != 0)
			continue;
		if (v > UINT64_MAX / units[i].factor)
			return -ERANGE;
		*ret = v * units[i].factor;
		return 0;
	}
	return -EINVAL;
}

int parse_uint(const char *s, uint64_t *ret)
{
	static const struct unit none[] = {{"", 1}};

	return parse_with_units(s, none, ELEMENTSOF(none), true, ret);
}

int parse_size(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
	    {"", 1},           {"B", 1},
	    {"K", 1ULL << 10}, {"KiB", 1ULL << 10},
	    {"M", 1ULL << 20}, {"MiB", 1ULL << 20},
	    {"G", 1ULL << 30}, {"GiB", 1ULL << 30},
	    {"T", 1ULL << 40}, {"TiB", 1ULL << 40},
	};

	return parse_with_units(s, units, ELEMENTSOF(units), false, ret);
}

int parse_age(const char *s, uint64_t *ret_seconds)
{
	/* Case matters here: "m" is minutes, and "M" would read as months. */
	static const struct unit units[] = {
	    {"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400},
	};

	return parse_with_units(s, units, ELEMENTSOF(units), true, ret_seconds);
}

char *format_size(uint64_t bytes, char *buf)
{
	static const char *const names[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t div = 1024;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, FORMAT_SIZE_MAX, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (i + 1 < ELEMENTSOF(names) && bytes / div >= 1024) {
		div *= 1024;
		i++;
	}
	/* Tenths, rounded down so "1023.99 KiB" never prints as "1024.0 KiB". */
	uint64_t whole = bytes / div;
	uint64_t tenths = (bytes % div) * 10 / div;
	snprintf(buf, FORMAT_SIZE_MAX, "%llu.%llu %s", (unsigned long long)whole, (unsigned long long)tenths,
	         names[i]);
	return buf;
}
