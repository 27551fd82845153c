/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LK_CTL_STATUS_HOME_H
#define LK_CTL_STATUS_HOME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* uid's home (passwd) exists on ext4/f2fs and is not encrypted: its path
 * and the user name into the buffers, and true. */
bool status_plain_home(uid_t uid, char *home, size_t home_size, char *user, size_t user_size);

#endif
