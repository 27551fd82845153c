/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unlocking and locking all policies of a user, session ends, and the
 * retry of locks that found files still in use. */
#include <errno.h>

#include "client.h"
#include "daemon.h"
#include "log.h"
#include "log_event.h"
#include "root.h"
#include "root_id.h"
#include "root_ops.h"

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

int daemon_unlock_user(struct daemon *d, struct user *u, unsigned *ret_unlocked, unsigned *ret_failed,
		       unsigned *ret_total, unsigned *ret_gone)
{
	struct root_async v1_async = {d->event, daemon_v1_unlocked, d->v1_wait};
	struct logout_filter f;
	struct lk_index ix;
	unsigned ok = 0, failed = 0, total = 0, done = 0, refused = 0, gone = 0;
	int r;

	if (!u->p)
		return -ENOKEY;
	/* Fresh hints first: a cache directory moved away is no longer its
	 * policy's, and must not be mistaken for it below. */
	r = daemon_load_index_fresh(d, u->uid, &ix);
	if (r < 0)
		return r;
	logout_filter_init(d, u->uid, &f);
	for (unsigned i = 0; i < ix.n; i++) {
		/* A current cache policy's directory is unlocked by the
		 * provisioning below, after its full "exactly ours" check:
		 * once, not twice. */
		if (!ix.e[i].gone && logout_filter_policy(&f, ix.e[i].path))
			continue;
		/* A deleted root was reported once by the refresh; it makes
		 * nobody else's unlock fail. A v1 key is added by a child
		 * running as the user, who may stop it: the reply waits for
		 * it, the daemon does not. */
		r = root_unlock_entry(u->uid, u->p, &ix.e[i], d->v1_wait ? &v1_async : NULL);
		if (r == -ESTALE) {
			gone++;
			continue;
		}
		total++;
		if (r > 0)
			d->v1_wait->pending++;
		else if (r < 0)
			failed++;
		else
			ok++;
	}
	daemon_provision_user(d, u, &done, &refused);
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
	return 0;
}

/* Lock every root of u, or at logout only those lock_on_logout says to. */
static int lock_user(struct daemon *d, struct user *u, bool at_logout, unsigned *ret_locked, bool *ret_busy,
		     unsigned *ret_was_locked)
{
	struct logout_filter f;
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
		logout_filter_init(d, u->uid, &f);
	for (unsigned i = 0; i < ix.n; i++) {
		bool busy = false, already = false;
		if (at_logout && !logout_filter_locks(&f, &ix.e[i]))
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

void daemon_session_ended(struct daemon *d, uid_t uid)
{
	struct user *u = user_get(&d->users, uid, false);

	if (!u || u->sessions == 0)
		return;
	u->sessions--;
	log_peer(uid, LOG_INFO, "session of uid %u ended, %u left", (unsigned)uid, u->sessions);
	if (u->sessions == 0)
		daemon_logout(d, u);
	users_gc(&d->users);
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
	users_gc(&d->users);
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
