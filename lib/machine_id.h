/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine identifier that V2 escrow slots are bound to. */
#ifndef LK_MACHINE_ID_H
#define LK_MACHINE_ID_H

#include <stdint.h>

#include "latchkey/format.h"

/* Where the identifier lives (machine-id(5)): 32 lowercase hex digits. */
#define LK_MACHINE_ID_PATH "/etc/machine-id"
/* Test builds only (-Dtest_hooks=true): 32 hex digits that replace the
 * file, so that one host can play two machines. Ignored otherwise. */
#define LK_MACHINE_ID_TEST_ENV "LATCHKEY_TEST_MACHINE_ID"

/* The 16 bytes of /etc/machine-id. -ENOENT, -EBADMSG (not 32 hex digits
 * and a newline), or another -errno; out written only on success. */
int lk_machine_id(uint8_t out[LK_MACHINE_ID_SIZE]);

#endif
