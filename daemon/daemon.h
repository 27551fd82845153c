/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LKD_DAEMON_H
#define LKD_DAEMON_H

#include <stdbool.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "config/config.h"
#include "root_index.h"
#include "sessions.h"
#include "store.h"
#include "users.h"
#include "wire.h"

/*
 * The connection budget. Every connection is charged to a user: a non-root
 * peer's to the peer, a root peer's (a PAM host such as su, which any user
 * can run) to the uid named by its first PAM-host request (KDF_PARAMS,
 * AUTH_SUBMIT, SESSION_OPEN, REWRAP), so a user's sessions through setuid
 * hosts cost that user's share. MAX_CONNECTIONS is the shared pool; root's
 * connections not charged (admin requests, a login before its first
 * request) may also use ROOT_RESERVE beyond it.
 */
#define MAX_CONNECTIONS         512
#define ROOT_RESERVE            64
#define MAX_CONNECTIONS_PER_UID 16               /* a non-root peer's own connections */
#define MAX_CHARGED_PER_UID     64               /* everything charged to one user, sessions included */
#define CHARGE_NONE             ((uid_t)-1)      /* a root connection not yet charged */
#define ACCEPT_BATCH            64               /* accept()s per wake-up of the listening socket */
#define LISTEN_BACKLOG          4096             /* the kernel caps it at net.core.somaxconn */
#define REQUEST_DEADLINE_USEC   (5 * 1000000ULL) /* idle limit of a non-session connection */

struct daemon;
struct conn;

/* requests.c: an UNLOCK or SESSION_OPEN whose reply waits for legacy v1
 * keys being added by children that run as the user (keyring_v1.h). */
struct v1_wait {
	struct conn *conn; /* NULL once the connection is gone */
	unsigned pending, ok, failed;
	uint16_t type;
	uint32_t seq, flags;
};

struct conn {
	struct daemon *d;
	int fd;
	struct ucred peer;
	uid_t charge_uid; /* whose share this connection uses, CHARGE_NONE if root's own so far */
	sd_event_source *io;
	sd_event_source *deadline;
	bool is_session;
	uid_t session_uid;
	char record[SESSION_RECORD_NAME_MAX]; /* session record in <runtime>/sessions */
	struct v1_wait *wait; /* reply deferred until v1 keys are added; no reading meanwhile */
	struct conn *prev, *next;
};

struct daemon {
	sd_event *event;
	struct store store;
	struct user *users;
	struct conn *conns;
	unsigned n_conns;
	int listen_fd;
	sd_event_source *listen_src;
	sd_event_source *log_flush_timer;
	sd_event_source *retry_timer;
	unsigned retry_delay_ms;
	/* One set of locked buffers: the loop is single-threaded, so every
	 * request is received, decoded, handled and wiped in these. */
	uint8_t *rx;
	uint8_t *tx;
	struct lk_msg *req;
	struct lk_msg *rep;
	const char *config_dir;
	const char *vendor_config_dir;
	struct lk_config config;
	struct pending_lock *pending_locks; /* login.c: locks waiting out lock_delay */
	/* sessions.c: records of live sessions, sessions adopted after a
	 * restart, and logind's view where it runs */
	int sessions_fd;
	struct adopted *adopted;
	sd_login_monitor *login_monitor;
	sd_event_source *login_monitor_src;
	/* escrow_slots.c: what V2 escrow slots are bound to */
	uint8_t machine_id[LK_MACHINE_ID_SIZE];
	bool have_machine_id;
	/* memlock.c: secret pages refused for want of locked memory */
	unsigned refusals_before;   /* lk_secret_refusals() when the request began */
	uint64_t refusal_logged_ms; /* last log line about them */
	unsigned refusals_unlogged;
};

#endif
