/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a login and a logout do to a user's keys, in call order:
 *
 *   daemon_session_open: the session counted, the key a successful
 *     AUTH_SUBMIT left pending claimed, a delayed lock cancelled.
 *   daemon_unlock_user: load the user's index (refreshed) and user
 *     database entry once; unlock every indexed root (root_ops.c) except
 *     the directories of current cache policies, then provision every
 *     cache policy (provision.c), which unlocks or makes those.
 *   daemon_session_ended -> daemon_logout: after lock_delay (a timer that
 *     a new session cancels) the user's roots are locked, except those
 *     whose effective lock_on_logout is "no" (per user, per cache policy,
 *     globally: lk_config_lock_on_logout). A key whose removal already
 *     began (files were busy) is always finished, whatever the setting;
 *     such locks are retried (on_retry) until the files are closed.
 *   daemon_reload: a new configuration, and its cache policies provisioned
 *     at once for users who are logged in.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "client.h"
#include "daemon.h"
#include "daemon_config.h"
#include "log.h"
#include "log_event.h"
#include "login.h"
#include "passwd.h"
#include "provision.h"
#include "root.h"
#include "root_id.h"
#include "root_ops.h"

/* The user database entry a login needs: the name (for %u and [user]
 * sections) and the primary group. name is "" if there is no entry. */
struct account {
	char name[LK_USER_NAME_MAX + 2];
	gid_t gid;
};

static void account_lookup(uid_t uid, struct account *ret)
{
	_cleanup_passwd_ struct lk_passwd pw = {};

	*ret = (struct account){};
	if (lk_passwd_by_uid(uid, &pw) == 0 && strlen(pw.pw.pw_name) < sizeof(ret->name)) {
		strcpy(ret->name, pw.pw.pw_name);
		ret->gid = pw.pw.pw_gid;
	}
}

static const char *account_name(const struct account *a)
{
	return a->name[0] ? a->name : NULL;
}

int daemon_load_index_fresh(struct daemon *d, uid_t uid, struct lk_index *ix)
{
	bool changed = false;
	int r;

	r = store_load_index(&d->store, uid, ix);
	if (r < 0)
		return r;
	root_id_refresh_index(uid, ix, &changed);
	/* The refresh is a hint: a failed save is logged by the store, and
	 * the next refresh finds the same again. */
	if (changed)
		(void)store_save_index(&d->store, uid, ix);
	return 0;
}

int daemon_unlock_user(struct daemon *d, struct user *u, const struct root_async *v1_async,
                       unsigned *ret_unlocked, unsigned *ret_failed, unsigned *ret_total, unsigned *ret_gone,
                       unsigned *ret_pending)
{
	struct account a;
	struct lk_index ix;
	unsigned ok = 0, failed = 0, total = 0, done = 0, refused = 0, gone = 0, pending = 0;
	int r;

	if (!u->p)
		return -ENOKEY;
	/* Fresh hints first: a cache directory moved away is no longer its
	 * cache policy's, and must not be mistaken for it below. */
	r = daemon_load_index_fresh(d, u->uid, &ix);
	if (r < 0)
		return r;
	account_lookup(u->uid, &a);
	for (unsigned i = 0; i < ix.n; i++) {
		/* A current cache policy's directory is unlocked by the
		 * provisioning below, after its full "exactly ours" check:
		 * once, not twice. */
		if (!ix.e[i].gone && cache_policy_for_path(&d->config, a.name, u->uid, ix.e[i].path))
			continue;
		/* A deleted root was reported once by the refresh; it makes
		 * nobody else's unlock fail. A v1 key is added by a child
		 * running as the user, who may stop it: the reply waits for
		 * it, the daemon does not. */
		r = root_unlock_entry(u->uid, u->p, &ix.e[i], v1_async);
		if (r == -ESTALE) {
			gone++;
			continue;
		}
		total++;
		if (r > 0)
			pending++;
		else if (r < 0)
			failed++;
		else
			ok++;
	}
	provision_user(&d->config, &d->store, &ix, u->uid, account_name(&a), a.gid, u->p, &done, &refused);
	ok += done;
	failed += refused;
	total += done + refused;
	if (ok)
		u->lock_incomplete = false;
	*ret_unlocked = ok;
	*ret_failed = failed;
	*ret_total = total;
	if (ret_gone)
		*ret_gone = gone;
	if (ret_pending)
		*ret_pending = pending;
	return 0;
}

