/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session records in the runtime directory, and the rebuild of the
 * daemon's state after a restart (see sessions.c). */
#ifndef LKD_SESSIONS_H
#define LKD_SESSIONS_H

#include <sys/types.h>

#define SESSION_RECORD_NAME_MAX 64

struct daemon;

/* Open (creating) <runtime_dir>/sessions, root's, 0700. */
int sessions_open(struct daemon *d, const char *runtime_dir);
/* Record a session of uid held by login process pid; ret_name gets the
 * record's name ("" if it could not be written: logged, not fatal). */
int session_record_add(struct daemon *d, uid_t uid, pid_t pid, char ret_name[SESSION_RECORD_NAME_MAX]);
void session_record_remove(struct daemon *d, const char *name);
/* At start-up: adopt the records of live login processes, drop the rest,
 * lock every user with keys loaded and no live session. */
int sessions_rebuild(struct daemon *d);
void sessions_free(struct daemon *d);

#endif
