/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#include "client.h"
#include "crypto.h"
#include "fileio.h"
#include "secret.h"

/* The account the test enrols: the runner itself when not root (enrolment
 * refuses uid 0), else "nobody". Enrolment records its name from passwd. */
static int pick_test_uid(uid_t *ret)
{
	struct passwd *pw;

	if (getuid() != 0) {
		*ret = getuid();
		return getpwuid(*ret) ? 0 : -ENOENT;
	}
	pw = getpwnam("nobody");
	if (!pw || pw->pw_uid == 0)
		return -ENOENT;
	*ret = pw->pw_uid;
	return 0;
}

bool harness_can_run(void)
{
	uid_t uid;

	/* Without the hooks the store wants a root-owned state directory. */
	if (!LK_TEST_HOOKS && geteuid() != 0)
		return false;
	return pick_test_uid(&uid) == 0;
}

int harness_setup(void **state)
{
	struct harness *h;

	h = calloc(1, sizeof(*h));
	assert_non_null(h);
	assert_int_equal(pick_test_uid(&h->uid), 0);
	strcpy(h->dir, "/tmp/lk-test-daemon-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->state, sizeof(h->state), "%s/state", h->dir);

	/* What main() sets up before serving, minus the listening socket,
	 * the session records, the configuration files (the defaults) and
	 * its refusal to run on unlocked buffers (the test holds no real
	 * user's secrets). */
	h->d = (struct daemon){.listen_fd = -1, .store = {-1, -1, -1}, .sessions_fd = -1};
	h->d.rx = lk_secret_alloc(LK_MSG_MAX, NULL);
	h->d.tx = lk_secret_alloc(LK_MSG_MAX, NULL);
	h->d.req = lk_secret_alloc(sizeof(struct lk_msg), NULL);
	h->d.rep = lk_secret_alloc(sizeof(struct lk_msg), NULL);
	assert_true(h->d.rx && h->d.tx && h->d.req && h->d.rep);
	h->d.config_dir = h->dir;
	h->d.vendor_config_dir = h->dir;
	lk_config_init(&h->d.config);
	assert_int_equal(store_open(h->state, &h->d.store), 0);
	assert_int_equal(sd_event_new(&h->d.event), 0);
	*state = h;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

int harness_teardown(void **state)
{
	struct harness *h = *state;

	if (!h)
		return 0;
	/* main()'s order at exit. server_stop frees the connections. */
	server_stop(&h->d);
	daemon_logout_free(&h->d);
	lk_config_free(&h->d.config);
	users_free(&h->d.users);
	store_close(&h->d.store);
	sd_event_unref(h->d.event);
	lk_secret_free(h->d.rx, LK_MSG_MAX);
	lk_secret_free(h->d.tx, LK_MSG_MAX);
	lk_secret_free(h->d.req, sizeof(struct lk_msg));
	lk_secret_free(h->d.rep, sizeof(struct lk_msg));
	for (unsigned i = 0; i < h->n_peer_fds; i++)
		close(h->peer_fds[i]);
	nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	unsetenv("LATCHKEY_TEST_FAIL_AT");
	unsetenv("LATCHKEY_TEST_PENDING_TTL_MS");
	free(h);
	return 0;
}

struct peer harness_peer(struct harness *h, uid_t peer_uid)
{
	struct conn *c = calloc(1, sizeof(*c));
	int sv[2];

	assert_non_null(c);
	assert_true(h->n_peer_fds < sizeof(h->peer_fds) / sizeof(h->peer_fds[0]));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* The daemon's end is non-blocking, as accept4() makes it. */
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	c->d = &h->d;
	c->fd = sv[0];
	/* The chosen credentials (harness.h): what SO_PEERCRED would say of a
	 * peer with this uid. */
	c->peer = (struct ucred){.pid = getpid(), .uid = peer_uid, .gid = peer_uid == 0 ? 0 : getgid()};
	c->charge_uid = peer_uid == 0 ? CHARGE_NONE : peer_uid;
	c->next = h->d.conns;
	if (h->d.conns)
		h->d.conns->prev = c;
	h->d.conns = c;
	h->d.n_conns++;
	h->peer_fds[h->n_peer_fds++] = sv[1];
	return (struct peer){.c = c, .fd = sv[1]};
}

void harness_call(struct harness *h, struct peer *p, struct lk_msg *req, struct lk_msg *rep)
{
	struct daemon *d = &h->d;
	uint8_t buf[LK_MSG_MAX];
	size_t len;
	ssize_t k;

	req->seq = ++h->seq;
	assert_int_equal(lk_msg_encode(req, buf, sizeof(buf), &len), 0);
	assert_int_equal(send(p->fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
	lk_wipe(buf, len);

	/* What server.c does with a message on a connection: receive into the
	 * locked buffer, decode, handle, wipe. */
	k = recv(p->c->fd, d->rx, LK_MSG_MAX, MSG_DONTWAIT);
	assert_true(k > 0);
	assert_int_equal(lk_msg_decode(d->rx, (size_t)k, d->req), 0);
	lk_wipe(d->rx, (size_t)k);
	assert_int_equal(handle_request(p->c, d->req), 0);
	lk_msg_wipe(d->req);
	lk_msg_wipe(d->rep);

	/* Every request handled here answers at once, with one message. */
	k = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(k > 0);
	assert_int_equal(lk_msg_decode(buf, (size_t)k, rep), 0);
	lk_wipe(buf, sizeof(buf));
	assert_int_equal(rep->seq, h->seq);
}

void harness_random_key(uint8_t w[LK_WRAP_KEY_SIZE])
{
	assert_int_equal(lk_random_bytes(w, LK_WRAP_KEY_SIZE), 0);
}

void harness_kdf(struct lk_kdf_params *ret)
{
	*ret = (struct lk_kdf_params){.alg = LK_KDF_ARGON2ID,
	                              .t_cost = LK_KDF_NEW_T_MIN,
	                              .m_cost_kib = LK_KDF_M_MIN_KIB,
	                              .parallelism = 1,
	                              .salt_len = LK_SALT_MIN};
	assert_int_equal(lk_random_bytes(ret->salt, ret->salt_len), 0);
}

void harness_enroll(struct harness *h, const uint8_t w[LK_WRAP_KEY_SIZE], struct lk_kdf_params *ret_kdf)
{
	struct peer root = harness_peer(h, 0);
	struct lk_msg req, rep;
	struct lk_kdf_params kdf;

	harness_kdf(&kdf);
	lk_msg_init(&req, LK_REQ_ENROLL, 0);
	lk_msg_set_uid(&req, h->uid);
	lk_msg_set_kdf(&req, &kdf);
	lk_msg_set_key(&req, w);
	harness_call(h, &root, &req, &rep);
	assert_int_equal(rep.type, LK_REP_OK);
	if (ret_kdf)
		*ret_kdf = kdf;
}

int harness_load_protector(struct harness *h, struct lk_protector *ret)
{
	uint8_t buf[LK_PROTECTOR_MAX_SIZE];
	char name[16];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "%u", (unsigned)h->uid);
	r = lk_read_file_at(h->d.store.protectors_fd, name, geteuid(), sizeof(buf), buf, &len);
	if (r < 0)
		return r;
	return lk_protector_parse(buf, len, ret);
}

bool harness_disk_opens(struct harness *h, const uint8_t w[LK_WRAP_KEY_SIZE],
                        uint8_t p[LK_PROTECTOR_KEY_SIZE])
{
	struct lk_protector pr;
	uint8_t tmp[LK_PROTECTOR_KEY_SIZE];
	unsigned idx;
	int r;

	assert_int_equal(harness_load_protector(h, &pr), 0);
	r = lk_protector_open(&pr, LK_SLOT_LOGIN, w, p ? p : tmp, &idx);
	assert_true(r == 0 || r == -EBADMSG);
	lk_wipe(tmp, sizeof(tmp));
	return r == 0;
}

uint32_t reply_status(const struct lk_msg *rep)
{
	return lk_msg_has(rep, LK_T_STATUS) ? rep->status : LK_OK;
}
