/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-daemon.h"
#include "kdf.h"

#define MAX_CONNS   64
#define PROBE_SEQ   0xfeedu
#define NOBODY      65534

static int reply(int fd, const struct lk_msg *m)
{
	uint8_t buf[LK_MSG_MAX];
	size_t len;

	if (lk_msg_encode(m, buf, sizeof(buf), &len) < 0)
		return -EINVAL;
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static void error_reply(struct lk_msg *rep, uint32_t seq, uint32_t status)
{
	lk_msg_init(rep, LK_REP_ERROR, seq);
	lk_msg_set_status(rep, status);
}

static int peer_closed(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* One request on connection i; returns false if the connection is to be closed. */
static int handle(struct fake_record *rec, enum fake_mode mode, int *conns, int n, int i)
{
	uint8_t buf[LK_MSG_MAX];
	struct lk_msg req, rep;
	ssize_t k = recv(conns[i], buf, sizeof(buf), 0);

	if (k <= 0)
		return 0;
	if (lk_msg_decode(buf, (size_t)k, &req) < 0)
		return 0;

	if (req.type == LK_REQ_STATUS && req.seq == PROBE_SEQ) {
		int open = 0;

		/* Closes that happened before the probe connected are pending by now. */
		for (int j = 0; j < n; j++)
			if (j != i && conns[j] >= 0 && !peer_closed(conns[j]))
				open++;
		rec->probes++;
		rec->open_at_probe = open;
		lk_msg_init(&rep, LK_REP_STATUS_END, req.seq);
		lk_msg_set_count(&rep, 0);
		(void)reply(conns[i], &rep);
		return 1;
	}

	if (rec->n_msgs < FAKE_MAX_MSGS) {
		rec->types[rec->n_msgs] = req.type;
		rec->uids[rec->n_msgs] = lk_msg_has(&req, LK_T_UID) ? req.uid : LK_UID_NONE;
		rec->flags[rec->n_msgs] = lk_msg_has(&req, LK_T_FLAGS) ? req.flags : 0;
		rec->n_msgs++;
	}

	if (mode == FAKE_HANG)
		return 1;
	if (mode == FAKE_GARBAGE) {
		uint8_t junk[200];

		if (getrandom(junk, sizeof(junk), 0) != (ssize_t)sizeof(junk))
			memset(junk, 0xa5, sizeof(junk));
		(void)send(conns[i], junk, sizeof(junk), MSG_NOSIGNAL);
		return 1;
	}

	switch (req.type) {
	case LK_REQ_KDF_PARAMS:
		if (rec->kdf_status != LK_OK) {
			error_reply(&rep, req.seq, rec->kdf_status);
			break;
		}
		lk_msg_init(&rep, LK_REP_KDF_PARAMS, req.seq);
		lk_msg_set_kdf(&rep, (lk_msg_has(&req, LK_T_FLAGS) && (req.flags & LK_KDF_F_FRESH)) ? &rec->fresh
												  : &rec->kdf);
		break;
	case LK_REQ_AUTH_SUBMIT:
		if (mode == FAKE_DROP_SUBMIT && rec->dropped_submits++ == 0)
			return 0;
		memcpy(rec->key, req.key, sizeof(rec->key));
		rec->got_key = 1;
		if (rec->n_submits < FAKE_MAX_SUBMITS)
			memcpy(rec->submits[rec->n_submits++], req.key, LK_WRAP_KEY_SIZE);
		if (rec->check_key && memcmp(req.key, rec->good_key, LK_WRAP_KEY_SIZE) != 0)
			error_reply(&rep, req.seq, LK_E_BAD_KEY);
		else
			lk_msg_init(&rep, LK_REP_OK, req.seq);
		break;
	case LK_REQ_REWRAP:
		rec->rewrap = req;
		rec->got_rewrap = 1;
		if (rec->rewrap_status != LK_OK)
			error_reply(&rep, req.seq, rec->rewrap_status);
		else
			lk_msg_init(&rep, LK_REP_OK, req.seq);
		break;
	case LK_REQ_SESSION_OPEN:
		memcpy(rec->text, req.text, sizeof(rec->text));
		lk_msg_init(&rep, LK_REP_UNLOCK_RESULT, req.seq);
		lk_msg_set_status(&rep, LK_OK);
		lk_msg_set_count(&rep, (rec->session_flags & LK_RF_STILL_LOCKED) ? 0 : 1);
		lk_msg_set_flags(&rep, rec->session_flags);
		break;
	case LK_REQ_SESSION_CLOSE:
		lk_msg_init(&rep, LK_REP_OK, req.seq);
		break;
	default:
		error_reply(&rep, req.seq, LK_E_PROTOCOL);
		break;
	}
	if (mode == FAKE_SLOW)
		(void)usleep(rec->reply_delay_ms * 1000u);
	(void)reply(conns[i], &rep);
	return !(mode == FAKE_IDLE_CLOSE && req.type == LK_REQ_KDF_PARAMS);
}

static _Noreturn void serve(int lfd, enum fake_mode mode, struct fake_record *rec)
{
	int conns[MAX_CONNS], n = 0;

	for (;;) {
		struct pollfd p[MAX_CONNS + 1];

		p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
		for (int i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){.fd = conns[i], .events = POLLIN};
		if (poll(p, (nfds_t)n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (int i = 0; i < n; i++)
			if (p[i + 1].revents && !handle(rec, mode, conns, n, i)) {
				close(conns[i]);
				conns[i] = -1;
			}
		/* compact */
		int m = 0;
		for (int i = 0; i < n; i++)
			if (conns[i] >= 0)
				conns[m++] = conns[i];
		n = m;
		if (p[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				rec->connections++;
				if (n < MAX_CONNS)
					conns[n++] = c;
				else
					close(c);
			}
		}
	}
}

int fake_start(struct fake_daemon *d, const char *path, enum fake_mode mode, uint32_t session_flags)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int ready[2], lfd, r;
	char c;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (strlen(path) >= sizeof(sa.sun_path) || strlen(path) >= sizeof(d->path))
		return -ENAMETOOLONG;
	strcpy(d->path, path);
	strcpy(sa.sun_path, path);

	d->rec = mmap(NULL, sizeof(*d->rec), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (d->rec == MAP_FAILED) {
		d->rec = NULL;
		return -errno;
	}
	d->rec->session_flags = session_flags;
	/* The cheapest parameters the bounds allow (64 MiB, one pass): a test
	 * derives each key again to check it. */
	r = lk_kdf_floor(&d->rec->kdf);
	if (r < 0)
		return r;
	d->rec->kdf.t_cost = LK_KDF_T_MIN;
	d->rec->fresh = d->rec->kdf;
	d->rec->fresh.salt_len = LK_SALT_MAX;
	memset(d->rec->fresh.salt, FAKE_FRESH_SALT_BYTE, LK_SALT_MAX);

	(void)unlink(path);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;

	d->pid = fork();
	if (d->pid < 0) {
		r = -errno;
		close(ready[0]);
		close(ready[1]);
		return r;
	}
	if (d->pid == 0) {
		/* Child: _exit only, so that pam_wrapper's and cmocka's atexit work never runs here. */
		close(ready[0]);
		lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		/* SO_PEERCRED reports the credentials in effect at listen(): become
		 * nobody in between, as a user-owned impostor would be. */
		if (mode == FAKE_WRONG_UID && (setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
					       setresuid(NOBODY, NOBODY, NOBODY) < 0))
			_exit(1);
		if (listen(lfd, 16) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		close(ready[1]);
		serve(lfd, mode, d->rec);
	}
	close(ready[1]);
	r = read(ready[0], &c, 1) == 1 ? 0 : -EIO;
	close(ready[0]);
	if (r < 0)
		fake_stop(d);
	return r;
}

int fake_sync(struct fake_daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t buf[LK_MSG_MAX];
	struct lk_msg m;
	struct pollfd p;
	size_t len;
	int fd, r = 0;

	strcpy(sa.sun_path, d->path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	lk_msg_init(&m, LK_REQ_STATUS, PROBE_SEQ);
	if (lk_msg_encode(&m, buf, sizeof(buf), &len) < 0 || send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		r = -EIO;
		goto out;
	}
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) != 1 || recv(fd, buf, sizeof(buf), 0) <= 0)
		r = -ETIMEDOUT;
out:
	close(fd);
	return r;
}

void fake_stop(struct fake_daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		(void)waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
	if (d->path[0])
		(void)unlink(d->path);
	if (d->rec)
		munmap(d->rec, sizeof(*d->rec));
	d->rec = NULL;
}

int fake_module_connections(const struct fake_daemon *d)
{
	return d->rec->connections - d->rec->probes;
}
