/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Read exactly 64 key bytes from stdin, print the fscrypt v2 key identifier
 * as 32 hex digits. For test-keyid-kernel.sh (root tier); not installed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "latchkey/format.h"
#include "secret.h"

int main(void)
{
	struct lk_secret key _cleanup_secret_ = {};
	uint8_t id[16], extra;
	char hex[33];
	size_t got = 0;
	ssize_t n;

	if (lk_secret_new(&key, LK_MASTER_KEY_SIZE) < 0)
		return 1;
	/* read(2), not stdio: no copy of the key in a stdio buffer. */
	while (got < LK_MASTER_KEY_SIZE) {
		n = read(STDIN_FILENO, (uint8_t *)key.ptr + got, LK_MASTER_KEY_SIZE - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "lk-keyid: need exactly %d bytes on stdin\n", LK_MASTER_KEY_SIZE);
			return 1;
		}
		got += (size_t)n;
	}
	do
		n = read(STDIN_FILENO, &extra, 1);
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		fprintf(stderr, "lk-keyid: need exactly %d bytes on stdin\n", LK_MASTER_KEY_SIZE);
		return 1;
	}
	if (lk_fscrypt_key_identifier(key.ptr, LK_MASTER_KEY_SIZE, id) < 0)
		return 1;
	printf("%s\n", lk_hex(id, sizeof(id), hex));
	return 0;
}
