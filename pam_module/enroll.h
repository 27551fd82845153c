/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Enrolment at the first password login (latchkey.conf enroll_at_login). */
#ifndef LK_PAM_ENROLL_H
#define LK_PAM_ENROLL_H

#include <stdbool.h>

#include <security/pam_modules.h>

#include "kdf.h"
#include "link.h"

/* True only if pam_unix ran earlier in this stack and accepted the
 * password (its recorded unix_setcred_return is PAM_SUCCESS). */
bool lk_pam_unix_accepted(pam_handle_t *pamh);

/*
 * The daemon said the user is not enrolled: ask it (LOGIN_ENROLL) whether
 * enroll_at_login covers them; if so derive W from authtok with the new
 * slot's parameters and enrol. 0 with W in l->b->w and *ret_login the
 * slot's parameters (authenticate then submits W as for any login);
 * LK_PAM_SKIP when the user is not covered; -errno after logging.
 */
int lk_pam_enroll_at_login(struct lk_pam_link *l, const char *authtok, struct lk_kdf_params *ret_login);

#endif
