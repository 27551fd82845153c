/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests (cmocka needs these includes in order). */
#ifndef LK_TEST_UTIL_H
#define LK_TEST_UTIL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "crypto.h"

/* Decode a hex literal of a test vector into a malloc()ed buffer. */
static inline uint8_t *unhex_alloc(const char *hex, size_t *ret_len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	assert_non_null(b);
	assert_int_equal(strlen(hex) % 2, 0);
	assert_int_equal(lk_unhex(hex, b, n), 0);
	*ret_len = n;
	return b;
}

/* A private directory under /tmp for tests that write files, created by the
 * cmocka setup hook and removed (with its entries) by the teardown hook. */
struct tmpdir {
	char path[64];
	int fd;
};

static inline int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->path, "/tmp/lk-test-fileio-XXXXXX");
	if (!mkdtemp(t->path))
		return -1;
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0)
		return -1;
	*state = t;
	return 0;
}

static inline int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	struct dirent *de;
	DIR *d;

	d = fdopendir(t->fd);
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	(void)rmdir(t->path);
	free(t);
	return 0;
}

/* Number of entries in dfd other than "." and "..". */
static inline int count_entries(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	struct dirent *de;
	DIR *d = fdopendir(fd);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

#endif