/* Whether the lock at logout removes the key of index entry e. */
static bool locks_at_logout(const struct lk_config *c, uid_t uid, const struct account *a,
                            const struct lk_index_entry *e)
{
	const struct lk_cache_policy *pol = cache_policy_for_path(c, a->name, uid, e->path);
	uint32_t state;

	if (lk_config_lock_on_logout(c, a->name, pol))
		return true;
	/* A removal already begun is finished: "kept" applies to unlocked
	 * keys, never to a half-locked one. */
	root_status_entry(uid, e, &state);
	if (state == LK_KEY_INCOMPLETELY_REMOVED)
		return true;
	log_info("keeping %s of uid %u unlocked after logout (lock_on_logout=no%s%s)", e->path, (unsigned)uid,
	         pol ? ", policy " : "", pol ? pol->name : "");
	return false;
}

/* Lock every root of u, or at logout only those lock_on_logout says to. */
static int lock_user(struct daemon *d, struct user *u, bool at_logout, unsigned *ret_locked, bool *ret_busy,
                     unsigned *ret_was_locked)
{
	struct account a;
	struct lk_index ix;
	unsigned locked = 0, was_locked = 0;
	bool any_busy = false;
	int r, ret = 0;

	/* P goes first: whatever happens to the kernel keys, a locked user's
	 * key material is no longer in this process. */
	user_drop_key(u);
	user_drop_pending(u);

	r = store_load_index(&d->store, u->uid, &ix);
	if (r < 0)
		return r;
	if (at_logout)
		account_lookup(u->uid, &a);
	for (unsigned i = 0; i < ix.n; i++) {
		bool busy = false, already = false;
		if (at_logout && !locks_at_logout(&d->config, u->uid, &a, &ix.e[i]))
			continue;
		r = root_lock_entry(u->uid, &ix.e[i], &busy, &already);
		if (r < 0)
			ret = r;
		else if (busy)
			any_busy = true;
		else if (already)
			was_locked++;
		else
			locked++;
	}
	u->lock_incomplete = any_busy;
	if (any_busy)
		daemon_schedule_retry(d);
	if (ret_locked)
		*ret_locked = locked;
	if (ret_busy)
		*ret_busy = any_busy;
	if (ret_was_locked)
		*ret_was_locked = was_locked;
	return ret;
}

int daemon_lock_user(struct daemon *d, struct user *u, unsigned *ret_locked, bool *ret_busy,
                     unsigned *ret_was_locked)
{
	return lock_user(d, u, false, ret_locked, ret_busy, ret_was_locked);
}

int daemon_lock_user_at_logout(struct daemon *d, struct user *u, unsigned *ret_locked, bool *ret_busy)
{
	return lock_user(d, u, true, ret_locked, ret_busy, NULL);
}

struct pending_lock {
	struct daemon *d;
	uid_t uid;
	sd_event_source *timer;
	struct pending_lock *next;
};

