/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam-host: one login process for bench/run, driven through the real libpam
 * as login and sshd drive it: the process that opened the session stays
 * alive, holding it, until it is told to close it. Links libpam only, so
 * its memory is what any PAM host has plus what the modules bring.
 *
 * Commands on stdin, one per line; one reply line on stdout each:
 *   password PW          the password the conversation answers (no reply)
 *   login SERVICE USER   pam_start, then pam_authenticate + pam_open_session
 *                        -> "ok START_MS LOGIN_MS CPU_MS" | "fail STEP TEXT"
 *   logout [DIR KEYIDS]  pam_close_session + pam_end; with DIR (on the
 *                        encrypted filesystem; not an encrypted directory,
 *                        whose open fd would keep a key busy) and KEYIDS
 *                        (comma-separated, 32 hex digits each), then polls
 *                        the kernel's key status every 0.2 ms until every
 *                        key is absent (at most 5 s)
 *                        -> "ok CLOSE_MS LOCKED_MS STATE" (STATE: absent,
 *                        present, incomplete; LOCKED_MS -1 if not absent)
 *   chauthtok SERVICE USER OLD NEW   pam_chauthtok as USER's passwd(1)
 *                        would run it (real uid USER), in a child process
 *                        -> "ok MS PEAK_RSS_KIB" | "fail TEXT"
 *   status               -> "rss KIB hwm KIB threads N" (/proc/self/status)
 *   quit
 * CPU_MS is this process's user + system time for the login, all threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fscrypt.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

static char password[1024], old_pw[1024], new_pw[1024];
static pam_handle_t *handle;

static const char *answer(const char *prompt)
{
	if (new_pw[0]) /* pam_unix: "Current password: ", "New password: ", "Retype new password: " */
		return strcasestr(prompt, "current") ? old_pw : new_pw;
	return password;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(answer(msg[i]->msg));
	*resp = r;
	return PAM_SUCCESS;
}

static const struct pam_conv conversation = {conv, NULL};

static void do_login(const char *service, const char *user)
{
	double t0, t1, t2, c0;
	int r;

	if (handle) {
		printf("fail login already-logged-in\n");
		return;
	}
	t0 = now_ms();
	r = pam_start(service, user, &conversation, &handle);
	if (r != PAM_SUCCESS) {
		printf("fail pam_start %s\n", pam_strerror(NULL, r));
		handle = NULL;
		return;
	}
	t1 = now_ms();
	c0 = cpu_ms();
	r = pam_authenticate(handle, 0);
	if (r != PAM_SUCCESS) {
		printf("fail authenticate %s\n", pam_strerror(handle, r));
		return;
	}
	r = pam_open_session(handle, 0);
	t2 = now_ms();
	if (r != PAM_SUCCESS) {
		printf("fail open_session %s\n", pam_strerror(handle, r));
		return;
	}
	printf("ok %.3f %.3f %.3f\n", t1 - t0, t2 - t1, cpu_ms() - c0);
}

static int hex_key_id(const char *hex, uint8_t id[FSCRYPT_KEY_IDENTIFIER_SIZE])
{
	if (strlen(hex) != 2 * FSCRYPT_KEY_IDENTIFIER_SIZE)
		return -EINVAL;
	for (int i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++)
		if (sscanf(hex + 2 * i, "%2hhx", &id[i]) != 1)
			return -EINVAL;
	return 0;
}

static int key_state(int fd, const uint8_t id[FSCRYPT_KEY_IDENTIFIER_SIZE])
{
	struct fscrypt_get_key_status_arg arg = {};

	arg.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
	memcpy(arg.key_spec.u.identifier, id, FSCRYPT_KEY_IDENTIFIER_SIZE);
	if (ioctl(fd, FS_IOC_GET_ENCRYPTION_KEY_STATUS, &arg) < 0)
		return -errno;
	return (int)arg.status;
}

#define MAX_KEYS 32

/* The state of the first key (of n) that is not absent, or absent. */
static int keys_state(int fd, uint8_t ids[][FSCRYPT_KEY_IDENTIFIER_SIZE], int n)
{
	for (int i = 0; i < n; i++) {
		int st = key_state(fd, ids[i]);

		if (st != FSCRYPT_KEY_STATUS_ABSENT)
			return st;
	}
	return FSCRYPT_KEY_STATUS_ABSENT;
}

