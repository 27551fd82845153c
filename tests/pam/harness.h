/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the pam_wrapper tests share: the fake daemon they talk to, running
 * one PAM operation in a fresh handle (result, wall time, and the host
 * state the module must leave alone), a scripted conversation that records
 * what the module asked and said, and the module's log lines.
 *
 * Environment (set by meson): LD_PRELOAD=libpam_wrapper.so, PAM_WRAPPER=1,
 * PAM_WRAPPER_SERVICE_DIR, LK_TEST_SOCKET (the socket= of the services),
 * LK_TEST_PYTHON and LK_TEST_MOCK (the fake daemon, fake-daemon.h).
 */
#ifndef LK_TEST_PAM_HARNESS_H
#define LK_TEST_PAM_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include <libpamtest.h>
#include <security/pam_appl.h>

#include "fake-daemon.h"

#define USER      "nobody" /* uid 65534: above the default min_uid, present everywhere */
#define USER_UID  65534u
#define RIGHT_PW  "right-password"
#define WRONG_PW  "wrong-password"
#define BUDGET_NS 5500000000LL

extern const char *sock_path;
extern struct fake_daemon fake;

struct host_state {
	mode_t umask;
	int dumpable;
	void (*sigpipe)(int);
	void (*sigchld)(int);
};
void host_state_get(struct host_state *s);
void host_state_check(const struct host_state *before);

long long now_ns(void);

/* 0, or 77 (with a message) when not run through meson. */
int harness_init(void);

void start(enum fake_mode mode, uint32_t session_flags);
int teardown(void **state);
void sync_fake(void);

/* One PAM operation in a fresh handle, libpamtest's conversation answering
 * every echo-off prompt with password, which is also PAM_AUTHTOK (through
 * pam_set_items, as pam_unix would leave it). */
void run_one(const char *service, const char *user, const char *password, enum pamtest_ops op, int expected,
             long long *ret_ns);

#define SCRIPT_MAX 8

/* A conversation that answers the n-th echo-off prompt with answers[n]
 * (NULL: the conversation fails, as a host without a terminal's does) and
 * records every prompt and info message. */
struct script {
	const char *answers[SCRIPT_MAX];
	int n_prompts;
	char prompts[SCRIPT_MAX][PAM_MAX_MSG_SIZE];
	int n_info;
	char info[SCRIPT_MAX][PAM_MAX_MSG_SIZE];
	/* the module's log lines (pam_syslog through pam_wrapper), NUL-terminated */
	char log[16384];
};

/* run_one with a script and pam flags; collects the log lines of the call. */
void run_script(const char *service, const char *user, enum pamtest_ops op, int flags, int expected,
                struct script *sc, long long *ret_ns);

/* Lines of sc->log that contain needle; NULL: all but libpam's own. */
int log_lines(const struct script *sc, const char *needle);
/* Info messages / prompts that contain needle. */
int info_with(const struct script *sc, const char *needle);
int prompts_with(const struct script *sc, const char *needle);

#endif
