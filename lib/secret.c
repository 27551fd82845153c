/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secret.h"

static size_t round_to_pages(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (len == 0)
		len = 1;
	if (len > SIZE_MAX - page)
		return 0;
	return (len + page - 1) / page * page;
}

static bool require_locked;
static unsigned refusals;

void lk_secret_require_locked(void)
{
	require_locked = true;
}

unsigned lk_secret_refusals(void)
{
	return refusals;
}

void *lk_secret_alloc(size_t len, bool *ret_locked)
{
	size_t sz = round_to_pages(len);
	bool locked;
	void *p;

	if (sz == 0) {
		errno = ENOMEM;
		return NULL;
	}
	/* A private anonymous mapping, not malloc: the pages are ours alone, so
	 * locking, dump exclusion and wipe-on-fork cover nothing else. */
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;

	/* RLIMIT_MEMLOCK may be small; the caller decides whether unlocked
	 * memory is acceptable, or refused it once for all. */
	locked = mlock(p, sz) == 0;
	if (!locked && require_locked) {
		/* Nothing was written yet, but every unmap of a secret page is
		 * preceded by a wipe: one rule, no exceptions to audit. */
		explicit_bzero(p, sz);
		(void)munmap(p, sz);
		refusals++;
		errno = ENOMEM;
		return NULL;
	}

	/* Old kernels lack these advice values (EINVAL); they are defence in
	 * depth, so carry on without them. */
	(void)madvise(p, sz, MADV_DONTDUMP);
#ifdef MADV_WIPEONFORK
	(void)madvise(p, sz, MADV_WIPEONFORK);
#endif
	if (ret_locked)
		*ret_locked = locked;
	return p;
}

void lk_secret_free(void *p, size_t len)
{
	size_t sz;
	int saved = errno;

	if (!p)
		return;
	sz = round_to_pages(len);
	explicit_bzero(p, sz);
	(void)munlock(p, sz);
	(void)munmap(p, sz);
	errno = saved;
}

bool lk_secret_equal(const void *a, const void *b, size_t len)
{
	/* Constant time: every byte is read (volatile: the compiler cannot stop
	 * early) and the differences are only OR-ed. Written here rather than
	 * CRYPTO_memcmp or sodium_memcmp, so that neither the PAM module (which
	 * would keep the NODELETE libcrypto mapped after pam_end) nor latchkeyd
	 * loads a library for it. */
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void lk_wipe(void *p, size_t len)
{
	if (p && len > 0)
		explicit_bzero(p, len);
}

#if defined(__x86_64__)
#define XMM0_15                                                                                              \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",    \
	    "xmm12", "xmm13", "xmm14", "xmm15"

/* zmm16-31 exist only with AVX-512 (glibc's EVEX memcpy uses them); VZEROALL does not reach them. */
__attribute__((target("avx512f"), noinline)) static void wipe_avx512_high(void)
{
	__asm__ volatile(".irp r,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
	                 "vpxord %%zmm\\r, %%zmm\\r, %%zmm\\r\n\t"
	                 ".endr" ::
	                     : "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
	                       "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}
#endif

void lk_wipe_cpu_registers(void)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx512f"))
		wipe_avx512_high();
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vzeroall" ::: XMM0_15);
	else
		__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
		                 "pxor %%xmm\\r, %%xmm\\r\n\t"
		                 ".endr" ::
		                     : XMM0_15);
#endif
}

int lk_secret_new(struct lk_secret *s, size_t len)
{
	bool locked = false;
	void *p;

	p = lk_secret_alloc(len, &locked);
	if (!p)
		return -errno;
	s->ptr = p;
	s->len = len;
	s->locked = locked;
	return 0;
}

void lk_secret_release(struct lk_secret *s)
{
	if (!s)
		return;
	lk_secret_free(s->ptr, s->len);
	s->ptr = NULL;
	s->len = 0;
	s->locked = false;
}
