/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Locked memory for secrets (memlock.c). */
#ifndef LKD_MEMLOCK_H
#define LKD_MEMLOCK_H

struct daemon;

/* Refuse unlocked secret pages from now on and log the budget. 0, or -EPERM
 * (logged) when even the message buffers cannot be locked. */
int daemon_memlock_setup(struct daemon *d);
/* n secret pages were refused during the request just handled: one log
 * line, at most one a minute. */
void daemon_note_secret_refusals(struct daemon *d, unsigned n);

#endif
