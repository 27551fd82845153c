/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client side of the latchkeyd socket: bounded in time, CLOEXEC, and it
 * checks who is listening before anything secret is sent. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "cleanup.h"
#include "client.h"
#include "kdf.h"
#include "secret.h"

uint64_t lk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for events on fd until the absolute deadline. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = lk_now_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int r;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

/* Sleep until the deadline or for ms, whichever comes first. 0 or -ETIMEDOUT. */
static int pause_until(uint64_t deadline_ms, unsigned ms)
{
	uint64_t now = lk_now_ms();

	if (now >= deadline_ms)
		return -ETIMEDOUT;
	if (deadline_ms - now < ms)
		ms = (unsigned)(deadline_ms - now);
	(void)poll(NULL, 0, (int)ms);
	return 0;
}

/* The first and the longest pause between connect attempts on a full backlog. */
#define BACKLOG_RETRY_MIN_MS 2u
#define BACKLOG_RETRY_MAX_MS 32u

int lk_client_connect(const char *path, int require_root_server, uint64_t deadline_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct ucred cred;
	socklen_t len = sizeof(cred), salen;
	unsigned pause_ms = BACKLOG_RETRY_MIN_MS;
	size_t n;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;

	/*
	 * A non-blocking AF_UNIX connect either connects at once or fails:
	 * EAGAIN means the listen backlog is full and nothing is in progress
	 * (the socket stays unconnected, and its SO_PEERCRED would say uid -1).
	 * Anyone can fill the backlog by connecting in a loop, so try again,
	 * backing off, until the deadline.
	 */
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, salen) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = pause_until(deadline_ms, pause_ms);
		if (r < 0)
			return r;
		pause_ms = pause_ms * 2 > BACKLOG_RETRY_MAX_MS ? BACKLOG_RETRY_MAX_MS : pause_ms * 2;
	}

	/* Connected, so the credentials are the listener's. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.pid <= 0)
		return -ENOTCONN;
	/* Whoever bound this path must be root, or it never hears a key. */
	if (require_root_server && cred.uid != 0)
		return -EPERM;

	return TAKE_FD(fd);
}

/* buf: LK_MSG_MAX bytes of secret memory, wiped by the caller. */
static int send_with(int fd, const struct lk_msg *m, uint8_t *buf, uint64_t deadline_ms)
{
	size_t len;
	int r;

	r = lk_msg_encode(m, buf, LK_MSG_MAX, &len);
	if (r < 0)
		return r;

	for (;;) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k >= 0)
			return (size_t)k == len ? 0 : -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		r = wait_fd(fd, POLLOUT, deadline_ms);
		if (r < 0)
			return r;
	}
}

static int recv_with(int fd, struct lk_msg *m, uint8_t *buf, uint64_t deadline_ms)
{
	int r;

	for (;;) {
		struct iovec iov = {.iov_base = buf, .iov_len = LK_MSG_MAX};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (k > 0) {
			if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
				return -EBADMSG;
			return lk_msg_decode(buf, (size_t)k, m);
		}
		if (k == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline_ms);
		if (r < 0)
			return r;
	}
}

int lk_client_recv(int fd, struct lk_msg *m, uint64_t deadline_ms)
{
	struct lk_secret buf _cleanup_secret_ = {};
	int r = lk_secret_new(&buf, LK_MSG_MAX);

	return r < 0 ? r : recv_with(fd, m, buf.ptr, deadline_ms);
}

int lk_client_call(int fd, const struct lk_msg *req, struct lk_msg *rep, uint64_t deadline_ms)
{
	/* One locked page serves both directions (wiped in between by the
	 * encoder's caller below and at release). */
	struct lk_secret buf _cleanup_secret_ = {};
	int r;

	r = lk_secret_new(&buf, LK_MSG_MAX);
	if (r < 0)
		return r;
	r = send_with(fd, req, buf.ptr, deadline_ms);
	lk_wipe(buf.ptr, LK_MSG_MAX);
	if (r < 0)
		return r;
	r = recv_with(fd, rep, buf.ptr, deadline_ms);
	if (r < 0)
		return r;
	if (rep->seq != req->seq || rep->type < LK_REP_OK) {
		lk_msg_wipe(rep);
		return -EBADMSG;
	}
	return 0;
}

int lk_client_fresh_key(const struct lk_client_io *io, uint32_t uid, uint8_t kind, const char *secret,
                        size_t len, struct lk_msg *req, struct lk_msg *rep, struct lk_kdf_params *ret_kdf,
                        uint8_t ret_key[LK_WRAP_KEY_SIZE])
{
	int r;

	if (!io || !io->call || !secret || !req || !rep || !ret_kdf || !ret_key)
		return -EINVAL;
	lk_msg_init(req, LK_REQ_KDF_PARAMS, 1);
	lk_msg_set_uid(req, uid);
	lk_msg_set_flags(req, LK_KDF_F_FRESH | LK_KDF_F_KIND(kind));
	r = io->call(io->userdata, req, rep);
	if (r < 0)
		return r;
	if (rep->type == LK_REP_ERROR)
		return 1;
	if (rep->type != LK_REP_KDF_PARAMS || !lk_msg_has(rep, LK_T_KDF) ||
	    lk_kdf_params_check(&rep->kdf) < 0)
		return -EBADMSG;
	*ret_kdf = rep->kdf;
	r = io->derive ? io->derive(io->userdata, ret_kdf, secret, len, ret_key)
	               : lk_kdf_derive(ret_kdf, secret, len, ret_key);
	if (r < 0) {
		lk_wipe(ret_key, LK_WRAP_KEY_SIZE);
		return r;
	}
	return 0;
}

int lk_client_rewrap(const struct lk_client_io *io, uint32_t uid, uint8_t from_kind, const uint8_t *key,
                     uint8_t to_kind, const struct lk_kdf_params *kdf,
                     const uint8_t new_key[LK_WRAP_KEY_SIZE], struct lk_msg *req, struct lk_msg *rep)
{
	int r;

	if (!io || !io->call || !kdf || !new_key || !req || !rep || (from_kind == 0) != (key == NULL))
		return -EINVAL;
	lk_msg_init(req, LK_REQ_REWRAP, 1);
	lk_msg_set_uid(req, uid);
	lk_msg_set_flags(req, LK_RW_FLAGS(from_kind, to_kind));
	lk_msg_set_kdf(req, kdf);
	lk_msg_set_new_key(req, new_key);
	if (key)
		lk_msg_set_key(req, key);
	r = io->call(io->userdata, req, rep);
	lk_msg_wipe(req);
	if (r < 0)
		return r;
	if (rep->type != LK_REP_OK && rep->type != LK_REP_ERROR)
		return -EBADMSG;
	return 0;
}
