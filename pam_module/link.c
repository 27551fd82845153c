/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "cleanup.h"
#include "client.h"
#include "kdf.h"
#include "link.h"
#include "module.h"
#include "names.h"
#include "passwd.h"

uint64_t lk_pam_deadline(unsigned ms)
{
	return lk_now_ms() + ms;
}

int lk_pam_resolve_user(pam_handle_t *pamh, const struct lk_pam_options *o, struct lk_pam_user *ret)
{
	const void *item = NULL;
	const char *name;
	_cleanup_passwd_ struct lk_passwd p = {};
	int r;

	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || !item || !*(const char *)item) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "no user name: nothing to do");
		return LK_PAM_SKIP;
	}
	name = item;
	/* The user database decides what is an account, not a pattern of
	 * ours: upper case and other names useradd accepts are looked up. */
	if (strnlen(name, LK_ACCOUNT_MAX + 1) > LK_ACCOUNT_MAX) {
		pam_syslog(pamh, LOG_WARNING, "user name longer than %d bytes: latchkey leaves it alone",
		           LK_ACCOUNT_MAX);
		return LK_PAM_SKIP;
	}

	r = lk_passwd_by_name(name, &p);
	if (r == -ENOENT) {
		if (o->debug && lk_user_name_is_valid(name))
			pam_syslog(pamh, LOG_DEBUG, "unknown user %s: nothing to do", name);
		return LK_PAM_SKIP;
	}
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "cannot look up user %s: %m", name);
		return r;
	}
	/* A real account, but its name would forge log lines: say so (by
	 * uid) rather than skip it silently. */
	for (const char *c = name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			pam_syslog(pamh, LOG_WARNING,
			           "the account of uid %u has control characters in its name: latchkey "
			           "leaves it alone",
			           (unsigned)p.pw.pw_uid);
			return LK_PAM_SKIP;
		}
	if (p.pw.pw_uid == 0 || p.pw.pw_uid < o->min_uid) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG,
			           "user %s has uid %u, below min_uid=%u or root: nothing to do", name,
			           (unsigned)p.pw.pw_uid, (unsigned)o->min_uid);
		return LK_PAM_SKIP;
	}

	*ret = (struct lk_pam_user){.name = name, .uid = p.pw.pw_uid};
	return 0;
}

int lk_pam_connect(pam_handle_t *pamh, const struct lk_pam_options *o, uint64_t deadline, const char *outcome)
{
	/* require_root_server: whoever listens at the path must be root before it hears anything. */
	int fd = lk_client_connect(o->socket_path, 1, deadline);

	if (fd == -EPERM)
		pam_syslog(pamh, LOG_ERR, "refusing the server at %s: it does not run as root; %s",
		           o->socket_path, outcome);
	else if (fd < 0) {
		errno = -fd;
		pam_syslog(pamh, LOG_WARNING, "latchkeyd not reachable at %s: %m; %s", o->socket_path,
		           outcome);
	}
	return fd;
}

int lk_pam_log_call_failed(pam_handle_t *pamh, const struct lk_pam_options *o, const char *what, int r,
                           const char *outcome)
{
	errno = -r;
	pam_syslog(pamh, LOG_WARNING, "latchkeyd at %s did not answer the %s request: %m; %s", o->socket_path,
	           what, outcome);
	return r;
}

int lk_pam_log_bad_reply(pam_handle_t *pamh, const char *what, const struct lk_msg *rep, const char *outcome)
{
	pam_syslog(pamh, LOG_WARNING, "unexpected %s reply to the %s request; %s",
	           lk_msg_type_to_string(rep->type), what, outcome);
	return -EBADMSG;
}

uint32_t lk_pam_reply_status(const struct lk_msg *rep)
{
	if (rep->type != LK_REP_ERROR)
		return LK_OK;
	/* An error that claims success breaks the protocol as much as one
	 * without a status. */
	return lk_msg_status(rep) != LK_OK ? lk_msg_status(rep) : LK_E_PROTOCOL;
}

const char *lk_pam_error_reason(const struct lk_msg *rep)
{
	if (lk_msg_has(rep, LK_T_TEXT) && rep->text[0])
		return rep->text;
	return lk_status_to_string(lk_msg_status(rep));
}

int lk_pam_status_to_errno(uint32_t status)
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

void lk_pam_tell(pam_handle_t *pamh, int flags, const char *fmt, ...)
{
	va_list ap;

	if (flags & PAM_SILENT)
		return;
	/* The conversation may fail (no terminal): nothing to do about it. */
	va_start(ap, fmt);
	(void)pam_vinfo(pamh, fmt, ap);
	va_end(ap);
}

