/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int log_max_level = LOG_INFO;
static int log_to_journal;

void log_setup(int max_level)
{
	log_max_level = max_level;
	/* JOURNAL_STREAM is set by systemd when stderr is connected to the
	 * journal; then structured entries are better than plain lines. */
	log_to_journal = getenv("JOURNAL_STREAM") != NULL;
}

static void log_va(int level, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_journal) {
		if (err)
			sd_journal_send("MESSAGE=%s: %s", msg, strerror(err), "PRIORITY=%i", level, "ERRNO=%i", err,
					"SYSLOG_IDENTIFIER=latchkeyd", NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=latchkeyd", NULL);
		return;
	}
	if (err)
		fprintf(stderr, "latchkeyd: %s: %s\n", msg, strerror(err));
	else
		fprintf(stderr, "latchkeyd: %s\n", msg);
}

void log_full(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(level, 0, fmt, ap);
	va_end(ap);
}

int log_full_errno(int level, int r, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_va(level, r < 0 ? -r : r, fmt, ap);
	va_end(ap);
	errno = saved;
	return r < 0 ? r : -r;
}
