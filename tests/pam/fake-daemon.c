/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pam tier's handle on the tests' one fake latchkeyd,
 * tests/lib/mock-latchkeyd.py, run as a process in a "pam-" scenario. The
 * answers it gives come from a configuration file written from the
 * record's "in" fields; what the module sent comes back from the mock's
 * log (each accept, each probe, each request whole), decoded here with
 * lib/wire.c, the module's own decoder.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fake-daemon.h"
#include "kdf.h"

#define PROBE_SEQ 0xfeedu

static const char *const mode_names[] = {
    [FAKE_NORMAL] = "pam-normal",
    [FAKE_HANG] = "pam-hang",
    [FAKE_GARBAGE] = "pam-garbage",
    [FAKE_WRONG_UID] = "pam-wrong-uid",
    [FAKE_IDLE_CLOSE] = "pam-idle-close",
    [FAKE_DROP_SUBMIT] = "pam-drop-submit",
    [FAKE_SLOW] = "pam-slow",
};

static void side_path(char *buf, size_t size, const struct fake_daemon *d, const char *suffix)
{
	snprintf(buf, size, "%s.%s", d->path, suffix);
}

static void put_kdf(FILE *f, const char *name, const struct lk_kdf_params *k)
{
	fprintf(f, "%s %u %u %u %u ", name, k->alg, k->t_cost, k->m_cost_kib, k->parallelism);
	for (unsigned i = 0; i < k->salt_len; i++)
		fprintf(f, "%02x", k->salt[i]);
	fputc('\n', f);
}

int fake_configure(struct fake_daemon *d)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const struct fake_record *r = d->rec;
	FILE *f;
	int bad;

	side_path(path, sizeof(path), d, "cfg");
	side_path(tmp, sizeof(tmp), d, "cfg.tmp");
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	put_kdf(f, "kdf", &r->kdf);
	put_kdf(f, "fresh", &r->fresh);
	fprintf(
	    f,
	    "session_flags %u\nkdf_status %u\nrewrap_status %u\ncheck_key %d\nreply_delay_ms %u\ngood_key ",
	    r->session_flags, r->kdf_status, r->rewrap_status, r->check_key, r->reply_delay_ms);
	for (size_t i = 0; i < sizeof(r->good_key); i++)
		fprintf(f, "%02x", r->good_key[i]);
	fputc('\n', f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return -EIO;
	/* The mock reads it at every request: never half of it. */
	return rename(tmp, path) < 0 ? -errno : 0;
}

static int unhex(const char *s, uint8_t *buf, size_t size, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > size)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		buf[i] = (uint8_t)v;
	}
	*ret_len = n / 2;
	return 0;
}

/* One request of the module, as fake-daemon.h's record keeps it. */
static int record_request(struct fake_record *rec, enum fake_mode mode, const char *hex)
{
	uint8_t buf[LK_MSG_MAX];
	struct lk_msg req;
	size_t len;

	if (unhex(hex, buf, sizeof(buf), &len) < 0 || lk_msg_decode(buf, len, &req) < 0)
		return -EBADMSG; /* the module sent what its own decoder refuses */
	if (rec->n_msgs < FAKE_MAX_MSGS) {
		rec->types[rec->n_msgs] = req.type;
		rec->uids[rec->n_msgs] = lk_msg_has(&req, LK_T_UID) ? req.uid : LK_UID_NONE;
		rec->flags[rec->n_msgs] = lk_msg_has(&req, LK_T_FLAGS) ? req.flags : 0;
		rec->n_msgs++;
	}
	if (mode == FAKE_HANG || mode == FAKE_GARBAGE)
		return 0;
	switch (req.type) {
	case LK_REQ_AUTH_SUBMIT:
		/* The mock drops the first one unanswered. */
		if (mode == FAKE_DROP_SUBMIT && rec->dropped_submits++ == 0)
			break;
		memcpy(rec->key, req.key, sizeof(rec->key));
		rec->got_key = 1;
		if (rec->n_submits < FAKE_MAX_SUBMITS)
			memcpy(rec->submits[rec->n_submits++], req.key, LK_WRAP_KEY_SIZE);
		break;
	case LK_REQ_REWRAP:
		rec->rewrap = req;
		rec->got_rewrap = 1;
		break;
	case LK_REQ_SESSION_OPEN:
		memcpy(rec->text, req.text, sizeof(rec->text));
		break;
	default:
		break;
	}
	return 0;
}

