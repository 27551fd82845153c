/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RELOCATE request's work (relocate.c). */
#ifndef LKD_RELOCATE_H
#define LKD_RELOCATE_H

#include <stdint.h>
#include <sys/types.h>

#include "latchkey/format.h"
struct daemon;

/* The RELOCATE request's work (flags LK_RLF_*). Returns 0 or -errno
 * (-ENOENT: no such root, -EEXIST, -EINVAL); *why a static explanation
 * for the client on error. */
int daemon_relocate_root(struct daemon *d, uid_t uid, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path,
                         uint32_t flags, const char **why);

#endif
