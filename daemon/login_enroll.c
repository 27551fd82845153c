/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LOGIN_ENROLL: enrolment at a user's first password login, for the users
 * latchkey.conf's enroll_at_login covers. The PAM module asks only after
 * pam_unix accepted the password, so the login slot wraps P under the key
 * of the password the system just checked; nobody types it twice, and a
 * wrong password enrols nothing. The new slot gets the machine's KDF
 * target (the floor if no enrolment ever recorded one).
 */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "crypto.h"
#include "daemon.h"
#include "login_enroll.h"
#include "home_create.h"
#include "kdf.h"
#include "log.h"
#include "passwd.h"
#include "protector.h"
#include "secret.h"

static int login_slot_params(struct daemon *d, struct lk_kdf_params *ret)
{
	struct lk_kdf_params k;

	if (store_load_kdf_target(&d->store, &k) < 0) {
		log_warning("no KDF target recorded yet (latchkeyctl enroll tunes it); first-login enrolment "
		            "uses the floor, Argon2id t=3 m=64 MiB p=1");
		k = (struct lk_kdf_params){.t_cost = 3, .m_cost_kib = LK_KDF_M_MIN_KIB, .parallelism = 1};
	}
	k.alg = LK_KDF_ARGON2ID;
	k.salt_len = LK_SALT_MAX;
	if (lk_random_bytes(k.salt, k.salt_len) < 0)
		return -EIO;
	*ret = k;
	return 0;
}

static int enrol(struct daemon *d, uid_t uid, const struct lk_kdf_params *kdf, const uint8_t *w,
                 struct lk_secret *p, const char **why)
{
	struct lk_protector pr = {.uid = uid};
	int r;

	if (lk_kdf_params_check_new(kdf) < 0) {
		*why = "Argon2id parameters out of bounds or below the floor (t >= 3)";
		return -EINVAL;
	}
	r = lk_secret_new(p, LK_PROTECTOR_KEY_SIZE);
	if (r >= 0)
		r = lk_random_bytes(p->ptr, LK_PROTECTOR_KEY_SIZE);
	if (r >= 0)
		r = lk_protector_add_slot(&pr, LK_SLOT_LOGIN, kdf, w, p->ptr, NULL);
	if (r >= 0)
		r = store_save_protector(&d->store, &pr);
	if (r < 0) {
		*why = "cannot create the protector";
		log_error_errno(r, "first-login enrolment of uid %u failed", (unsigned)uid);
		return -EIO;
	}
	log_info("enrolled uid %u at its first login (Argon2id t=%u m=%u KiB p=%u)", (unsigned)uid,
	         kdf->t_cost, kdf->m_cost_kib, kdf->parallelism);
	return 0;
}

int daemon_login_enroll(struct daemon *d, const struct lk_msg *req, struct lk_kdf_params *ret_kdf,
                        uint32_t *ret_flags, const char **why)
{
	struct lk_secret p _cleanup_secret_ = {};
	_cleanup_passwd_ struct lk_passwd pw = {};
	struct lk_protector pr;
	struct user *u;
	int r;

	*why = NULL;
	*ret_flags = 0;
	if (req->uid == 0 || lk_passwd_by_uid(req->uid, &pw) < 0) {
		*why = "no such (non-root) user";
		return -EINVAL;
	}
	if (!lk_enroll_rule_matches(&d->config.enroll_at_login, req->uid, pw.pw.pw_name, pw.pw.pw_gid,
	                            NULL)) {
		*why = "enroll_at_login does not cover this user";
		return -EPERM;
	}
	r = store_load_protector(&d->store, req->uid, &pr);
	if (r != -ENOENT) {
		*why = r == 0 ? "already enrolled" : "existing protector file unreadable";
		return r == 0 ? -EEXIST : -EIO;
	}
	if (!lk_msg_has(req, LK_T_KEY)) {
		if (login_slot_params(d, ret_kdf) < 0) {
			*why = "cannot make KDF parameters";
			return -EIO;
		}
		return 0;
	}
	if (!lk_msg_has(req, LK_T_KDF)) {
		*why = "the key needs its KDF parameters";
		return -EPROTO;
	}
	r = enrol(d, req->uid, &req->kdf, req->key, &p, why);
	if (r < 0)
		return r;
	/* The login goes on to AUTH_SUBMIT and SESSION_OPEN like any other;
	 * P is held meanwhile, as after `latchkeyctl encrypt`. */
	u = user_get(&d->users, req->uid, true);
	if (u)
		user_set_key(u, p.ptr);
	if (d->config.create_home)
		*ret_flags = home_create(d, req->uid, &pw.pw, p.ptr);
	return 0;
}
