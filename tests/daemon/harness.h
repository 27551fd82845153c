/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon tier's harness: a struct daemon on a private state directory,
 * driven through the real request handlers over socketpairs, no root.
 *
 * A connection's authority in latchkeyd is the peer's SO_PEERCRED, taken
 * once when it is accepted (server.c). A socketpair's peer is always the
 * test itself, so each connection here is a struct conn built by hand with
 * the ucred the test chooses: uid 0 for a PAM host acting for the test
 * user, the test user's uid for the user acting for themselves. That is the
 * only thing faked; everything after it (authorisation, handlers, the
 * state on disk, replies on the socket) is the daemon's own code.
 */
#ifndef LK_TEST_DAEMON_HARNESS_H
#define LK_TEST_DAEMON_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon.h"
#include "login.h"
#include "requests.h"
#include "server.h"
#include "protector.h"
#include "wire.h"

struct harness {
	char dir[64]; /* mkdtemp: holds the state directory */
	char state[96];
	struct daemon d;
	uid_t uid; /* the test user: an existing non-root account */
	uint32_t seq;
	int peer_fds[16]; /* the test's ends, closed at teardown */
	unsigned n_peer_fds;
};

/* A connection to the daemon: the daemon's end (c) and the test's (fd). */
struct peer {
	struct conn *c;
	int fd;
};

/* Whether the tier can run here: an existing non-root account to enrol,
 * and a state directory the store accepts (the runner's own needs a test
 * build, else root). main() exits 77 (skipped) when not. */
bool harness_can_run(void);

/* Tests of fault injection or shortened timers: skipped in builds without
 * -Dtest_hooks=true. */
#define HARNESS_REQUIRE_TEST_HOOKS()                                                                         \
	do {                                                                                                 \
		if (!LK_TEST_HOOKS)                                                                          \
			skip();                                                                              \
	} while (0)

/* cmocka setup/teardown: *state becomes a struct harness. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* A connection whose peer has uid peer_uid (freed with the daemon). */
struct peer harness_peer(struct harness *h, uid_t peer_uid);

/* Send req (seq filled in) and let the daemon handle it as it would a
 * message arriving on the connection; *rep gets the reply. */
void harness_call(struct harness *h, struct peer *p, struct lk_msg *req, struct lk_msg *rep);

/* Fresh, valid Argon2id parameters for a new slot (the daemon never runs
 * the KDF: clients derive W, so tests send random W). */
void harness_kdf(struct lk_kdf_params *ret);
void harness_random_key(uint8_t w[LK_WRAP_KEY_SIZE]);

/* ENROLL the test user with login key w: asserts the reply is OK. */
void harness_enroll(struct harness *h, const uint8_t w[LK_WRAP_KEY_SIZE], struct lk_kdf_params *ret_kdf);

/* The protector file on disk, parsed; 0 or -errno. */
int harness_load_protector(struct harness *h, struct lk_protector *ret);
/* Whether the login slot of the file on disk opens with w (P into p if so). */
bool harness_disk_opens(struct harness *h, const uint8_t w[LK_WRAP_KEY_SIZE],
                        uint8_t p[LK_PROTECTOR_KEY_SIZE]);

/* The reply's status: LK_OK for a reply without one. */
uint32_t reply_status(const struct lk_msg *rep);

#endif
