/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_latchkey.so under pam_wrapper: the real libpam dispatching through
 * service files generated into the build directory (services/), against
 * the fake daemon of fake-daemon.c. No root needed except for the
 * wrong-uid server case, which is skipped otherwise. Password change and
 * the out-of-sync login are in test-pam-password.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#include "fake-daemon.h"
#include "harness.h"
#include "kdf.h"
#include "module.h"
#include "wire.h"

/* ---- PAM semantics ---- */

/* The mapping itself: authenticate never yields PAM_SUCCESS, whatever the outcome. */
static void test_result_mapping(void **state)
{
	const int rs[] = {0, LK_PAM_SKIP, -ENOMEM, -ETIMEDOUT, -EPERM, -EBADMSG, -EKEYREJECTED};

	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		assert_int_equal(lk_pam_result(LK_PAM_AUTHENTICATE, rs[i]), PAM_IGNORE);
		assert_int_equal(lk_pam_result(LK_PAM_SETCRED, rs[i]), PAM_IGNORE);
		assert_int_equal(lk_pam_result(LK_PAM_CHAUTHTOK, rs[i]), PAM_IGNORE);
		assert_int_equal(lk_pam_result(LK_PAM_OPEN_SESSION, rs[i]),
		                 rs[i] == 0 ? PAM_SUCCESS : PAM_IGNORE);
	}
}

/* §8.6: module alone as `auth sufficient` never lets anyone in, even after
 * handing a credential to a daemon that accepted it. */
static void test_alone_sufficient_fails(void **state)
{
	start(FAKE_NORMAL, 0);
	/* lk_alone: PAM_AUTHTOK set by pam_set_items (whose success does not count), then us sufficient. */
	run_one("lk_alone", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_PERM_DENIED, NULL);
	assert_int_equal(fake.rec->got_key, 1);
	/* lk_only: nothing but the module. */
	run_one("lk_only", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_PERM_DENIED, NULL);
}

static void test_stack_right_password(void **state)
{
	uint8_t w[LK_WRAP_KEY_SIZE];

	start(FAKE_NORMAL, 0);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	assert_int_equal(fake.rec->n_msgs, 2);
	assert_int_equal(fake.rec->types[0], LK_REQ_KDF_PARAMS);
	assert_int_equal(fake.rec->types[1], LK_REQ_AUTH_SUBMIT);
	assert_int_equal(fake.rec->uids[0], USER_UID);
	assert_int_equal(fake.rec->uids[1], USER_UID);
	assert_int_equal(fake.rec->got_key, 1);
	assert_int_equal(lk_kdf_derive(&fake.rec->kdf, RIGHT_PW, strlen(RIGHT_PW), w), 0);
	assert_memory_equal(w, fake.rec->key, sizeof(w));
	sync_fake();
	assert_module_connections(&fake, 1);
	assert_int_equal(fake.rec->open_at_probe, 0); /* auth keeps nothing open */
}

/* A daemon that closed the connection while the module derived (latchkeyd
 * drops one idle for 5 s; 100 logins at once on two cores take longer) still
 * gets the credential, on a second connection, sent once. */
static void test_connection_closed_during_derivation(void **state)
{
	uint8_t w[LK_WRAP_KEY_SIZE];

	start(FAKE_IDLE_CLOSE, 0);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	assert_int_equal(fake.rec->got_key, 1);
	assert_int_equal(fake.rec->n_submits, 1);
	assert_int_equal(lk_kdf_derive(&fake.rec->kdf, RIGHT_PW, strlen(RIGHT_PW), w), 0);
	assert_memory_equal(w, fake.rec->key, sizeof(w));
	sync_fake();
	assert_module_connections(&fake, 2);
	assert_int_equal(fake.rec->open_at_probe, 0);
}

/* The daemon read the credential and closed the connection without an
 * answer: the module sends it once more, on a new connection. */
static void test_submit_dropped_unanswered(void **state)
{
	start(FAKE_DROP_SUBMIT, 0);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	assert_int_equal(fake.rec->dropped_submits, 2);
	assert_int_equal(fake.rec->got_key, 1);
	sync_fake();
	assert_module_connections(&fake, 2);
	assert_int_equal(fake.rec->open_at_probe, 0);
}

static void test_stack_wrong_password(void **state)
{
	uint8_t w[LK_WRAP_KEY_SIZE];

	start(FAKE_NORMAL, 0);
	run_one("lk_stack", USER, WRONG_PW, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, NULL);
	/* Whatever it submitted, it was not the right password's key. */
	assert_int_equal(lk_kdf_derive(&fake.rec->kdf, RIGHT_PW, strlen(RIGHT_PW), w), 0);
	if (fake.rec->got_key)
		assert_memory_not_equal(w, fake.rec->key, sizeof(w));
}

