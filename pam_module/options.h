/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Module arguments of pam_latchkey.so, parsed into a struct per call: the
 * module keeps no mutable globals (a long-lived host may run many handles). */
#ifndef LK_PAM_OPTIONS_H
#define LK_PAM_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include <security/pam_modules.h>

#define LK_PAM_DEFAULT_MIN_UID    1000u
#define LK_PAM_DEFAULT_TIMEOUT_MS 1500u
#define LK_PAM_MAX_TIMEOUT_MS     5000u

struct lk_pam_options {
	bool debug;
	/* Never ask for the previous password when latchkey's slot is out of sync. */
	bool no_prompt;
	/* Points into argv (valid for the pam_sm_* call) or at LK_SOCKET_PATH.
	 * Only a module argument may change it, never the environment. */
	const char *socket_path;
	uid_t min_uid;
	unsigned timeout_ms; /* total budget of one pam_sm_* call */
};

/*
 * Parse argv. Unknown options and bad values are logged (LOG_ERR) and
 * ignored, leaving the default in place: a typo must not lock users out,
 * and must not go unnoticed either. Always succeeds; pamh may be NULL.
 */
void lk_pam_options_parse(pam_handle_t *pamh, int argc, const char **argv, struct lk_pam_options *ret);

#endif
