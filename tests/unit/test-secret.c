/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

static void test_alloc_free(void **state)
{
	bool locked = false;
	uint8_t *p;

	p = lk_secret_alloc(100, &locked);
	assert_non_null(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	/* The whole rounded-up page is ours. */
	memset(p, 0xab, (size_t)sysconf(_SC_PAGESIZE));
	print_message("mlock %s\n", locked ? "ok" : "failed (RLIMIT_MEMLOCK?)");
	lk_secret_free(p, 100);
	lk_secret_free(NULL, 100);

	p = lk_secret_alloc(0, NULL);
	assert_non_null(p);
	lk_secret_free(p, 0);
}

static void test_scoped(void **state)
{
	struct lk_secret s _cleanup_secret_ = {};

	assert_int_equal(lk_secret_new(&s, 32), 0);
	assert_non_null(s.ptr);
	assert_int_equal(s.len, 32);
	memset(s.ptr, 1, 32);
	lk_secret_release(&s);
	assert_null(s.ptr);
	assert_int_equal(s.len, 0);
	lk_secret_release(&s); /* idempotent */
	assert_int_equal(lk_secret_new(&s, 5000), 0);
}

static void test_equal_wipe(void **state)
{
	uint8_t a[32], b[32];

	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	assert_true(lk_secret_equal(a, b, sizeof(a)));
	b[31] = 8;
	assert_false(lk_secret_equal(a, b, sizeof(a)));
	assert_true(lk_secret_equal(a, b, 31));
	lk_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0);
	lk_wipe(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free),
		cmocka_unit_test(test_scoped),
		cmocka_unit_test(test_equal_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
