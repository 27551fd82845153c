/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration as a whole: defaults, the checks across files, and
 * the questions the daemon asks of it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "internal.h"

void lk_config_init(struct lk_config *c)
{
	*c = (struct lk_config){.lock_on_logout = true};
	strcpy(c->home_skel, "/etc/skel");
	lk_tpm_config_init(&c->tpm);
}

void lk_config_free(struct lk_config *c)
{
	if (!c)
		return;
	free(c->users);
	free(c->cache_policies);
	lk_config_init(c);
}

/* a is b, or a directory above b. */
static bool path_contains(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

int lk_config_finish(struct lk_config *c, struct lk_config_error *err)
{
	char qa[CFG_QUOTE_MAX], qb[CFG_QUOTE_MAX];

	if (!c)
		return -EINVAL;
	/* Quadratic, over at most LK_MAX_CACHE_POLICIES. Each problem is reported
	 * at the policy read later, naming the earlier one. */
	for (unsigned j = 0; j < c->n_cache_policies; j++) {
		const struct lk_cache_policy *b = &c->cache_policies[j];

		for (unsigned i = 0; i < j; i++) {
			const struct lk_cache_policy *a = &c->cache_policies[i];

			if (strcmp(a->name, b->name) == 0) {
				cfg_error(
				    err, b->source, b->line,
				    "policy \"%s\" is already defined at %s:%u; rename or remove one of them",
				    b->name, a->source, a->line);
				return -EEXIST;
			}
			if (strcmp(a->root, b->root) == 0) {
				cfg_error(err, b->source, b->line,
				          "root %s of policy \"%s\" is also the root of policy \"%s\" "
				          "(%s:%u); give each policy its own root",
				          cfg_quote(b->root, qb, sizeof(qb)), b->name, a->name, a->source,
				          a->line);
				return -EEXIST;
			}
			if (path_contains(a->root, b->root) || path_contains(b->root, a->root)) {
				bool inside = path_contains(a->root, b->root);

				cfg_error(err, b->source, b->line,
				          "root %s of policy \"%s\" is %s root %s of policy \"%s\" "
				          "(%s:%u); roots must not nest: move one of them",
				          cfg_quote(b->root, qb, sizeof(qb)), b->name,
				          inside ? "inside" : "above", cfg_quote(a->root, qa, sizeof(qa)),
				          a->name, a->source, a->line);
				return -EEXIST;
			}
		}
	}
	return 0;
}

void lk_config_error_format(const struct lk_config_error *err, char *buf, size_t size)
{
	if (!buf || size == 0)
		return;
	if (!err)
		snprintf(buf, size, "(no error)");
	else if (err->line > 0)
		snprintf(buf, size, "%s:%u: %s", err->file, err->line, err->message);
	else
		snprintf(buf, size, "%s: %s", err->file, err->message);
}

bool lk_config_lock_on_logout(const struct lk_config *c, const char *user, const struct lk_cache_policy *p)
{
	if (!c)
		return true; /* locking is the safe side */
	if (user)
		for (unsigned i = 0; i < c->n_users; i++)
			if (strcmp(c->users[i].user, user) == 0 && c->users[i].lock_on_logout != LK_INHERIT)
				return c->users[i].lock_on_logout == LK_YES;
	if (p && p->lock_on_logout != LK_INHERIT)
		return p->lock_on_logout == LK_YES;
	return c->lock_on_logout;
}
