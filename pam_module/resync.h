/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A login whose password pam_unix accepted but latchkey's login slot does not. */
#ifndef LK_PAM_RESYNC_H
#define LK_PAM_RESYNC_H

#include "kdf.h"
#include "link.h"

/*
 * Called by authenticate after the daemon answered BAD_KEY to the key of
 * authtok, the password pam_unix just accepted: the slot still uses an older
 * password (an admin reset without a live session, or a change outside PAM).
 * Unless no_prompt or PAM_SILENT, ask once for the previous password, derive
 * it with the login slot's parameters, submit it (the pending credential
 * open_session claims) and rewrap the slot to authtok. Logs and tells the
 * user the outcome. 0 if the previous password was accepted, else -errno.
 */
int lk_pam_resync(struct lk_pam_link *l, int flags, const struct lk_kdf_params *login, const char *authtok);

#endif
