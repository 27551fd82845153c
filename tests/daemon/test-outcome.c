/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* outcome.c: each errno outcome.h lists reaches the client as its own
 * status, anything else as an internal error; an internal failure keeps an
 * errno the admin can act on and never passes for an outcome. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "latchkey/protocol.h"
#include "outcome.h"

static void test_status(void **state)
{
	static const struct {
		int r;
		uint32_t status;
	} map[] = {
	    {0, LK_OK},
	    {-EOWNERDEAD, LK_E_OTHER_ACCOUNT},
	    {-ENOKEY, LK_E_NOT_ENROLLED},
	    {-EBADMSG, LK_E_BAD_KEY},
	    {-EAGAIN, LK_E_THROTTLED},
	    {-EKEYEXPIRED, LK_E_NEED_PASSPHRASE},
	    {-ENODEV, LK_E_TPM},
	    {-EEXIST, LK_E_EXISTS},
	    {-ENOENT, LK_E_NOT_FOUND},
	    {-EOPNOTSUPP, LK_E_UNSUPPORTED},
	    {-EPERM, LK_E_PERM},
	    {-EPROTO, LK_E_PROTOCOL},
	    {-EINVAL, LK_E_INVALID},
	    {-ENOSPC, LK_E_INTERNAL},
	    {-EIO, LK_E_INTERNAL},
	    {-ENOMEM, LK_E_INTERNAL},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		assert_int_equal(outcome_status(map[i].r), map[i].status);
}

static void test_internal(void **state)
{
	/* Kept: the admin's clue. */
	assert_int_equal(outcome_internal(-ENOSPC), -ENOSPC);
	assert_int_equal(outcome_internal(-EROFS), -EROFS);
	assert_int_equal(outcome_internal(-EDQUOT), -EDQUOT);
	assert_int_equal(outcome_internal(-EIO), -EIO);
	/* A lower layer's ENOENT or EPERM must not read as "not found" or
	 * "not allowed" to the client. */
	assert_int_equal(outcome_internal(-ENOENT), -EIO);
	assert_int_equal(outcome_internal(-EPERM), -EIO);
	assert_int_equal(outcome_internal(-EINVAL), -EIO);
	assert_int_equal(outcome_internal(-EEXIST), -EIO);
	assert_int_equal(outcome_status(outcome_internal(-EBADMSG)), LK_E_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_internal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
