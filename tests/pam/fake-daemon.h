/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake latchkeyd of the pam_wrapper tests. It is legitimate here: the
 * real daemon needs root and a real kernel with fscrypt, and those tests
 * live in tests/root. The fake is the tests' one, tests/lib/mock-latchkeyd.py
 * (LK_TEST_MOCK, run with LK_TEST_PYTHON), in a "pam-" scenario per mode:
 * the tests set the record's "in" fields, fake_configure() hands them to it,
 * and fake_load() fills the "out" fields from its log of what the module
 * sent and how many connections it made (run_one, run_script and sync_fake
 * call both).
 */
#ifndef LK_TEST_FAKE_DAEMON_H
#define LK_TEST_FAKE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

enum fake_mode {
	FAKE_NORMAL,      /* answers like a daemon that accepts everything */
	FAKE_HANG,        /* accepts, reads, never answers */
	FAKE_GARBAGE,     /* answers every request with random bytes */
	FAKE_WRONG_UID,   /* FAKE_NORMAL, but listening as uid 65534 */
	FAKE_IDLE_CLOSE,  /* FAKE_NORMAL, but closes the connection after answering
	                   * KDF_PARAMS, as latchkeyd drops one left idle 5 s by a
	                   * slow derivation */
	FAKE_DROP_SUBMIT, /* FAKE_NORMAL, but the first AUTH_SUBMIT is read and
	                   * its connection closed unanswered, as a loaded
	                   * latchkeyd acting late on an idle deadline does */
	FAKE_SLOW,        /* FAKE_NORMAL, each answer reply_delay_ms late */
};

#define FAKE_MAX_MSGS    32
#define FAKE_MAX_SUBMITS 4
/* The salt of fresh parameters: unlike the login slot's random one. */
#define FAKE_FRESH_SALT_BYTE 0x5a

struct fake_record {
	int connections;   /* accepted, probes included */
	int probes;        /* fake_sync() connections */
	int open_at_probe; /* other connections still open at the last probe */
	int n_msgs;        /* requests from the module (probes excluded) */
	uint16_t types[FAKE_MAX_MSGS];
	uint32_t uids[FAKE_MAX_MSGS];
	uint32_t flags[FAKE_MAX_MSGS]; /* LK_T_FLAGS of each request, 0 if absent */
	char text[LK_TEXT_MAX + 1];    /* service of the last SESSION_OPEN */

	/* in: how to answer (set before the module runs) */
	struct lk_kdf_params kdf;   /* KDF_PARAMS: the login slot's parameters */
	struct lk_kdf_params fresh; /* KDF_PARAMS with LK_KDF_F_FRESH */
	uint32_t session_flags;     /* LK_RF_* for UNLOCK_RESULT */
	uint32_t kdf_status;        /* LK_OK, or the ERROR status KDF_PARAMS answers */
	uint32_t rewrap_status;     /* LK_OK, or the ERROR status REWRAP answers */
	int check_key;              /* AUTH_SUBMIT: BAD_KEY unless the key is good_key */
	uint8_t good_key[LK_WRAP_KEY_SIZE];
	unsigned reply_delay_ms; /* FAKE_SLOW */

	/* out: what the module sent */
	int dropped_submits; /* FAKE_DROP_SUBMIT: AUTH_SUBMITs seen (the first unanswered) */
	int got_key;
	uint8_t key[LK_WRAP_KEY_SIZE]; /* the W of the last AUTH_SUBMIT */
	int n_submits;
	uint8_t submits[FAKE_MAX_SUBMITS][LK_WRAP_KEY_SIZE];
	int got_rewrap;
	struct lk_msg rewrap; /* the last REWRAP as received */
};

struct fake_daemon {
	pid_t pid;
	enum fake_mode mode;
	char path[108];
	struct fake_record *rec;
};

/* Start a fake daemon at path. 0 or -errno. session_flags go into UNLOCK_RESULT. */
int fake_start(struct fake_daemon *d, const char *path, enum fake_mode mode, uint32_t session_flags);
/* Hand the record's "in" fields to the daemon (it reads them at every
 * request). 0 or -errno. */
int fake_configure(struct fake_daemon *d);
/* The record's "out" fields from what the daemon logged so far (each request
 * is logged before it is answered). 0 or -errno; -EBADMSG if the module sent
 * a message lib/wire.c refuses. */
int fake_load(struct fake_daemon *d);
/* Wait until every connection made before this call has been accepted and
 * every close seen: connect, send a probe, await the answer; then
 * fake_load(). 0 or -errno. */
int fake_sync(struct fake_daemon *d);
/* Kill the daemon, unlink the socket and its side files, free the record. */
void fake_stop(struct fake_daemon *d);
/* Connections the module made (probes excluded). */
int fake_module_connections(const struct fake_daemon *d);
/* Whether a derivation may take longer than LK_PAM_IDLE_RECONNECT_MS here
 * (LK_TEST_SLOW_HOST=1, set by the valgrind test setup: memcheck runs
 * Argon2id some 50 times slower). */
bool fake_slow_host(void);

/* The module made exactly n connections. On a slow host it replaces a
 * connection that idled through a derivation (as it must: latchkeyd drops
 * idle ones), so there n is a floor; none stays none everywhere. */
#define assert_module_connections(d, n)                                                                      \
	do {                                                                                                 \
		int got_ = fake_module_connections(d);                                                       \
		if ((n) > 0 && fake_slow_host())                                                             \
			assert_in_range(got_, (n), (n) + 16);                                                \
		else                                                                                         \
			assert_int_equal(got_, (n));                                                         \
	} while (0)

#endif
