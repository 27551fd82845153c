/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wire adapter: one handler per request type, which parses the request,
 * authorises the peer, calls one domain function and replies (outcome_status
 * maps the function's -errno to the wire status). Authorisation comes from
 * SO_PEERCRED only: uid 0 may act for anyone; a user may query, unlock and
 * lock themselves; the uid inside a message only names the target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "cleanup.h"
#include "client.h"
#include "daemon.h"
#include "encrypt.h"
#include "server.h"
#include "rotate.h"
#include "requests.h"
#include "relocate.h"
#include "memlock.h"
#include "outcome.h"
#include "login_enroll.h"
#include "login.h"
#include "log.h"
#include "protectors.h"
#include "root.h"
#include "replies.h"
#include "root_ops.h"
#include "secret.h"
#include "tpm_admin.h"

#define SECRET_REFUSED_TEXT                                                                                  \
	"latchkeyd cannot lock more memory for keys (its memlock budget is used up); try again later"

void reply_error(struct conn *c, uint32_t status, int err, const char *text)
{
	struct lk_msg *m = c->d->rep;

	/* A secret page refused for want of locked memory is the likeliest
	 * cause of an internal error: say so (handle_request logs it). */
	if (!text && status == LK_E_INTERNAL && lk_secret_refusals() != c->d->refusals_before)
		text = SECRET_REFUSED_TEXT;

	lk_msg_init(m, LK_REP_ERROR, c->d->req->seq);
	lk_msg_set_status(m, status);
	if (err)
		lk_msg_set_error(m, err < 0 ? -err : err);
	if (text)
		lk_msg_set_text(m, text);
	conn_send(c, m);
}

/* The error reply for a domain function's -errno r: its wire status, the
 * text why (or none) and, for an internal failure, the errno as detail. */
static void reply_failure(struct conn *c, int r, const char *why)
{
	uint32_t status = outcome_status(r);

	reply_error(c, status, status == LK_E_INTERNAL ? r : 0, why);
}

void reply_ok(struct conn *c)
{
	struct lk_msg *m = c->d->rep;

	lk_msg_init(m, LK_REP_OK, c->d->req->seq);
	conn_send(c, m);
}

bool require(struct conn *c, const struct lk_msg *req, uint32_t fields)
{
	if ((req->fields & fields) == fields)
		return true;
	reply_error(c, LK_E_PROTOCOL, 0, "required field missing");
	return false;
}

bool peer_is_root(struct conn *c)
{
	if (c->peer.uid == 0)
		return true;
	reply_error(c, LK_E_PERM, 0, "only root may do this");
	return false;
}

bool peer_may_act_for(struct conn *c, uid_t uid)
{
	if (c->peer.uid == 0 || c->peer.uid == uid)
		return true;
	log_peer(c->peer.uid, LOG_WARNING, "uid %u asked to act on uid %u: denied", (unsigned)c->peer.uid,
	         (unsigned)uid);
	reply_error(c, LK_E_PERM, 0, NULL);
	return false;
}

/* The user's in-memory state, created if needed; replies on allocation failure. */
static struct user *user_or_reply(struct conn *c, uid_t uid)
{
	struct user *u = user_get(&c->d->users, uid, true);

	if (!u)
		reply_error(c, LK_E_INTERNAL, ENOMEM, NULL);
	return u;
}

static void handle_kdf_params(struct conn *c, const struct lk_msg *req)
{
	uint32_t flags = lk_msg_has(req, LK_T_FLAGS) ? req->flags : 0;
	uint8_t kind = LK_KDF_F_KIND(flags) ? LK_KDF_F_KIND(flags) : LK_SLOT_LOGIN;
	bool fresh = flags & LK_KDF_F_FRESH, bound = false;
	struct lk_kdf_params kdf;
	struct lk_msg *m = c->d->rep;
	const char *why = NULL;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_may_act_for(c, req->uid))
		return;
	if ((flags & ~(LK_KDF_F_FRESH | 0xffu)) || kind > LK_SLOT_ESCROW ||
	    (fresh && kind == LK_SLOT_ESCROW)) {
		reply_error(c, LK_E_INVALID, EINVAL, "unknown KDF_PARAMS flags");
		return;
	}
	if (fresh && !peer_is_root(c))
		return;
	r = protector_kdf_params(c->d, req->uid, kind, fresh, &kdf, &bound, &why);
	if (r < 0) {
		reply_failure(c, r, why);
		return;
	}
	lk_msg_init(m, LK_REP_KDF_PARAMS, req->seq);
	lk_msg_set_kdf(m, &kdf);
	if (bound)
		lk_msg_set_flags(m, LK_KDF_RF_BOUND);
	conn_send(c, m);
}

