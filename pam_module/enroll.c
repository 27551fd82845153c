/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enrolment at the first password login. Only after pam_unix accepted the
 * password, so the new login slot wraps the password the system checked
 * and a wrong password enrols nothing; latchkeyd decides whom its
 * configuration covers and makes the home (create_home). Nobody types a
 * password twice: the same W then goes to AUTH_SUBMIT, and the session
 * unlocks the new home like any other.
 */
#include <errno.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "enroll.h"
#include "module.h"
#include "wire.h"

#define PAM_UNIX_RESULT "unix_setcred_return"

bool lk_pam_unix_accepted(pam_handle_t *pamh)
{
	const void *data = NULL;

	return pam_get_data(pamh, PAM_UNIX_RESULT, &data) == PAM_SUCCESS && data &&
	       *(const int *)data == PAM_SUCCESS;
}

static int ask(struct lk_pam_link *l, struct lk_kdf_params *ret)
{
	struct lk_msg *rep = &l->b->rep;
	uint32_t st;
	int r;

	lk_msg_init(&l->b->req, LK_REQ_LOGIN_ENROLL, 0);
	lk_msg_set_uid(&l->b->req, l->u.uid);
	r = lk_pam_link_call(l, "first-login enrolment");
	if (r < 0)
		return r;
	st = lk_pam_reply_status(rep);
	if (st == LK_E_PERM || st == LK_E_EXISTS || st == LK_E_PROTOCOL) {
		/* not covered by enroll_at_login (or an older daemon) */
		if (l->o->debug)
			pam_syslog(l->pamh, LOG_DEBUG, "%s is not enrolled at login: %s", l->u.name,
			           lk_pam_error_reason(rep));
		return LK_PAM_SKIP;
	}
	if (st != LK_OK || rep->type != LK_REP_KDF_PARAMS || !lk_msg_has(rep, LK_T_KDF))
		return lk_pam_log_bad_reply(l->pamh, "first-login enrolment", rep, l->outcome);
	*ret = rep->kdf;
	return 0;
}

int lk_pam_enroll_at_login(struct lk_pam_link *l, const char *authtok, struct lk_kdf_params *ret_login)
{
	struct lk_msg *rep = &l->b->rep;
	struct lk_kdf_params kdf;
	uint32_t st, flags;
	int r;

	r = ask(l, &kdf);
	if (r != 0)
		return r;
	r = lk_pam_derive(l, &kdf, authtok);
	if (r < 0)
		return r;
	lk_msg_init(&l->b->req, LK_REQ_LOGIN_ENROLL, 0);
	lk_msg_set_uid(&l->b->req, l->u.uid);
	lk_msg_set_kdf(&l->b->req, &kdf);
	lk_msg_set_key(&l->b->req, l->b->w);
	r = lk_pam_link_call(l, "first-login enrolment");
	if (r < 0)
		return r;
	st = lk_pam_reply_status(rep);
	if (st != LK_OK || rep->type != LK_REP_OK) {
		pam_syslog(l->pamh, LOG_WARNING, "latchkeyd refused to enrol %s at login: %s; %s", l->u.name,
		           lk_pam_error_reason(rep), l->outcome);
		return st != LK_OK ? lk_pam_status_to_errno(st) : -EBADMSG;
	}
	flags = lk_msg_has(rep, LK_T_FLAGS) ? rep->flags : 0;
	pam_syslog(l->pamh, LOG_INFO, "enrolled %s at the first login%s", l->u.name,
	           (flags & LK_LEF_HOME_CREATED) ? "; made an encrypted home"
	           : (flags & LK_LEF_HOME_PLAIN)
	               ? "; the existing home is not encrypted: run latchkeyctl migrate"
	               : "");
	*ret_login = kdf;
	return 0;
}
