/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lk_random_bytes (declared in crypto.h) in a file of its own: it needs no
 * OpenSSL, so the PAM module, which uses it only through kdf.c, does not load
 * libcrypto (a NODELETE library: it would stay mapped after pam_end). */
#include <errno.h>
#include <sys/random.h>

#include "crypto.h"
#include "secret.h"

int lk_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = -errno;
			lk_wipe(buf, done);
			return r;
		}
		done += (size_t)n;
	}
	return 0;
}
