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
#define MAX_CONNECTIONS_PER_UID 16   /* a non-root peer's own connections */
#define MAX_CHARGED_PER_UID     64   /* everything charged to one user, sessions included */
#define CHARGE_NONE             ((uid_t)-1) /* a root connection not yet charged */
#define ACCEPT_BATCH            64   /* accept()s per wake-up of the listening socket */
#define LISTEN_BACKLOG          4096 /* the kernel caps it at net.core.somaxconn */
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
	/* set by requests.c while daemon_unlock_user may start v1 adds for a reply */
	struct v1_wait *v1_wait;
	/* memlock.c: secret pages refused for want of locked memory */
	unsigned refusals_before;   /* lk_secret_refusals() when the request began */
	uint64_t refusal_logged_ms; /* last log line about them */
	unsigned refusals_unlogged;
};

/* server.c */
int server_start(struct daemon *d, int listen_fd);
void server_stop(struct daemon *d);
int conn_send(struct conn *c, const struct lk_msg *m);
/* Turn the connection into a session connection of uid (no idle deadline)
 * and record it for a restarted daemon. */
void conn_make_session(struct conn *c, uid_t uid);
/* The session held by this connection ends (close_session or end-of-file). */
void conn_end_session(struct conn *c);
/* Charge a root peer's connection to uid (no-op if already charged or uid
 * is 0). -EUSERS if that user's share is used up: the caller refuses. */
int conn_charge(struct conn *c, uid_t uid);

/* memlock.c */
/* Refuse unlocked secret pages from now on and log the budget. 0, or -EPERM
 * (logged) when even the message buffers cannot be locked. */
int daemon_memlock_setup(struct daemon *d);
/* n secret pages were refused during the request just handled: one log
 * line, at most one a minute. */
void daemon_note_secret_refusals(struct daemon *d, unsigned n);

/* escrow_slots.c */
/* store_load_protector, with the binding (user name, machine id) that V2
 * escrow slots need set when both are known. */
int daemon_load_protector(struct daemon *d, uid_t uid, struct lk_protector *ret);
/* Replace pr's escrow slots (only_v1: only if one of them is V1) with one V2
 * slot wrapping p, sealed to the machine's escrow.pub, in memory. *ret_done
 * false and 0 when there is nothing to do or no escrow.pub; -errno (logged)
 * when it cannot be done. pr is changed only on success. */
int daemon_escrow_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
			 bool only_v1, bool *ret_done);

/* rotate.c */
/*
 * Rotate uid's protector key: pr (opened with p_old) becomes a new file with
 * a fresh P', a login slot (kdf, w_login) and, when escrow.pub exists, an
 * escrow slot; every indexed root's wrapped K is resealed under P' (format.h
 * §4 for the crash-safe order). u->p (if held) becomes P'. Returns an
 * lk_status; *ret_why explains a failure; *ret_roots and *ret_flags
 * (LK_ROT_F_*) describe a success.
 */
uint32_t daemon_rotate(struct daemon *d, struct user *u, const struct lk_protector *pr,
		       const uint8_t p_old[LK_PROTECTOR_KEY_SIZE], const struct lk_kdf_params *kdf,
		       const uint8_t w_login[LK_WRAP_KEY_SIZE], unsigned *ret_roots, uint32_t *ret_flags,
		       const char **ret_why);
/* At start-up: finish or undo rotations a crash interrupted. */
void daemon_rotation_recover(struct daemon *d);

/* relocate.c: the RELOCATE request's work (flags LK_RLF_*). Returns an
 * lk_status; *why a static explanation for the client on error. */
uint32_t daemon_relocate_root(struct daemon *d, uid_t uid, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path,
			      uint32_t flags, const char **why);

/* login_enroll.c: the LOGIN_ENROLL request's work. Without a key in req,
 * *ret_kdf gets the new slot's parameters; with one, uid is enrolled and
 * *ret_flags gets LK_LEF_*. Returns an lk_status, *why on error. */
uint32_t daemon_login_enroll(struct daemon *d, const struct lk_msg *req, struct lk_kdf_params *ret_kdf,
			     uint32_t *ret_flags, const char **why);

/* requests.c: < 0 when the connection must be closed after the reply. */
int handle_request(struct conn *c, struct lk_msg *req);
/* A v1 key started under d->v1_wait has been added (result 0) or not. */
void daemon_v1_unlocked(int result, void *userdata);

#endif