static struct pending_lock **find(struct daemon *d, uid_t uid)
{
	struct pending_lock **pp = &d->pending_locks;

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

static void pending_free(struct pending_lock **pp)
{
	struct pending_lock *pl = *pp;

	*pp = pl->next;
	sd_event_source_disable_unref(pl->timer);
	free(pl);
}

static int on_lock_delay(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pending_lock *pl = userdata;
	struct daemon *d = pl->d;
	uid_t uid = pl->uid;
	struct user *u;

	pending_free(find(d, uid));
	u = user_get(&d->users, uid, true);
	if (!u)
		return log_error_errno(-ENOMEM, "cannot lock uid %u after the lock delay", (unsigned)uid);
	if (u->sessions == 0) {
		log_info("lock delay of uid %u over: locking", (unsigned)uid);
		daemon_lock_user_at_logout(d, u, NULL, NULL);
	}
	return 0;
}

void daemon_logout(struct daemon *d, struct user *u)
{
	struct pending_lock *pl, **pp;
	uint64_t delay_us = (uint64_t)d->config.lock_delay_ms * 1000;
	int r;

	if (delay_us == 0) {
		daemon_lock_user_at_logout(d, u, NULL, NULL);
		return;
	}
	pp = find(d, u->uid);
	if (*pp) {
		sd_event_source_set_time_relative((*pp)->timer, delay_us);
		sd_event_source_set_enabled((*pp)->timer, SD_EVENT_ONESHOT);
		return;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl) {
		log_error_errno(-ENOMEM, "cannot delay the lock of uid %u: locking now", (unsigned)u->uid);
		daemon_lock_user_at_logout(d, u, NULL, NULL);
		return;
	}
	pl->d = d;
	pl->uid = u->uid;
	r = sd_event_add_time_relative(d->event, &pl->timer, CLOCK_MONOTONIC, delay_us, 0, on_lock_delay, pl);
	if (r < 0) {
		free(pl);
		log_error_errno(r, "cannot delay the lock of uid %u: locking now", (unsigned)u->uid);
		daemon_lock_user_at_logout(d, u, NULL, NULL);
		return;
	}
	pl->next = d->pending_locks;
	d->pending_locks = pl;
	log_info("uid %u will be locked in %u ms unless a session opens", (unsigned)u->uid,
	         d->config.lock_delay_ms);
}

void daemon_logout_cancel(struct daemon *d, uid_t uid)
{
	struct pending_lock **pp = find(d, uid);

	if (!*pp)
		return;
	pending_free(pp);
	log_info("new session of uid %u: delayed lock cancelled", (unsigned)uid);
}

void daemon_logout_free(struct daemon *d)
{
	while (d->pending_locks)
		pending_free(&d->pending_locks);
}

int daemon_session_open(struct daemon *d, uid_t uid, const char *service, struct user **ret_u,
                        const char **ret_why)
{
	struct lk_protector pr;
	struct user *u;

	*ret_why = NULL;
	if (account_check(d, uid, NULL) == ACCOUNT_FORMER) {
		*ret_why = "this uid's latchkey state belongs to a former account";
		return -ENOKEY;
	}
	/* Most users have nothing to unlock: they hold no connection (a
	 * setuid host's sessions would otherwise fill the daemon for free).
	 * Only a user who certainly has no protector file is turned away. */
	if (store_load_protector(&d->store, uid, &pr) == -ENOENT)
		return -ENOKEY;
	u = user_get(&d->users, uid, true);
	if (!u)
		return -ENOMEM;
	u->sessions++;
	user_claim_pending(u, lk_now_ms());
	log_peer(uid, LOG_INFO, "session %u of uid %u opened (%s)", u->sessions, (unsigned)uid, service);
	daemon_logout_cancel(d, uid);
	*ret_u = u;
	return 0;
}

void daemon_session_ended(struct daemon *d, uid_t uid)
{
	struct user *u = user_get(&d->users, uid, false);

	if (!u || u->sessions == 0)
		return;
	u->sessions--;
	log_peer(uid, LOG_INFO, "session of uid %u ended, %u left", (unsigned)uid, u->sessions);
	if (u->sessions == 0)
		daemon_logout(d, u);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	bool again = false;

	/* Back off first: a lock that is still busy re-arms this (oneshot,
	 * already disabled) timer through daemon_schedule_retry with the
	 * longer delay. */
	d->retry_delay_ms = d->retry_delay_ms < 16000 ? d->retry_delay_ms * 2 : 30000;
	for (struct user *u = d->users; u; u = u->next) {
		if (!u->lock_incomplete || u->sessions > 0)
			continue;
		bool busy = false;
		daemon_lock_user_at_logout(d, u, NULL, &busy);
		if (!busy)
			log_event(LOG_INFO, LK_MSG_LOCK_RETRIED, u->uid, NULL, NULL,
			          "lock of uid %u completed by a retry: the files in use were closed",
			          (unsigned)u->uid);
		again |= busy;
	}
	if (!again)
		d->retry_delay_ms = 0;
	return 0;
}

void daemon_schedule_retry(struct daemon *d)
{
	int r;

	if (d->retry_delay_ms == 0)
		d->retry_delay_ms = 500;
	if (!d->retry_timer) {
		r = sd_event_add_time_relative(d->event, &d->retry_timer, CLOCK_MONOTONIC,
		                               (uint64_t)d->retry_delay_ms * 1000, 0, on_retry, d);
		if (r < 0)
			log_error_errno(r, "cannot schedule the lock retry");
		return;
	}
	sd_event_source_set_time_relative(d->retry_timer, (uint64_t)d->retry_delay_ms * 1000);
	sd_event_source_set_enabled(d->retry_timer, SD_EVENT_ONESHOT);
}

int daemon_reload(struct daemon *d, char *err_text, size_t size)
{
	int r;

	r = daemon_config_reload(d, err_text, size);
	if (r < 0)
		return r;
	/* A newly assigned cache policy applies at once for users who are
	 * logged in: the daemon holds their protector key. */
	for (struct user *u = d->users; u; u = u->next) {
		struct account a;
		struct lk_index ix;

		if (u->sessions == 0 || !u->p)
			continue;
		/* Without the index nothing provisioned could be locked at logout. */
		r = store_load_index(&d->store, u->uid, &ix);
		if (r < 0) {
			log_error_errno(
			    r, "cannot provision cache directories for uid %u: the root index is unreadable",
			    (unsigned)u->uid);
			continue;
		}
		account_lookup(u->uid, &a);
		provision_user(&d->config, &d->store, &ix, u->uid, account_name(&a), a.gid, u->p, NULL, NULL);
	}
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	char text[LK_TEXT_MAX + 1];

	log_info("received SIGHUP, reloading the configuration");
	daemon_reload(userdata, text, sizeof(text));
	return 0;
}

int daemon_reload_setup(struct daemon *d)
{
	sigset_t ss;
	int r;

	daemon_config_setup(d);
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch SIGHUP");
	return 0;
}