static void handle_auth_submit(struct conn *c, const struct lk_msg *req)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct user *u;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_KEY)) || !peer_is_root(c))
		return;
	r = protector_unwrap_login(c->d, &c->peer, c->charge_uid, req->uid, req->key, &p);
	if (r < 0) {
		reply_failure(c, r, NULL);
		return;
	}
	u = user_get(&c->d->users, req->uid, true);
	if (!u || user_set_pending(u, c->d->event, p.ptr, lk_now_ms()) < 0) {
		reply_error(c, LK_E_INTERNAL, ENOMEM, NULL);
		return;
	}
	log_debug("pending credential stored for uid %u", (unsigned)req->uid);
	reply_ok(c);
}

static void send_unlock_result(struct conn *c, uint32_t type, uint32_t seq, unsigned done, unsigned failed,
                               uint32_t flags)
{
	struct lk_msg *m = c->d->rep;

	if (failed)
		flags |= LK_RF_SOME_FAILED;
	lk_msg_init(m, type, seq);
	lk_msg_set_status(m, failed ? LK_E_PARTIAL : LK_OK);
	lk_msg_set_count(m, done);
	lk_msg_set_flags(m, flags);
	if (failed && lk_secret_refusals() != c->d->refusals_before)
		lk_msg_set_text(m, SECRET_REFUSED_TEXT);
	conn_send(c, m);
	lk_msg_wipe(m);
}

static void reply_unlock_result(struct conn *c, uint32_t type, unsigned done, unsigned failed, uint32_t flags)
{
	send_unlock_result(c, type, c->d->req->seq, done, failed, flags);
}

/* A v1 key started for the reply waiting in userdata (a struct v1_wait)
 * has been added (result 0) or not. */
static void daemon_v1_unlocked(int result, void *userdata)
{
	struct v1_wait *w = userdata;
	struct conn *c = w->conn;

	if (result < 0)
		w->failed++;
	else
		w->ok++;
	if (--w->pending > 0)
		return;
	if (c) {
		c->wait = NULL;
		send_unlock_result(c, w->type, w->seq, w->ok, w->failed, w->flags);
		(void)sd_event_source_set_enabled(c->io, SD_EVENT_ON);
	}
	free(w);
}

/* daemon_unlock_user, with v1 keys added asynchronously for this reply. */
static void unlock_user_for(struct conn *c, struct user *u, unsigned *ok, unsigned *failed, unsigned *total,
                            unsigned *gone, struct v1_wait **ret_wait)
{
	struct v1_wait *w = calloc(1, sizeof(*w));
	struct root_async v1_async = {c->d->event, daemon_v1_unlocked, w};

	/* Without memory for the wait, the v1 adds are waited for in place. */
	if (w) {
		w->conn = c;
		w->type = LK_REP_UNLOCK_RESULT;
		w->seq = c->d->req->seq;
	}
	daemon_unlock_user(c->d, u, w ? &v1_async : NULL, ok, failed, total, gone, w ? &w->pending : NULL);
	if (w && w->pending == 0) {
		free(w);
		w = NULL;
	}
	*ret_wait = w;
}

/* Reply now, or once the pending v1 adds have finished (reading nothing
 * more from this connection meanwhile). */
static void reply_unlock_or_defer(struct conn *c, struct v1_wait *w, unsigned ok, unsigned failed,
                                  uint32_t flags)
{
	if (!w) {
		reply_unlock_result(c, LK_REP_UNLOCK_RESULT, ok, failed, flags);
		return;
	}
	w->ok = ok;
	w->failed = failed;
	w->flags = flags;
	c->wait = w;
	(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
}

static void handle_session_open(struct conn *c, const struct lk_msg *req)
{
	struct daemon *d = c->d;
	unsigned ok = 0, failed = 0, total = 0, gone = 0;
	struct v1_wait *w = NULL;
	uint32_t flags = 0;
	const char *why = NULL;
	struct user *u;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_is_root(c))
		return;
	if (c->is_session) {
		reply_error(c, LK_E_PROTOCOL, 0, "connection already holds a session");
		return;
	}
	r = daemon_session_open(d, req->uid, lk_msg_has(req, LK_T_TEXT) ? req->text : "unknown service", &u,
	                        &why);
	if (r < 0) {
		reply_failure(c, r, why);
		return;
	}
	conn_make_session(c, req->uid);
	if (u->p)
		unlock_user_for(c, u, &ok, &failed, &total, &gone, &w);
	else {
		struct lk_index ix;
		if (store_load_index(&d->store, u->uid, &ix) == 0)
			total = ix.n;
		if (total)
			flags |= LK_RF_STILL_LOCKED;
	}
	if (total == 0)
		flags |= LK_RF_NOTHING_TO_DO;
	if (gone)
		flags |= LK_RF_GONE;
	reply_unlock_or_defer(c, w, ok, failed, flags);
}