int fake_load(struct fake_daemon *d)
{
	struct fake_record *rec = d->rec;
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int r = 0;
	FILE *f;

	side_path(path, sizeof(path), d, "log");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The "out" fields, from the whole log each time. */
	rec->connections = rec->probes = rec->open_at_probe = rec->n_msgs = 0;
	rec->dropped_submits = rec->got_key = rec->n_submits = rec->got_rewrap = 0;
	while (r == 0 && getline(&line, &cap, f) > 0) {
		json_object *o = json_tokener_parse(line), *v;

		if (!o) {
			r = -EBADMSG;
		} else if (json_object_object_get_ex(o, "event", &v)) {
			const char *ev = json_object_get_string(v);

			if (strcmp(ev, "accept") == 0) {
				rec->connections++;
			} else if (strcmp(ev, "probe") == 0 && json_object_object_get_ex(o, "open", &v)) {
				rec->probes++;
				rec->open_at_probe = json_object_get_int(v);
			} else {
				r = -EBADMSG;
			}
		} else if (json_object_object_get_ex(o, "raw", &v)) {
			r = record_request(rec, d->mode, json_object_get_string(v));
		} else {
			r = -EBADMSG;
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	return r;
}

int fake_start(struct fake_daemon *d, const char *path, enum fake_mode mode, uint32_t session_flags)
{
	const char *python = getenv("LK_TEST_PYTHON"), *mock = getenv("LK_TEST_MOCK");
	char log[PATH_MAX], cfg[PATH_MAX], ready[16] = "";
	struct pollfd p;
	int out[2], fd, r;
	ssize_t k;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->mode = mode;
	if (!python || !mock)
		return -ENOENT;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path) || strlen(path) >= sizeof(d->path))
		return -ENAMETOOLONG;
	strcpy(d->path, path);
	d->rec = calloc(1, sizeof(*d->rec));
	if (!d->rec)
		return -ENOMEM;
	d->rec->session_flags = session_flags;
	/* The cheapest parameters the bounds allow (64 MiB, one pass): a test
	 * derives each key again to check it. */
	r = lk_kdf_floor(&d->rec->kdf);
	if (r < 0)
		goto fail;
	d->rec->kdf.t_cost = LK_KDF_T_MIN;
	d->rec->fresh = d->rec->kdf;
	d->rec->fresh.salt_len = LK_SALT_MAX;
	memset(d->rec->fresh.salt, FAKE_FRESH_SALT_BYTE, LK_SALT_MAX);

	(void)unlink(path);
	side_path(log, sizeof(log), d, "log");
	side_path(cfg, sizeof(cfg), d, "cfg");
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	close(fd);
	r = fake_configure(d);
	if (r < 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	d->pid = fork();
	if (d->pid < 0) {
		r = -errno;
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	if (d->pid == 0) {
		/* pam_wrapper (and an ASan runtime) are the module's host's, not the mock's. */
		unsetenv("LD_PRELOAD");
		unsetenv("PAM_WRAPPER");
		if (dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execl(python, python, mock, path, log, mode_names[mode], cfg, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* "ready" once it listens; a mock that cannot (wrong-uid without root) exits. */
	p = (struct pollfd){.fd = out[0], .events = POLLIN};
	k = poll(&p, 1, 10000) == 1 ? read(out[0], ready, sizeof(ready) - 1) : -1;
	close(out[0]);
	if (k <= 0 || strncmp(ready, "ready", 5) != 0) {
		r = -EIO;
		goto fail;
	}
	return 0;
fail:
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
	if (lk_msg_encode(&m, buf, sizeof(buf), &len) < 0 ||
	    send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
		r = -EIO;
		goto out;
	}
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) != 1 || recv(fd, buf, sizeof(buf), 0) <= 0)
		r = -ETIMEDOUT;
out:
	close(fd);
	/* The mock logs the probe before it answers. */
	return r < 0 ? r : fake_load(d);
}

void fake_stop(struct fake_daemon *d)
{
	char side[PATH_MAX];

	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		(void)waitpid(d->pid, NULL, 0);
	}
	d->pid = -1;
	if (d->path[0]) {
		(void)unlink(d->path);
		side_path(side, sizeof(side), d, "log");
		(void)unlink(side);
		side_path(side, sizeof(side), d, "cfg");
		(void)unlink(side);
	}
	free(d->rec);
	d->rec = NULL;
}

int fake_module_connections(const struct fake_daemon *d)
{
	return d->rec->connections - d->rec->probes;
}

bool fake_slow_host(void)
{
	const char *e = getenv("LK_TEST_SLOW_HOST");

	return e && strcmp(e, "1") == 0;
}
