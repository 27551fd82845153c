/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listening socket and the connections (server.c). */
#ifndef LKD_SERVER_H
#define LKD_SERVER_H

#include <stdint.h>
#include <sys/types.h>
struct daemon;
struct conn;
struct lk_msg;

int server_start(struct daemon *d, int listen_fd);
void server_stop(struct daemon *d);
int conn_send(struct conn *c, const struct lk_msg *m);
/* Turn the connection into a session connection of uid (no idle deadline)
 * and record it for a restarted daemon. */
void conn_make_session(struct conn *c, uid_t uid);
/* The session held by this connection ends (close_session or end-of-file). */
void conn_end_session(struct conn *c);
/* Charge a root peer's connection to uid (no-op if already charged or uid
 * is 0). -EUSERS if that user's share is used up: the caller refuses. */
int conn_charge(struct conn *c, uid_t uid);

#endif
