/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "root_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lk_index ix, ix2;
	char *text = NULL;
	size_t len;

	if (size > LK_FUZZ_MAX_INPUT || lk_index_parse((const char *)data, size, &ix) < 0)
		return 0;
	/* Parse is strict enough that serialise reproduces a version 2 input
	 * exactly; a version 1 input comes back as version 2 with the same
	 * entries. */
	FUZZ_CHECK(lk_index_serialize(&ix, &text, &len) == 0);
	if (ix.version == 2)
		FUZZ_CHECK(len == size && memcmp(text, data, size) == 0);
	FUZZ_CHECK(lk_index_parse(text, len, &ix2) == 0 && ix2.n == ix.n && ix2.version == 2);
	for (unsigned i = 0; i < ix.n; i++)
		FUZZ_CHECK(strcmp(ix.e[i].path, ix2.e[i].path) == 0 &&
		           memcmp(ix.e[i].key_id, ix2.e[i].key_id, LK_KEY_ID_SIZE) == 0);
	if (ix.n > 0)
		FUZZ_CHECK(lk_index_remove(&ix, ix.e[0].path) == 0);
	free(text);
	return 0;
}
