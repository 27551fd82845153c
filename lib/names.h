/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User names and uids from hostile sources. */
#ifndef LK_NAMES_H
#define LK_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* [a-z_][a-z0-9_.-]{0,31} with an optional trailing '$'; never "." or "..". */
bool lk_user_name_is_valid(const char *name);

/* Parse a decimal uid with end-pointer and range checks (no sign, no spaces). */
int lk_parse_uid(const char *s, uid_t *ret);

/* Parse an unsigned decimal with the same strictness; bounds inclusive. */
int lk_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret);

#endif