static void handle_session_close(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	uid_t uid = c->session_uid;
	struct user *u;

	if (!c->is_session) {
		reply_error(c, LK_E_PROTOCOL, 0, "not a session connection");
		return;
	}
	/* Answer after the lock (unless lock_delay defers it), so a logout
	 * returns with the home locked or knowing it is not. */
	conn_end_session(c);
	u = user_get(&c->d->users, uid, false);
	lk_msg_init(m, LK_REP_OK, req->seq);
	if (u && u->lock_incomplete)
		lk_msg_set_flags(m, LK_RF_BUSY);
	conn_send(c, m);
}

static void handle_unlock(struct conn *c, const struct lk_msg *req)
{
	struct lk_secret p _cleanup_secret_ = {};
	unsigned ok = 0, failed = 0, total = 0, gone = 0;
	struct v1_wait *w = NULL;
	struct user *u;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_may_act_for(c, req->uid))
		return;
	if (account_check(c->d, req->uid, NULL) == ACCOUNT_FORMER) {
		reply_error(c, LK_E_OTHER_ACCOUNT, 0, NULL);
		return;
	}
	u = user_or_reply(c, req->uid);
	if (!u)
		return;
	if (lk_msg_has(req, LK_T_KEY)) {
		r = protector_unwrap_login(c->d, &c->peer, c->charge_uid, req->uid, req->key, &p);
		if (r < 0) {
			reply_failure(c, r, NULL);
			return;
		}
		if (user_set_key(u, p.ptr) < 0) {
			reply_error(c, LK_E_INTERNAL, ENOMEM, NULL);
			return;
		}
	} else if (!u->p) {
		reply_error(c, LK_E_NEED_PASSPHRASE, 0, NULL);
		return;
	}
	unlock_user_for(c, u, &ok, &failed, &total, &gone, &w);
	reply_unlock_or_defer(c, w, ok, failed, (total ? 0 : LK_RF_NOTHING_TO_DO) | (gone ? LK_RF_GONE : 0));
}

static void handle_lock(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	unsigned locked = 0, was_locked = 0;
	bool busy = false;
	struct user *u;
	uint32_t flags;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_may_act_for(c, req->uid))
		return;
	/* To the account that has the uid now, a former account's roots do
	 * not exist (root may lock them). */
	if (c->peer.uid != 0 && account_check(c->d, req->uid, NULL) == ACCOUNT_FORMER) {
		lk_msg_init(m, LK_REP_LOCK_RESULT, req->seq);
		lk_msg_set_status(m, LK_OK);
		lk_msg_set_count(m, 0);
		lk_msg_set_flags(m, LK_RF_NOTHING_TO_DO);
		conn_send(c, m);
		return;
	}
	u = user_or_reply(c, req->uid);
	if (!u)
		return;
	r = daemon_lock_user(c->d, u, &locked, &busy, &was_locked);
	flags = (busy ? LK_RF_BUSY : 0) | (r < 0 ? LK_RF_SOME_FAILED : 0);
	if (r >= 0 && !busy && locked == 0 && was_locked > 0)
		flags |= LK_RF_ALREADY_LOCKED;
	else if (r >= 0 && !busy && locked == 0)
		flags |= LK_RF_NOTHING_TO_DO;
	lk_msg_init(m, LK_REP_LOCK_RESULT, req->seq);
	lk_msg_set_status(m, r < 0 ? LK_E_PARTIAL : busy ? LK_E_BUSY : LK_OK);
	lk_msg_set_count(m, locked);
	lk_msg_set_flags(m, flags);
	conn_send(c, m);
}

