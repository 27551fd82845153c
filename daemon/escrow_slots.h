/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What V2 escrow slots are bound to (escrow_slots.c). */
#ifndef LKD_ESCROW_SLOTS_H
#define LKD_ESCROW_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/format.h"
#include "protector.h"
struct daemon;

/* store_load_protector, with the binding (user name, machine id) that V2
 * escrow slots need set when both are known. */
int daemon_load_protector(struct daemon *d, uid_t uid, struct lk_protector *ret);
/* Replace pr's escrow slots (only_v1: only if one of them is V1) with one V2
 * slot wrapping p, sealed to the machine's escrow.pub, in memory. *ret_done
 * false and 0 when there is nothing to do or no escrow.pub; -errno (logged)
 * when it cannot be done. pr is changed only on success. */
int daemon_escrow_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                         bool only_v1, bool *ret_done);

#endif
