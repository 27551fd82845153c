/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every facility of pam_latchkey shares: who the user is, one
 * connection to latchkeyd and the requests the module sends on it, and
 * telling the user. Each function logs its own failures, once, and returns
 * 0, LK_PAM_SKIP (nothing to do for this user) or -errno.
 */
#ifndef LK_PAM_LINK_H
#define LK_PAM_LINK_H

#include <stdint.h>
#include <sys/types.h>

#include <security/pam_modules.h>

#include "options.h"
#include "secret.h"
#include "wire.h"

struct lk_pam_user {
	const char *name; /* PAM_USER, owned by libpam */
	uid_t uid;
};

/* Everything that can hold a wrapping key lives in one block of secret memory. */
struct lk_pam_buffers {
	struct lk_msg req;
	struct lk_msg rep;
	uint8_t w[LK_WRAP_KEY_SIZE];     /* the key that opens the current slot */
	uint8_t w_new[LK_WRAP_KEY_SIZE]; /* the key of the slot being written */
};

/* One user's exchange with latchkeyd. */
struct lk_pam_link {
	pam_handle_t *pamh;
	const struct lk_pam_options *o;
	struct lk_pam_user u;
	/* What a failure means for the user, appended to warnings ("home stays locked"). */
	const char *outcome;
	int fd; /* -1 while not connected */
	/* The whole PAM call waits on the daemon at most timeout_ms: one
	 * deadline, pushed back only by the time spent deriving keys and at
	 * prompts, which are not waits on the daemon. */
	uint64_t deadline;
	uint64_t last_io_ms; /* the last exchange on fd */
	unsigned answered;   /* requests the daemon answered */
	uint32_t seq;
	struct lk_secret sec; /* holds b */
	struct lk_pam_buffers *b;
};

/*
 * PAM_USER -> uid, or LK_PAM_SKIP for anyone latchkey does not serve: no
 * name, a name that is not a plain user name (never echoed to the log: it
 * may carry newlines), an unknown user, root and system users.
 */
int lk_pam_resolve_user(pam_handle_t *pamh, const struct lk_pam_options *o, struct lk_pam_user *ret);

/* Resolve the user and allocate the secret buffers; not connected yet.
 * lk_pam_link_done() must follow whatever this returns. */
int lk_pam_link_init(struct lk_pam_link *l, pam_handle_t *pamh, const struct lk_pam_options *o,
                     const char *outcome);
/* Close the connection, wipe and free the buffers. */
void lk_pam_link_done(struct lk_pam_link *l);

/* Connect (closing any earlier connection), bounded by the call's deadline. */
int lk_pam_link_connect(struct lk_pam_link *l);
void lk_pam_link_disconnect(struct lk_pam_link *l);

/* Send b->req (stamped with the next seq), wipe it, and receive b->rep,
 * bounded by the call's deadline. A connection the daemon has dropped (it
 * idled through a long derivation), or one idle for LK_PAM_IDLE_RECONNECT_MS,
 * is replaced first: no request depends on an earlier one's connection. */
int lk_pam_link_call(struct lk_pam_link *l, const char *what);

/* Time not spent waiting on the daemon (a derivation, a prompt) does not
 * count against the deadline: stop the clock before, start it after. */
uint64_t lk_pam_link_stop_clock(const struct lk_pam_link *l);
void lk_pam_link_start_clock(struct lk_pam_link *l, uint64_t stopped_at);

/* Well under latchkeyd's 5 s idle limit of a connection. */
#define LK_PAM_IDLE_RECONNECT_MS 2000u

/* KDF_PARAMS of the login slot: 0 and *ret, LK_PAM_SKIP if the user is not
 * enrolled. (Fresh parameters for a new slot: lk_pam_rewrap.) */
int lk_pam_kdf_params(struct lk_pam_link *l, struct lk_kdf_params *ret);

/* b->w = Argon2id(pw, kdf). */
int lk_pam_derive(struct lk_pam_link *l, const struct lk_kdf_params *kdf, const char *pw);

/* AUTH_SUBMIT of b->w (which is kept): 0, or -EKEYREJECTED when the daemon
 * answers BAD_KEY, which the caller explains; everything else is logged. */
int lk_pam_submit(struct lk_pam_link *l);

/*
 * Make new_pw the passphrase of the user's login slot: fresh KDF parameters,
 * b->w_new = Argon2id(new_pw, fresh), then REWRAP from the slot of kind
 * from_kind opened with b->w (from_kind 0: no key, the daemon uses the one
 * it holds for a live session). Exactly one Argon2id run.
 * Returns 0 and *ret_status = the REWRAP reply's status (LK_OK or an
 * lk_status the caller explains), LK_PAM_SKIP if not enrolled, or -errno.
 */
int lk_pam_rewrap(struct lk_pam_link *l, uint32_t from_kind, const char *new_pw, uint32_t *ret_status);

/* The parts for callers that hold no secret (sessions): a root-owned
 * server's fd or -errno, logged with outcome. */
int lk_pam_connect(pam_handle_t *pamh, const struct lk_pam_options *o, uint64_t deadline,
                   const char *outcome);
/* Log a failed call or an unexpected reply and return the -errno to pass on. */
int lk_pam_log_call_failed(pam_handle_t *pamh, const struct lk_pam_options *o, const char *what, int r,
                           const char *outcome);
int lk_pam_log_bad_reply(pam_handle_t *pamh, const char *what, const struct lk_msg *rep, const char *outcome);
/* The status of a reply: LK_OK unless it is an ERROR (LK_E_INTERNAL if that lacks one). */
uint32_t lk_pam_reply_status(const struct lk_msg *rep);
/* The daemon's text if any (its own, never secret), else the status's name. */
const char *lk_pam_error_reason(const struct lk_msg *rep);
/* An lk_status as a negative errno (0 for LK_OK). */
int lk_pam_status_to_errno(uint32_t status);
uint64_t lk_pam_deadline(unsigned ms);

/* A PAM_TEXT_INFO message through the conversation, unless PAM_SILENT. */
void lk_pam_tell(pam_handle_t *pamh, int flags, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
