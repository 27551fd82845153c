/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The work behind pam_latchkey's entry points. Each lk_pam_do_* returns
 * 0 when it did its job, LK_PAM_SKIP when there was nothing to do for this
 * user, or a negative errno; it logs its own outcome. lk_pam_result() is
 * the one place that turns that into a PAM code.
 */
#ifndef LK_PAM_MODULE_H
#define LK_PAM_MODULE_H

#include <security/pam_modules.h>

#include "options.h"

#define LK_PAM_SKIP 1

enum lk_pam_facility {
	LK_PAM_AUTHENTICATE,
	LK_PAM_SETCRED,
	LK_PAM_ACCOUNT,
	LK_PAM_OPEN_SESSION,
	LK_PAM_CLOSE_SESSION,
	LK_PAM_CHAUTHTOK,
};

int lk_pam_do_authenticate(pam_handle_t *pamh, int flags, const struct lk_pam_options *o);
int lk_pam_do_open_session(pam_handle_t *pamh, int flags, const struct lk_pam_options *o);
int lk_pam_do_close_session(pam_handle_t *pamh, int flags, const struct lk_pam_options *o);
int lk_pam_do_chauthtok(pam_handle_t *pamh, int flags, const struct lk_pam_options *o);

int lk_pam_result(enum lk_pam_facility facility, int r);

/* The pam_set_data() key of a user's session connection; -ENAMETOOLONG if it does not fit. */
int lk_pam_session_key(const char *user, char *buf, size_t size);

#endif
