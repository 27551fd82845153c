/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passphrase_read_fd: one line, newline stripped, bounded, empty refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passphrase.h"

static int failures;

/* Feed input through a pipe, read one passphrase, compare. want_r < 0
 * expects that error; else want/want_len is the passphrase. rest is what
 * must still be unread in the pipe afterwards. */
static void check(const char *what, const char *in, size_t in_len, int want_r, const char *want,
                  size_t want_len, const char *rest)
{
	struct passphrase pw _cleanup_passphrase_ = {};
	int fds[2];
	char tail[64] = "";
	ssize_t k;
	int r;

	if (pipe(fds) < 0 || write(fds[1], in, in_len) != (ssize_t)in_len) {
		perror("pipe");
		exit(1);
	}
	close(fds[1]);

	r = passphrase_read_fd(fds[0], &pw);
	if (r != want_r) {
		fprintf(stderr, "FAIL %s: r=%d want %d\n", what, r, want_r);
		failures++;
	} else if (r == 0 && (pw.len != want_len || memcmp(pw.buf.ptr, want, want_len) != 0 ||
	                      ((char *)pw.buf.ptr)[pw.len] != '\0')) {
		fprintf(stderr, "FAIL %s: wrong passphrase (len %zu, want %zu)\n", what, pw.len, want_len);
		failures++;
	} else if (r < 0 && pw.buf.ptr) {
		fprintf(stderr, "FAIL %s: output written on error\n", what);
		failures++;
	}

	k = read(fds[0], tail, sizeof(tail) - 1);
	if (rest && (k < 0 || strcmp(tail, rest) != 0)) {
		fprintf(stderr, "FAIL %s: left [%s] unread, want [%s]\n", what, tail, rest);
		failures++;
	}
	close(fds[0]);
}

int main(void)
{
	char big[CTL_PASSPHRASE_MAX + 2];

	check("newline stripped", "hunter2\n", 8, 0, "hunter2", 7, "");
	check("no newline", "hunter2", 7, 0, "hunter2", 7, "");
	check("one line only", "first\nsecond\n", 13, 0, "first", 5, "second\n");
	check("CR kept", "a b\r\n", 5, 0, "a b\r", 4, "");
	check("spaces kept", "  x  \n", 6, 0, "  x  ", 5, "");
	check("utf8", "p\xc3\xa4ss\n", 6, 0, "p\xc3\xa4ss", 5, "");
	check("empty line", "\n", 1, -ENODATA, NULL, 0, "");
	check("empty input", "", 0, -ENODATA, NULL, 0, "");
	check("NUL refused", "ab\0cd\n", 6, -EILSEQ, NULL, 0, NULL);

	memset(big, 'x', sizeof(big));
	big[CTL_PASSPHRASE_MAX] = '\n';
	check("max length", big, CTL_PASSPHRASE_MAX + 1, 0, big, CTL_PASSPHRASE_MAX, "");
	big[CTL_PASSPHRASE_MAX] = 'x';
	big[CTL_PASSPHRASE_MAX + 1] = '\n';
	check("too long", big, CTL_PASSPHRASE_MAX + 2, -EMSGSIZE, NULL, 0, NULL);

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
