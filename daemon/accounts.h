/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whose state is it? A uid's state (protector file, index) records the
 * account name it was made for. When the uid now belongs to an account of
 * another name (userdel, then useradd reusing the uid), or to none, the
 * state is a former account's: the new account must never see or unlock
 * it, and may enrol only after root removes it (UNENROLL).
 */
#ifndef LKD_ACCOUNTS_H
#define LKD_ACCOUNTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "latchkey/protocol.h"

struct daemon;

enum account_match {
	ACCOUNT_NO_STATE, /* nothing stored for the uid */
	ACCOUNT_SAME,     /* the state is the current account's */
	ACCOUNT_FORMER,   /* the state is a former account's (recorded holds its name) */
};

/*
 * Compare the state of uid with the account that has the uid now. State
 * that records no name (from before names were recorded) is given the
 * current account's name, once: trust on first use. A mismatch is logged
 * once per uid and daemon run. recorded (optional) gets the recorded name,
 * "" if none. Errors reading the state count as ACCOUNT_FORMER: refuse
 * rather than hand a key to the wrong account.
 */
enum account_match account_check(struct daemon *d, uid_t uid, char recorded[LK_ACCOUNT_MAX + 1]);

/* The account name of uid now, from the user database. 0, or -ENOENT. */
int account_current_name(uid_t uid, char name[LK_ACCOUNT_MAX + 1]);

/* Record name as uid's account in its index (creating the index). */
int account_record(struct daemon *d, uid_t uid, const char *name);

#endif
