/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ENCRYPT: a new encrypted root. The directory must be empty (fscrypt
 * cannot encrypt files in place); it gets a fresh fscrypt key K, wrapped
 * with the user's P in an xattr (root.c), and an entry in the user's index.
 */
#include <errno.h>
#include <string.h>

#include "accounts.h"
#include "cleanup.h"
#include "daemon.h"
#include "encrypt.h"
#include "outcome.h"
#include "passwd.h"
#include "protectors.h"
#include "root.h"
#include "root_ops.h"
#include "secret.h"

/* P for the new root: opened with the login's W, or the one held for the
 * user (since a login, or an earlier ENCRYPT). */
static int encrypt_key(struct daemon *d, const struct ucred *peer, uid_t charge_uid, struct user *u,
                       const uint8_t *w, struct lk_secret *p)
{
	struct lk_protector pr;

	if (w)
		return protector_unwrap_login(d, peer, charge_uid, u->uid, w, p);
	/* None held: not enrolled, or the client must send the passphrase. */
	if (!u->p)
		return store_load_protector(&d->store, u->uid, &pr) == -ENOENT ? -ENOKEY : -EKEYEXPIRED;
	if (lk_secret_new(p, LK_PROTECTOR_KEY_SIZE) < 0)
		return -ENOMEM;
	memcpy(p->ptr, u->p, LK_PROTECTOR_KEY_SIZE);
	return 0;
}

int daemon_encrypt_root(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid,
                        const char *path, bool v1, const uint8_t *w, uint8_t ret_key_id[LK_KEY_ID_SIZE],
                        const char **ret_why)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct lk_passwd pw _cleanup_passwd_ = {};
	struct lk_index ix;
	const char *why = NULL;
	struct user *u;
	int r;

	*ret_why = NULL;
	if (uid == 0 || lk_passwd_by_uid(uid, &pw) < 0) {
		*ret_why = "no such (non-root) user";
		return -EINVAL;
	}
	if (account_check(d, uid, NULL) == ACCOUNT_FORMER) {
		*ret_why = "run 'latchkeyctl unenroll --uid' for the former account first";
		return -EOWNERDEAD;
	}
	u = user_get(&d->users, uid, true);
	if (!u)
		return -ENOMEM;
	r = encrypt_key(d, peer, charge_uid, u, w, &p);
	if (r < 0)
		return r;
	r = store_load_index(&d->store, uid, &ix);
	if (r < 0) {
		*ret_why = "cannot read the root index";
		return outcome_internal(r);
	}
	if (ix.n >= LK_MAX_INDEX_ENTRIES) {
		*ret_why = "too many encrypted roots for this user";
		return -EINVAL;
	}
	r = v1 ? root_create_v1(uid, pw.pw.pw_gid, p.ptr, path, ret_key_id, &why)
	       : root_create(uid, pw.pw.pw_gid, p.ptr, path, ret_key_id, &why);
	if (r < 0) {
		/* Any failure but these is the request's (a path that will not
		 * do); without root.c's words, the errno's. */
		*ret_why = why ? why : strerrordesc_np(-r);
		return r == -EEXIST || r == -EOPNOTSUPP ? r : -EINVAL;
	}
	r = root_index_put(&ix, ret_key_id, path);
	if (r >= 0)
		r = store_save_index(&d->store, uid, &ix);
	if (r < 0) {
		*ret_why = "directory encrypted, but the root index could not be saved";
		return outcome_internal(r);
	}
	/* The directory was left unlocked; remember P so that the lock (at
	 * `latchkeyctl lock` or the end of the user's last session) and later
	 * provisioning have it. */
	user_set_key(u, p.ptr);
	return 0;
}
