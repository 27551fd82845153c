/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-util.h"

#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

/*
 * lk_secret_free must wipe before it unmaps: after munmap the pages are
 * gone, so no later look (a core dump, /proc/PID/mem) can tell a wiped
 * page from an unwiped one. This binary is linked with --wrap=munmap, so
 * every munmap of liblatchkey lands here first; for the one mapping a test
 * is watching, look at the pages just before they go.
 */
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);

static const uint8_t *watched;
static size_t watched_len, unmapped_len, nonzero_bytes;

int __wrap_munmap(void *addr, size_t len)
{
	if (watched && addr == watched) {
		unmapped_len = len;
		nonzero_bytes = 0;
		for (size_t i = 0; i < len; i++)
			nonzero_bytes += watched[i] != 0;
		watched = NULL;
	}
	return __real_munmap(addr, len);
}

static void watch_unmap(const void *p, size_t len)
{
	watched = p;
	watched_len = len;
	unmapped_len = 0;
	nonzero_bytes = SIZE_MAX;
}

/* The watched mapping was unmapped whole, and every byte was zero then. */
static void assert_unmapped_wiped(void)
{
	if (watched)
		fail_msg("the secret mapping was never unmapped");
	assert_int_equal(unmapped_len, watched_len);
	if (nonzero_bytes)
		fail_msg("%zu of %zu bytes were not zero when munmap was called", nonzero_bytes,
		         unmapped_len);
}

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

/* Secret bytes in every page, right up to the end of the rounded-up
 * mapping (beyond len): lk_secret_free zeroes all of it before munmap. */
static void test_free_wipes_before_unmap(void **state)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p;

	p = lk_secret_alloc(100, NULL);
	assert_non_null(p);
	memset(p, 0xab, page);
	watch_unmap(p, page);
	lk_secret_free(p, 100);
	assert_unmapped_wiped();

	p = lk_secret_alloc(page + 1, NULL);
	assert_non_null(p);
	memset(p, 0x5c, 2 * page);
	watch_unmap(p, 2 * page);
	lk_secret_free(p, page + 1);
	assert_unmapped_wiped();
}

/* The scoped form, as the daemon uses it: the cleanup at scope exit wipes. */
static void fill_scoped_secret(size_t len)
{
	struct lk_secret s _cleanup_secret_ = {};

	assert_int_equal(lk_secret_new(&s, len), 0);
	memset(s.ptr, 0x7e, len);
	watch_unmap(s.ptr, (size_t)sysconf(_SC_PAGESIZE));
}

static void test_release_wipes_before_unmap(void **state)
{
	fill_scoped_secret(64);
	assert_unmapped_wiped();
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
	    cmocka_unit_test(test_free_wipes_before_unmap),
	    cmocka_unit_test(test_release_wipes_before_unmap),
	    cmocka_unit_test(test_equal_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
