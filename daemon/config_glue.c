/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin's configuration in the daemon: loaded at start (a bad one is
 * logged and the defaults are used, so that nobody is kept from logging
 * in), reloaded on SIGHUP and on the RELOAD request (a bad one is refused
 * and the old one kept), and the per-user cache policies provisioned at
 * session open and, after a reload, at once for every user with a live
 * session.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ancestors.h"
#include "cleanup.h"
#include "daemon.h"
#include "log.h"
#include "log_event.h"
#include "root.h"
#include "provision.h"

/* Stale temporaries of a crash, and early word of a root that cannot work. */
static void sweep_roots(struct daemon *d)
{
	for (unsigned i = 0; i < d->config.n_cache_policies; i++)
		provision_sweep(&d->config.cache_policies[i]);
}

static void log_config(const struct lk_config *c)
{
	log_info("configuration: lock_on_logout=%s lock_delay=%ums, %u per-user polic%s",
		 c->lock_on_logout ? "yes" : "no", c->lock_delay_ms, c->n_cache_policies,
		 c->n_cache_policies == 1 ? "y" : "ies");
}

/* A root whose ancestor a user could change is refused like a syntax
 * error (provisioning checks again, since ancestors can change later). */
static int check_ancestors(const struct lk_config *c, char *err_text, size_t size)
{
	char why[512];

	for (unsigned i = 0; i < c->n_cache_policies; i++) {
		const struct lk_cache_policy *pol = &c->cache_policies[i];
		/* A path that cannot be walked (missing, a symlink on the way)
		 * is refused at provisioning, with its own fix. */
		if (lk_ancestors_check(pol->root, why, sizeof(why)) <= 0)
			continue;
		snprintf(err_text, size, "%s:%u: policy %s: %s", pol->source, pol->line, pol->name, why);
		return -EPERM;
	}
	return 0;
}

/* Load into a fresh config; on error the formatted "file:line: message". */
static int load(struct daemon *d, struct lk_config *ret, char *err_text, size_t size)
{
	struct lk_config_error err = {};
	int r;

	lk_config_init(ret);
	r = lk_config_load(d->config_dir, d->vendor_config_dir, ret, &err);
	if (r < 0) {
		lk_config_error_format(&err, err_text, size);
		lk_config_init(ret);
		return r;
	}
	r = check_ancestors(ret, err_text, size);
	if (r < 0) {
		lk_config_free(ret);
		lk_config_init(ret);
	}
	return r;
}

void daemon_provision_user(struct daemon *d, struct user *u, unsigned *ret_done, unsigned *ret_failed)
{
	_cleanup_free_ struct provision_result *res = NULL;
	_cleanup_free_ struct lk_index *ix = NULL;
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	unsigned done = 0, failed = 0, n = d->config.n_cache_policies;
	bool recorded = false;
	int r;

	if (n == 0 || !u->p)
		goto out;
	failed = n;
	r = getpwuid_r(u->uid, &pw, buf, sizeof(buf), &pwp);
	if (r != 0 || !pwp) {
		log_error("cannot provision cache directories for uid %u: no such user in the user database",
			  (unsigned)u->uid);
		goto out;
	}
	res = calloc(n, sizeof(*res));
	ix = malloc(sizeof(*ix));
	if (!res || !ix) {
		log_error_errno(-ENOMEM, "cannot provision cache directories for uid %u", (unsigned)u->uid);
		goto out;
	}
	/* Without the index nothing provisioned could be locked at logout. */
	r = store_load_index(&d->store, u->uid, ix);
	if (r < 0) {
		log_error_errno(
		    r, "cannot provision cache directories for uid %u: the root index is unreadable",
		    (unsigned)u->uid);
		goto out;
	}
	failed = 0;
	for (unsigned i = 0; i < n; i++) {
		r = provision_policy(ix, &d->config.cache_policies[i], u->uid, pw.pw_gid, pw.pw_name, u->p,
				     &res[i]);
		if (r < 0)
			failed++;
		else if (res[i].outcome != PROVISION_PRESENT)
			done++;
		recorded |= res[i].recorded;
	}

	/* One durable index write for all policies of this login. */
	if (recorded) {
		r = store_save_index(&d->store, u->uid, ix);
		if (r < 0) {
			log_error_errno(
			    r,
			    "cannot save the root index of uid %u: locking the cache directories just "
			    "provisioned, since logout would not",
			    (unsigned)u->uid);
			for (unsigned i = 0; i < n; i++) {
				bool busy;
				if (res[i].recorded &&
				    root_lock(u->uid, res[i].path, res[i].key_id, &busy) == 0) {
					done -= res[i].outcome != PROVISION_PRESENT;
					failed++;
				}
			}
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (res[i].outcome == PROVISION_CREATED)
			provision_sync_root(&d->config.cache_policies[i]);
out:
	if (ret_done)
		*ret_done = done;
	if (ret_failed)
		*ret_failed = failed;
}

int daemon_config_reload(struct daemon *d, char *err_text, size_t size)
{
	struct lk_config c;
	int r;

	r = load(d, &c, err_text, size);
	if (r < 0) {
		log_event(LOG_ERR, LK_MSG_CONFIG_REFUSED, LK_NO_UID, NULL, NULL,
			  "configuration not reloaded, the old one stays: %s", err_text);
		return r;
	}
	lk_config_free(&d->config);
	d->config = c;
	log_info("configuration reloaded");
	log_config(&d->config);
	sweep_roots(d);

	/* A newly assigned policy applies at once for users who are logged
	 * in: the daemon holds their protector key. */
	for (struct user *u = d->users; u; u = u->next)
		if (u->sessions > 0 && u->p)
			daemon_provision_user(d, u, NULL, NULL);
	return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	char text[LK_TEXT_MAX + 1];

	log_info("received SIGHUP, reloading the configuration");
	daemon_config_reload(userdata, text, sizeof(text));
	return 0;
}

int daemon_config_setup(struct daemon *d)
{
	char text[LK_TEXT_MAX + 1];
	sigset_t ss;
	int r;

	r = load(d, &d->config, text, sizeof(text));
	if (r < 0)
		log_event(LOG_ERR, LK_MSG_CONFIG_REFUSED, LK_NO_UID, NULL, NULL,
			  "bad configuration, starting with the defaults and no cache policies: %s", text);
	log_config(&d->config);
	sweep_roots(d);

	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch SIGHUP");
	return 0;
}

void daemon_config_free(struct daemon *d)
{
	lk_config_free(&d->config);
}
