/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "crypto.h"
#include "machine_id.h"

static int parse_id(const char *hex, size_t len, uint8_t out[LK_MACHINE_ID_SIZE])
{
	uint8_t id[LK_MACHINE_ID_SIZE];

	if (len != 2 * LK_MACHINE_ID_SIZE || lk_unhex(hex, id, sizeof(id)) < 0)
		return -EBADMSG;
	memcpy(out, id, sizeof(id));
	return 0;
}

int lk_machine_id(uint8_t out[LK_MACHINE_ID_SIZE])
{
	_cleanup_close_ int fd = -1;
	char buf[2 * LK_MACHINE_ID_SIZE + 2];
	ssize_t n;

#if LK_TEST_HOOKS
	const char *env = getenv(LK_MACHINE_ID_TEST_ENV);

	if (env && *env)
		return parse_id(env, strlen(env), out);
#endif
	fd = open(LK_MACHINE_ID_PATH, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Exactly the id and its newline: anything longer is not machine-id(5). */
	if (n != (ssize_t)sizeof(buf) - 1 || buf[n - 1] != '\n')
		return -EBADMSG;
	return parse_id(buf, (size_t)n - 1, out);
}
