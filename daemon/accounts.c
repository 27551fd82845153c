/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "cleanup.h"
#include "daemon.h"
#include "log.h"
#include "passwd.h"
#include "secret.h"

#define LOGGED_MAX 256

/* uids whose mismatch was logged in this run: once is enough. */
static uid_t logged[LOGGED_MAX];
static unsigned n_logged;

static bool log_once(uid_t uid)
{
	for (unsigned i = 0; i < n_logged; i++)
		if (logged[i] == uid)
			return false;
	if (n_logged < LOGGED_MAX)
		logged[n_logged++] = uid;
	return true;
}

int account_current_name(uid_t uid, char name[LK_ACCOUNT_MAX + 1])
{
	_cleanup_passwd_ struct lk_passwd pw = {};

	if (lk_passwd_by_uid(uid, &pw) < 0 || lk_account_is_valid(pw.pw.pw_name) < 0)
		return -ENOENT;
	strcpy(name, pw.pw.pw_name);
	return 0;
}

int account_record(struct daemon *d, uid_t uid, const char *name)
{
	_cleanup_free_ struct lk_index *ix = malloc(sizeof(*ix));
	int r;

	if (!ix)
		return -ENOMEM;
	r = store_load_index(&d->store, uid, ix);
	if (r < 0)
		return r;
	if (strcmp(ix->account, name) == 0 && ix->version == 2)
		return 0;
	strcpy(ix->account, name);
	return store_save_index(&d->store, uid, ix);
}

/* Whether uid has any state besides an index without name: a protector
 * file or an indexed root. */
static int has_unnamed_state(struct daemon *d, uid_t uid, bool index_exists)
{
	_cleanup_free_ struct lk_index *ix = NULL;
	struct lk_protector pr;
	int r;

	r = store_load_protector(&d->store, uid, &pr);
	lk_wipe(&pr, sizeof(pr));
	if (r == 0)
		return 1;
	if (r != -ENOENT)
		return r;
	if (!index_exists)
		return 0;
	ix = malloc(sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	r = store_load_index(&d->store, uid, ix);
	return r < 0 ? r : ix->n > 0;
}

enum account_match account_check(struct daemon *d, uid_t uid, char recorded[LK_ACCOUNT_MAX + 1])
{
	char now[LK_ACCOUNT_MAX + 1] = "", account[LK_ACCOUNT_MAX + 1];
	bool has_now, index_exists;
	int r;

	if (recorded)
		recorded[0] = '\0';
	/* Every request asks this: the index's header, not all of it. */
	r = store_load_account(&d->store, uid, account, &index_exists);
	if (r < 0)
		return ACCOUNT_FORMER;
	if (recorded)
		strcpy(recorded, account);
	has_now = account_current_name(uid, now) == 0;
	if (!account[0]) {
		r = has_unnamed_state(d, uid, index_exists);
		if (r < 0)
			return ACCOUNT_FORMER;
		if (r == 0)
			return ACCOUNT_NO_STATE;
		/* State from before names were recorded: it is the account's
		 * that has the uid at the upgrade. */
		if (!has_now)
			return ACCOUNT_SAME;
		if (account_record(d, uid, now) == 0)
			log_info("uid %u: state recorded as account %s's", (unsigned)uid, now);
		if (recorded)
			strcpy(recorded, now);
		return ACCOUNT_SAME;
	}
	if (has_now && strcmp(now, account) == 0)
		return ACCOUNT_SAME;
	if (log_once(uid)) {
		if (has_now)
			log_warning(
			    "uid %u is now account %s, but its latchkey state belongs to the former account "
			    "%s: not used for %s; `latchkeyctl unenroll --uid %u` removes it",
			    (unsigned)uid, now, account, now, (unsigned)uid);
		else
			log_warning(
			    "uid %u has no account any more; its latchkey state belongs to the former "
			    "account %s; `latchkeyctl unenroll --uid %u` removes it",
			    (unsigned)uid, account, (unsigned)uid);
	}
	return ACCOUNT_FORMER;
}
