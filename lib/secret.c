/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

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

	/* RLIMIT_MEMLOCK may be small (8 MiB); the caller decides whether
	 * unlocked memory is acceptable. */
	locked = mlock(p, sz) == 0;

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
	return CRYPTO_memcmp(a, b, len) == 0;
}

void lk_wipe(void *p, size_t len)
{
	if (p && len > 0)
		explicit_bzero(p, len);
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
