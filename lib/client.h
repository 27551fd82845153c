/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client side of the daemon socket, shared by the PAM module and latchkeyctl.
 * Nothing here logs; callers decide what to tell whom. */
#ifndef LK_CLIENT_H
#define LK_CLIENT_H

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

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t lk_now_ms(void);

#endif
