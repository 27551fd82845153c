/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sizes and ages on the command line, and sizes for humans. */
#ifndef LK_CTL_UNITS_H
#define LK_CTL_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * A size: decimal digits, then an optional unit: B, or K, M, G, T (also
 * KiB, MiB, GiB, TiB), all 1024-based, the letter in either case. "KB" and
 * friends are refused because nobody agrees whether they mean 1000 or 1024.
 * Returns 0, -EINVAL (malformed) or -ERANGE (above 2^64-1); *ret only on
 * success.
 */
int parse_size(const char *s, uint64_t *ret);

/*
 * An age: decimal digits, then an optional unit s, m, h, d or w (seconds
 * if none). Returns 0, -EINVAL or -ERANGE; *ret_seconds only on success.
 */
int parse_age(const char *s, uint64_t *ret_seconds);

/* Decimal digits only. 0, -EINVAL or -ERANGE; *ret only on success. */
int parse_uint(const char *s, uint64_t *ret);

/* "512 B", "1.5 KiB", "3.0 GiB": one decimal, 1024-based. buf of at
 * least FORMAT_SIZE_MAX bytes; returns buf. */
#define FORMAT_SIZE_MAX 24
char *format_size(uint64_t bytes, char *buf);

#endif
