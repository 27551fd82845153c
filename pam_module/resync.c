/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "cleanup.h"
#include "module.h"
#include "resync.h"
#include "secret.h"

#define PREVIOUS_PROMPT "Previous password (to unlock your encrypted files): "
#define OUT_OF_SYNC     "the login password of %s does not open its latchkey protector (changed outside PAM?)"

/* Ask once. NULL (logged) when there is nobody to ask or no usable answer. */
static char *ask_previous(struct lk_pam_link *l, const char *authtok)
{
	_cleanup_(erase_and_freep) char *prev = NULL;
	size_t n;
	int r;

	r = pam_prompt(l->pamh, PAM_PROMPT_ECHO_OFF, &prev, "%s", PREVIOUS_PROMPT);
	if (r != PAM_SUCCESS || !prev || !*prev) {
		pam_syslog(l->pamh, LOG_NOTICE,
		           OUT_OF_SYNC " and the previous password could not be asked for (%s); %s",
		           l->u.name, r != PAM_SUCCESS ? pam_strerror(l->pamh, r) : "no answer", l->outcome);
		return NULL;
	}
	/* sshd's password authentication answers every prompt with the login
	 * password itself: that is no answer, and not worth an Argon2id run. */
	n = strlen(prev);
	if (n == strlen(authtok) && lk_secret_equal(prev, authtok, n)) {
		pam_syslog(l->pamh, LOG_NOTICE,
		           OUT_OF_SYNC " and the conversation answered the previous-password prompt with the "
		                       "login password (sshd password authentication does); %s",
		           l->u.name, l->outcome);
		return NULL;
	}
	return TAKE_PTR(prev);
}

int lk_pam_resync(struct lk_pam_link *l, int flags, const struct lk_kdf_params *login, const char *authtok)
{
	_cleanup_(erase_and_freep) char *prev = NULL;
	uint64_t t0;
	uint32_t st;
	int r;

	if (l->o->no_prompt || (flags & PAM_SILENT)) {
		pam_syslog(l->pamh, LOG_NOTICE, OUT_OF_SYNC "; not asking for the previous password (%s); %s",
		           l->u.name, l->o->no_prompt ? "no_prompt" : "PAM_SILENT", l->outcome);
		lk_pam_tell(l->pamh, flags,
		            "latchkey: your encrypted files still use a previous password and stay "
		            "locked.");
		return -EKEYREJECTED;
	}

	/* The daemon drops a connection that idles for seconds: not across a prompt. */
	lk_pam_link_disconnect(l);
	t0 = lk_pam_link_stop_clock(l);
	prev = ask_previous(l, authtok);
	lk_pam_link_start_clock(l, t0);
	if (!prev)
		return -ENOKEY;
	r = lk_pam_derive(l, login, prev);
	erase_and_freep(&prev);
	if (r < 0)
		return r;

	r = lk_pam_link_connect(l);
	if (r < 0)
		return r;
	r = lk_pam_submit(l);
	if (r == -EKEYREJECTED) {
		pam_syslog(l->pamh, LOG_NOTICE, OUT_OF_SYNC ", nor does the previous password given; %s",
		           l->u.name, l->outcome);
		lk_pam_tell(
		    l->pamh, flags,
		    "latchkey: that password does not unlock your encrypted files either; they stay locked.");
		return r;
	}
	if (r < 0)
		return r;

	/* The pending credential is in place: the session unlocks whatever follows. */
	l->outcome = "the encrypted files keep the previous password";
	r = lk_pam_rewrap(l, LK_SLOT_LOGIN, authtok, &st);
	if (r == 0 && st != LK_OK) {
		pam_syslog(l->pamh, LOG_WARNING, "latchkeyd could not rewrap the login key of %s: %s; %s",
		           l->u.name, lk_pam_error_reason(&l->b->rep), l->outcome);
		r = lk_pam_status_to_errno(st);
	}
	if (r != 0) {
		lk_pam_tell(l->pamh, flags,
		            "latchkey: your encrypted files are unlocked but still use your previous "
		            "password.");
		return 0;
	}
	pam_syslog(l->pamh, LOG_INFO,
	           "the login key of %s was rewrapped from the previous password to the current one",
	           l->u.name);
	lk_pam_tell(l->pamh, flags, "latchkey: your encrypted files now use your new password.");
	return 0;
}
