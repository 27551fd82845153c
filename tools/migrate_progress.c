/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Progress of one phase on stderr: a bar redrawn in place on a terminal
 * (files, bytes, rate, ETA), a plain line every 5 seconds otherwise, so a
 * log file stays readable. */
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "migrate.h"
#include "units.h"

#define TTY_EVERY_MS  200
#define LINE_EVERY_MS 5000

void migrate_progress_start(struct migrate_progress *p, const char *phase, uint64_t files_total,
                            uint64_t bytes_total, bool quiet)
{
	*p = (struct migrate_progress){
	    .phase = phase,
	    .files_total = files_total,
	    .bytes_total = bytes_total,
	    .start_ms = lk_now_ms(),
	    .tty = isatty(STDERR_FILENO),
	    .quiet = quiet,
	};
	p->last_ms = p->start_ms;
}

static void draw(struct migrate_progress *p, uint64_t now, bool final)
{
	char done[FORMAT_SIZE_MAX], total[FORMAT_SIZE_MAX], rate[FORMAT_SIZE_MAX];
	uint64_t ms = now - p->start_ms, per_s = ms ? p->bytes * 1000 / ms : 0;
	unsigned pct = p->bytes_total   ? (unsigned)(p->bytes * 100 / p->bytes_total)
	               : p->files_total ? (unsigned)(p->files * 100 / p->files_total)
	                                : 100;
	char eta[32] = "";

	if (pct > 100)
		pct = 100;
	if (!final && per_s && p->bytes_total > p->bytes) {
		uint64_t s = (p->bytes_total - p->bytes) / per_s;
		snprintf(eta, sizeof(eta), ", ETA %llu:%02llu", (unsigned long long)(s / 60),
		         (unsigned long long)(s % 60));
	}
	format_size(p->bytes, done);
	format_size(p->bytes_total, total);
	format_size(per_s, rate);
	if (p->tty) {
		char bar[21];
		for (unsigned i = 0; i < 20; i++)
			bar[i] = i < pct / 5 ? '#' : '.';
		bar[20] = '\0';
		fprintf(stderr, "\r%-7s [%s] %3u%%  %llu/%llu files  %s/%s  %s/s%s\033[K", p->phase, bar, pct,
		        (unsigned long long)p->files, (unsigned long long)p->files_total, done, total, rate,
		        eta);
		if (final)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "%s: %u%%, %llu/%llu files, %s of %s, %s/s%s\n", p->phase, pct,
		        (unsigned long long)p->files, (unsigned long long)p->files_total, done, total, rate,
		        eta);
	}
	p->drawn = true;
}

void migrate_progress_add(struct migrate_progress *p, uint64_t files, uint64_t bytes)
{
	uint64_t now;

	p->files += files;
	p->bytes += bytes;
	if (p->quiet)
		return;
	now = lk_now_ms();
	if (now - p->last_ms >= (p->tty ? TTY_EVERY_MS : LINE_EVERY_MS)) {
		p->last_ms = now;
		draw(p, now, false);
	}
}

uint64_t migrate_progress_end(struct migrate_progress *p)
{
	uint64_t now = lk_now_ms();

	if (!p->quiet)
		draw(p, now, true);
	return now - p->start_ms;
}
