/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyd logging: the journal under systemd, stderr otherwise.
 * Never pass key bytes, passphrases or raw request buffers to these. */
#ifndef LKD_LOG_H
#define LKD_LOG_H

#include <syslog.h>

void log_setup(int max_level);
void log_full(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log and return r (a negative errno), so callers write: return log_error_errno(r, ...). */
int log_full_errno(int level, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_error_errno(r, ...)   log_full_errno(LOG_ERR, r, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, r, __VA_ARGS__)

#endif
