/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "log.h"
#include "log_event.h"

void log_event(int level, const char *message_id, uid_t uid, const char *key_id, const char *dir,
               const char *fmt, ...)
{
	_cleanup_free_ char *f_msg = NULL, *f_dir = NULL;
	char msg[1024], f_id[64], f_prio[32], f_uid[32], f_key[96];
	struct iovec iov[8];
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* As log.c decides: structured entries only when stderr is the journal. */
	if (!getenv("JOURNAL_STREAM")) {
		log_full(level, "%s", msg);
		return;
	}
	if (asprintf(&f_msg, "MESSAGE=%s", msg) < 0 ||
	    (dir && asprintf(&f_dir, "LATCHKEY_DIRECTORY=%s", dir) < 0)) {
		log_full(level, "%s", msg);
		return;
	}
	snprintf(f_id, sizeof(f_id), "MESSAGE_ID=%s", message_id);
	snprintf(f_prio, sizeof(f_prio), "PRIORITY=%i", level);
	iov[n++] = (struct iovec){f_msg, strlen(f_msg)};
	iov[n++] = (struct iovec){f_id, strlen(f_id)};
	iov[n++] = (struct iovec){f_prio, strlen(f_prio)};
	iov[n++] =
	    (struct iovec){(char *)"SYSLOG_IDENTIFIER=latchkeyd", sizeof("SYSLOG_IDENTIFIER=latchkeyd") - 1};
	if (uid != LK_NO_UID) {
		snprintf(f_uid, sizeof(f_uid), "USER_ID=%u", (unsigned)uid);
		iov[n++] = (struct iovec){f_uid, strlen(f_uid)};
	}
	if (key_id) {
		snprintf(f_key, sizeof(f_key), "LATCHKEY_KEY_ID=%s", key_id);
		iov[n++] = (struct iovec){f_key, strlen(f_key)};
	}
	if (f_dir)
		iov[n++] = (struct iovec){f_dir, strlen(f_dir)};
	sd_journal_sendv(iov, (int)n);
}
