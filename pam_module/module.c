/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_latchkey's logic. Everything here runs inside someone else's login
 * process (sshd, gdm, login): it changes no global state (no signal handlers,
 * umask, ids, rlimits, OpenSSL secure heap), opens only CLOEXEC fds, and is
 * bounded in time by the caller's timeout_ms so that a missing or hung
 * latchkeyd never blocks a login.
 */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cleanup.h"
#include "client.h"
#include "kdf.h"
#include "module.h"
#include "names.h"
#include "secret.h"
#include "wire.h"

#define SESSION_KEY_PREFIX "pam_latchkey:session:"
/* close_session only waits this long for the daemon's OK: the closed fd ends the session anyway. */
#define CLOSE_WAIT_MS 1000u
#define PWBUF_MAX     (1024u * 1024u)

/* The fd is stored in pam_set_data as fd + 1 so that fd 0 is not NULL and nothing is allocated. */
#define FD_TO_PTR(fd)  ((void *)(intptr_t)((fd) + 1))
#define PTR_TO_FD(p)   ((int)(intptr_t)(p) - 1)

struct lk_pam_user {
	const char *name; /* PAM_USER, owned by libpam */
	uid_t uid;
};

/* Everything that can hold W lives in one block of secret memory. */
struct auth_buffers {
	struct lk_msg req;
	struct lk_msg rep;
	uint8_t w[LK_WRAP_KEY_SIZE];
};

static uint64_t deadline_after(unsigned ms)
{
	return lk_now_ms() + ms;
}

/*
 * PAM_USER -> uid, or LK_PAM_SKIP for anyone latchkey does not serve: no
 * name, a name that is not a plain user name (never echoed to the log: it
 * may carry newlines), an unknown user, root and system users.
 */
static int resolve_user(pam_handle_t *pamh, const struct lk_pam_options *o, struct lk_pam_user *ret)
{
	const void *item = NULL;
	const char *name;
	struct passwd pw, *res = NULL;
	_cleanup_free_ char *buf = NULL;
	long sz;
	size_t bufsize;
	int r;

	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || !item || !*(const char *)item) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no user name: nothing to do");
		return LK_PAM_SKIP;
	}
	name = item;
	if (!lk_user_name_is_valid(name)) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "user name is not a valid user name: nothing to do");
		return LK_PAM_SKIP;
	}

	sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	bufsize = sz > 0 ? (size_t)sz : 4096;
	for (;;) {
		free(buf);
		buf = malloc(bufsize);
		if (!buf)
			return -ENOMEM;
		r = getpwnam_r(name, &pw, buf, bufsize, &res);
		if (r != ERANGE || bufsize >= PWBUF_MAX)
			break;
		bufsize *= 2;
	}
	if (r != 0) {
		errno = r;
		pam_syslog(pamh, LOG_ERR, "cannot look up user %s: %m", name);
		return -r;
	}
	if (!res) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "unknown user %s: nothing to do", name);
		return LK_PAM_SKIP;
	}
	if (pw.pw_uid == 0 || pw.pw_uid < o->min_uid) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "user %s has uid %u, below min_uid=%u or root: nothing to do",
				   name, (unsigned)pw.pw_uid, (unsigned)o->min_uid);
		return LK_PAM_SKIP;
	}

	*ret = (struct lk_pam_user){.name = name, .uid = pw.pw_uid};
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

	r = resolve_user(pamh, o, ret_user);
	if (r != 0)
		return r;
	return lk_pam_session_key(ret_user->name, key, key_size);
}

static int connect_daemon(pam_handle_t *pamh, const struct lk_pam_options *o, uint64_t deadline)
{
	/* require_root_server: whoever listens at the path must be root before it hears anything. */
	int fd = lk_client_connect(o->socket_path, 1, deadline);

	if (fd == -EPERM)
		pam_syslog(pamh, LOG_ERR, "refusing the server at %s: it does not run as root; home stays locked",
			   o->socket_path);
	else if (fd < 0) {
		errno = -fd;
		pam_syslog(pamh, LOG_WARNING, "latchkeyd not reachable at %s: %m; home stays locked", o->socket_path);
	}
	return fd;
}

static int log_call_failed(pam_handle_t *pamh, const struct lk_pam_options *o, const char *what, int r)
{
	errno = -r;
	pam_syslog(pamh, LOG_WARNING, "latchkeyd at %s did not answer the %s request: %m; home stays locked",
		   o->socket_path, what);
	return r;
}

static int log_bad_reply(pam_handle_t *pamh, const char *what, const struct lk_msg *rep)
{
	pam_syslog(pamh, LOG_WARNING, "unexpected %s reply to the %s request; home stays locked",
		   lk_msg_type_to_string(rep->type), what);
	return -EBADMSG;
}

