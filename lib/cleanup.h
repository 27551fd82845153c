/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The few __attribute__((cleanup)) helpers latchkey uses, and nothing more. */
#ifndef LK_CLEANUP_H
#define LK_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

/* For FILE * streams that are only read (a write error would go unseen). */
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                               \
	({                                        \
		__typeof__(p) _tp = (p);          \
		(p) = NULL;                       \
		_tp;                              \
	})
#define TAKE_FD(fd)                               \
	({                                        \
		int _tfd = (fd);                  \
		(fd) = -1;                        \
		_tfd;                             \
	})

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
