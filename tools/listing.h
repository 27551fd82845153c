/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What latchkeyd knows about users and their directories, fetched whole
 * (USERS and STATUS requests) for the commands that work on many. */
#ifndef LK_CTL_LISTING_H
#define LK_CTL_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl.h"
#include "latchkey/format.h"
#include "wire.h"

struct ctl_slot {
	uint8_t kind; /* enum lk_slot_kind */
	uint32_t id;
	struct lk_kdf_params kdf;
};

struct ctl_user {
	uid_t uid;
	char account[LK_ACCOUNT_MAX + 1]; /* recorded with the state; "" if none */
	unsigned sessions;
	uint32_t flags; /* LK_UF_* */
	unsigned n_slots;
	struct ctl_slot slots[LK_MAX_SLOTS];
};

struct ctl_root {
	uid_t uid;
	uint8_t key_id[LK_KEY_ID_SIZE];
	uint32_t state; /* enum lk_key_state */
	char path[LK_PATH_MAX + 1];
	char account[LK_ACCOUNT_MAX + 1];
	bool has_sessions;
	unsigned sessions;
};

/* USERS{uid} (LK_UID_NONE: all that root may see). *ret is malloc()ed.
 * 0, or an exit code after printing. */
int ctl_list_users(const struct ctl *ctl, const char *op, uint32_t uid, struct ctl_user **ret, size_t *ret_n);

/* STATUS{uid} (LK_UID_NONE: all). *ret is malloc()ed. 0, or an exit code
 * after printing. */
int ctl_list_roots(const struct ctl *ctl, const char *op, uint32_t uid, struct ctl_root **ret, size_t *ret_n);

#endif