static void do_logout(const char *dir, const char *hex_list)
{
	static const char *const names[] = {"?", "absent", "present", "incomplete"};
	uint8_t ids[MAX_KEYS][FSCRYPT_KEY_IDENTIFIER_SIZE];
	char list[MAX_KEYS * 33 + 1], *save = NULL;
	double t0, t1, locked = -1;
	int fd = -1, st = 0, n = 0;

	if (!handle) {
		printf("fail logout not-logged-in\n");
		return;
	}
	if (dir) {
		snprintf(list, sizeof(list), "%s", hex_list);
		for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save))
			if (n == MAX_KEYS || hex_key_id(h, ids[n++]) < 0) {
				printf("fail logout bad-key-id\n");
				return;
			}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			printf("fail logout bad-dir\n");
			return;
		}
	}
	t0 = now_ms();
	(void)pam_close_session(handle, 0);
	(void)pam_end(handle, PAM_SUCCESS);
	handle = NULL;
	t1 = now_ms();
	if (fd >= 0) {
		struct timespec pause = {0, 200000};

		while ((st = keys_state(fd, ids, n)) != FSCRYPT_KEY_STATUS_ABSENT && now_ms() - t0 < 5000)
			nanosleep(&pause, NULL);
		if (st == FSCRYPT_KEY_STATUS_ABSENT)
			locked = now_ms() - t0;
		close(fd);
	}
	printf("ok %.3f %.3f %s\n", t1 - t0, locked, st >= 0 && st <= 3 ? names[st] : "error");
}

static void do_chauthtok(const char *service, const char *user)
{
	struct passwd *pw = getpwnam(user);
	struct rusage ru;
	double t0 = now_ms();
	int status;
	pid_t pid;

	if (!pw) {
		printf("fail no-such-user\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		pam_handle_t *h;
		int r;

		if (pam_start(service, user, &conversation, &h) != PAM_SUCCESS ||
		    setresuid(pw->pw_uid, 0, 0) < 0)
			_exit(3);
		r = pam_chauthtok(h, 0);
		pam_end(h, r);
		_exit(r == PAM_SUCCESS ? 0 : 1);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
		printf("fail fork\n");
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("fail chauthtok status %d\n", status);
		return;
	}
	printf("ok %.3f %ld\n", now_ms() - t0, ru.ru_maxrss);
}

static void do_status(void)
{
	char line[256];
	long rss = -1, hwm = -1, threads = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmHWM: %ld", &hwm);
		sscanf(line, "Threads: %ld", &threads);
	}
	if (f)
		fclose(f);
	printf("rss %ld hwm %ld threads %ld\n", rss, hwm, threads);
}

int main(void)
{
	char line[1024];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL, *cmd, *a, *b, *c, *d;

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "password ", 9) == 0) {
			snprintf(password, sizeof(password), "%s", line + 9);
			continue;
		}
		cmd = strtok_r(line, " ", &save);
		a = strtok_r(NULL, " ", &save);
		b = strtok_r(NULL, " ", &save);
		c = strtok_r(NULL, " ", &save);
		d = strtok_r(NULL, " ", &save);
		if (!cmd)
			continue;
		if (strcmp(cmd, "login") == 0 && a && b)
			do_login(a, b);
		else if (strcmp(cmd, "logout") == 0)
			do_logout(a && b ? a : NULL, b);
		else if (strcmp(cmd, "chauthtok") == 0 && a && b && c && d) {
			snprintf(old_pw, sizeof(old_pw), "%s", c);
			snprintf(new_pw, sizeof(new_pw), "%s", d);
			do_chauthtok(a, b);
			new_pw[0] = '\0';
		} else if (strcmp(cmd, "status") == 0)
			do_status();
		else if (strcmp(cmd, "quit") == 0)
			break;
		else
			printf("fail unknown-command\n");
	}
	if (handle) {
		pam_close_session(handle, 0);
		pam_end(handle, PAM_SUCCESS);
	}
	return 0;
}