/* §8.3/§8.4: hostile or system PAM_USER values never reach the daemon. */
static void test_bad_users_no_connection(void **state)
{
	char longname[301];
	const char *users[] = {NULL,       "",       "../../etc",         "a/b",
	                       "nobody\n", longname, "lk-no-such-user-x", "root"};

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	start(FAKE_NORMAL, 0);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		run_one("lk_only", users[i], RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_PERM_DENIED, NULL);
		run_one("lk_session", users[i], RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_PERM_DENIED, NULL);
	}
	/* uid below min_uid= */
	run_one("lk_minuid", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	run_one("lk_minuid", USER, RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_SUCCESS, NULL);
	sync_fake();
	assert_module_connections(&fake, 0);
	assert_int_equal(fake.rec->n_msgs, 0);
}

/* §8.8: absent, hung or garbage daemon: the stack's result, within the budget. */
static void check_degraded(int mode)
{
	long long ns;

	if (mode >= 0)
		start((enum fake_mode)mode, 0);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, &ns);
	assert_true(ns < BUDGET_NS);
	run_one("lk_stack", USER, WRONG_PW, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &ns);
	assert_true(ns < BUDGET_NS);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_SUCCESS, &ns);
	assert_true(ns < BUDGET_NS);
	/* The module alone shows its own answer: ignored, not success. */
	run_one("lk_session", USER, RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_PERM_DENIED, &ns);
	assert_true(ns < BUDGET_NS);
	if (mode >= 0)
		assert_int_equal(fake.rec->got_key, 0);
}

static void test_daemon_absent(void **state)
{
	(void)unlink(sock_path);
	check_degraded(-1);
}

static void test_daemon_hang(void **state)
{
	check_degraded(FAKE_HANG);
}

static void test_daemon_garbage(void **state)
{
	check_degraded(FAKE_GARBAGE);
}

/* §8.23: a listener that is not root never hears the key. */
static void test_wrong_uid_server(void **state)
{
	if (geteuid() != 0)
		skip(); /* needs root to switch the fake server to uid 65534 */
	start(FAKE_WRONG_UID, 0);
	run_one("lk_stack", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	run_one("lk_session", USER, RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_PERM_DENIED, NULL);
	sync_fake();
	assert_int_equal(fake.rec->n_msgs, 0);
	assert_int_equal(fake.rec->got_key, 0);
}

/* ---- sessions ---- */

/* fds of this process connected to the fake daemon's socket */
static int count_daemon_fds(int *ret_fd)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);

		if (fcntl(fd, F_GETFD) < 0)
			continue;
		if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX)
			continue;
		if (len > offsetof(struct sockaddr_un, sun_path) && strcmp(sa.sun_path, sock_path) == 0) {
			n++;
			*ret_fd = fd;
		}
	}
	return n;
}

