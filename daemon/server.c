/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The listening socket and its connections. Every connection is
 * non-blocking, has a deadline until it becomes a session connection, and
 * is charged to one user's share of the budget (daemon.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "server.h"
#include "requests.h"
#include "login.h"
#include "log.h"
#include "secret.h"

static unsigned conns_of_peer(struct daemon *d, uid_t uid)
{
	unsigned n = 0;
	for (struct conn *c = d->conns; c; c = c->next)
		n += c->peer.uid == uid;
	return n;
}

static unsigned conns_charged_to(struct daemon *d, uid_t uid)
{
	unsigned n = 0;
	for (struct conn *c = d->conns; c; c = c->next)
		n += c->charge_uid == uid;
	return n;
}

int conn_charge(struct conn *c, uid_t uid)
{
	if (c->charge_uid != CHARGE_NONE || uid == 0 || uid == CHARGE_NONE)
		return 0;
	if (conns_charged_to(c->d, uid) >= MAX_CHARGED_PER_UID) {
		log_peer(uid, LOG_WARNING,
		         "uid %u has %u connections (through uid 0, pid %d): refusing another", (unsigned)uid,
		         MAX_CHARGED_PER_UID, (int)c->peer.pid);
		return -EUSERS;
	}
	c->charge_uid = uid;
	return 0;
}

static void conn_free(struct conn *c)
{
	struct daemon *d = c->d;

	/* End-of-file on a session connection ends the session even when
	 * close_session never ran (the login process was killed). */
	conn_end_session(c);
	if (c->wait)
		c->wait->conn = NULL; /* the v1 adds finish; nobody is told */
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->deadline);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->n_conns--;
	free(c);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct conn *c = userdata;

	log_peer(c->charge_uid, LOG_INFO, "dropping idle connection from uid %u (pid %d)",
	         (unsigned)c->peer.uid, (int)c->peer.pid);
	conn_free(c);
	return 0;
}

/* REQUEST_DEADLINE_USEC, or in test builds LATCHKEY_TEST_IDLE_MS, so a
 * test can show a client outlasting the deadline without waiting for it. */
static uint64_t idle_deadline_usec(void)
{
#if LK_TEST_HOOKS
	const char *e = secure_getenv("LATCHKEY_TEST_IDLE_MS");

	if (e && *e)
		return strtoull(e, NULL, 10) * 1000;
#endif
	return REQUEST_DEADLINE_USEC;
}

static void conn_arm_deadline(struct conn *c)
{
	if (c->is_session)
		return;
	sd_event_source_set_time_relative(c->deadline, idle_deadline_usec());
	sd_event_source_set_enabled(c->deadline, SD_EVENT_ONESHOT);
}

void conn_make_session(struct conn *c, uid_t uid)
{
	c->is_session = true;
	c->session_uid = uid;
	sd_event_source_set_enabled(c->deadline, SD_EVENT_OFF);
	session_record_add(c->d, uid, c->peer.pid, c->record);
}

void conn_end_session(struct conn *c)
{
	if (!c->is_session)
		return;
	c->is_session = false;
	session_record_remove(c->d, c->record);
	c->record[0] = '\0';
	daemon_session_ended(c->d, c->session_uid);
}

int conn_send(struct conn *c, const struct lk_msg *m)
{
	struct daemon *d = c->d;
	size_t len;
	ssize_t k;
	int r;

	r = lk_msg_encode(m, d->tx, LK_MSG_MAX, &len);
	if (r < 0)
		return log_error_errno(r, "cannot encode a %s reply", lk_msg_type_to_string(m->type));
	/* Replies are small and the peer's receive queue is short; a peer that
	 * does not read gets dropped rather than blocking the loop. */
	k = send(c->fd, d->tx, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	lk_wipe(d->tx, len);
	if (k < 0)
		return -errno;
	return 0;
}

/* Close any file descriptors a peer tried to pass us. */
static void close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
	}
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	struct daemon *d = c->d;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 253)];
	} control;
	struct iovec iov = {.iov_base = d->rx, .iov_len = LK_MSG_MAX};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
	ssize_t k;
	int r;

	k = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (k < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		conn_free(c);
		return 0;
	}
	close_passed_fds(&mh);
	if (k == 0) {
		conn_free(c);
		return 0;
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		lk_wipe(d->rx, LK_MSG_MAX);
		log_peer(c->charge_uid, LOG_WARNING, "oversized message from uid %u: closing the connection",
		         (unsigned)c->peer.uid);
		conn_free(c);
		return 0;
	}

	r = lk_msg_decode(d->rx, (size_t)k, d->req);
	lk_wipe(d->rx, (size_t)k);
	if (r < 0) {
		log_peer(c->charge_uid, LOG_WARNING,
		         "malformed message from uid %u (pid %d): closing the connection",
		         (unsigned)c->peer.uid, (int)c->peer.pid);
		lk_msg_wipe(d->req);
		conn_free(c);
		return 0;
	}

	conn_arm_deadline(c);
	r = handle_request(c, d->req);
	lk_msg_wipe(d->req);
	lk_msg_wipe(d->rep);
	/* Copies of K, P or W may still sit in the vector registers (found by test-secret-residue.sh). */
	lk_wipe_cpu_registers();
	if (r < 0)
		conn_free(c);
	return 0;
}