int lk_pam_link_init(struct lk_pam_link *l, pam_handle_t *pamh, const struct lk_pam_options *o,
                     const char *outcome)
{
	int r;

	*l = (struct lk_pam_link){
	    .pamh = pamh, .o = o, .outcome = outcome, .fd = -1, .deadline = lk_pam_deadline(o->timeout_ms)};
	r = lk_pam_resolve_user(pamh, o, &l->u);
	if (r != 0)
		return r;

	r = lk_secret_new(&l->sec, sizeof(*l->b));
	if (r < 0) {
		errno = -r;
		pam_syslog(pamh, LOG_ERR, "cannot allocate memory for the wrapping key: %m");
		return r;
	}
	/* Unlike the daemon, we degrade: unlocked memory still beats a locked home. */
	if (!l->sec.locked)
		pam_syslog(pamh, LOG_WARNING,
		           "cannot lock memory for the wrapping key (RLIMIT_MEMLOCK?); going on");
	l->b = l->sec.ptr;
	return 0;
}

void lk_pam_link_disconnect(struct lk_pam_link *l)
{
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
}

void lk_pam_link_done(struct lk_pam_link *l)
{
	lk_pam_link_disconnect(l);
	lk_secret_release(&l->sec);
	l->b = NULL;
}

int lk_pam_link_connect(struct lk_pam_link *l)
{
	int fd;

	lk_pam_link_disconnect(l);
	fd = lk_pam_connect(l->pamh, l->o, l->deadline, l->outcome);
	if (fd < 0)
		return fd;
	l->fd = fd;
	l->last_io_ms = lk_now_ms();
	return 0;
}

uint64_t lk_pam_link_stop_clock(const struct lk_pam_link *l)
{
	return lk_now_ms();
}

void lk_pam_link_start_clock(struct lk_pam_link *l, uint64_t stopped_at)
{
	l->deadline += lk_now_ms() - stopped_at;
}

/* Whether the daemon has closed fd (end-of-file or an error is pending). */
static bool peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};

	return poll(&p, 1, 0) != 0;
}

/* Asking for parameters reads; a second AUTH_SUBMIT replaces the first
 * pending credential. A REWRAP is never repeated: it may have been done. */
static bool request_is_repeatable(uint16_t type)
{
	return type == LK_REQ_KDF_PARAMS || type == LK_REQ_AUTH_SUBMIT;
}

int lk_pam_link_call(struct lk_pam_link *l, const char *what)
{
	int r;

	/* latchkeyd drops a connection idle for 5 s, and the Argon2id run before
	 * this request can take longer on a busy login server: connect afresh
	 * rather than lose the login. Checked before sending, so no request is
	 * sent twice on that account. */
	if (l->fd < 0 || peer_gone(l->fd) || lk_now_ms() - l->last_io_ms >= LK_PAM_IDLE_RECONNECT_MS) {
		r = lk_pam_link_connect(l);
		if (r < 0) {
			lk_msg_wipe(&l->b->req);
			return r;
		}
	}
	l->b->req.seq = ++l->seq;
	r = lk_client_call(l->fd, &l->b->req, &l->b->rep, l->deadline);
	/* A loaded daemon may act on the expired idle deadline after the check
	 * above and drop the connection with the request unread: end-of-file and
	 * no answer. Only requests that are safe to repeat are sent once more,
	 * within the same deadline. */
	if (r == -ECONNRESET && request_is_repeatable(l->b->req.type) && lk_pam_link_connect(l) == 0)
		r = lk_client_call(l->fd, &l->b->req, &l->b->rep, l->deadline);
	lk_msg_wipe(&l->b->req);
	l->last_io_ms = lk_now_ms();
	if (r < 0)
		return lk_pam_log_call_failed(l->pamh, l->o, what, r, l->outcome);
	l->answered++;
	return 0;
}

int lk_pam_kdf_params(struct lk_pam_link *l, struct lk_kdf_params *ret)
{
	struct lk_msg *rep = &l->b->rep;
	uint32_t st;
	int r;

	lk_msg_init(&l->b->req, LK_REQ_KDF_PARAMS, 0);
	lk_msg_set_uid(&l->b->req, l->u.uid);
	r = lk_pam_link_call(l, "KDF parameters");
	if (r < 0)
		return r;
	st = lk_pam_reply_status(rep);
	if (st == LK_E_NOT_ENROLLED) {
		/* The common case for most users: not worth a log line unless debugging. */
		if (l->o->debug)
			pam_syslog(l->pamh, LOG_DEBUG, "user %s is not enrolled", l->u.name);
		return LK_PAM_SKIP;
	}
	if (st != LK_OK) {
		pam_syslog(l->pamh, LOG_WARNING, "latchkeyd refused the KDF parameters of %s: %s; %s",
		           l->u.name, lk_pam_error_reason(rep), l->outcome);
		return lk_pam_status_to_errno(st);
	}
	if (rep->type != LK_REP_KDF_PARAMS || !lk_msg_has(rep, LK_T_KDF))
		return lk_pam_log_bad_reply(l->pamh, "KDF parameters", rep, l->outcome);
	*ret = rep->kdf;
	return 0;
}

