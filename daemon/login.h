/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a login, a lock and a logout do to a user's roots and cache
 * directories (login.c). */
#ifndef LKD_LOGIN_H
#define LKD_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "root_index.h"

struct daemon;
struct root_async;
struct user;

/* The login: unlock u's indexed roots and provision every cache policy
 * (needs u->p, -ENOKEY otherwise). Counts what was unlocked, what failed,
 * how many there were, and (optional) deleted roots skipped. With v1_async,
 * legacy v1 keys are added asynchronously: *ret_pending (optional) of them
 * report to v1_async->done later; without, they are waited for here. */
int daemon_unlock_user(struct daemon *d, struct user *u, const struct root_async *v1_async,
                       unsigned *ret_unlocked, unsigned *ret_failed, unsigned *ret_total, unsigned *ret_gone,
                       unsigned *ret_pending);
/* Lock every root of u. *ret_was_locked (optional): roots whose key was
 * not in the kernel. */
int daemon_lock_user(struct daemon *d, struct user *u, unsigned *ret_locked, bool *ret_busy,
                     unsigned *ret_was_locked);
/* The lock at logout: spares roots whose lock_on_logout is no. */
int daemon_lock_user_at_logout(struct daemon *d, struct user *u, unsigned *ret_locked, bool *ret_busy);
/* uid's index with every root looked up by its identity (moved roots get
 * their new path, deleted ones their gone mark), saved if that changed it.
 * Whoever moves a root on purpose calls this afterwards. */
int daemon_load_index_fresh(struct daemon *d, uid_t uid, struct lk_index *ix);

/* A session of uid starts (service names its PAM service): the pending
 * credential is claimed, a delayed lock cancelled; *ret_u is the user.
 * -ENOKEY when uid is not enrolled (*ret_why says so when its state is a
 * former account's), -ENOMEM. */
int daemon_session_open(struct daemon *d, uid_t uid, const char *service, struct user **ret_u,
                        const char **ret_why);
/* A session of uid ended; the last one starts the logout. */
void daemon_session_ended(struct daemon *d, uid_t uid);
/* The user's last session ended: lock now, or after lock_delay. */
void daemon_logout(struct daemon *d, struct user *u);
/* A new session of uid: a delayed lock is cancelled. */
void daemon_logout_cancel(struct daemon *d, uid_t uid);
void daemon_logout_free(struct daemon *d);
/* Retry, with back-off, locks that found files in use. */
void daemon_schedule_retry(struct daemon *d);

/* Reload the configuration (the old one stays on error, err_text says
 * "file:line: message") and provision its cache policies for users who
 * are logged in. */
int daemon_reload(struct daemon *d, char *err_text, size_t size);
/* Load the configuration at start and reload it on SIGHUP. */
int daemon_reload_setup(struct daemon *d);

#endif
