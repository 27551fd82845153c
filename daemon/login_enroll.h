/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LOGIN_ENROLL request's work (login_enroll.c). */
#ifndef LKD_LOGIN_ENROLL_H
#define LKD_LOGIN_ENROLL_H

#include <stdint.h>

#include "protector.h"
struct daemon;
struct lk_msg;

/* The LOGIN_ENROLL request's work. Without a key in req,
 * *ret_kdf gets the new slot's parameters; with one, uid is enrolled and
 *  *ret_flags gets LK_LEF_*. Returns 0 or -errno (-EPERM: not covered by
 * enroll_at_login, -EEXIST: enrolled already), *why on error. */
int daemon_login_enroll(struct daemon *d, const struct lk_msg *req, struct lk_kdf_params *ret_kdf,
                        uint32_t *ret_flags, const char **why);

#endif
