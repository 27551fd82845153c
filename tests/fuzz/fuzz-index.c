/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lk_index ix, ix2;
	char *text = NULL;
	size_t len;

	if (size > LK_FUZZ_MAX_INPUT || lk_index_parse((const char *)data, size, &ix) < 0)
		return 0;
	/* Parse is strict enough that serialise reproduces the input exactly. */
	FUZZ_CHECK(lk_index_serialize(&ix, &text, &len) == 0);
	FUZZ_CHECK(len == size && memcmp(text, data, size) == 0);
	FUZZ_CHECK(lk_index_parse(text, len, &ix2) == 0 && ix2.n == ix.n);
	if (ix.n > 0)
		FUZZ_CHECK(lk_index_remove(&ix, ix.e[0].path) == 0);
	free(text);
	return 0;
}
