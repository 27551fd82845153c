/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam-login: a minimal login through the real libpam, for the root tests.
 *   pam-login [--no-auth] [--hold FILE] [--hold-after-end FILE2] [--previous PW|-] [--silent]
 *             SERVICE USER [-- COMMAND...]
 * Reads the password (first line of stdin), runs pam_authenticate,
 * pam_acct_mgmt, pam_setcred, pam_open_session, then COMMAND as USER (like
 * `su -c`), then waits until FILE exists (--hold), then closes the session.
 *   --previous PW  answer pam_latchkey's "Previous password" prompt with PW;
 *                  "-": fail the conversation there (a host that cannot ask).
 *                  Without it every prompt gets the login password, as
 *                  sshd's password authentication does.
 *   --silent       pass PAM_SILENT to every call.
 *   --auth-only    pam_authenticate only, then pam_end, as a screen locker or
 *                  sudo does: no session claims what auth left behind.
 *   --hold-after-end FILE2  keep the process alive after pam_end until FILE2
 *                  exists, so a test can inspect what a login process has
 *                  left in its memory.
 *   pam-login --chauthtok OLD|- NEW [--silent] SERVICE USER
 * runs pam_chauthtok only. With OLD, as passwd(1) run by USER does: the real
 * uid is USER's (the effective one stays 0), so pam_unix asks for the
 * current password (answered OLD) before the new one (twice, NEW). With
 * "-", as root's `passwd USER`: pam_unix asks for no old password. NEW must
 * pass pam_unix's "obscure" checks.
 * Every prompt and message goes to stderr as "pam-login: prompt: TEXT" or
 * "pam-login: TEXT".
 * Exit: COMMAND's status, 10 auth failed, 11 account, 12 session,
 * 13 chauthtok failed, 2 usage.
 */
#include <grp.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PREVIOUS_PROMPT "Previous password"

static char password[1024];
static const char *previous;        /* --previous */
static const char *old_pw, *new_pw; /* --chauthtok */

/* The answer to one prompt, or NULL to fail the conversation. */
static const char *answer(const char *prompt)
{
	if (strstr(prompt, PREVIOUS_PROMPT) && previous)
		return strcmp(previous, "-") == 0 ? NULL : previous;
	if (new_pw) {
		/* pam_unix (C locale): "Current password: ", "New password: ", "Retype new password: ". */
		if (strcasestr(prompt, "current") || strcasestr(prompt, "old"))
			return old_pw;
		return new_pw;
	}
	return password;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	const char *a;

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			fprintf(stderr, "pam-login: prompt: %s\n", msg[i]->msg);
			a = answer(msg[i]->msg);
			if (!a) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(a);
			break;
		default:
			fprintf(stderr, "pam-login: %s\n", msg[i]->msg);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* pam_chauthtok as passwd(1) would run it: by USER when OLD is given, else by root. */
static int chauthtok(pam_handle_t *h, const char *user, int flags)
{
	struct passwd *pw = getpwnam(user);
	int r;

	if (!pw)
		return 2;
	/* pam_unix asks for the current password only when the real uid is not 0. */
	if (old_pw && setresuid(pw->pw_uid, 0, 0) < 0)
		return 2;
	r = pam_chauthtok(h, flags);
	if (old_pw && setresuid(0, 0, 0) < 0)
		return 2;
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam-login: chauthtok: %s\n", pam_strerror(h, r));
		return 13;
	}
	return 0;
}

static int run_as(const char *user, char **argv)
{
	struct passwd *pw = getpwnam(user);
	int status;
	pid_t pid;

	if (!pw)
		return 127;
	pid = fork();
	if (pid == 0) {
		if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(126);
		setenv("HOME", pw->pw_dir, 1);
		setenv("USER", user, 1);
		if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void wait_for(const char *file)
{
	struct stat st;

	while (file && stat(file, &st) < 0)
		usleep(20000);
}

int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	const char *hold = NULL, *hold_after_end = NULL;
	pam_handle_t *h = NULL;
	int no_auth = 0, auth_only = 0, flags = 0, i = 1, r, ret = 0;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i++) {
		if (strcmp(argv[i], "--no-auth") == 0)
			no_auth = 1;
		else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
			hold = argv[++i];
		else if (strcmp(argv[i], "--previous") == 0 && i + 1 < argc)
			previous = argv[++i];
		else if (strcmp(argv[i], "--silent") == 0)
			flags |= PAM_SILENT;
		else if (strcmp(argv[i], "--auth-only") == 0)
			auth_only = 1;
		else if (strcmp(argv[i], "--chauthtok") == 0 && i + 2 < argc) {
			old_pw = strcmp(argv[i + 1], "-") == 0 ? NULL : argv[i + 1];
			new_pw = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--hold-after-end") == 0 && i + 1 < argc)
			hold_after_end = argv[++i];
		else
			return 2;
	}
	if (argc - i < 2)
		return 2;
	const char *service = argv[i], *user = argv[i + 1];
	i += 2;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;

	/* Unbuffered: stdio would keep a copy of the password in its buffer. */
	setvbuf(stdin, NULL, _IONBF, 0);

	if (new_pw) {
		r = pam_start(service, user, &c, &h);
		if (r != PAM_SUCCESS)
			return 2;
		ret = chauthtok(h, user, flags);
		pam_end(h, ret == 0 ? PAM_SUCCESS : PAM_AUTHTOK_ERR);
		return ret;
	}

	if (!no_auth && fgets(password, sizeof(password), stdin))
		password[strcspn(password, "\n")] = '\0';

	r = pam_start(service, user, &c, &h);
	if (r != PAM_SUCCESS)
		return 2;
	if (!no_auth) {
		r = pam_authenticate(h, flags);
		if (r != PAM_SUCCESS) {
			fprintf(stderr, "pam-login: authentication failed: %s\n", pam_strerror(h, r));
			pam_end(h, r);
			return 10;
		}
	}
	if (auth_only) {
		pam_end(h, PAM_SUCCESS);
		explicit_bzero(password, sizeof(password));
		return 0;
	}
	r = pam_acct_mgmt(h, flags);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam-login: account: %s\n", pam_strerror(h, r));
		pam_end(h, r);
		return 11;
	}
	pam_setcred(h, PAM_ESTABLISH_CRED | flags);
	r = pam_open_session(h, flags);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam-login: open_session: %s\n", pam_strerror(h, r));
		pam_end(h, r);
		return 12;
	}
	if (i < argc)
		ret = run_as(user, argv + i);
	wait_for(hold);
	r = pam_close_session(h, flags);
	pam_setcred(h, PAM_DELETE_CRED | flags);
	pam_end(h, r);
	explicit_bzero(password, sizeof(password));
	if (hold_after_end) {
		fprintf(stderr, "pam-login: pam_end done, waiting for %s\n", hold_after_end);
		wait_for(hold_after_end);
	}
	return r == PAM_SUCCESS ? ret : 12;
}