static int status_to_errno(uint32_t status)
{
	switch (status) {
	case LK_OK:
		return 0;
	case LK_E_PERM:
		return -EPERM;
	case LK_E_NOT_ENROLLED:
	case LK_E_NO_CREDENTIAL:
	case LK_E_NEED_PASSPHRASE:
		return -ENOKEY;
	case LK_E_BAD_KEY:
		return -EKEYREJECTED;
	case LK_E_THROTTLED:
		return -EAGAIN;
	case LK_E_INVALID:
		return -EINVAL;
	case LK_E_NOT_FOUND:
		return -ENOENT;
	case LK_E_UNSUPPORTED:
		return -EOPNOTSUPP;
	case LK_E_BUSY:
		return -EBUSY;
	case LK_E_PROTOCOL:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* The daemon's text is its own, never secret; status names are ours. */
static const char *error_reason(const struct lk_msg *rep)
{
	if (lk_msg_has(rep, LK_T_TEXT) && rep->text[0])
		return rep->text;
	return lk_status_to_string(lk_msg_has(rep, LK_T_STATUS) ? rep->status : LK_E_INTERNAL);
}

int lk_pam_do_authenticate(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	uint64_t deadline = deadline_after(o->timeout_ms);
	struct lk_secret sec _cleanup_secret_ = {};
	_cleanup_close_ int fd = -1;
	struct lk_pam_user u;
	struct auth_buffers *b;
	const void *item = NULL;
	const char *authtok;
	int r;

	r = resolve_user(pamh, o, &u);
	if (r != 0)
		return r;

	/* pam_get_item only, never pam_get_authtok: this module sits after the one
	 * that prompted and must not prompt itself. libpam's token is never
	 * modified (later modules still need it); lk_kdf_derive works on a copy
	 * in locked memory and wipes it. */
	if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || !item || !*(const char *)item) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no password for %s from an earlier module: nothing to submit",
				   u.name);
		return LK_PAM_SKIP;
	}
	authtok = item;

	r = lk_secret_new(&sec, sizeof(*b));
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "cannot allocate memory for the wrapping key: %m");
		return r;
	}
	/* Unlike the daemon, we degrade: unlocked memory still beats a locked home. */
	if (!sec.locked)
		pam_syslog(pamh, LOG_WARNING, "cannot lock memory for the wrapping key (RLIMIT_MEMLOCK?); going on");
	b = sec.ptr;

	fd = connect_daemon(pamh, o, deadline);
	if (fd < 0)
		return fd;

	lk_msg_init(&b->req, LK_REQ_KDF_PARAMS, 1);
	lk_msg_set_uid(&b->req, u.uid);
	r = lk_client_call(fd, &b->req, &b->rep, deadline);
	if (r < 0)
		return log_call_failed(pamh, o, "KDF parameters", r);
	if (b->rep.type == LK_REP_ERROR) {
		if (lk_msg_has(&b->rep, LK_T_STATUS) && b->rep.status == LK_E_NOT_ENROLLED) {
			/* The common case for most users: not worth a log line unless debugging. */
			if (o->debug)
				pam_syslog(pamh, LOG_DEBUG, "user %s is not enrolled", u.name);
			return LK_PAM_SKIP;
		}
		pam_syslog(pamh, LOG_WARNING, "latchkeyd refused the KDF parameters of %s: %s; home stays locked",
			   u.name, error_reason(&b->rep));
		return status_to_errno(lk_msg_has(&b->rep, LK_T_STATUS) ? b->rep.status : LK_E_INTERNAL) ?: -EIO;
	}
	if (b->rep.type != LK_REP_KDF_PARAMS || !lk_msg_has(&b->rep, LK_T_KDF))
		return log_bad_reply(pamh, "KDF parameters", &b->rep);

	/* lk_kdf_derive checks the parameters against the LK_KDF_* bounds first, so
	 * a confused daemon cannot make us burn gigabytes or minutes. */
	r = lk_kdf_derive(&b->rep.kdf, authtok, strlen(authtok), b->w);
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "deriving the wrapping key of %s failed: %m; home stays locked", u.name);
		return r;
	}

	/* The budget bounds waiting for the daemon, not the derivation the admin
	 * chose to pay for: a fresh one for the second request. */
	deadline = deadline_after(o->timeout_ms);
	lk_msg_init(&b->req, LK_REQ_AUTH_SUBMIT, 2);
	lk_msg_set_uid(&b->req, u.uid);
	lk_msg_set_key(&b->req, b->w);
	lk_wipe(b->w, sizeof(b->w));
	r = lk_client_call(fd, &b->req, &b->rep, deadline);
	lk_msg_wipe(&b->req);
	if (r < 0)
		return log_call_failed(pamh, o, "credential", r);
	if (b->rep.type == LK_REP_ERROR) {
		uint32_t st = lk_msg_has(&b->rep, LK_T_STATUS) ? b->rep.status : LK_E_INTERNAL;

		if (st == LK_E_BAD_KEY)
			pam_syslog(pamh, LOG_NOTICE,
				   "the login password of %s does not open its latchkey protector "
				   "(changed outside PAM?); home stays locked",
				   u.name);
		else
			pam_syslog(pamh, LOG_WARNING, "latchkeyd refused the credential of %s: %s; home stays locked",
				   u.name, error_reason(&b->rep));
		return status_to_errno(st) ?: -EIO;
	}
	if (b->rep.type != LK_REP_OK)
		return log_bad_reply(pamh, "credential", &b->rep);

	pam_syslog(pamh, LOG_INFO, "credential of %s accepted by latchkeyd", u.name);
	return 0;
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

