/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "protector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t w[LK_WRAP_KEY_SIZE] = {0x42};
	uint8_t buf[LK_PROTECTOR_MAX_SIZE], p[LK_PROTECTOR_KEY_SIZE];
	struct lk_protector pr;
	size_t len;

	if (size > LK_FUZZ_MAX_INPUT || lk_protector_parse(data, size, &pr) < 0)
		return 0;
	/* Whatever parses serialises back to the same bytes; a version 1 file
	 * comes back as version 2 with its counter, slots bit for bit. */
	FUZZ_CHECK(lk_protector_serialize(&pr, buf, sizeof(buf), &len) == 0);
	FUZZ_CHECK(len == size);
	if (data[4] == LK_PROTECTOR_VERSION)
		FUZZ_CHECK(memcmp(buf, data, size) == 0);
	else
		FUZZ_CHECK(memcmp(buf + LK_PROTECTOR_HDR_SIZE, data + LK_PROTECTOR_HDR_SIZE,
		                  size - LK_PROTECTOR_HDR_SIZE) == 0 &&
		           memcmp(buf, data, 4) == 0);
	for (unsigned i = 0; i < pr.n_slots; i++)
		(void)lk_protector_open_slot(&pr, i, w, p);
	(void)lk_protector_find_kind(&pr, LK_SLOT_RECOVERY);
	if (pr.n_slots > 1)
		FUZZ_CHECK(lk_protector_remove_slot(&pr, pr.slots[0].slot_id) == 0);
	return 0;
}
