/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin's configuration in the daemon: loaded at start (a bad one is
 * logged and the defaults are used, so that nobody is kept from logging
 * in) and reloaded (a bad one is refused and the old one kept). What a
 * reload means for logged-in users is login.c's (daemon_reload).
 */
#include <errno.h>
#include <stdio.h>

#include "ancestors.h"
#include "daemon.h"
#include "daemon_config.h"
#include "log.h"
#include "log_event.h"
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
	return 0;
}

void daemon_config_setup(struct daemon *d)
{
	char text[LK_TEXT_MAX + 1];
	int r;

	r = load(d, &d->config, text, sizeof(text));
	if (r < 0)
		log_event(LOG_ERR, LK_MSG_CONFIG_REFUSED, LK_NO_UID, NULL, NULL,
		          "bad configuration, starting with the defaults and no cache policies: %s", text);
	log_config(&d->config);
	sweep_roots(d);
}

void daemon_config_free(struct daemon *d)
{
	lk_config_free(&d->config);
}
