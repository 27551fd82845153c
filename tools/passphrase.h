/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading a passphrase into secret memory, from a pipe or a terminal. */
#ifndef LK_CTL_PASSPHRASE_H
#define LK_CTL_PASSPHRASE_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

#define CTL_PASSPHRASE_MAX 1024

/*
 * A passphrase: buf.ptr holds len bytes plus a NUL, in secret memory of
 * CTL_PASSPHRASE_MAX + 1 bytes (zero past len, so whole buffers compare).
 * struct passphrase pw _cleanup_passphrase_ = {};
 */
struct passphrase {
	struct lk_secret buf;
	size_t len;
};
void passphrase_release(struct passphrase *pw);
#define _cleanup_passphrase_ __attribute__((cleanup(passphrase_release)))

/*
 * Read one line from fd with read(2) (no stdio buffer keeps a copy), strip
 * the newline. Returns 0, -ENODATA (empty), -EMSGSIZE (longer than
 * CTL_PASSPHRASE_MAX), -EILSEQ (contains a NUL byte: PAM could never pass
 * it), or -errno. *ret is written only on success.
 */
int passphrase_read_fd(int fd, struct passphrase *ret);

/*
 * Prompt on /dev/tty with echo off (restored on every path, including
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGTSTP, which restore and then take their
 * default action). With confirm, ask twice and compare in constant time:
 * -EKEYREJECTED when they differ. -ENXIO when there is no terminal.
 * Same errors as passphrase_read_fd otherwise.
 */
int passphrase_prompt(const char *prompt, bool confirm, struct passphrase *ret);

/* Human text for an error from the two functions above. */
const char *passphrase_strerror(int r);

#endif
