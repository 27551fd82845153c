/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_latchkey's logic. Everything here runs inside someone else's login
 * process (sshd, gdm, login): it changes no global state (no signal handlers,
 * umask, ids, rlimits, OpenSSL secure heap), opens only CLOEXEC fds, and is
 * bounded in time by the caller's timeout_ms so that a missing or hung
 * latchkeyd never blocks a login.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cleanup.h"
#include "client.h"
#include "enroll.h"
#include "link.h"
#include "module.h"
#include "resync.h"
#include "wire.h"

#define SESSION_KEY_PREFIX "pam_latchkey:session:"

/* The fd is stored in pam_set_data as fd + 1 so that fd 0 is not NULL and nothing is allocated. */
#define FD_TO_PTR(fd) ((void *)(intptr_t)((fd) + 1))
#define PTR_TO_FD(p)  ((int)(intptr_t)(p)-1)

#define LOCKED "home stays locked"
/* pam_unix keeps each pam_sm_authenticate result under this name for its setcred. */
#define PAM_UNIX_RESULT "unix_setcred_return"

/*
 * True if pam_unix ran earlier in this stack and rejected the password. A
 * stack that lets us run after that ("auth required pam_unix.so" followed by
 * us) would otherwise send the wrong password's key to the daemon and, worse,
 * let a failed login rewrap the slot (resync.c) to a password nobody set.
 */
static bool password_module_failed(pam_handle_t *pamh)
{
	const void *data = NULL;

	return pam_get_data(pamh, PAM_UNIX_RESULT, &data) == PAM_SUCCESS && data &&
	       *(const int *)data != PAM_SUCCESS;
}

int lk_pam_do_authenticate(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	struct lk_pam_link l _cleanup_(lk_pam_link_done) = {.fd = -1};
	struct lk_kdf_params login;
	const void *item = NULL;
	const char *authtok;
	bool enrolled = false;
	int r;

	r = lk_pam_link_init(&l, pamh, o, LOCKED);
	if (r != 0)
		return r;

	/* pam_get_item only, never pam_get_authtok: this module sits after the one
	 * that prompted and does not ask for the login password itself. */
	if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || !item || !*(const char *)item) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG,
			           "no password for %s from an earlier module: nothing to submit", l.u.name);
		return LK_PAM_SKIP;
	}
	authtok = item;
	if (password_module_failed(pamh)) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "pam_unix rejected the password of %s: nothing to submit",
			           l.u.name);
		return LK_PAM_SKIP;
	}

	r = lk_pam_link_connect(&l);
	if (r < 0)
		return r;
	r = lk_pam_kdf_params(&l, &login);
	if (r == LK_PAM_SKIP && lk_pam_unix_accepted(pamh)) {
		/* Not enrolled: maybe enroll_at_login covers the user. W is
		 * then derived already. */
		r = lk_pam_enroll_at_login(&l, authtok, &login);
		enrolled = r == 0;
	}
	if (r != 0)
		return r;
	if (!enrolled)
		r = lk_pam_derive(&l, &login, authtok);
	if (r < 0)
		return r;
	r = lk_pam_submit(&l);
	if (r == -EKEYREJECTED)
		/* pam_unix accepted this password, so latchkey holds an older one. */
		return lk_pam_resync(&l, flags, &login, authtok);
	if (r < 0)
		return r;

	pam_syslog(pamh, LOG_INFO, "credential of %s accepted by latchkeyd", l.u.name);
	return 0;
}

int lk_pam_session_key(const char *user, char *buf, size_t size)
{
	int n = snprintf(buf, size, SESSION_KEY_PREFIX "%s", user);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The user of a session and the pam_set_data key its connection is kept
 * under: open and close must agree on both. 0, LK_PAM_SKIP or -errno. */
static int resolve_session(pam_handle_t *pamh, const struct lk_pam_options *o, struct lk_pam_user *ret_user,
                           char *key, size_t key_size)
{
	int r;

	r = lk_pam_resolve_user(pamh, o, ret_user);
	if (r != 0)
		return r;
	return lk_pam_session_key(ret_user->name, key, key_size);
}

/*
 * Runs when the session data is dropped: pam_end, PAM_DATA_REPLACE (a second
 * open_session, or close_session clearing it). Closing is right in every case,
 * also in a forked child ending its copy of the handle with PAM_DATA_SILENT:
 * that closes only the child's duplicate, the parent's fd keeps the session.
 */
static void session_fd_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	int fd = PTR_TO_FD(data);

	if (fd >= 0)
		(void)close(fd);
}