static int send_status_of(struct conn *c, uid_t uid, const char *path_filter, unsigned *count)
{
	struct daemon *d = c->d;
	struct lk_msg *m = d->rep;
	struct lk_index ix;
	struct user *u = user_get(&d->users, uid, false);
	char account[LK_ACCOUNT_MAX + 1];
	int r;

	/* A former account's directories are not the current one's to see. */
	if (account_check(d, uid, account) == ACCOUNT_FORMER && c->peer.uid != 0)
		return 0;
	r = daemon_load_index_fresh(d, uid, &ix);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < ix.n; i++) {
		uint32_t state;
		if (path_filter && strcmp(path_filter, ix.e[i].path) != 0)
			continue;
		root_status_entry(uid, &ix.e[i], &state);
		lk_msg_init(m, LK_REP_STATUS_ENTRY, d->req->seq);
		lk_msg_set_uid(m, uid);
		lk_msg_set_key_id(m, ix.e[i].key_id);
		lk_msg_set_state(m, state);
		lk_msg_set_path(m, ix.e[i].path);
		lk_msg_set_count(m, u ? u->sessions : 0);
		if (account[0])
			lk_msg_set_account(m, account);
		r = conn_send(c, m);
		if (r < 0)
			return r;
		(*count)++;
	}
	return 0;
}

static void handle_status(struct conn *c, const struct lk_msg *req)
{
	struct daemon *d = c->d;
	const char *filter = lk_msg_has(req, LK_T_PATH) ? req->path : NULL;
	unsigned count = 0;
	int r = 0;

	if (lk_msg_has(req, LK_T_UID)) {
		if (!peer_may_act_for(c, req->uid))
			return;
		r = send_status_of(c, req->uid, filter, &count);
	} else if (c->peer.uid != 0) {
		r = send_status_of(c, c->peer.uid, filter, &count);
	} else {
		_cleanup_free_ uid_t *uids = NULL;
		size_t n = 0;
		r = store_list_indexed_users(&d->store, &uids, &n);
		for (size_t i = 0; r >= 0 && i < n; i++)
			r = send_status_of(c, uids[i], filter, &count);
	}
	if (r < 0) {
		reply_error(c, LK_E_INTERNAL, r, "cannot read the root index");
		return;
	}
	lk_msg_init(d->rep, LK_REP_STATUS_END, req->seq);
	lk_msg_set_count(d->rep, count);
	conn_send(c, d->rep);
}

static void handle_enroll(struct conn *c, const struct lk_msg *req)
{
	const char *why = NULL;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_KDF) | LK_F(LK_T_KEY)) || !peer_is_root(c))
		return;
	r = protector_enroll(c->d, req->uid, &req->kdf, req->key, &why);
	if (r < 0)
		reply_failure(c, r, why);
	else
		reply_ok(c);
}

static void handle_encrypt(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	uint32_t flags = lk_msg_has(req, LK_T_FLAGS) ? req->flags : 0;
	uint8_t key_id[LK_KEY_ID_SIZE];
	const char *why = NULL;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_PATH)) || !peer_is_root(c))
		return;
	if (flags & ~LK_EF_V1) {
		reply_error(c, LK_E_INVALID, EINVAL, "unknown encrypt flags");
		return;
	}
	if (lk_path_is_valid(req->path) < 0) {
		reply_error(c, LK_E_INVALID, EINVAL,
		            "path must be absolute and normalised, without control characters");
		return;
	}
	r = daemon_encrypt_root(c->d, &c->peer, c->charge_uid, req->uid, req->path, flags & LK_EF_V1,
	                        lk_msg_has(req, LK_T_KEY) ? req->key : NULL, key_id, &why);
	if (r < 0) {
		reply_failure(c, r, why);
		return;
	}
	lk_msg_init(m, LK_REP_ENCRYPT_RESULT, req->seq);
	lk_msg_set_key_id(m, key_id);
	lk_msg_set_path(m, req->path);
	conn_send(c, m);
}

static void handle_relocate(struct conn *c, const struct lk_msg *req)
{
	const char *why = NULL;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_KEY_ID) | LK_F(LK_T_PATH)) || !peer_is_root(c))
		return;
	r = daemon_relocate_root(c->d, req->uid, req->key_id, req->path,
	                         lk_msg_has(req, LK_T_FLAGS) ? req->flags : 0, &why);
	if (r < 0)
		reply_failure(c, r, why);
	else
		reply_ok(c);
}

static void handle_login_enroll(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	struct lk_kdf_params kdf;
	const char *why = NULL;
	uint32_t flags;
	int r;

	if (!require(c, req, LK_F(LK_T_UID)) || !peer_is_root(c))
		return;
	r = daemon_login_enroll(c->d, req, &kdf, &flags, &why);
	if (r < 0) {
		reply_failure(c, r, why);
		return;
	}
	if (lk_msg_has(req, LK_T_KEY)) {
		lk_msg_init(m, LK_REP_OK, req->seq);
		if (flags)
			lk_msg_set_flags(m, flags);
	} else {
		lk_msg_init(m, LK_REP_KDF_PARAMS, req->seq);
		lk_msg_set_kdf(m, &kdf);
	}
	conn_send(c, m);
}

