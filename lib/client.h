/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client side of the daemon socket, shared by the PAM module and latchkeyctl.
 * Nothing here logs; callers decide what to tell whom. */
#ifndef LK_CLIENT_H
#define LK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/*
 * Connect to the SOCK_SEQPACKET socket at path (SOCK_CLOEXEC, non-blocking
 * connect bounded by the deadline) and, if require_root_server, check that
 * the server's SO_PEERCRED uid is 0 before returning. deadline_ms is an
 * absolute CLOCK_MONOTONIC time in milliseconds (lk_now_ms() + budget).
 * Returns the fd, or -errno: -ENOENT/-ECONNREFUSED (no daemon), -ETIMEDOUT,
 * -EPERM (server is not root).
 */
int lk_client_connect(const char *path, int require_root_server, uint64_t deadline_ms);

/*
 * Send req and receive one reply into rep (both may hold secrets: pass
 * secret memory). Checks that the reply's seq equals the request's and that
 * it is a reply type. The encode buffer is secret memory and is wiped.
 * Returns 0, -ETIMEDOUT, -EBADMSG (garbage), -ECONNRESET (server closed).
 */
int lk_client_call(int fd, const struct lk_msg *req, struct lk_msg *rep, uint64_t deadline_ms);

/* Receive only (the STATUS entries after the first reply). */
int lk_client_recv(int fd, struct lk_msg *m, uint64_t deadline_ms);

/*
 * How a client sends one request and receives its reply: the module keeps
 * one connection and a deadline, latchkeyctl connects per request. call()
 * returns 0 with the reply in rep (LK_REP_ERROR included), or -errno.
 * derive() is lk_kdf_derive when NULL (the module passes one that stops its
 * deadline clock while Argon2id runs).
 */
struct lk_client_io {
	int (*call)(void *userdata, struct lk_msg *req, struct lk_msg *rep);
	int (*derive)(void *userdata, const struct lk_kdf_params *kdf, const char *secret, size_t len,
	              uint8_t out[LK_WRAP_KEY_SIZE]);
	void *userdata;
};

/*
 * The key of a new slot of kind for uid: KDF_PARAMS with LK_KDF_F_FRESH
 * (a fresh salt and the machine's current cost, never the old slot's),
 * then *ret_key = KDF(secret, *ret_kdf). req and rep are the caller's
 * secret memory. 0 with the key; 1 when the daemon refused (rep holds its
 * LK_REP_ERROR: lk_msg_status says why); -EBADMSG for another reply or
 * parameters out of bounds (lk_kdf_params_check: a confused daemon cannot
 * make us burn gigabytes or minutes), or the -errno of the call or the
 * derivation (ret_key then wiped). The floor of a new slot is the daemon's
 * to enforce at REWRAP.
 */
int lk_client_fresh_key(const struct lk_client_io *io, uint32_t uid, uint8_t kind, const char *secret,
                        size_t len, struct lk_msg *req, struct lk_msg *rep, struct lk_kdf_params *ret_kdf,
                        uint8_t ret_key[LK_WRAP_KEY_SIZE]);

/*
 * REWRAP: the slots of kind to_kind replaced by one wrapping P under
 * new_key with kdf, P opened from a slot of kind from_kind with key, or
 * (from_kind 0, key NULL) from the key the daemon holds for a live session.
 * req is wiped after the call. 0 with rep = LK_REP_OK or LK_REP_ERROR;
 * -EINVAL (a key exactly when from_kind is named), -EBADMSG for another
 * reply, or the call's -errno.
 */
int lk_client_rewrap(const struct lk_client_io *io, uint32_t uid, uint8_t from_kind, const uint8_t *key,
                     uint8_t to_kind, const struct lk_kdf_params *kdf,
                     const uint8_t new_key[LK_WRAP_KEY_SIZE], struct lk_msg *req, struct lk_msg *rep);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t lk_now_ms(void);

#endif
