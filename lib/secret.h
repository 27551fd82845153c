/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory for secrets: page-backed, mlock()ed, excluded from core dumps
 * (MADV_DONTDUMP), wiped in forked children (MADV_WIPEONFORK), and wiped
 * with explicit_bzero() before it is unmapped. Used by the daemon, the PAM
 * module and latchkeyctl alike; it changes no global process state, so it is
 * safe inside a PAM host (unlike the OpenSSL secure heap).
 */
#ifndef LK_SECRET_H
#define LK_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Allocate len bytes (rounded up to whole pages, zeroed). If mlock() fails
 * the memory is still returned and *ret_locked (if non-NULL) is false (the
 * PAM module logs and goes on), unless lk_secret_require_locked() was
 * called: then the allocation fails with errno ENOMEM and is counted.
 * Returns NULL with errno set on failure.
 */
void *lk_secret_alloc(size_t len, bool *ret_locked);

/*
 * From now on this process refuses every secret page it cannot lock
 * (latchkeyd: keys never reach swap, even when the memlock budget runs out).
 * A process-wide switch, so only a program that owns its process (never a
 * PAM module) calls it.
 */
void lk_secret_require_locked(void);

/* How many allocations were refused so far (never reset). */
unsigned lk_secret_refusals(void);

/* Wipe and unmap. NULL is fine. len must be the value given to alloc. */
void lk_secret_free(void *p, size_t len);

/* Constant-time equality of two equal-length buffers (CRYPTO_memcmp). */
bool lk_secret_equal(const void *a, const void *b, size_t len);

/* explicit_bzero, named for grep-ability. */
void lk_wipe(void *p, size_t len);

/*
 * Zero the vector registers. Inlined copies and libc's memcpy move secrets
 * through them, where they stay until overwritten (and are written into a
 * core's register notes); explicit_bzero cannot reach them. A no-op where
 * not implemented (only x86-64 so far).
 */
void lk_wipe_cpu_registers(void);

/*
 * Scoped secret buffer: struct lk_secret buf _cleanup_secret_ = {};
 * lk_secret_new(&buf, 32) ... buf.ptr ... freed and wiped on scope exit.
 */
struct lk_secret {
	void *ptr;
	size_t len;
	bool locked;
};
int lk_secret_new(struct lk_secret *s, size_t len); /* 0 or -errno */
void lk_secret_release(struct lk_secret *s);        /* wipe, unmap, zero the struct */
static inline void lk_secret_releasep(struct lk_secret *s)
{
	lk_secret_release(s);
}
#define _cleanup_secret_ __attribute__((cleanup(lk_secret_releasep)))

#endif
