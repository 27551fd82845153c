/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "fileio.h"
#include "machine_id.h"
#include "json_out.h"
#include "output.h"
#include "passwd.h"
#include "slots.h"

/* latchkeyctl as the lib's client transport: a fresh connection per
 * request, failures printed here and kept as the exit code. */
struct ctl_io {
	const struct ctl *ctl;
	const char *op;
	int exit;
};

static int ctl_io_call(void *userdata, struct lk_msg *req, struct lk_msg *rep)
{
	struct ctl_io *io = userdata;

	io->exit = ctl_request(io->ctl, io->op, req, rep);
	return io->exit != 0 ? -EIO : 0;
}

int ctl_rewrap(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags, const uint8_t *key,
               const uint8_t new_key[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf, struct lk_msg *rep)
{
	struct lk_msg *req _cleanup_msg_ = ctl_msg_new();
	struct ctl_io cio = {.ctl = ctl, .op = op};
	const struct lk_client_io io = {.call = ctl_io_call, .userdata = &cio};
	int r;

	if (!req)
		return CTL_EXIT_FAILED;
	if (kdf->alg == LK_KDF_ARGON2ID && kdf->t_cost < LK_KDF_NEW_T_MIN)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "refusing Argon2id t=%u: the floor for a new slot is t=%u", kdf->t_cost,
		                LK_KDF_NEW_T_MIN);
	lk_msg_wipe(rep);
	r = lk_client_rewrap(&io, uid, LK_RW_FROM_KIND(flags), key, LK_RW_TO_KIND(flags), kdf, new_key, req,
	                     rep);
	if (r == -EBADMSG)
		return ctl_fail(CTL_EXIT_FAILED, op, "unexpected reply %s from latchkeyd",
		                lk_msg_type_to_string(rep->type));
	if (r < 0)
		return cio.exit ?: ctl_fail(CTL_EXIT_FAILED, op, "cannot rewrap: %s", strerror(-r));
	return 0;
}

int ctl_add_slot(const struct ctl *ctl, const char *op, uid_t uid, const char *user, bool from_stdin,
                 uint8_t to_kind, const uint8_t new_key[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf)
{
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_msg *rep _cleanup_msg_ = ctl_msg_new();
	int r;

	if (!rep)
		return CTL_EXIT_FAILED;

	/* From the P latchkeyd holds for a live session: no passphrase. */
	r = ctl_rewrap(ctl, op, uid, LK_RW_FLAGS(0, to_kind), NULL, new_key, kdf, rep);
	if (r != 0)
		return r;
	if (lk_msg_is_error(rep, LK_E_NEED_PASSPHRASE)) {
		fprintf(stderr,
		        "%s has no live session, so latchkeyd does not hold their key: "
		        "their login passphrase is needed.\n",
		        user);
		r = ctl_derive_for_user(ctl, op, uid, user, from_stdin, &w);
		if (r != 0)
			return r;
		r = ctl_rewrap(ctl, op, uid, LK_RW_FLAGS(LK_SLOT_LOGIN, to_kind), w.ptr, new_key, kdf, rep);
		if (r != 0)
			return r;
		if (lk_msg_is_error(rep, LK_E_BAD_KEY))
			return ctl_fail(CTL_EXIT_AUTH, op, "wrong passphrase for %s", user);
	}
	if (rep->type != LK_REP_OK)
		return ctl_reply_error(op, rep);
	return 0;
}

int ctl_escrow_load(const char *op, const char *config_dir, uint8_t R[LK_ESCROW_KEY_SIZE], bool *ret_present)
{
	_cleanup_close_ int dfd = -1;
	char pem[LK_ESCROW_PEM_MAX];
	size_t len;
	int r;

	dfd = open(config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		*ret_present = false;
		return 0;
	}
	if (dfd < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s: %s", config_dir, strerror(errno));

	/* Whoever can write this file decides who can recover every user
	 * enrolled after: root's, and nobody else's. */
	r = lk_read_file_at(dfd, CTL_ESCROW_PUB_NAME, 0, sizeof(pem), (uint8_t *)pem, &len);
	if (r == -ENOENT) {
		*ret_present = false;
		return 0;
	}
	if (r == -EPERM)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "%s/%s must be owned by root and not group or world writable", config_dir,
		                CTL_ESCROW_PUB_NAME);
	if (r == -ELOOP)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s/%s is a symbolic link; refusing it", config_dir,
		                CTL_ESCROW_PUB_NAME);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot read %s/%s: %s", config_dir, CTL_ESCROW_PUB_NAME,
		                r == -EBADMSG ? "not a regular file" : strerror(-r));
	if (lk_escrow_public_from_pem(pem, len, R) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "%s/%s is not an X25519 public key in PEM form",
		                config_dir, CTL_ESCROW_PUB_NAME);
	*ret_present = true;
	return 0;
}

