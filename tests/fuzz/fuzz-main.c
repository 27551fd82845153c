/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay driver for builds without libFuzzer: runs the target once on each
 * file named on the command line, and on every regular file of each named
 * directory (the committed seed corpus), so `meson test` exercises them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fuzz.h"

static int run_fd(int fd, const char *name)
{
	_cleanup_free_ uint8_t *buf = malloc(LK_FUZZ_MAX_INPUT + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (len <= LK_FUZZ_MAX_INPUT) {
		n = read(fd, buf + len, LK_FUZZ_MAX_INPUT + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %m\n", name);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > LK_FUZZ_MAX_INPUT)
		len = LK_FUZZ_MAX_INPUT;
	(void)LLVMFuzzerTestOneInput(buf, len);
	return 0;
}

static int run_path(int dfd, const char *name, const char *shown, unsigned *count)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %m\n", shown);
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = fdopendir(TAKE_FD(fd));
		struct dirent *de;
		int r = 0;

		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			r = run_path(dirfd(d), de->d_name, de->d_name, count);
			if (r < 0)
				break;
		}
		closedir(d);
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	(*count)++;
	return run_fd(fd, shown);
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++)
		if (run_path(AT_FDCWD, argv[i], argv[i], &count) < 0)
			return EXIT_FAILURE;
	printf("%s: replayed %u input(s)\n", argc > 0 ? argv[0] : "fuzz", count);
	return EXIT_SUCCESS;
}
