/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lk_msg m, m2;
	static uint8_t buf[LK_MSG_MAX];
	size_t len;

	if (size > LK_FUZZ_MAX_INPUT || lk_msg_decode(data, size, &m) < 0)
		return 0;
	(void)lk_msg_type_to_string(m.type);
	(void)lk_status_to_string(m.status);
	(void)lk_key_state_to_string(m.state);
	/* Whatever decodes and re-encodes must decode again to the same fields. */
	if (lk_msg_encode(&m, buf, sizeof(buf), &len) == 0) {
		FUZZ_CHECK(len <= LK_MSG_MAX);
		FUZZ_CHECK(lk_msg_decode(buf, len, &m2) == 0);
		FUZZ_CHECK(m2.type == m.type && m2.seq == m.seq && m2.fields == m.fields);
	}
	lk_msg_wipe(&m);
	lk_msg_wipe(&m2);
	return 0;
}
