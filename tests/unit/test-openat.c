/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lk_open_nofollow() refuses symlinks in any component, with openat2 and
 * without it (a seccomp filter answers openat2 with ENOSYS, as systemd's
 * RestrictSUIDSGID= does; PR_SET_NO_NEW_PRIVS first, so no privileges are
 * needed); lk_open_subdir() refuses links and mount points, with and
 * without openat2. And the directory stream helpers leave descriptors where they say.
 */
#include "test-util.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "openat.h"

static char dir[64];
static int dir_fd = -1;

static int setup(void **state)
{
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/lk-openat-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/real", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/real/sub", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/real/file", dir);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(path, sizeof(path), "%s/link", dir);
	if (symlink("real", path) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/real/flink", dir);
	if (symlink("file", path) < 0)
		return -1;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	close(dir_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void opens_ok(int at, const char *path, int flags, mode_t type)
{
	struct stat st;
	int fd = -1;

	print_message("open %s\n", path);
	assert_int_equal(lk_open_nofollow(at, path, flags, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & S_IFMT, type);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void check_opens(void)
{
	char path[128];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/real/sub", dir);
	opens_ok(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, S_IFDIR);
	snprintf(path, sizeof(path), "%s/real/sub/", dir);
	opens_ok(AT_FDCWD, path, O_RDONLY, S_IFDIR);
	opens_ok(dir_fd, "real/file", O_RDONLY, S_IFREG);
	opens_ok(dir_fd, "real", O_PATH, S_IFDIR);
	opens_ok(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, S_IFDIR);

	/* A symlink as the last component, and in the middle. */
	assert_int_equal(lk_open_nofollow(dir_fd, "link", O_RDONLY | O_DIRECTORY, &fd), -ELOOP);
	assert_int_equal(lk_open_nofollow(dir_fd, "real/flink", O_RDONLY, &fd), -ELOOP);
	assert_int_equal(lk_open_nofollow(dir_fd, "real/flink", O_PATH, &fd), -ELOOP);
	assert_int_equal(lk_open_nofollow(dir_fd, "link/sub", O_RDONLY, &fd), -ELOOP);
	snprintf(path, sizeof(path), "%s/link/file", dir);
	assert_int_equal(lk_open_nofollow(AT_FDCWD, path, O_RDONLY, &fd), -ELOOP);
	/* A magic link. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d/real", dir_fd);
	assert_int_equal(lk_open_nofollow(AT_FDCWD, path, O_RDONLY, &fd), -ELOOP);

	assert_int_equal(lk_open_nofollow(dir_fd, "missing", O_RDONLY, &fd), -ENOENT);
	assert_int_equal(lk_open_nofollow(dir_fd, "real/file/", O_RDONLY, &fd), -ENOTDIR);
	assert_int_equal(lk_open_nofollow(dir_fd, "", O_RDONLY, &fd), -EINVAL);
	assert_int_equal(lk_open_nofollow(dir_fd, "new", O_WRONLY | O_CREAT, &fd), -EINVAL);
	assert_int_equal(fd, -1); /* never written on failure */
}

/* lk_open_subdir: one component, a directory, no link, no mount crossing. */
static void check_subdirs(void)
{
	_cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int fds = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st_root, st_proc, st;
	char magic[16];
	int fd = -1;

	assert_true(root >= 0 && fds >= 0);
	assert_int_equal(lk_open_subdir(dir_fd, "real", 0, &fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = -1;

	assert_int_equal(lk_open_subdir(dir_fd, "link", 0, &fd), -ELOOP);
	snprintf(magic, sizeof(magic), "%d", dir_fd);
	assert_int_equal(lk_open_subdir(fds, magic, 0, &fd), -ELOOP);
	assert_int_equal(lk_open_subdir(dir_fd, "real/sub", 0, &fd), -EINVAL);
	assert_int_equal(lk_open_subdir(dir_fd, "..", 0, &fd), -EINVAL);
	assert_int_equal(lk_open_subdir(dir_fd, ".", 0, &fd), -EINVAL);
	assert_int_equal(lk_open_subdir(dir_fd, "real", O_RDWR, &fd), -EINVAL);
	assert_int_equal(lk_open_subdir(dir_fd, "missing", 0, &fd), -ENOENT);
	assert_int_equal(lk_open_subdir(dir_fd, "real/file", 0, &fd), -EINVAL);
	/* /proc is its own mount wherever it is mounted at all. */
	if (stat("/", &st_root) == 0 && stat("/proc", &st_proc) == 0 && st_root.st_dev != st_proc.st_dev)
		assert_int_equal(lk_open_subdir(root, "proc", 0, &fd), -EXDEV);
	assert_int_equal(fd, -1); /* never written on failure */
}

static void test_with_openat2(void **state)
{
	check_opens();
	check_subdirs();
}

static void test_opendir(void **state)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	bool seen = false;
	int fd;

	/* "." gives a stream of dir_fd without taking it. */
	assert_int_equal(lk_opendir_at(dir_fd, ".", 0, &d), 0);
	assert_int_not_equal(dirfd(d), dir_fd);
	while ((de = readdir(d)))
		seen |= strcmp(de->d_name, "real") == 0;
	assert_true(seen);
	assert_true(fcntl(dir_fd, F_GETFD) >= 0);
	closedir(TAKE_PTR(d));
	assert_true(fcntl(dir_fd, F_GETFD) >= 0);
	assert_int_equal(lk_opendir_at(dir_fd, "real/file", 0, &d), -ENOTDIR);
	assert_null(d);

	/* take: moved on success, still the caller's on failure. */
	fd = openat(dir_fd, "real", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lk_fdopendir_take(&fd, &d), 0);
	assert_int_equal(fd, -1);
	closedir(TAKE_PTR(d));
	fd = openat(dir_fd, "real/file", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(lk_fdopendir_take(&fd, &d), -ENOTDIR);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

static void test_openat2_enosys(void **state)
{
	struct sock_filter filter[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = ELEMENTSOF(filter), .filter = filter};

	assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	assert_int_equal(syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0), -1);
	assert_int_equal(errno, ENOSYS);
	check_opens();
	check_subdirs();
}

int main(void)
{
	/* The filter test last: the filter stays for the rest of the process. */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_with_openat2),
	    cmocka_unit_test(test_opendir),
	    cmocka_unit_test(test_openat2_enosys),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