/* lk_kdf_derive checks the parameters against the LK_KDF_* bounds first, so
 * a confused daemon cannot make us burn gigabytes or minutes. The token is
 * never modified (later modules still need it); lk_kdf_derive works on a
 * copy in locked memory and wipes it. */
static int derive(struct lk_pam_link *l, const struct lk_kdf_params *kdf, const char *pw, uint8_t *out)
{
	uint64_t t0 = lk_pam_link_stop_clock(l);
	int r = lk_kdf_derive(kdf, pw, strlen(pw), out);

	lk_pam_link_start_clock(l, t0);
	if (r < 0) {
		errno = -r;
		pam_syslog(l->pamh, LOG_ERR, "deriving a wrapping key of %s failed: %m; %s", l->u.name,
		           l->outcome);
	}
	return r;
}

int lk_pam_derive(struct lk_pam_link *l, const struct lk_kdf_params *kdf, const char *pw)
{
	return derive(l, kdf, pw, l->b->w);
}

int lk_pam_submit(struct lk_pam_link *l)
{
	struct lk_msg *rep = &l->b->rep;
	uint32_t st;
	int r;

	lk_msg_init(&l->b->req, LK_REQ_AUTH_SUBMIT, 0);
	lk_msg_set_uid(&l->b->req, l->u.uid);
	lk_msg_set_key(&l->b->req, l->b->w);
	r = lk_pam_link_call(l, "credential");
	if (r < 0)
		return r;
	st = lk_pam_reply_status(rep);
	if (st == LK_E_BAD_KEY)
		return -EKEYREJECTED;
	if (st != LK_OK) {
		pam_syslog(l->pamh, LOG_WARNING, "latchkeyd refused the credential of %s: %s; %s", l->u.name,
		           lk_pam_error_reason(rep), l->outcome);
		return lk_pam_status_to_errno(st);
	}
	if (rep->type != LK_REP_OK)
		return lk_pam_log_bad_reply(l->pamh, "credential", rep, l->outcome);
	return 0;
}

/* The link as the lib's client transport: the buffers are the link's own
 * (b->req, b->rep), and failures are logged where they happen. */
static int io_call(void *userdata, struct lk_msg *req, struct lk_msg *rep)
{
	struct lk_pam_link *l = userdata;

	return lk_pam_link_call(l, req->type == LK_REQ_REWRAP ? "rewrap" : "new KDF parameters");
}

static int io_derive(void *userdata, const struct lk_kdf_params *kdf, const char *secret, size_t len,
                     uint8_t out[LK_WRAP_KEY_SIZE])
{
	return derive(userdata, kdf, secret, out);
}

int lk_pam_rewrap(struct lk_pam_link *l, uint32_t from_kind, const char *new_pw, uint32_t *ret_status)
{
	const struct lk_client_io io = {.call = io_call, .derive = io_derive, .userdata = l};
	struct lk_kdf_params fresh;
	struct lk_msg *rep = &l->b->rep;
	uint32_t st;
	int r;

	r = lk_client_fresh_key(&io, l->u.uid, LK_SLOT_LOGIN, new_pw, strlen(new_pw), &l->b->req, rep, &fresh,
	                        l->b->w_new);
	if (r == 1) {
		st = lk_pam_reply_status(rep);
		if (st == LK_E_NOT_ENROLLED) {
			/* The common case for most users: not worth a log line unless debugging. */
			if (l->o->debug)
				pam_syslog(l->pamh, LOG_DEBUG, "user %s is not enrolled", l->u.name);
			return LK_PAM_SKIP;
		}
		pam_syslog(l->pamh, LOG_WARNING, "latchkeyd refused the new KDF parameters of %s: %s; %s",
		           l->u.name, lk_pam_error_reason(rep), l->outcome);
		return lk_pam_status_to_errno(st);
	}
	if (r == -EBADMSG)
		return lk_pam_log_bad_reply(l->pamh, "new KDF parameters", rep, l->outcome);
	if (r < 0)
		return r; /* logged by the call or the derivation */

	r = lk_client_rewrap(&io, l->u.uid, (uint8_t)from_kind, from_kind ? l->b->w : NULL, LK_SLOT_LOGIN,
	                     &fresh, l->b->w_new, &l->b->req, rep);
	lk_wipe(l->b->w_new, sizeof(l->b->w_new));
	if (r == -EBADMSG)
		return lk_pam_log_bad_reply(l->pamh, "rewrap", rep, l->outcome);
	if (r < 0)
		return r;
	*ret_status = lk_pam_reply_status(rep);
	return 0;
}