/* §8.10: exec a child and look at its fd table for the session socket. */
static void check_not_inherited(int fd)
{
	struct stat st;
	char needle[64], out[8192] = "";
	int p[2], status;
	ssize_t k, total = 0;
	pid_t pid;

	assert_int_equal(fstat(fd, &st), 0);
	snprintf(needle, sizeof(needle), "socket:[%lu]", (unsigned long)st.st_ino);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execl("/bin/ls", "ls", "-l", "/proc/self/fd/", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((k = read(p[0], out + total, sizeof(out) - 1 - (size_t)total)) > 0)
		total += k;
	out[total] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_null(strstr(out, needle));
}

static void test_session_lifecycle(void **state)
{
	const char *pw[] = {RIGHT_PW, NULL};
	struct pamtest_conv_data conv = {.in_echo_off = pw};
	struct pam_testcase tests[] = {
	    pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
	    pam_test(PAMTEST_KEEPHANDLE, PAM_SUCCESS),
	};
	struct host_state st;
	pam_handle_t *ph;
	int fd = -1;

	start(FAKE_NORMAL, 0);
	host_state_get(&st);
	assert_int_equal(run_pamtest("lk_session", USER, &conv, tests, NULL), PAMTEST_ERR_OK);
	host_state_check(&st);
	ph = tests[1].case_out.ph;
	assert_non_null(ph);

	/* Exactly one connection, kept open, CLOEXEC, not inherited over exec. */
	sync_fake();
	assert_module_connections(&fake, 1);
	assert_int_equal(fake.rec->open_at_probe, 1);
	assert_int_equal(fake.rec->types[0], LK_REQ_SESSION_OPEN);
	assert_int_equal(fake.rec->uids[0], USER_UID);
	assert_string_equal(fake.rec->text, "lk_session");
	assert_int_equal(count_daemon_fds(&fd), 1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	check_not_inherited(fd);

	host_state_get(&st);
	assert_int_equal(pam_close_session(ph, 0), PAM_SUCCESS);
	host_state_check(&st);
	sync_fake();
	assert_int_equal(fake.rec->open_at_probe, 0);
	assert_int_equal(fake.rec->types[1], LK_REQ_SESSION_CLOSE);
	assert_int_equal(count_daemon_fds(&fd), 0);

	/* A second close has no session to end. */
	assert_int_equal(pam_close_session(ph, 0), PAM_PERM_DENIED);
	assert_int_equal(pam_end(ph, PAM_SUCCESS), PAM_SUCCESS);
}

/* pam_end without close_session still closes the connection (the daemon sees EOF). */
static void test_session_end_without_close(void **state)
{
	const char *pw[] = {RIGHT_PW, NULL};
	struct pamtest_conv_data conv = {.in_echo_off = pw};
	struct pam_testcase tests[] = {pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS)};
	int fd;

	start(FAKE_NORMAL, 0);
	assert_int_equal(run_pamtest("lk_session", USER, &conv, tests, NULL), PAMTEST_ERR_OK);
	sync_fake();
	assert_module_connections(&fake, 1);
	assert_int_equal(fake.rec->open_at_probe, 0);
	assert_int_equal(count_daemon_fds(&fd), 0);
}

static void test_session_still_locked_message(void **state)
{
	const char *pw[] = {RIGHT_PW, NULL};
	/* libpamtest copies each message into caller-provided buffers. */
	static char bufs[8][PAM_MAX_MSG_SIZE];
	char *info[8];
	struct pamtest_conv_data conv = {.in_echo_off = pw, .out_info = info};
	struct pam_testcase tests[] = {pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS)};
	int found = 0;

	memset(bufs, 0, sizeof(bufs));
	for (size_t i = 0; i < 8; i++)
		info[i] = bufs[i];

	start(FAKE_NORMAL, LK_RF_STILL_LOCKED);
	assert_int_equal(run_pamtest("lk_session", USER, &conv, tests, NULL), PAMTEST_ERR_OK);
	for (size_t i = 0; i < sizeof(info) / sizeof(info[0]); i++) {
		if (strstr(info[i], "stay locked"))
			found = 1;
	}
	assert_true(found);
}

/* §8.23 / §2.3: the socket path never comes from the environment. */
static void test_env_socket_ignored(void **state)
{
	const char *vars[] = {"LATCHKEY_SOCKET", "LK_SOCKET_PATH", "LATCHKEYD_SOCKET",
	                      "LATCHKEY_SOCKET_PATH"};

	start(FAKE_NORMAL, 0);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		assert_int_equal(setenv(vars[i], sock_path, 1), 0);
	/* lk_default: no socket= argument, so the compiled-in path (absent here) is used. */
	run_one("lk_default", USER, RIGHT_PW, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
	run_one("lk_default", USER, RIGHT_PW, PAMTEST_OPEN_SESSION, PAM_SUCCESS, NULL);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	sync_fake();
	assert_module_connections(&fake, 0);
	assert_int_equal(fake.rec->got_key, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_result_mapping),
	    cmocka_unit_test_teardown(test_alone_sufficient_fails, teardown),
	    cmocka_unit_test_teardown(test_stack_right_password, teardown),
	    cmocka_unit_test_teardown(test_connection_closed_during_derivation, teardown),
	    cmocka_unit_test_teardown(test_submit_dropped_unanswered, teardown),
	    cmocka_unit_test_teardown(test_stack_wrong_password, teardown),
	    cmocka_unit_test_teardown(test_bad_users_no_connection, teardown),
	    cmocka_unit_test_teardown(test_daemon_absent, teardown),
	    cmocka_unit_test_teardown(test_daemon_hang, teardown),
	    cmocka_unit_test_teardown(test_daemon_garbage, teardown),
	    cmocka_unit_test_teardown(test_wrong_uid_server, teardown),
	    cmocka_unit_test_teardown(test_session_lifecycle, teardown),
	    cmocka_unit_test_teardown(test_session_end_without_close, teardown),
	    cmocka_unit_test_teardown(test_session_still_locked_message, teardown),
	    cmocka_unit_test_teardown(test_env_socket_ignored, teardown),
	};

	if (harness_init() != 0)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