static void handle_reload(struct conn *c, const struct lk_msg *req)
{
	char text[LK_TEXT_MAX + 1];

	if (!peer_is_root(c))
		return;
	if (daemon_reload(c->d, text, sizeof(text)) < 0) {
		reply_error(c, LK_E_INVALID, 0, text);
		return;
	}
	reply_ok(c);
}

/* Parameters for a slot about to be written: within bounds, at the floor's
 * passes or above, and of the slot's kind (kind_ok); false after replying. */
static bool new_kdf_or_reply(struct conn *c, const struct lk_kdf_params *kdf, bool kind_ok, const char *text)
{
	int r = lk_kdf_params_check_new(kdf);

	if (r == 0 && kind_ok)
		return true;
	reply_error(c, LK_E_INVALID, EINVAL,
	            r == -ERANGE ? "Argon2id passes below the floor (t >= 3)" : text);
	return false;
}

static void handle_rewrap(struct conn *c, const struct lk_msg *req)
{
	const char *why = NULL;
	uint8_t from, to;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_NEW_KEY) | LK_F(LK_T_KDF) | LK_F(LK_T_FLAGS)) ||
	    !peer_is_root(c))
		return;
	from = LK_RW_FROM_KIND(req->flags);
	to = LK_RW_TO_KIND(req->flags);
	if ((req->flags >> 16) || from > LK_SLOT_ESCROW || to < LK_SLOT_LOGIN || to > LK_SLOT_ESCROW ||
	    (from == 0) == lk_msg_has(req, LK_T_KEY)) {
		reply_error(c, LK_E_INVALID, EINVAL,
		            "bad REWRAP flags (a key is needed exactly when a source slot is named)");
		return;
	}
	if (!new_kdf_or_reply(c, &req->kdf, (to == LK_SLOT_ESCROW) == (req->kdf.alg == LK_KDF_X25519),
	                      "KDF parameters out of bounds or wrong for the slot kind"))
		return;
	r = protector_rewrap(c->d, &c->peer, c->charge_uid, req->uid, from, to, from ? req->key : NULL,
	                     &req->kdf, req->new_key, &why);
	if (r < 0)
		reply_failure(c, r, why);
	else
		reply_ok(c);
}

/* Paths only, no secret: any peer may ask where the daemon reads. */
static void handle_config_dir(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	uint32_t flags = lk_msg_has(req, LK_T_FLAGS) ? req->flags : 0;

	if (flags & ~LK_CD_VENDOR) {
		reply_error(c, LK_E_INVALID, EINVAL, "unknown CONFIG_DIR flags");
		return;
	}
	lk_msg_init(m, LK_REP_OK, req->seq);
	if (lk_msg_set_path(m, flags & LK_CD_VENDOR ? c->d->vendor_config_dir : c->d->config_dir) < 0) {
		reply_error(c, LK_E_INTERNAL, ENAMETOOLONG, "configuration directory path too long");
		return;
	}
	conn_send(c, m);
}

static void handle_rotate(struct conn *c, const struct lk_msg *req)
{
	struct lk_msg *m = c->d->rep;
	const char *why = NULL;
	uint32_t flags = 0;
	unsigned roots = 0;
	uint8_t from;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_NEW_KEY) | LK_F(LK_T_KDF) | LK_F(LK_T_FLAGS)) ||
	    !peer_is_root(c))
		return;
	from = LK_RW_FROM_KIND(req->flags);
	if ((req->flags & ~0xffu) || from > LK_SLOT_ESCROW || (from == 0) == lk_msg_has(req, LK_T_KEY)) {
		reply_error(c, LK_E_INVALID, EINVAL,
		            "bad ROTATE flags (a key is needed exactly when a source slot is named)");
		return;
	}
	if (!new_kdf_or_reply(c, &req->kdf, req->kdf.alg == LK_KDF_ARGON2ID,
	                      "login slot KDF parameters out of bounds"))
		return;
	r = daemon_rotate(c->d, &c->peer, c->charge_uid, req->uid, from, from ? req->key : NULL, &req->kdf,
	                  req->new_key, &roots, &flags, &why);
	if (r < 0) {
		reply_failure(c, r, why);
		return;
	}
	lk_msg_init(m, LK_REP_OK, req->seq);
	lk_msg_set_count(m, roots);
	lk_msg_set_flags(m, flags);
	conn_send(c, m);
}

