/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the commands that add or use extra protector slots share (recovery,
 * escrow, enroll): REWRAP requests, reaching P, the escrow public key of the
 * machine, secret lines on stdin. All print their own errors and return 0
 * or a CTL_EXIT_* code.
 */
#ifndef LK_CTL_SLOTS_H
#define LK_CTL_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl.h"
#include "escrow.h"
#include "kdf.h"
#include "passphrase.h"
#include "secret.h"

#define CTL_ESCROW_PUB_NAME "escrow.pub"

/*
 * REWRAP{uid, key (if not NULL), new_key, kdf, flags} on a fresh
 * connection. 0 with the reply in rep (LK_REP_OK or LK_REP_ERROR, which
 * the caller interprets), or an exit code after printing.
 */
int ctl_rewrap(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags, const uint8_t *key,
               const uint8_t new_key[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf, struct lk_msg *rep);

/*
 * Add a slot of kind to_kind (new_key, kdf) to uid's protector: first from
 * the P latchkeyd holds while the user has a live session; if it holds
 * none (NEED_PASSPHRASE), with the user's login passphrase (terminal, or
 * one line of stdin with from_stdin). A wrong passphrase is exit 5.
 */
int ctl_add_slot(const struct ctl *ctl, const char *op, uid_t uid, const char *user, bool from_stdin,
                 uint8_t to_kind, const uint8_t new_key[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf);

/*
 * The machine's escrow public key, <config_dir>/escrow.pub (a root-owned
 * regular file, not group/world writable). *ret_present = false and 0 when
 * there is none; an unreadable or malformed file is an error.
 */
int ctl_escrow_load(const char *op, const char *config_dir, uint8_t R[LK_ESCROW_KEY_SIZE], bool *ret_present);

/*
 * What uid's V2 escrow slot is bound to on this machine: the user name of
 * uid (into user, which b->user then points at) and /etc/machine-id.
 */
int ctl_escrow_binding(const char *op, uid_t uid, char user[LK_BOUND_NAME_MAX + 1],
                       struct lk_escrow_binding *b);

/*
 * Seal a new (V2) escrow slot of uid to R: kdf = {LK_KDF_X25519, salt = E},
 * w (secret memory, allocated here) the slot's wrapping key, bound to uid,
 * user name and machine id as latchkeyd binds the slot.
 */
int ctl_escrow_seal(const char *op, const uint8_t R[LK_ESCROW_KEY_SIZE], uid_t uid, struct lk_kdf_params *kdf,
                    struct lk_secret *w);

/*
 * ROTATE{uid, key (if not NULL) opening a slot of kind from, new login key
 * w_new with kdf}: a new protector key, every wrapped key resealed. Prints
 * what happened (recovery code retired, escrow slot resealed) unless quiet
 * on success; 0, or an exit code after printing. A wrong key is exit 5 with
 * bad_key_msg.
 */
int ctl_rotate(const struct ctl *ctl, const char *op, uid_t uid, const char *user, uint8_t from,
               const uint8_t *key, const uint8_t w_new[LK_WRAP_KEY_SIZE], const struct lk_kdf_params *kdf,
               const char *bad_key_msg);

/*
 * A secret line: asked on the terminal without echo when stdin is one,
 * else the next line of stdin. what names it in errors ("recovery code").
 */
int ctl_read_secret_line(const char *op, const char *prompt, const char *what, struct passphrase *ret);

/*
 * The new login passphrase after a reset: asked twice on the terminal when
 * stdin is one, else the next line of stdin; then KDF_PARAMS{FRESH|LOGIN}
 * and Argon2id into w (allocated here), with the parameters in kdf.
 */
int ctl_new_login_key(const struct ctl *ctl, const char *op, uid_t uid, const char *user,
                      struct lk_kdf_params *kdf, struct lk_secret *w);

/* Argon2id of a secret into w (allocated here). */
int ctl_derive(const char *op, const struct lk_kdf_params *kdf, const char *secret, size_t len,
               struct lk_secret *w);

/* After a reset: the result (text or JSON on stdout) and what the admin
 * must do next (stdout, or stderr with --json): passwd, and replace_hint
 * if not NULL. */
void ctl_print_reset_done(const struct ctl *ctl, const char *user, uid_t uid, const char *replace_hint);

/* write(2) all of buf to fd, bypassing stdio so that no buffer outside
 * secret memory keeps a copy. stdout is flushed first. */
int ctl_write_secret(int fd, const void *buf, size_t len);

#endif
