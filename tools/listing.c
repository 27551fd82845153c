/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "client.h"
#include "listing.h"

/* Grow *arr (of elements of size sz) to hold one more; NULL on ENOMEM. */
static void *grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *t = reallocarray(*arr, c, sz);
		if (!t)
			return NULL;
		*arr = t;
		*cap = c;
	}
	return (char *)*arr + n * sz;
}

/* Send req and read replies until STATUS_END, calling take for each.
 * take returns 0, or -EBADMSG for a reply out of place. */
static int stream(const struct ctl *ctl, const char *op, struct lk_msg *req,
                  int (*take)(const struct lk_msg *rep, void *userdata), void *userdata)
{
	struct lk_msg *rep _cleanup_msg_ = ctl_msg_new();
	_cleanup_close_ int fd = -1;
	unsigned received = 0;
	int r;

	if (!rep)
		return CTL_EXIT_FAILED;
	r = ctl_connect(ctl, op, &fd);
	if (r != 0)
		return r;
	r = lk_client_call(fd, req, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
	while (r == 0 && rep->type != LK_REP_STATUS_END && rep->type != LK_REP_ERROR) {
		if (rep->seq != req->seq) {
			r = -EBADMSG;
			break;
		}
		r = take(rep, userdata);
		if (r < 0)
			break;
		received++;
		r = lk_client_recv(fd, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
	}
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "no valid reply from latchkeyd: %s", strerror(-r));
	if (rep->type == LK_REP_ERROR)
		return ctl_reply_error(op, rep);
	/* A short list must not pass for a complete one. */
	if (!lk_msg_has(rep, LK_T_COUNT) || rep->count != received)
		return ctl_fail(CTL_EXIT_FAILED, op, "latchkeyd announced %u entries but sent %u", rep->count,
		                received);
	return 0;
}

struct users_acc {
	struct ctl_user *v;
	size_t n, cap;
};

static int take_user(const struct lk_msg *rep, void *userdata)
{
	struct users_acc *a = userdata;

	if (rep->type == LK_REP_USER_ENTRY) {
		struct ctl_user *u;
		if (!lk_msg_has(rep, LK_T_UID) || !lk_msg_has(rep, LK_T_FLAGS))
			return -EBADMSG;
		u = grow((void **)&a->v, &a->cap, a->n, sizeof(*u));
		if (!u)
			return -ENOMEM;
		*u = (struct ctl_user){.uid = rep->uid,
		                       .flags = rep->flags,
		                       .sessions = lk_msg_has(rep, LK_T_COUNT) ? rep->count : 0};
		if (lk_msg_has(rep, LK_T_ACCOUNT))
			strcpy(u->account, rep->account);
		a->n++;
		return 0;
	}
	if (rep->type == LK_REP_SLOT_ENTRY) {
		struct ctl_user *u = a->n ? &a->v[a->n - 1] : NULL;
		if (!u || rep->uid != u->uid || u->n_slots >= LK_MAX_SLOTS || !lk_msg_has(rep, LK_T_KDF) ||
		    !lk_msg_has(rep, LK_T_FLAGS))
			return -EBADMSG;
		u->slots[u->n_slots++] =
		    (struct ctl_slot){.kind = (uint8_t)rep->flags, .id = rep->count, .kdf = rep->kdf};
		return 0;
	}
	return -EBADMSG;
}

int ctl_list_users(const struct ctl *ctl, const char *op, uint32_t uid, struct ctl_user **ret, size_t *ret_n)
{
	struct lk_msg *req _cleanup_msg_ = ctl_msg_new();
	struct users_acc a = {0};
	int r;

	if (!req)
		return CTL_EXIT_FAILED;
	lk_msg_init(req, LK_REQ_USERS, 1);
	if (uid != LK_UID_NONE)
		lk_msg_set_uid(req, uid);
	r = stream(ctl, op, req, take_user, &a);
	if (r != 0) {
		free(a.v);
		return r;
	}
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}

struct roots_acc {
	struct ctl_root *v;
	size_t n, cap;
};

static int take_root(const struct lk_msg *rep, void *userdata)
{
	struct roots_acc *a = userdata;
	struct ctl_root *e;

	if (rep->type != LK_REP_STATUS_ENTRY || !lk_msg_has(rep, LK_T_UID) || !lk_msg_has(rep, LK_T_PATH) ||
	    !lk_msg_has(rep, LK_T_KEY_ID) || !lk_msg_has(rep, LK_T_STATE))
		return -EBADMSG;
	e = grow((void **)&a->v, &a->cap, a->n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct ctl_root){.uid = rep->uid,
	                       .state = rep->state,
	                       .has_sessions = lk_msg_has(rep, LK_T_COUNT),
	                       .sessions = rep->count};
	memcpy(e->key_id, rep->key_id, LK_KEY_ID_SIZE);
	strcpy(e->path, rep->path);
	if (lk_msg_has(rep, LK_T_ACCOUNT))
		strcpy(e->account, rep->account);
	a->n++;
	return 0;
}

int ctl_list_roots(const struct ctl *ctl, const char *op, uint32_t uid, struct ctl_root **ret, size_t *ret_n)
{
	struct lk_msg *req _cleanup_msg_ = ctl_msg_new();
	struct roots_acc a = {0};
	int r;

	if (!req)
		return CTL_EXIT_FAILED;
	lk_msg_init(req, LK_REQ_STATUS, 1);
	if (uid != LK_UID_NONE)
		lk_msg_set_uid(req, uid);
	r = stream(ctl, op, req, take_root, &a);
	if (r != 0) {
		free(a.v);
		return r;
	}
	*ret = a.v;
	*ret_n = a.n;
	return 0;
}