/* Whether a new connection from peer fits the budget. */
static bool conn_admissible(struct daemon *d, const struct ucred *peer)
{
	/* Root's connections may use the reserve: a user's connect flood and
	 * the sessions charged to one user can never take them all. */
	if (peer->uid == 0)
		return d->n_conns < MAX_CONNECTIONS + ROOT_RESERVE;
	return d->n_conns < MAX_CONNECTIONS && conns_of_peer(d, peer->uid) < MAX_CONNECTIONS_PER_UID &&
	       conns_charged_to(d, peer->uid) < MAX_CHARGED_PER_UID;
}

static void accept_one(struct daemon *d, int cfd)
{
	struct conn *c;
	socklen_t len;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->d = d;
	c->fd = cfd;
	len = sizeof(c->peer);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0) {
		free(c);
		close(cfd);
		return;
	}
	c->charge_uid = c->peer.uid == 0 ? CHARGE_NONE : c->peer.uid;
	if (!conn_admissible(d, &c->peer)) {
		log_peer(c->charge_uid, LOG_WARNING,
		         "connection limit reached for uid %u (%u open): refusing", (unsigned)c->peer.uid,
		         d->n_conns);
		free(c);
		close(cfd);
		return;
	}

	r = sd_event_add_io(d->event, &c->io, cfd, EPOLLIN, on_conn_io, c);
	if (r >= 0)
		/* Accuracy 1 ms, not sd-event's default 250 ms: the deadline is
		 * what the PAM module's reconnect logic and its tests rely on. */
		r = sd_event_add_time_relative(d->event, &c->deadline, CLOCK_MONOTONIC, idle_deadline_usec(),
		                               1000, on_deadline, c);
	if (r < 0) {
		sd_event_source_disable_unref(c->io);
		free(c);
		close(cfd);
		return;
	}
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->n_conns++;
}

/* A burst (a login storm, or a user's connect flood) is taken in batches,
 * so the backlog drains faster than one connection per loop iteration. */
static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			break;
		accept_one(d, cfd);
	}
	return 0;
}

static int on_log_flush(sd_event_source *s, uint64_t usec, void *userdata)
{
	log_peer_flush();
	sd_event_source_set_time_relative(s, LOG_PEER_INTERVAL_MS * 1000ull);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* The one pass that frees idle users (users.h), after every event callback
 * of the loop: a handler or timer may leave a user idle, and none of them
 * frees one while it, or a caller up its stack, still holds the pointer. */
static int on_users_gc(sd_event_source *s, void *userdata)
{
	struct daemon *d = userdata;

	users_gc(&d->users);
	return 0;
}

int server_start(struct daemon *d, int listen_fd)
{
	int r;

	r = sd_event_add_post(d->event, NULL, on_users_gc, d);
	if (r < 0)
		return log_error_errno(r, "cannot schedule the collection of idle users");

	d->listen_fd = listen_fd;
	r = sd_event_add_io(d->event, &d->listen_src, listen_fd, EPOLLIN, on_accept, d);
	if (r < 0)
		return log_error_errno(r, "cannot watch the listening socket");
	r = sd_event_add_time_relative(d->event, &d->log_flush_timer, CLOCK_MONOTONIC,
	                               LOG_PEER_INTERVAL_MS * 1000ull, 0, on_log_flush, d);
	if (r < 0)
		return log_error_errno(r, "cannot schedule the log summaries");
	return 0;
}

void server_stop(struct daemon *d)
{
	/* Stopping the daemon is not a logout: keys stay where they are, and
	 * so do the session records, for the next start to adopt. */
	while (d->conns) {
		struct conn *c = d->conns;
		c->is_session = false;
		conn_free(c);
	}
	d->listen_src = sd_event_source_disable_unref(d->listen_src);
	d->log_flush_timer = sd_event_source_disable_unref(d->log_flush_timer);
	log_peer_flush();
}
