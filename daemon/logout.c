/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What happens when a user's last session ends: after lock_delay (a timer
 * that a new session of the user cancels) the user's roots are locked,
 * except those whose effective lock_on_logout is "no" (per user, per cache
 * policy, globally: lk_config_lock_on_logout). A key whose removal already
 * began (files were busy) is always finished, whatever the setting.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "fscrypt_ioctl.h"
#include "log.h"
#include "root.h"
#include "provision.h"
#include "root_ops.h"

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
	users_gc(&d->users);
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

int logout_filter_init(struct daemon *d, uid_t uid, struct logout_filter *ret)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];

	*ret = (struct logout_filter){.config = &d->config, .uid = uid};
	/* A user missing from the user database matches no [user] section. */
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp &&
	    strlen(pw.pw_name) < sizeof(ret->user))
		strcpy(ret->user, pw.pw_name);
	return 0;
}

const struct lk_cache_policy *logout_filter_policy(const struct logout_filter *f, const char *path)
{
	char mine[LK_PATH_MAX + 1];

	if (!f->user[0])
		return NULL;
	for (unsigned i = 0; i < f->config->n_cache_policies; i++)
		if (provision_path(&f->config->cache_policies[i], f->user, f->uid, mine, sizeof(mine)) == 0 &&
		    strcmp(mine, path) == 0)
			return &f->config->cache_policies[i];
	return NULL;
}

bool logout_filter_locks(const struct logout_filter *f, const struct lk_index_entry *e)
{
	const struct lk_cache_policy *pol = logout_filter_policy(f, e->path);
	uint32_t state;

	if (lk_config_lock_on_logout(f->config, f->user, pol))
		return true;
	/* A removal already begun is finished: "kept" applies to unlocked
	 * keys, never to a half-locked one. */
	root_status_entry(f->uid, e, &state);
	if (state == LK_KEY_INCOMPLETELY_REMOVED)
		return true;
	log_info("keeping %s of uid %u unlocked after logout (lock_on_logout=no%s%s)", e->path,
		 (unsigned)f->uid, pol ? ", policy " : "", pol ? pol->name : "");
	return false;
}
