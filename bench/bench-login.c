/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-login: what latchkey adds to a login, without Argon2id and pam_unix.
 *   bench-login SOCKET UID DIR ITERATIONS  (passphrase on stdin; DIR/file must exist)
 * Derives W once (and times Argon2id separately), then per iteration does
 * exactly the module's socket work: KDF_PARAMS + AUTH_SUBMIT (auth), then
 * SESSION_OPEN (daemon unwraps and adds the key), then reads FILE (the home
 * is readable), stopping the clock there; closing the session connection
 * is timed as logout-to-locked: until the kernel reports the key absent.
 * Last, the daemon's share of a password change: KDF_PARAMS (fresh) and
 * REWRAP with its one durable write, alternating between W and a random
 * key (the client's two Argon2id runs are the Argon2id figure, twice).
 *
 *   bench-login SOCKET UID DIR ITERATIONS --reset INDEX CACHEDIR...
 * as a first login of per-user cache policies: before each iteration
 * (untimed) every CACHEDIR is removed and the daemon's INDEX file of the
 * user is put back as it was at the start, so each SESSION_OPEN creates
 * the cache directories afresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "crypto.h"
#include "fscrypt_ioctl.h"
#include "kdf.h"
#include "names.h"
#include "secret.h"
#include "wire.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	printf("%-34s median %9.3f ms   p95 %9.3f ms   min %9.3f ms   (n=%d)\n", what, v[n / 2] / 1000,
	       v[(int)(n * 0.95)] / 1000, v[0] / 1000, n);
}

/* The untimed reset of --reset: empty cache dirs gone, index as it was. */
static int reset_first_login(const char *index, const char *saved, size_t len, char **dirs, int n_dirs)
{
	char tmp[4096];
	FILE *f;

	for (int i = 0; i < n_dirs; i++)
		if (rmdir(dirs[i]) < 0 && errno != ENOENT)
			return -errno;
	snprintf(tmp, sizeof(tmp), "%s.bench-tmp", index);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fwrite(saved, 1, len, f) != len || fclose(f) != 0 || rename(tmp, index) < 0)
		return -EIO;
	return 0;
}