int ctl_escrow_binding(const char *op, uid_t uid, char user[LK_BOUND_NAME_MAX + 1],
                       struct lk_escrow_binding *b)
{
	_cleanup_passwd_ struct lk_passwd p = {};
	int r;

	if (lk_passwd_by_uid(uid, &p) < 0 || strlen(p.pw.pw_name) > LK_BOUND_NAME_MAX)
		return ctl_fail(CTL_EXIT_FAILED, op, "uid %u has no user name an escrow slot can be bound to",
		                (unsigned)uid);
	snprintf(user, LK_BOUND_NAME_MAX + 1, "%s", p.pw.pw_name);
	r = lk_machine_id(b->machine_id);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot read %s (%s): escrow slots are bound to it",
		                LK_MACHINE_ID_PATH, strerror(-r));
	b->uid = (uint32_t)uid;
	b->user = user;
	return 0;
}

int ctl_escrow_seal(const char *op, const uint8_t R[LK_ESCROW_KEY_SIZE], uid_t uid, struct lk_kdf_params *kdf,
                    struct lk_secret *w)
{
	struct lk_kdf_params k = {.alg = LK_KDF_X25519, .salt_len = LK_ESCROW_KEY_SIZE};
	struct lk_escrow_binding b;
	char user[LK_BOUND_NAME_MAX + 1];
	int r;

	r = ctl_escrow_binding(op, uid, user, &b);
	if (r != 0)
		return r;
	r = lk_secret_new(w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory: %s", strerror(-r));
	r = lk_escrow_seal_bound(R, &b, k.salt, w->ptr);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "sealing to the escrow key failed: %s",
		                r == -EINVAL ? "the escrow public key is not usable" : strerror(-r));
	*kdf = k;
	return 0;
}

int ctl_rotate(const struct ctl *ctl, const char *op, uid_t uid, const char *user, uint8_t from,
               const uint8_t *key, const uint8_t w_new[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf,
               const char *bad_key_msg)
{
	struct lk_msg *req _cleanup_msg_ = ctl_msg_new();
	struct lk_msg *rep _cleanup_msg_ = ctl_msg_new();
	FILE *out = ctl->json ? stderr : stdout;
	int r;

	if (!req || !rep)
		return CTL_EXIT_FAILED;
	if (kdf->alg == LK_KDF_ARGON2ID && kdf->t_cost < LK_KDF_NEW_T_MIN)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "refusing Argon2id t=%u: the floor for a new slot is t=%u", kdf->t_cost,
		                LK_KDF_NEW_T_MIN);
	lk_msg_init(req, LK_REQ_ROTATE, 1);
	lk_msg_set_uid(req, uid);
	lk_msg_set_flags(req, LK_RW_FLAGS(from, 0));
	lk_msg_set_kdf(req, kdf);
	lk_msg_set_new_key(req, w_new);
	if (key)
		lk_msg_set_key(req, key);
	r = ctl_request(ctl, op, req, rep);
	if (r != 0)
		return r;
	if (lk_msg_is_error(rep, LK_E_BAD_KEY))
		return ctl_fail(CTL_EXIT_AUTH, op, "%s", bad_key_msg);
	if (rep->type != LK_REP_OK)
		return ctl_reply_error(op, rep);
	fprintf(out,
	        "Rotated %s's protector key: %u wrapped key(s) resealed; an old copy of the protector file "
	        "opens none of them now.\n",
	        user, lk_msg_has(rep, LK_T_COUNT) ? (unsigned)rep->count : 0);
	if (rep->flags & LK_ROT_F_ESCROW_RESEALED)
		fprintf(out, "The escrow slot was resealed: answers given before open nothing now.\n");
	if (rep->flags & LK_ROT_F_ESCROW_DROPPED)
		fprintf(out,
		        "The escrow slot was dropped (no escrow.pub here): 'latchkeyctl escrow add %s'.\n",
		        user);
	if (rep->flags & LK_ROT_F_RECOVERY_RETIRED)
		fprintf(
		    out,
		    "The recovery code was retired: make a new one with 'latchkeyctl recovery create %s'.\n",
		    user);
	return 0;
}