/* TPM_BIND, TPM_UNBIND, TPM_RESEAL{uid, key = the login's W[, pcr]}: the
 * admin's TPM2 operations (tpm_admin.h), root only. */
static void handle_tpm(struct conn *c, const struct lk_msg *req)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct lk_protector pr;
	const char *why = NULL;
	int r;

	if (!require(c, req, LK_F(LK_T_UID) | LK_F(LK_T_KEY)) || !peer_is_root(c))
		return;
	r = protector_open_from(c->d, &c->peer, c->charge_uid, req->uid, LK_SLOT_LOGIN, req->key, &p, &pr);
	if (r == 0 && req->type == LK_REQ_TPM_BIND)
		r = tpm_bind(c->d, &pr, req->key, p.ptr, &why);
	else if (r == 0 && req->type == LK_REQ_TPM_UNBIND)
		r = tpm_unbind(c->d, &pr, req->key, p.ptr, &why);
	else if (r == 0)
		r = tpm_reseal(c->d, &pr, req->key, p.ptr, lk_msg_has(req, LK_T_PCR) ? &req->pcr : NULL,
		               &why);
	if (r < 0)
		reply_failure(c, r, why);
	else
		reply_ok(c);
}

typedef void (*request_handler)(struct conn *c, const struct lk_msg *req);

static const request_handler handlers[_LK_REQ_MAX] = {
    [LK_REQ_KDF_PARAMS] = handle_kdf_params,
    [LK_REQ_AUTH_SUBMIT] = handle_auth_submit,
    [LK_REQ_SESSION_OPEN] = handle_session_open,
    [LK_REQ_SESSION_CLOSE] = handle_session_close,
    [LK_REQ_UNLOCK] = handle_unlock,
    [LK_REQ_LOCK] = handle_lock,
    [LK_REQ_STATUS] = handle_status,
    [LK_REQ_ENROLL] = handle_enroll,
    [LK_REQ_ENCRYPT] = handle_encrypt,
    [LK_REQ_RELOAD] = handle_reload,
    [LK_REQ_REWRAP] = handle_rewrap,
    [LK_REQ_FORGET] = handle_forget,
    [LK_REQ_UNENROLL] = handle_unenroll,
    [LK_REQ_USERS] = handle_users,
    [LK_REQ_RELOCATE] = handle_relocate,
    [LK_REQ_LOGIN_ENROLL] = handle_login_enroll,
    [LK_REQ_ROTATE] = handle_rotate,
    [LK_REQ_CONFIG_DIR] = handle_config_dir,
    [LK_REQ_TPM_BIND] = handle_tpm,
    [LK_REQ_TPM_UNBIND] = handle_tpm,
    [LK_REQ_TPM_RESEAL] = handle_tpm,
};

/* What a PAM host sends: a root peer sending these may be a setuid host
 * (su, login) that any user can start. Root's administrative requests
 * (status, lock, enrol...) stay uncharged, in root's reserve. */
static bool is_pam_host_request(uint16_t type)
{
	return type == LK_REQ_KDF_PARAMS || type == LK_REQ_AUTH_SUBMIT || type == LK_REQ_SESSION_OPEN ||
	       type == LK_REQ_REWRAP || type == LK_REQ_LOGIN_ENROLL;
}

int handle_request(struct conn *c, struct lk_msg *req)
{
	/* Such a connection costs the share of the user it acts for. */
	if (c->peer.uid == 0 && is_pam_host_request(req->type) && lk_msg_has(req, LK_T_UID) &&
	    conn_charge(c, req->uid) < 0) {
		reply_error(c, LK_E_BUSY, EUSERS, "too many connections for this user");
		return -EUSERS;
	}
	log_peer(c->charge_uid, LOG_DEBUG, "%s from uid %u (pid %d)", lk_msg_type_to_string(req->type),
	         (unsigned)c->peer.uid, (int)c->peer.pid);
	c->d->refusals_before = lk_secret_refusals();
	if (req->type < _LK_REQ_MAX && handlers[req->type])
		handlers[req->type](c, req);
	else
		reply_error(c, LK_E_PROTOCOL, 0, "not a request");
	daemon_note_secret_refusals(c->d, lk_secret_refusals() - c->d->refusals_before);
	return 0;
}
