/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The __attribute__((cleanup)) helpers latchkey uses, and nothing more.
 * OpenSSL's types have theirs in cleanup_openssl.h, so that including this
 * header does not pull in libcrypto (the PAM module does not link it). */
#ifndef LK_CLEANUP_H
#define LK_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Defines NAME(type *p) calling func(*p) when *p is not empty. func's own
 * return value is ignored; errno is kept so that a cleanup running on an
 * error path does not change what the caller reports. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, name, func)                                                        \
	static inline void name(type *p)                                                                     \
	{                                                                                                    \
		if (*p) {                                                                                    \
			int _saved = errno;                                                                  \
			(void)func(*p);                                                                      \
			errno = _saved;                                                                      \
		}                                                                                            \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd when it is open; always returns -1, errno untouched, so that
 * `fd = safe_close(fd);` both closes and marks the variable closed. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	*fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* For FILE * streams that are only read (a write error would go unseen). */
DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclosep, fclose)
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedirp, closedir)

/* For NUL-terminated secrets in plain malloc()ed memory (a PAM
 * conversation's reply, a line read from a terminal): wipe, then free. */
static inline void erase_and_freep(char **p)
{
	if (*p) {
		lk_wipe(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}
#define _cleanup_erase_free_ _cleanup_(erase_and_freep)

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                                                                                          \
	({                                                                                                   \
		__typeof__(p) _tp = (p);                                                                     \
		(p) = NULL;                                                                                  \
		_tp;                                                                                         \
	})
#define TAKE_FD(fd)                                                                                          \
	({                                                                                                   \
		int _tfd = (fd);                                                                             \
		(fd) = -1;                                                                                   \
		_tfd;                                                                                        \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
