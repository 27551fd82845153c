/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests about a user's state as a whole: forgetting one root, removing
 * all of a user's state, and listing users with their slots. */
#include <errno.h>
#include <string.h>

#include "accounts.h"
#include "cleanup.h"
#include "crypto.h"
#include "daemon.h"
#include "server.h"
#include "login.h"
#include "log.h"
#include "replies.h"
#include "root_ops.h"
#include "secret.h"

static void reply_lock_result(struct conn *c, uint32_t status, unsigned locked, uint32_t flags)
{
	struct lk_msg *m = c->d->rep;

	lk_msg_init(m, LK_REP_LOCK_RESULT, c->d->req->seq);
	lk_msg_set_status(m, status);
	lk_msg_set_count(m, locked);
	lk_msg_set_flags(m, flags);
	conn_send(c, m);
}

void handle_forget(struct conn *c, const struct lk_msg *req)
{
	struct daemon *d = c->d;
	_cleanup_free_ struct lk_index *ix = malloc(sizeof(*ix));
	char hex[2 * LK_KEY_ID_SIZE + 1], path[LK_PATH_MAX + 1];
	bool busy = false, already = false;
	int i, r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_KEY_ID)) || !peer_is_root(c))
		return;
	if (!ix) {
		reply_error(c, LK_E_INTERNAL, ENOMEM, NULL);
		return;
	}
	r = store_load_index(&d->store, req->uid, ix);
	if (r < 0) {
		reply_error(c, LK_E_INTERNAL, r, "cannot read the root index");
		return;
	}
	i = lk_index_find_key(ix, req->key_id);
	if (i < 0) {
		reply_error(c, LK_E_NOT_FOUND, 0, "no such directory in the user's index");
		return;
	}
	/* Locked first: once forgotten, nothing would ever lock it. */
	r = root_lock_entry(req->uid, &ix->e[i], &busy, &already);
	if (r < 0 || busy) {
		reply_error(c, busy ? LK_E_BUSY : LK_E_INTERNAL, r,
		            busy ? "files in the directory are still in use; close them and forget it again"
		                 : "cannot lock the directory, so it is kept");
		return;
	}
	strcpy(path, ix->e[i].path);
	lk_hex(ix->e[i].key_id, LK_KEY_ID_SIZE, hex);
	lk_index_remove(ix, path);
	r = store_save_index(&d->store, req->uid, ix);
	if (r < 0) {
		reply_error(c, LK_E_INTERNAL, r, "cannot write the root index");
		return;
	}
	log_info("uid %u: forgot %s (key %s)", (unsigned)req->uid, path, hex);
	reply_lock_result(c, LK_OK, already ? 0 : 1, already ? LK_RF_ALREADY_LOCKED : 0);
}

void handle_unenroll(struct conn *c, const struct lk_msg *req)
{
	struct daemon *d = c->d;
	unsigned locked = 0, was_locked = 0;
	bool busy = false;
	struct user *u;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_is_root(c))
		return;
	if (req->uid == 0) {
		reply_error(c, LK_E_INVALID, 0, "root is never enrolled");
		return;
	}
	u = user_get(&d->users, req->uid, true);
	if (!u) {
		reply_error(c, LK_E_INTERNAL, ENOMEM, NULL);
		return;
	}
	if (account_check(d, req->uid, NULL) == ACCOUNT_NO_STATE) {
		reply_error(c, LK_E_NOT_ENROLLED, 0, NULL);
		return;
	}
	if (u->sessions > 0) {
		reply_error(c, LK_E_BUSY, 0, "the user is logged in; unenroll after the last session ends");
		return;
	}
	daemon_logout_cancel(d, req->uid);
	r = daemon_lock_user(d, u, &locked, &busy, &was_locked);
	if (r < 0 || busy) {
		reply_error(c, busy ? LK_E_BUSY : LK_E_INTERNAL, r,
		            busy ? "files are still in use, so the keys stay; nothing was removed"
		                 : "cannot lock every directory; nothing was removed");
		return;
	}
	r = store_remove_user(&d->store, req->uid);
	if (r < 0) {
		reply_error(c, LK_E_INTERNAL, r, "locked, but the state could not be removed completely");
		return;
	}
	u->failures = 0;
	u->throttle_until_ms = 0;
	log_info("uid %u unenrolled: %u director%s locked, protector (every slot) and index removed",
	         (unsigned)req->uid, locked, locked == 1 ? "y" : "ies");
	reply_lock_result(c, LK_OK, locked, locked == 0 && was_locked ? LK_RF_ALREADY_LOCKED : 0);
}

/* USER_ENTRY, then a SLOT_ENTRY per slot. *sent counts the messages. */
static int send_user(struct conn *c, uid_t uid, unsigned *sent)
{
	struct daemon *d = c->d;
	struct lk_msg *m = d->rep;
	struct lk_protector pr;
	struct user *u = user_get(&d->users, uid, false);
	char account[LK_ACCOUNT_MAX + 1];
	enum account_match match = account_check(d, uid, account);
	bool enrolled;
	uint32_t flags = 0;
	int r;

	if (match == ACCOUNT_NO_STATE || (match == ACCOUNT_FORMER && c->peer.uid != 0))
		return 0;
	r = store_load_protector(&d->store, uid, &pr);
	enrolled = r == 0;
	if (enrolled)
		flags |= LK_UF_ENROLLED;
	if (u && u->p)
		flags |= LK_UF_KEY_HELD;
	if (match == ACCOUNT_FORMER)
		flags |= LK_UF_OTHER_ACCOUNT;
	lk_msg_init(m, LK_REP_USER_ENTRY, d->req->seq);
	lk_msg_set_uid(m, uid);
	lk_msg_set_count(m, u ? u->sessions : 0);
	lk_msg_set_flags(m, flags);
	if (account[0])
		lk_msg_set_account(m, account);
	r = conn_send(c, m);
	if (r < 0)
		goto out;
	(*sent)++;
	for (unsigned i = 0; enrolled && i < pr.n_slots; i++) {
		lk_msg_init(m, LK_REP_SLOT_ENTRY, d->req->seq);
		lk_msg_set_uid(m, uid);
		lk_msg_set_flags(m, pr.slots[i].kind);
		lk_msg_set_count(m, pr.slots[i].slot_id);
		lk_msg_set_kdf(m, &pr.slots[i].kdf);
		r = conn_send(c, m);
		if (r < 0)
			goto out;
		(*sent)++;
	}
	r = 0;
out:
	lk_wipe(&pr, sizeof(pr));
	return r;
}

void handle_users(struct conn *c, const struct lk_msg *req)
{
	struct daemon *d = c->d;
	unsigned sent = 0;
	int r = 0;

	if (lk_msg_has(req, LK_T_UID)) {
		if (!peer_may_act_for(c, req->uid))
			return;
		r = send_user(c, req->uid, &sent);
	} else if (c->peer.uid != 0) {
		r = send_user(c, c->peer.uid, &sent);
	} else {
		_cleanup_free_ uid_t *uids = NULL;
		size_t n = 0;
		r = store_list_users(&d->store, &uids, &n);
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = send_user(c, uids[i], &sent);
	}
	if (r < 0) {
		reply_error(c, LK_E_INTERNAL, r, "cannot read the users' state");
		return;
	}
	lk_msg_init(d->rep, LK_REP_STATUS_END, req->seq);
	lk_msg_set_count(d->rep, sent);
	conn_send(c, d->rep);
}
