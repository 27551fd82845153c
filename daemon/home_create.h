/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* create_home: a missing home made encrypted at the first login, and the
 * skeleton copied into it after its key is set. */
#ifndef LKD_HOME_CREATE_H
#define LKD_HOME_CREATE_H

#include <pwd.h>
#include <stdint.h>

#include "latchkey/format.h"

struct daemon;

/* pw's home, if missing: created empty (mode 0700), encrypted (v2) with a
 * key wrapped by p, owned by the user, recorded in the index, given
 * HOME_MODE from login.defs (else 0700), then filled from home_skel. An
 * existing unencrypted home is left alone and logged. Returns LK_LEF_*. */
uint32_t home_create(struct daemon *d, uid_t uid, const struct passwd *pw,
                     const uint8_t p[LK_PROTECTOR_KEY_SIZE]);

/* Copy the tree at skel into the directory dst_fd as root, never following
 * a symlink (symlinks are copied as symlinks; other special files are
 * skipped), everything chowned to uid:gid, no set-id bits. 0 or -errno. */
int skel_copy(const char *skel, int dst_fd, uid_t uid, gid_t gid);

#endif
