/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every request handler uses to check its request and answer it
 * (requests.c), and the handlers that live in other files. */
#ifndef LKD_REPLIES_H
#define LKD_REPLIES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"

void reply_error(struct conn *c, uint32_t status, int err, const char *text);
void reply_ok(struct conn *c);
/* Replies PROTOCOL unless every field is present. */
bool require(struct conn *c, const struct lk_msg *req, uint32_t fields);
/* Reply PERM unless the peer is root (or, for the second, the user uid). */
bool peer_is_root(struct conn *c);
bool peer_may_act_for(struct conn *c, uid_t uid);

/* requests_identity.c: FORGET, UNENROLL, USERS */
void handle_forget(struct conn *c, const struct lk_msg *req);
void handle_unenroll(struct conn *c, const struct lk_msg *req);
void handle_users(struct conn *c, const struct lk_msg *req);

#endif
