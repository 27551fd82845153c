/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * root_open() refuses symlinks in any component, with openat2 and
 * without it. latchkeyd.service's RestrictSUIDSGID= makes systemd answer
 * openat2() with ENOSYS, so under its unit the daemon always takes the
 * component-by-component walk; a seccomp filter here does the same to this
 * process (PR_SET_NO_NEW_PRIVS first, so no privileges are needed).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "root.h"

static char dir[64];

static int setup(void **state)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/lk-policy-root-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/real", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/real/sub", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/link", dir);
	if (symlink("real", path) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void check_opens(void)
{
	char path[128];
	int fd = -1, r;

	snprintf(path, sizeof(path), "%s/real/sub", dir);
	assert_int_equal(root_open(path, &fd), 0);
	assert_true(fd >= 0);
	close(fd);

	/* A symlink as the last component (openat2 says ENOTDIR there, under
	 * O_DIRECTORY|O_NOFOLLOW), and in the middle. */
	snprintf(path, sizeof(path), "%s/link", dir);
	r = root_open(path, &fd);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	snprintf(path, sizeof(path), "%s/link/sub", dir);
	assert_int_equal(root_open(path, &fd), -ELOOP);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(root_open(path, &fd), -ENOENT);
	assert_int_equal(root_open("relative", &fd), -EINVAL);
}

static void test_with_openat2(void **state)
{
	check_opens();
}

static void test_openat2_enosys(void **state)
{
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

	assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	assert_int_equal(syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0), -1);
	assert_int_equal(errno, ENOSYS);
	check_opens();
}

int main(void)
{
	/* The filter test last: the filter stays for the rest of the process. */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_with_openat2),
	    cmocka_unit_test(test_openat2_enosys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
