/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_latchkey.so entry points: parse the options, call one function of
 * module.c, map its result. Nothing else belongs here.
 */
#include <security/pam_modules.h>

#include "module.h"
#include "options.h"

/* The build hides everything (-fvisibility=hidden); the version script
 * pam_latchkey.sym then exports exactly these six. */
#define _public_ __attribute__((visibility("default")))

_public_ int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct lk_pam_options o;

	lk_pam_options_parse(pamh, argc, argv, &o);
	return lk_pam_result(LK_PAM_AUTHENTICATE, lk_pam_do_authenticate(pamh, flags, &o));
}

_public_ int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return lk_pam_result(LK_PAM_SETCRED, LK_PAM_SKIP);
}

_public_ int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return lk_pam_result(LK_PAM_ACCOUNT, LK_PAM_SKIP);
}

_public_ int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct lk_pam_options o;

	lk_pam_options_parse(pamh, argc, argv, &o);
	return lk_pam_result(LK_PAM_OPEN_SESSION, lk_pam_do_open_session(pamh, flags, &o));
}

_public_ int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct lk_pam_options o;

	lk_pam_options_parse(pamh, argc, argv, &o);
	return lk_pam_result(LK_PAM_CLOSE_SESSION, lk_pam_do_close_session(pamh, flags, &o));
}

_public_ int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct lk_pam_options o;

	lk_pam_options_parse(pamh, argc, argv, &o);
	return lk_pam_result(LK_PAM_CHAUTHTOK, lk_pam_do_chauthtok(pamh, flags, &o));
}
