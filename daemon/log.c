/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "client.h"
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

/* Checked as printf: its callers' formats reach vsnprintf through it. */
static void log_va(int level, int err, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void log_va(int level, int err, const char *fmt, va_list ap)
{
	char msg[1024];

	if (level > log_max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_to_journal) {
		if (err)
			sd_journal_send("MESSAGE=%s: %s", msg, strerror(err), "PRIORITY=%i", level,
			                "ERRNO=%i", err, "SYSLOG_IDENTIFIER=latchkeyd", NULL);
		else
			sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level,
			                "SYSLOG_IDENTIFIER=latchkeyd", NULL);
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

/* One window of log_peer per uid. A table, not a map: an eviction writes the
 * evicted uid's summary first, so nothing is lost silently. */
#define PEER_SLOTS 64

struct peer_window {
	bool used;
	uid_t uid;
	uint64_t start_ms;
	unsigned logged;
	unsigned suppressed;
};

static struct peer_window windows[PEER_SLOTS];

static void window_summary(struct peer_window *w)
{
	if (w->suppressed)
		log_full(LOG_WARNING, "uid %u: %u messages suppressed (more than %u in %u s)",
		         (unsigned)w->uid, w->suppressed, LOG_PEER_BURST, LOG_PEER_INTERVAL_MS / 1000);
	w->suppressed = 0;
}

static struct peer_window *window_of(uid_t uid, uint64_t now)
{
	struct peer_window *oldest = NULL;

	for (unsigned i = 0; i < PEER_SLOTS; i++) {
		struct peer_window *w = &windows[i];
		if (w->used && w->uid == uid)
			return w;
		if (!oldest || !w->used || (oldest->used && w->start_ms < oldest->start_ms))
			oldest = w;
	}
	if (oldest->used)
		window_summary(oldest);
	*oldest = (struct peer_window){.used = true, .uid = uid, .start_ms = now};
	return oldest;
}

bool log_peer_allow(uid_t uid, int level)
{
	uint64_t now = lk_now_ms();
	struct peer_window *w;

	if (level > log_max_level)
		return false;
	if (uid == 0 || uid == LOG_NO_UID)
		return true;
	w = window_of(uid, now);
	if (now - w->start_ms >= LOG_PEER_INTERVAL_MS) {
		window_summary(w);
		w->start_ms = now;
		w->logged = 0;
	}
	if (w->logged >= LOG_PEER_BURST) {
		w->suppressed++;
		return false;
	}
	w->logged++;
	return true;
}

void log_peer(uid_t uid, int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_peer_allow(uid, level))
		return;
	va_start(ap, fmt);
	log_va(level, 0, fmt, ap);
	va_end(ap);
}

void log_peer_flush(void)
{
	uint64_t now = lk_now_ms();

	for (unsigned i = 0; i < PEER_SLOTS; i++) {
		struct peer_window *w = &windows[i];
		if (!w->used || now - w->start_ms < LOG_PEER_INTERVAL_MS)
			continue;
		window_summary(w);
		/* An idle uid's slot is free again. */
		*w = (struct peer_window){};
	}
}
