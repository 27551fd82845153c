/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LK_POLICY_ANCESTORS_H
#define LK_POLICY_ANCESTORS_H

#include <stddef.h>

/*
 * Whether a user other than root could rename path away: one of its
 * ancestors ("/" down to its parent) is not root's, or is writable by group
 * or others without the sticky bit (in a sticky directory only an entry's
 * owner, here root, may rename it). A renamed cache root keeps its users'
 * keys out of reach of the lock that works by path.
 * 0: none is. 1: why gets a message naming the ancestor and the fix.
 * -errno: the path cannot be walked (-ELOOP: a symbolic link on the way).
 * path must be absolute and normalised (lk_path_is_valid).
 */
int lk_ancestors_check(const char *path, char *why, size_t why_size);

#endif