int ctl_read_secret_line(const char *op, const char *prompt, const char *what, struct passphrase *ret)
{
	int r;

	if (isatty(STDIN_FILENO))
		r = passphrase_prompt(prompt, false, ret);
	else
		r = passphrase_read_fd(STDIN_FILENO, ret);
	if (r == -ENODATA)
		return ctl_fail(CTL_EXIT_USAGE, op, "no %s given on standard input", what);
	if (r == -EMSGSIZE || r == -EILSEQ)
		return ctl_fail(CTL_EXIT_USAGE, op, "that is not a %s", what);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot read the %s: %s", what, strerror(-r));
	return 0;
}

int ctl_derive(const char *op, const struct lk_kdf_params *kdf, const char *secret, size_t len,
               struct lk_secret *w)
{
	int r;

	if (kdf->alg != LK_KDF_ARGON2ID)
		return ctl_fail(CTL_EXIT_FAILED, op, "latchkeyd sent parameters of another algorithm (%u)",
		                kdf->alg);
	r = lk_secret_new(w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory: %s", strerror(-r));
	r = lk_kdf_derive(kdf, secret, len, w->ptr);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "key derivation failed: %s", strerror(-r));
	return 0;
}

int ctl_new_login_key(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                      struct lk_kdf_params *kdf, struct lk_secret *w)
{
	struct passphrase pw _cleanup_passphrase_ = {};
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	struct ctl_io cio = {.ctl = ctl, .op = op};
	const struct lk_client_io io = {.call = ctl_io_call, .userdata = &cio};
	char prompt[128];
	int r;

	snprintf(prompt, sizeof(prompt), "New passphrase for %s: ", user);
	r = ctl_read_passphrase(op, prompt, true, !isatty(STDIN_FILENO), &pw);
	if (r != 0)
		return r;
	r = ctl_msgs_new(&req, &rep, LK_REQ_KDF_PARAMS, uid);
	if (r != 0)
		return r;
	r = lk_secret_new(w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory: %s", strerror(-r));
	r = lk_client_fresh_key(&io, uid, LK_SLOT_LOGIN, pw.buf.ptr, pw.len, req, rep, kdf, w->ptr);
	if (r == 1)
		return ctl_reply_error(op, rep);
	if (r == -EBADMSG)
		return ctl_fail(CTL_EXIT_FAILED, op, "latchkeyd sent no valid KDF parameters");
	if (r < 0)
		return cio.exit ?: ctl_fail(CTL_EXIT_FAILED, op, "key derivation failed: %s", strerror(-r));
	return 0;
}

int ctl_write_secret(int fd, const void *buf, size_t len)
{
	fflush(stdout);
	return lk_write_all(fd, buf, len);
}

void ctl_print_reset_done(const struct ctl *ctl, const char *user, uid_t uid, const char *replace_hint)
{
	FILE *hints = ctl->json ? stderr : stdout;

	if (ctl->json) {
		json_out_print_user_result(user, uid, "reset");
	} else {
		printf("Set a new latchkey passphrase for %s.\n", user);
	}
	fprintf(hints,
	        "Next:\n"
	        "  - give %s the same password for login, or latchkey will not unlock at login:\n"
	        "      passwd %s\n",
	        user, user);
	if (replace_hint)
		fprintf(hints, "  - %s\n", replace_hint);
}