int lk_pam_do_open_session(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	uint64_t deadline = lk_pam_deadline(o->timeout_ms);
	_cleanup_close_ int fd = -1;
	/* No secret travels on this request, so ordinary (stack) memory will do. */
	struct lk_msg req, rep;
	struct lk_pam_user u;
	const void *svc = NULL;
	char key[sizeof(SESSION_KEY_PREFIX) + 64];
	uint32_t rflags, st;
	int r;

	r = resolve_session(pamh, o, &u, key, sizeof(key));
	if (r != 0)
		return r;

	fd = lk_pam_connect(pamh, o, deadline, LOCKED);
	if (fd < 0)
		return fd;

	lk_msg_init(&req, LK_REQ_SESSION_OPEN, 1);
	lk_msg_set_uid(&req, u.uid);
	/* The service name is only informative for the daemon: one that does not fit is left out. */
	if (pam_get_item(pamh, PAM_SERVICE, &svc) == PAM_SUCCESS && svc)
		(void)lk_msg_set_text(&req, svc);

	r = lk_client_call(fd, &req, &rep, deadline);
	if (r < 0)
		return lk_pam_log_call_failed(pamh, o, "session", r, LOCKED);
	if (rep.type == LK_REP_ERROR) {
		st = lk_msg_status(&rep);
		if (st == LK_E_NOT_ENROLLED) {
			if (o->debug)
				pam_syslog(pamh, LOG_DEBUG, "user %s is not enrolled", u.name);
			return LK_PAM_SKIP;
		}
		pam_syslog(pamh, LOG_WARNING, "latchkeyd refused the session of %s: %s; home stays locked",
		           u.name, lk_pam_error_reason(&rep));
		lk_pam_tell(pamh, flags,
		            "latchkey: your encrypted directories stay locked: the unlock service refused.");
		return lk_pam_status_to_errno(st) ?: -EIO;
	}
	if (rep.type != LK_REP_UNLOCK_RESULT)
		return lk_pam_log_bad_reply(pamh, "session", &rep, LOCKED);

	rflags = lk_msg_has(&rep, LK_T_FLAGS) ? rep.flags : 0;
	st = lk_msg_status(&rep);
	if (rflags & LK_RF_STILL_LOCKED) {
		pam_syslog(pamh, LOG_NOTICE,
		           "session of %s opened without a credential: directories stay locked", u.name);
		lk_pam_tell(
		    pamh, flags,
		    "latchkey: your encrypted directories stay locked: no password was given at login.");
	} else if ((rflags & LK_RF_SOME_FAILED) || (st != LK_OK && st != LK_E_PARTIAL)) {
		pam_syslog(pamh, LOG_WARNING, "unlocking the directories of %s: %s (%u unlocked)", u.name,
		           lk_status_to_string(st), lk_msg_has(&rep, LK_T_COUNT) ? rep.count : 0);
		lk_pam_tell(pamh, flags,
		            "latchkey: some of your encrypted directories could not be unlocked.");
	} else if (st == LK_E_PARTIAL) {
		pam_syslog(pamh, LOG_WARNING, "only some directories of %s were unlocked (%u)", u.name,
		           lk_msg_has(&rep, LK_T_COUNT) ? rep.count : 0);
		lk_pam_tell(pamh, flags,
		            "latchkey: some of your encrypted directories could not be unlocked.");
	} else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "session of %s opened, %u directories unlocked", u.name,
		           lk_msg_has(&rep, LK_T_COUNT) ? rep.count : 0);

	/* The connection now is the session: it stays open in the login process
	 * (CLOEXEC, so the user's shell does not inherit it) and the daemon sees
	 * EOF when this process ends, even if close_session never runs. */
	if (pam_set_data(pamh, key, FD_TO_PTR(fd), session_fd_cleanup) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot keep the latchkey session of %s open", u.name);
		return -ENOMEM;
	}
	TAKE_FD(fd);
	return 0;
}

int lk_pam_do_close_session(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	/* The daemon answers after the lock, so logout returns with the home
	 * locked (or knowing it is not); the closed fd ends the session even
	 * if the answer is late. */
	uint64_t deadline = lk_pam_deadline(o->timeout_ms);
	struct lk_msg req, rep;
	struct lk_pam_user u;
	const void *data = NULL;
	char key[sizeof(SESSION_KEY_PREFIX) + 64];
	int r;

	r = resolve_session(pamh, o, &u, key, sizeof(key));
	if (r != 0)
		return r;
	if (pam_get_data(pamh, key, &data) != PAM_SUCCESS || !data) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no latchkey session for %s in this process", u.name);
		return LK_PAM_SKIP;
	}

	lk_msg_init(&req, LK_REQ_SESSION_CLOSE, 2);
	r = lk_client_call(PTR_TO_FD(data), &req, &rep, deadline);

	/* Dropping the data closes the fd, which ends the session whether or not
	 * the daemon answered: so a failure here is only worth a log line. */
	(void)pam_set_data(pamh, key, NULL, NULL);

	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_WARNING, "latchkeyd did not confirm the end of the session of %s: %m",
		           u.name);
	} else if (rep.type != LK_REP_OK)
		pam_syslog(pamh, LOG_WARNING, "unexpected %s reply when closing the session of %s",
		           lk_msg_type_to_string(rep.type), u.name);
	else if (lk_msg_has(&rep, LK_T_FLAGS) && (rep.flags & LK_RF_BUSY)) {
		pam_syslog(
		    pamh, LOG_NOTICE,
		    "session of %s closed; files still in use keep its directories incompletely locked "
		    "until they are closed",
		    u.name);
		lk_pam_tell(pamh, flags,
		            "latchkey: files still in use keep your encrypted directories readable "
		            "until they are closed.");
	} else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "session of %s closed", u.name);
	return 0;
}

int lk_pam_result(enum lk_pam_facility facility, int r)
{
	switch (facility) {
	case LK_PAM_OPEN_SESSION:
	case LK_PAM_CLOSE_SESSION:
		/* Success only for a session we really registered or ended; any
		 * failure is ignored, never fatal: latchkey must not block a login. */
		return r == 0 ? PAM_SUCCESS : PAM_IGNORE;
	case LK_PAM_AUTHENTICATE:
		/* Not an authenticator: PAM_SUCCESS here could complete a stack on
		 * its own (pam-u2f CVE-2025-23013), so never, whatever happened. */
	case LK_PAM_SETCRED:
	case LK_PAM_ACCOUNT:
	case LK_PAM_CHAUTHTOK:
	default:
		return PAM_IGNORE;
	}
}
