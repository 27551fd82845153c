/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "users.h"

struct user *user_get(struct user **list, uid_t uid, bool create)
{
	struct user *u;

	for (u = *list; u; u = u->next)
		if (u->uid == uid)
			return u;
	if (!create)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->uid = uid;
	u->next = *list;
	*list = u;
	return u;
}

static bool user_is_idle(const struct user *u)
{
	return u->sessions == 0 && !u->p && !u->pending && u->failures == 0 && !u->lock_incomplete &&
	       !u->logind_watch;
}

static void user_free(struct user *u)
{
	user_drop_key(u);
	user_drop_pending(u);
	free(u);
}

void users_gc(struct user **list)
{
	struct user **pp = list;

	while (*pp) {
		struct user *u = *pp;
		if (user_is_idle(u)) {
			*pp = u->next;
			user_free(u);
		} else
			pp = &u->next;
	}
}

void users_free(struct user **list)
{
	while (*list) {
		struct user *u = *list;
		*list = u->next;
		user_free(u);
	}
}

static int store_secret(uint8_t **slot, const uint8_t p[LK_PROTECTOR_KEY_SIZE])
{
	if (!*slot) {
		*slot = lk_secret_alloc(LK_PROTECTOR_KEY_SIZE, NULL);
		if (!*slot)
			return -ENOMEM;
	}
	memcpy(*slot, p, LK_PROTECTOR_KEY_SIZE);
	return 0;
}

int user_set_key(struct user *u, const uint8_t p[LK_PROTECTOR_KEY_SIZE])
{
	return store_secret(&u->p, p);
}

void user_drop_key(struct user *u)
{
	lk_secret_free(u->p, LK_PROTECTOR_KEY_SIZE);
	u->p = NULL;
}

/* PENDING_TTL_MS, or in test builds LATCHKEY_TEST_PENDING_TTL_MS, so a
 * test need not wait 30 s for the timer. */
static uint64_t pending_ttl_ms(void)
{
#if LK_TEST_HOOKS
	const char *e = secure_getenv("LATCHKEY_TEST_PENDING_TTL_MS");

	if (e && *e)
		return strtoull(e, NULL, 10);
#endif
	return PENDING_TTL_MS;
}

static int on_pending_expired(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct user *u = userdata;

	user_drop_pending(u);
	log_debug("pending credential of uid %u expired: wiped", (unsigned)u->uid);
	return 0;
}

int user_set_pending(struct user *u, sd_event *e, const uint8_t p[LK_PROTECTOR_KEY_SIZE], uint64_t now_ms)
{
	uint64_t ttl = pending_ttl_ms();
	int r;

	if (!u->pending_timer) {
		r = sd_event_add_time_relative(e, &u->pending_timer, CLOCK_MONOTONIC, ttl * 1000, 0,
		                               on_pending_expired, u);
		if (r < 0)
			return r;
	} else {
		r = sd_event_source_set_time_relative(u->pending_timer, ttl * 1000);
		if (r >= 0)
			r = sd_event_source_set_enabled(u->pending_timer, SD_EVENT_ONESHOT);
		if (r < 0)
			return r;
	}
	r = store_secret(&u->pending, p);
	if (r < 0) {
		user_drop_pending(u);
		return r;
	}
	u->pending_expiry_ms = now_ms + ttl;
	return 0;
}

void user_drop_pending(struct user *u)
{
	lk_secret_free(u->pending, LK_PROTECTOR_KEY_SIZE);
	u->pending = NULL;
	u->pending_expiry_ms = 0;
	u->pending_timer = sd_event_source_disable_unref(u->pending_timer);
}

bool user_claim_pending(struct user *u, uint64_t now_ms)
{
	bool ok = false;

	if (u->pending && now_ms < u->pending_expiry_ms)
		ok = user_set_key(u, u->pending) == 0;
	user_drop_pending(u);
	return ok;
}
