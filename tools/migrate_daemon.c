/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate's requests to latchkeyd: ENCRYPT the new sibling with the
 * user's key (asking for the passphrase when the daemon does not hold
 * it), UNLOCK it again after a restart locked it, RELOCATE the root. */
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "migrate_daemon.h"
#include "secret.h"

/* req without a key first; if the daemon needs the passphrase, again with
 * W. 0 with the reply in rep, or an exit code after printing. */
static int request_with_key(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                            bool from_stdin, struct lk_msg *req, struct lk_msg *rep, bool key_first)
{
	struct lk_secret w _cleanup_secret_ = {};
	int r;

	if (!key_first) {
		r = ctl_request(ctl, op, req, rep);
		if (r != 0)
			return r;
		if (!lk_msg_is_error(rep, LK_E_NEED_PASSPHRASE))
			return 0;
	}
	r = ctl_derive_for_user(ctl, op, uid, user, from_stdin, &w);
	if (r != 0)
		return r;
	req->seq++;
	lk_msg_set_key(req, w.ptr);
	lk_secret_release(&w);
	lk_msg_wipe(rep);
	r = ctl_request(ctl, op, req, rep);
	lk_msg_wipe(req);
	if (r != 0)
		return r;
	if (lk_msg_is_error(rep, LK_E_BAD_KEY))
		return ctl_fail(CTL_EXIT_AUTH, op, "wrong passphrase");
	return 0;
}

int migrate_daemon_encrypt(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                           bool from_stdin, const char *path, uint8_t ret_key_id[LK_KEY_ID_SIZE])
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_ENCRYPT, uid);
	if (r != 0)
		return r;
	if (lk_msg_set_path(req, path) < 0)
		return ctl_fail(CTL_EXIT_USAGE, op, "the path is longer than %d bytes", LK_PATH_MAX);
	r = request_with_key(ctl, op, uid, user, from_stdin, req, rep, false);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_ENCRYPT_RESULT || !lk_msg_has(rep, LK_T_KEY_ID))
		return ctl_reply_error(op, rep);
	memcpy(ret_key_id, rep->key_id, LK_KEY_ID_SIZE);
	return 0;
}

int migrate_daemon_unlock(const struct ctl *ctl, const char *op, uid_t uid, const char *user, bool from_stdin)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_UNLOCK, uid);
	if (r != 0)
		return r;
	r = request_with_key(ctl, op, uid, user, from_stdin, req, rep, true);
	if (r != 0)
		return r;
	if (rep->type != LK_REP_UNLOCK_RESULT)
		return ctl_reply_error(op, rep);
	return 0;
}

int migrate_daemon_lock(const struct ctl *ctl, const char *op, uid_t uid)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_LOCK, uid);
	if (r != 0)
		return r;
	r = ctl_request_expect(ctl, op, req, rep, LK_REP_LOCK_RESULT);
	if (r != 0)
		return r;
	return 0;
}

int migrate_daemon_relocate(const struct ctl *ctl, const char *op, uid_t uid,
                            const uint8_t key_id[LK_KEY_ID_SIZE], const char *path, uint32_t flags)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_RELOCATE, uid);
	if (r != 0)
		return r;
	lk_msg_set_key_id(req, key_id);
	if (lk_msg_set_path(req, path) < 0)
		return ctl_fail(CTL_EXIT_USAGE, op, "the path is longer than %d bytes", LK_PATH_MAX);
	if (flags)
		lk_msg_set_flags(req, flags);
	r = ctl_request_expect(ctl, op, req, rep, LK_REP_OK);
	if (r != 0)
		return r;
	return 0;
}
