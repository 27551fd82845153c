/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Password change. libpam runs the password stack twice: PAM_PRELIM_CHECK,
 * where pam_unix may still refuse and we do nothing, then PAM_UPDATE_AUTHTOK,
 * after pam_unix (earlier in the stack) has stored the new password in
 * PAM_AUTHTOK and the old one in PAM_OLDAUTHTOK (NULL when root changes
 * someone else's password). We rewrap the login slot from old to new: two
 * Argon2id runs (one without an old password) and one REWRAP, which the
 * daemon applies as one atomic replace of the protector file (the new
 * login slot in, the old one out, in the same rename).
 *
 * The system password has already changed by then, so nothing here may fail
 * the change: every outcome is logged, told where the user can act on it,
 * and PAM_IGNOREd. A slot left on the old password is caught up at the next
 * login (resync.c).
 */
#include <errno.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "cleanup.h"
#include "link.h"
#include "module.h"

#define KEPT "the encrypted files keep the old password"

static const char *item_string(pam_handle_t *pamh, int type)
{
	const void *item = NULL;

	if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || !item || !*(const char *)item)
		return NULL;
	return item;
}

int lk_pam_do_chauthtok(pam_handle_t *pamh, int flags, const struct lk_pam_options *o)
{
	struct lk_pam_link l _cleanup_(lk_pam_link_done) = {.fd = -1};
	struct lk_kdf_params login;
	const char *old, *new;
	uint32_t st;
	int r;

	if (!(flags & PAM_UPDATE_AUTHTOK))
		return LK_PAM_SKIP;

	r = lk_pam_link_init(&l, pamh, o, KEPT);
	if (r != 0)
		return r;
	/* pam_get_item only: the password module asked for both; we never prompt here. */
	new = item_string(pamh, PAM_AUTHTOK);
	if (!new) {
		pam_syslog(pamh, LOG_NOTICE,
		           "no new password for %s from an earlier module (pam_latchkey must follow pam_unix "
		           "in the password stack); %s",
		           l.u.name, KEPT);
		return LK_PAM_SKIP;
	}
	old = item_string(pamh, PAM_OLDAUTHTOK);

	r = lk_pam_link_connect(&l);
	if (r == 0 && old) {
		r = lk_pam_kdf_params(&l, &login);
		if (r == 0)
			r = lk_pam_derive(&l, &login, old);
	}
	/* Without the old password the daemon rewraps from the key it holds
	 * for a live session of the user (an admin reset). */
	if (r == 0)
		r = lk_pam_rewrap(&l, old ? LK_SLOT_LOGIN : 0, new, &st);
	if (r < 0 && l.answered)
		/* Logged where it failed. The daemon has answered for this
		 * (so enrolled) user before: the user needs to know. */
		lk_pam_tell(pamh, flags,
		            "latchkey: your encrypted files still use your old password; "
		            "the next login will ask for it once.");
	if (r != 0)
		return r;

	switch (st) {
	case LK_OK:
		pam_syslog(pamh, LOG_INFO, "the login key of %s was rewrapped to the new password%s",
		           l.u.name, old ? "" : " (admin reset: from the key of a live session)");
		return 0;
	case LK_E_NEED_PASSPHRASE:
		pam_syslog(
		    pamh, LOG_NOTICE,
		    "password of %s set without the old one and no session of %s is live; the encrypted "
		    "files keep the previous password until the next login, which asks for it",
		    l.u.name, l.u.name);
		lk_pam_tell(pamh, flags,
		            "latchkey: the encrypted files of %s still use the previous password; "
		            "the next login will ask for it once.",
		            l.u.name);
		return -ENOKEY;
	case LK_E_BAD_KEY:
		pam_syslog(
		    pamh, LOG_NOTICE,
		    "the old password of %s does not open its latchkey protector (it was already out of "
		    "sync); the encrypted files keep the password they had, which the next login asks for",
		    l.u.name);
		lk_pam_tell(pamh, flags,
		            "latchkey: your encrypted files did not use your old password; "
		            "the next login will ask for the password they still use.");
		return -EKEYREJECTED;
	case LK_E_NOT_ENROLLED:
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "user %s is not enrolled", l.u.name);
		return LK_PAM_SKIP;
	default:
		pam_syslog(pamh, LOG_WARNING, "latchkeyd could not rewrap the login key of %s: %s; %s",
		           l.u.name, lk_pam_error_reason(&l.b->rep), KEPT);
		lk_pam_tell(pamh, flags,
		            "latchkey: your encrypted files still use your old password; "
		            "the next login will ask for it once.");
		return lk_pam_status_to_errno(st) ?: -EIO;
	}
}
