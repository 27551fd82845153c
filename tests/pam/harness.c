/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

const char *sock_path;
struct fake_daemon fake;

void host_state_get(struct host_state *s)
{
	struct sigaction sa;

	s->umask = umask(0);
	umask(s->umask);
	s->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	sigaction(SIGPIPE, NULL, &sa);
	s->sigpipe = sa.sa_handler;
	sigaction(SIGCHLD, NULL, &sa);
	s->sigchld = sa.sa_handler;
}

void host_state_check(const struct host_state *before)
{
	struct host_state after;

	host_state_get(&after);
	assert_int_equal(after.umask, before->umask);
	assert_int_equal(after.dumpable, before->dumpable);
	assert_ptr_equal(after.sigpipe, before->sigpipe);
	assert_ptr_equal(after.sigchld, before->sigchld);
}

long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int harness_init(void)
{
	sock_path = getenv("LK_TEST_SOCKET");
	if (!getenv("PAM_WRAPPER") || !sock_path) {
		fprintf(stderr, "run through meson test (needs pam_wrapper and LK_TEST_SOCKET)\n");
		return 77;
	}
	if (strlen(sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "build directory too deep for a socket path: %s\n", sock_path);
		return 77;
	}
	return 0;
}

void start(enum fake_mode mode, uint32_t session_flags)
{
	int r = fake_start(&fake, sock_path, mode, session_flags);

	if (r < 0)
		fail_msg("fake daemon: %s", strerror(-r));
}

int teardown(void **state)
{
	fake_stop(&fake);
	return 0;
}

void sync_fake(void)
{
	assert_int_equal(fake_configure(&fake), 0);
	assert_int_equal(fake_sync(&fake), 0);
}

/* Around each PAM operation: the answers the test set, then what the module sent. */
static void fake_before(void)
{
	if (fake.pid > 0)
		assert_int_equal(fake_configure(&fake), 0);
}

static void fake_after(void)
{
	if (fake.pid > 0)
		assert_int_equal(fake_load(&fake), 0);
}

static void set_authtok(const char *password)
{
	/* pam_set_items turns this into PAM_AUTHTOK, as pam_unix would. */
	if (password)
		assert_int_equal(setenv("PAM_AUTHTOK", password, 1), 0);
	else
		unsetenv("PAM_AUTHTOK");
}

void run_one(const char *service, const char *user, const char *password, enum pamtest_ops op, int expected,
             long long *ret_ns)
{
	const char *pw[] = {password, NULL};
	struct pamtest_conv_data conv = {.in_echo_off = pw};
	struct pam_testcase tests[] = {pam_test(op, expected)};
	struct host_state st;
	enum pamtest_err perr;
	long long t0;

	set_authtok(password);
	fake_before();
	host_state_get(&st);
	t0 = now_ns();
	perr = run_pamtest(service, user, &conv, tests, NULL);
	if (ret_ns)
		*ret_ns = now_ns() - t0;
	fake_after();
	if (perr != PAMTEST_ERR_OK)
		fail_msg("%s/%s: %s, op returned %d (expected %d)", service, user ? user : "(null)",
		         pamtest_strerror(perr), tests[0].op_rv, expected);
	host_state_check(&st);
}

static int script_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct script *sc = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			assert_true(sc->n_prompts < SCRIPT_MAX);
			answer = sc->answers[sc->n_prompts];
			snprintf(sc->prompts[sc->n_prompts++], PAM_MAX_MSG_SIZE, "%s", msg[i]->msg);
			if (!answer) {
				for (int j = 0; j < i; j++)
					free(r[j].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			r[i].resp = strdup(answer);
			break;
		case PAM_TEXT_INFO:
			assert_true(sc->n_info < SCRIPT_MAX);
			snprintf(sc->info[sc->n_info++], PAM_MAX_MSG_SIZE, "%s", msg[i]->msg);
			break;
		default:
			break;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* pam_wrapper writes pam_syslog() lines to stderr ("... SYSLOG(prio): text")
 * at PAM_WRAPPER_DEBUGLEVEL 2, which it reads at every line. */
static int log_begin(FILE **ret_tmp)
{
	int saved = dup(STDERR_FILENO);

	assert_true(saved >= 0);
	*ret_tmp = tmpfile();
	assert_non_null(*ret_tmp);
	fflush(stderr);
	assert_int_equal(dup2(fileno(*ret_tmp), STDERR_FILENO), STDERR_FILENO);
	assert_int_equal(setenv("PAM_WRAPPER_DEBUGLEVEL", "2", 1), 0);
	return saved;
}

static void log_end(int saved, FILE *tmp, struct script *sc)
{
	char line[2048];
	size_t used = 0;

	unsetenv("PAM_WRAPPER_DEBUGLEVEL");
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	rewind(tmp);
	sc->log[0] = '\0';
	while (fgets(line, sizeof(line), tmp)) {
		size_t n = strlen(line);

		if (!strstr(line, "SYSLOG("))
			continue;
		fputs(line, stderr); /* still visible in the test log */
		if (used + n < sizeof(sc->log)) {
			memcpy(sc->log + used, line, n + 1);
			used += n;
		}
	}
	fclose(tmp);
}

void run_script(const char *service, const char *user, enum pamtest_ops op, int flags, int expected,
                struct script *sc, long long *ret_ns)
{
	struct pam_testcase tests[] = {pam_test_flags(op, expected, flags)};
	struct host_state st;
	enum pamtest_err perr;
	long long t0;
	FILE *tmp;
	int saved;

	sc->n_prompts = sc->n_info = 0;
	fake_before();
	host_state_get(&st);
	saved = log_begin(&tmp);
	t0 = now_ns();
	perr = _pamtest_conv(service, user, script_conv, sc, tests, 1, NULL);
	if (ret_ns)
		*ret_ns = now_ns() - t0;
	log_end(saved, tmp, sc);
	fake_after();
	if (perr != PAMTEST_ERR_OK)
		fail_msg("%s/%s: %s, op returned %d (expected %d)", service, user ? user : "(null)",
		         pamtest_strerror(perr), tests[0].op_rv, expected);
	host_state_check(&st);
}

/* What libpam itself logs under pam_wrapper (its missing "other" service,
 * pam_prompt's failed conversation), not the module. */
static bool is_libpam_line(const char *line)
{
	return strstr(line, "_pam_init_handlers") || strstr(line, "conversation failed");
}

int log_lines(const struct script *sc, const char *needle)
{
	int n = 0;

	for (const char *p = sc->log; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (needle ? strstr(line, needle) != NULL : !is_libpam_line(line))
			n++;
		p += len + (eol ? 1 : 0);
	}
	return n;
}

static int count_with(char (*msgs)[PAM_MAX_MSG_SIZE], int n, const char *needle)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (strstr(msgs[i], needle))
			k++;
	return k;
}

int info_with(const struct script *sc, const char *needle)
{
	return count_with((char(*)[PAM_MAX_MSG_SIZE])sc->info, sc->n_info, needle);
}

int prompts_with(const struct script *sc, const char *needle)
{
	return count_with((char(*)[PAM_MAX_MSG_SIZE])sc->prompts, sc->n_prompts, needle);
}
