/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-memory state per user: live sessions, the protector key P while the
 * user is unlocked, a short-lived pending credential from `auth`, and the
 * failed-unlock throttle. Rebuilt from scratch after a restart. */
#ifndef LKD_USERS_H
#define LKD_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "latchkey/format.h"

#define PENDING_TTL_MS 30000 /* auth -> open_session window */

struct user {
	uid_t uid;
	unsigned sessions; /* live session connections */
	uint8_t *p;        /* secret page: P while unlocked, else NULL */
	uint8_t *pending;  /* secret page: P from auth, claimed by open_session */
	uint64_t pending_expiry_ms;
	sd_event_source *pending_timer; /* wipes pending at its expiry */
	unsigned failures;              /* consecutive failed unwraps by non-root peers */
	uint64_t throttle_until_ms;
	bool lock_incomplete; /* files were busy at the last lock: retrying */
	bool logind_watch;    /* keys kept after a restart while logind reports sessions */
	struct user *next;
};

struct user *user_get(struct user **list, uid_t uid, bool create);
/* Free users with nothing left to remember. */
void users_gc(struct user **list);
void users_free(struct user **list);

/* Copy P in (secret memory). 0 or -ENOMEM. */
int user_set_key(struct user *u, const uint8_t p[LK_PROTECTOR_KEY_SIZE]);
void user_drop_key(struct user *u);
/* Keep P as the pending credential until PENDING_TTL_MS from now, when a
 * timer on e wipes it (an auth that no session claims: screen lockers,
 * sudo-like hosts). 0 or -errno (nothing kept). */
int user_set_pending(struct user *u, sd_event *e, const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint64_t now_ms);
void user_drop_pending(struct user *u);
/* Move a valid pending credential into P. true if one was claimed. */
bool user_claim_pending(struct user *u, uint64_t now_ms);

#endif