static int call(const char *sock, struct lk_msg *m, struct lk_msg *rep, int keep_fd)
{
	uint64_t deadline = lk_now_ms() + 5000;
	int fd = lk_client_connect(sock, 1, deadline), r;
	if (fd < 0)
		return fd;
	r = lk_client_call(fd, m, rep, deadline);
	if (r < 0 || !keep_fd) {
		close(fd);
		return r;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct lk_secret sm = {}, sr = {}, w = {};
	struct lk_msg *m, *rep;
	char pass[256];
	int n, r;

	uid_t uid;
	unsigned long iterations;
	bool reset = argc >= 8 && strcmp(argv[5], "--reset") == 0;
	if ((argc != 5 && !reset) || lk_parse_uid(argv[2], &uid) < 0 ||
	    lk_parse_uint(argv[4], 1, 1000000, &iterations) < 0 || !fgets(pass, sizeof(pass), stdin)) {
		fprintf(stderr, "usage: bench-login SOCKET UID DIR ITERATIONS [--reset INDEX CACHEDIR...] < "
		                "passphrase\n");
		return 2;
	}
	static char saved_index[LK_INDEX_MAX_SIZE];
	size_t saved_len = 0;
	if (reset) {
		FILE *f = fopen(argv[6], "re");
		if (!f)
			return 1;
		saved_len = fread(saved_index, 1, sizeof(saved_index), f);
		fclose(f);
	}
	pass[strcspn(pass, "\n")] = 0;
	const char *sock = argv[1], *dir = argv[3];
	char file[4096];
	snprintf(file, sizeof(file), "%s/file", dir);
	struct lk_fscrypt_policy pol;
	int parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0 || lk_fscrypt_get_policy(parent, &pol) < 0)
		return 1;
	close(parent);
	/* the key status is asked on the parent: an fd inside would pin an inode */
	char up[4096];
	snprintf(up, sizeof(up), "%s/..", dir);
	parent = open(up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent < 0)
		return 1;
	n = (int)iterations;
	if (lk_secret_new(&sm, sizeof(*m)) < 0 || lk_secret_new(&sr, sizeof(*rep)) < 0 ||
	    lk_secret_new(&w, LK_WRAP_KEY_SIZE) < 0)
		return 1;
	m = sm.ptr;
	rep = sr.ptr;

	lk_msg_init(m, LK_REQ_KDF_PARAMS, 1);
	lk_msg_set_uid(m, uid);
	if (call(sock, m, rep, 0) < 0 || rep->type != LK_REP_KDF_PARAMS) {
		fprintf(stderr, "no KDF parameters for uid %u\n", uid);
		return 1;
	}
	struct lk_kdf_params kdf = rep->kdf;

	double *argon = calloc(5, sizeof(double)), *login = calloc((size_t)n, sizeof(double)),
	       *logout = calloc((size_t)n, sizeof(double)), *t_auth = calloc((size_t)n, sizeof(double)),
	       *t_open = calloc((size_t)n, sizeof(double)), *t_read = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < 5; i++) {
		double t0 = now_us();
		if (lk_kdf_derive(&kdf, pass, strlen(pass), w.ptr) < 0)
			return 1;
		argon[i] = now_us() - t0;
	}

	for (int i = 0; i < n; i++) {
		char buf[64];
		if (reset && reset_first_login(argv[6], saved_index, saved_len, argv + 7, argc - 7) < 0) {
			fprintf(stderr, "cannot reset the cache directories\n");
			return 1;
		}
		double t0 = now_us();
		/* auth: the module's two round trips on one connection */
		uint64_t deadline = lk_now_ms() + 5000;
		int afd = lk_client_connect(sock, 1, deadline);
		lk_msg_init(m, LK_REQ_KDF_PARAMS, 2);
		lk_msg_set_uid(m, uid);
		r = afd < 0 ? afd : lk_client_call(afd, m, rep, deadline);
		lk_msg_init(m, LK_REQ_AUTH_SUBMIT, 3);
		lk_msg_set_uid(m, uid);
		lk_msg_set_key(m, w.ptr);
		r = r < 0 ? r : lk_client_call(afd, m, rep, deadline);
		if (afd >= 0)
			close(afd);
		if (r < 0 || rep->type != LK_REP_OK) {
			fprintf(stderr, "auth submit failed\n");
			return 1;
		}
		double t1 = now_us();
		/* open_session: the daemon unwraps P's policy keys and adds them */
		lk_msg_init(m, LK_REQ_SESSION_OPEN, 4);
		lk_msg_set_uid(m, uid);
		int sfd = call(sock, m, rep, 1);
		if (sfd < 0 || rep->type != LK_REP_UNLOCK_RESULT || rep->status != LK_OK || rep->count < 1 ||
		    (reset && rep->count != 1u + (unsigned)(argc - 7))) {
			fprintf(stderr, "session open did not unlock\n");
			return 1;
		}
		double t2 = now_us();
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) {
			fprintf(stderr, "file not readable after unlock: %s\n", strerror(errno));
			return 1;
		}
		close(fd);
		login[i] = now_us() - t0;
		t_auth[i] = t1 - t0;
		t_open[i] = t2 - t1;
		t_read[i] = now_us() - t2;

		/* logout: close the session connection; locked when the key is absent */
		t0 = now_us();
		close(sfd);
		for (;;) {
			uint32_t state, users;
			if (lk_fscrypt_key_status(parent, pol.key_id, &state, &users) == 0 &&
			    state == LK_KEY_ABSENT)
				break;
			if (now_us() - t0 > 5e6) {
				fprintf(stderr, "not locked within 5 s\n");
				return 1;
			}
		}
		logout[i] = now_us() - t0;
	}

	/* Password change, daemon side; an even count ends on the real W. */
	struct lk_secret w2 = {};
	int nc = n < 50 ? 50 : n - n % 2;
	double *change = calloc((size_t)nc, sizeof(double));
	if (!change || lk_secret_new(&w2, LK_WRAP_KEY_SIZE) < 0 ||
	    lk_random_bytes(w2.ptr, LK_WRAP_KEY_SIZE) < 0)
		return 1;
	for (int i = 0; i < nc; i++) {
		const uint8_t *from = i % 2 ? w2.ptr : w.ptr, *to = i % 2 ? w.ptr : w2.ptr;
		double t0 = now_us();
		uint64_t deadline = lk_now_ms() + 5000;
		int cfd = lk_client_connect(sock, 1, deadline);
		lk_msg_init(m, LK_REQ_KDF_PARAMS, 5);
		lk_msg_set_uid(m, uid);
		lk_msg_set_flags(m, LK_KDF_F_FRESH | LK_KDF_F_KIND(LK_SLOT_LOGIN));
		r = cfd < 0 ? cfd : lk_client_call(cfd, m, rep, deadline);
		if (r < 0 || rep->type != LK_REP_KDF_PARAMS) {
			fprintf(stderr, "no fresh KDF parameters\n");
			return 1;
		}
		struct lk_kdf_params fresh = rep->kdf;
		lk_msg_init(m, LK_REQ_REWRAP, 6);
		lk_msg_set_uid(m, uid);
		lk_msg_set_key(m, from);
		lk_msg_set_new_key(m, to);
		lk_msg_set_kdf(m, &fresh);
		lk_msg_set_flags(m, LK_RW_FLAGS(LK_SLOT_LOGIN, LK_SLOT_LOGIN));
		r = lk_client_call(cfd, m, rep, deadline);
		close(cfd);
		if (r < 0 || rep->type != LK_REP_OK) {
			fprintf(stderr, "rewrap failed\n");
			return 1;
		}
		change[i] = now_us() - t0;
	}

	printf("Argon2id t=%u m=%u MiB p=%u\n", kdf.t_cost, kdf.m_cost_kib / 1024, kdf.parallelism);
	report("Argon2id derivation (client)", argon, 5);
	report("login overhead (auth -> readable)", login, n);
	report("  of which auth (1 conn, 2 requests)", t_auth, n);
	report("  of which session open (unlock)", t_open, n);
	report("  of which first read of a file", t_read, n);
	report("logout -> locked (key absent)", logout, n);
	report("password change, daemon side", change, nc);
	printf("(a password change = 2 x Argon2id in the client + the daemon side)\n");
	lk_secret_release(&w2);
	lk_secret_release(&sm);
	lk_secret_release(&sr);
	lk_secret_release(&w);
	return 0;
}
