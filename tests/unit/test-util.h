/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests (cmocka needs these includes in order). */
#ifndef LK_TEST_UTIL_H
#define LK_TEST_UTIL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "crypto.h"

/* Decode a hex literal of a test vector into a malloc()ed buffer. */
static inline uint8_t *unhex_alloc(const char *hex, size_t *ret_len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	assert_int_equal(strlen(hex) % 2, 0);
	assert_int_equal(lk_unhex(hex, b, n), 0);
	*ret_len = n;
	return b;
}

#endif
