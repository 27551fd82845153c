/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Wall and CPU clocks of the bench programs (header-only: pam-host links libpam alone). */
#ifndef LK_BENCH_CLOCK_H
#define LK_BENCH_CLOCK_H

#include <sys/resource.h>
#include <time.h>

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* This process's user + system time, all threads. */
static inline double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

#endif
