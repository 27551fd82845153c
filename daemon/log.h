/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyd logging: the journal under systemd, stderr otherwise.
 * Never pass key bytes, passphrases or raw request buffers to these. */
#ifndef LKD_LOG_H
#define LKD_LOG_H

#include <stdbool.h>
#include <syslog.h>
#include <sys/types.h>

void log_setup(int max_level);
void log_full(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log and return r (a negative errno), so callers write: return log_error_errno(r, ...). */
int log_full_errno(int level, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Everything an unprivileged client can make the daemon log goes through
 * log_peer: at most LOG_PEER_BURST lines per uid per LOG_PEER_INTERVAL_MS (a
 * login at --debug writes about ten),
 * then one "N messages suppressed" line when the window ends. uid 0 (root
 * acting for itself) is not limited. LOG_NO_UID is root's own connection
 * not yet charged to a user.
 */
#define LOG_PEER_BURST       100u
#define LOG_PEER_INTERVAL_MS 10000u
#define LOG_NO_UID           ((uid_t)-1)
void log_peer(uid_t uid, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The budget check of log_peer alone (it counts the line): for a structured
 * event (log_event) that a client can trigger. */
bool log_peer_allow(uid_t uid, int level);
/* Write the summaries of windows that have ended (called from a timer). */
void log_peer_flush(void);

#define log_debug(...)            log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)             log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)           log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)          log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)            log_full(LOG_ERR, __VA_ARGS__)
#define log_error_errno(r, ...)   log_full_errno(LOG_ERR, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, r, __VA_ARGS__)

#endif
