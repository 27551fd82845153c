/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The request handlers (requests.c). */
#ifndef LKD_REQUESTS_H
#define LKD_REQUESTS_H

struct conn;
struct lk_msg;

/* < 0 when the connection must be closed after the reply. */
int handle_request(struct conn *c, struct lk_msg *req);

#endif