static void tell_user(pam_handle_t *pamh, int flags, const char *msg)
{
	if (flags & PAM_SILENT)
		return;
	/* The conversation may fail (no terminal): nothing to do about it. */
	(void)pam_info(pamh, "%s", msg);
}

int lk_pam_do_open_session(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	uint64_t deadline = deadline_after(o->timeout_ms);
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

	fd = connect_daemon(pamh, o, deadline);
	if (fd < 0)
		return fd;

	lk_msg_init(&req, LK_REQ_SESSION_OPEN, 1);
	lk_msg_set_uid(&req, u.uid);
	/* The service name is only informative for the daemon: one that does not fit is left out. */
	if (pam_get_item(pamh, PAM_SERVICE, &svc) == PAM_SUCCESS && svc)
		(void)lk_msg_set_text(&req, svc);

	r = lk_client_call(fd, &req, &rep, deadline);
	if (r < 0)
		return log_call_failed(pamh, o, "session", r);
	if (rep.type == LK_REP_ERROR) {
		st = lk_msg_has(&rep, LK_T_STATUS) ? rep.status : LK_E_INTERNAL;
		if (st == LK_E_NOT_ENROLLED) {
			if (o->debug)
				pam_syslog(pamh, LOG_DEBUG, "user %s is not enrolled", u.name);
			return LK_PAM_SKIP;
		}
		pam_syslog(pamh, LOG_WARNING, "latchkeyd refused the session of %s: %s; home stays locked", u.name,
			   error_reason(&rep));
		tell_user(pamh, flags, "latchkey: your encrypted directories stay locked: the unlock service refused.");
		return status_to_errno(st) ?: -EIO;
	}
	if (rep.type != LK_REP_UNLOCK_RESULT)
		return log_bad_reply(pamh, "session", &rep);

	rflags = lk_msg_has(&rep, LK_T_FLAGS) ? rep.flags : 0;
	st = lk_msg_has(&rep, LK_T_STATUS) ? rep.status : LK_E_INTERNAL;
	if (rflags & LK_RF_STILL_LOCKED) {
		pam_syslog(pamh, LOG_NOTICE, "session of %s opened without a credential: directories stay locked",
			   u.name);
		tell_user(pamh, flags,
			  "latchkey: your encrypted directories stay locked: no password was given at login.");
	} else if ((rflags & LK_RF_SOME_FAILED) || (st != LK_OK && st != LK_E_PARTIAL)) {
		pam_syslog(pamh, LOG_WARNING, "unlocking the directories of %s: %s (%u unlocked)", u.name,
			   lk_status_to_string(st), lk_msg_has(&rep, LK_T_COUNT) ? rep.count : 0);
		tell_user(pamh, flags, "latchkey: some of your encrypted directories could not be unlocked.");
	} else if (st == LK_E_PARTIAL) {
		pam_syslog(pamh, LOG_WARNING, "only some directories of %s were unlocked (%u)", u.name,
			   lk_msg_has(&rep, LK_T_COUNT) ? rep.count : 0);
		tell_user(pamh, flags, "latchkey: some of your encrypted directories could not be unlocked.");
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
	uint64_t deadline = deadline_after(o->timeout_ms < CLOSE_WAIT_MS ? o->timeout_ms : CLOSE_WAIT_MS);
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
		pam_syslog(pamh, LOG_WARNING, "latchkeyd did not confirm the end of the session of %s: %m", u.name);
	} else if (rep.type != LK_REP_OK)
		pam_syslog(pamh, LOG_WARNING, "unexpected %s reply when closing the session of %s",
			   lk_msg_type_to_string(rep.type), u.name);
	else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "session of %s closed", u.name);
	return 0;
}

int lk_pam_do_chauthtok(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	/* Password change (add-then-retire of the protector slot) comes later;
	 * until then the old password keeps opening the protector. */
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "password change is not handled yet");
	return LK_PAM_SKIP;
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
