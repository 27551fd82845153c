/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Engine-neutral fuzz target interface (libFuzzer, AFL++, or fuzz-main.c replay). */
#ifndef LK_FUZZ_H
#define LK_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Inputs larger than any valid one are cut off early: nothing we parse
 * accepts more than LK_INDEX_MAX_SIZE bytes. */
#define LK_FUZZ_MAX_INPUT (128 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A crash-on-violation check that survives NDEBUG. */
#define FUZZ_CHECK(x)                                                                                        \
	do {                                                                                                 \
		if (!(x))                                                                                    \
			__builtin_trap();                                                                    \
	} while (0)

#endif
