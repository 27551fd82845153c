/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for what pam_unix leaves behind in auth, for the pam_wrapper
 * tests: pam_unix stores each pam_sm_authenticate result under
 * "unix_setcred_return" (an int *) for its own setcred and acct_mgmt, and
 * pam_latchkey reads it. pam_fake_unix.so fail|ok records PAM_AUTH_ERR or
 * PAM_SUCCESS there and returns PAM_IGNORE, so the stack's result stays
 * pam_matrix's.
 */
#include <stdlib.h>
#include <string.h>

#include <security/pam_modules.h>

static void free_result(pam_handle_t *pamh, void *data, int error_status)
{
	free(data);
}

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                                               const char **argv)
{
	int *r = malloc(sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	*r = argc > 0 && strcmp(argv[0], "fail") == 0 ? PAM_AUTH_ERR : PAM_SUCCESS;
	if (pam_set_data(pamh, "unix_setcred_return", r, free_result) != PAM_SUCCESS) {
		free(r);
		return PAM_BUF_ERR;
	}
	return PAM_IGNORE;
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
                                                          const char **argv)
{
	return PAM_IGNORE;
}
