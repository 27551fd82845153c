/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User names and uids from hostile sources. */
#ifndef LK_NAMES_H
#define LK_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A name the system's account tools may create: 1..32 bytes (plus an
 * optional trailing '$'), upper case and UTF-8 included; no control
 * characters, space, ':', ',' or '/'; not starting with '-'; not "." or
 * ".."; not all digits (that reads as a uid). */
bool lk_user_name_is_valid(const char *name);

/* Parse a decimal uid with end-pointer and range checks (no sign, no spaces). */
int lk_parse_uid(const char *s, uid_t *ret);

/* Parse an unsigned decimal with the same strictness; bounds inclusive. */
int lk_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret);

#endif
