/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "wrapped_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t p[LK_PROTECTOR_KEY_SIZE] = {0x24};
	uint8_t id[LK_KEY_ID_SIZE], k[LK_MASTER_KEY_SIZE];
	uint32_t uid;
	int r;

	if (size > LK_FUZZ_MAX_INPUT)
		return 0;
	r = lk_wrapped_key_peek(data, size, &uid, id);
	FUZZ_CHECK(r < 0 || size == LK_WRAPPED_KEY_SIZE);
	/* Open is tried whatever peek said: it must do its own checks. The
	 * seed corpus holds blobs sealed under this very P, so the success
	 * path runs too; there the identifier must be the header's. */
	if (lk_wrapped_key_open(data, size, r == 0 ? uid : 0, p, k, id) == 0) {
		uint8_t id2[LK_KEY_ID_SIZE];

		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(lk_wrapped_key_id((uint16_t)lk_wrapped_key_kind(data, size), k, id2) == 0);
		FUZZ_CHECK(memcmp(id2, data + 12, LK_KEY_ID_SIZE) == 0);
	}
	return 0;
}
