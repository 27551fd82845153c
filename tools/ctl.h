/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl internals shared between the command files. */
#ifndef LK_CTL_H
#define LK_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "wire.h"

/* Exit status, documented in --help and latchkeyctl(8). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_UNREACHABLE = 3,
	CTL_EXIT_PERM = 4,
	CTL_EXIT_AUTH = 5,
	CTL_EXIT_NOT_ENROLLED = 6,
};

struct ctl {
	const char *socket_path;
	bool json;
};

/* One command: name, entry point (argv[0] is the command name), summary. */
struct ctl_command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *summary;
};

int cmd_enroll(struct ctl *ctl, int argc, char **argv);
int cmd_encrypt(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_lock(struct ctl *ctl, int argc, char **argv);
int cmd_unlock(struct ctl *ctl, int argc, char **argv);
int cmd_recovery(struct ctl *ctl, int argc, char **argv);
int cmd_escrow(struct ctl *ctl, int argc, char **argv);
int cmd_rotate(struct ctl *ctl, int argc, char **argv);
int cmd_policy(struct ctl *ctl, int argc, char **argv);
int cmd_prune(struct ctl *ctl, int argc, char **argv);
int cmd_migrate(struct ctl *ctl, int argc, char **argv);
int cmd_decrypt(struct ctl *ctl, int argc, char **argv);
int cmd_forget(struct ctl *ctl, int argc, char **argv);
int cmd_unenroll(struct ctl *ctl, int argc, char **argv);

/* Version of every --json document (status results and error objects),
 * described by contrib/schema/latchkeyctl.schema.json. */
#define CTL_JSON_SCHEMA_VERSION 2

/* After a failed command in --json mode that printed nothing on stdout:
 * {"schema_version", "error": {"exit_status", "status", "message"}} from
 * the first error reported through the functions below. */
void ctl_print_json_error(int code);
int cmd_tpm(struct ctl *ctl, int argc, char **argv);
int cmd_doctor(struct ctl *ctl, int argc, char **argv);

/* Printed after a usage error; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "latchkeyctl: <op>: message" on stderr. Returns code. */
int ctl_fail(int code, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Messages live in secret memory because requests and replies may carry a
 * wrapping key. ctl_msg_new returns NULL after printing an error.
 */
struct lk_msg *ctl_msg_new(void);
void ctl_msg_free(struct lk_msg **m);
#define _cleanup_msg_ __attribute__((cleanup(ctl_msg_free)))

/*
 * Connect to the daemon: 0 and *ret_fd, or a positive exit code after
 * printing why. Each request gets its own connection: the
 * protocol is stateless outside sessions, and a connection never sits idle
 * while a human types a passphrase.
 */
int ctl_connect(const struct ctl *ctl, const char *op, int *ret_fd);

/*
 * Send req on a fresh connection and receive one reply into rep. Returns
 * 0 with the reply (which may be LK_REP_ERROR), or a positive exit code
 * after printing why.
 */
int ctl_request(const struct ctl *ctl, const char *op, const struct lk_msg *req, struct lk_msg *rep);

/* ctl_request, then a reply of any type but want is a failure: printed
 * (ctl_reply_error) and returned as its exit code. */
int ctl_request_expect(const struct ctl *ctl, const char *op, const struct lk_msg *req, struct lk_msg *rep,
                       uint16_t want);

/* As ctl_request, printing nothing: 0 with the reply, or -errno;
 * *ret_connected says whether the connection (to a root server) was made. */
int ctl_call_quiet(const struct ctl *ctl, const struct lk_msg *req, struct lk_msg *rep, bool *ret_connected);

/* For an LK_REP_ERROR reply: print "latchkeyctl: op: <status>: <text>" and
 * map the status to an exit code. */
int ctl_reply_error(const char *op, const struct lk_msg *rep);
int ctl_status_to_exit(uint32_t status);

/* Fail with CTL_EXIT_PERM unless running as root. */
int ctl_require_root(const char *op);

/* Validate and resolve a user name. 0, or an exit code after printing. */
int ctl_resolve_user(const char *op, const char *name, uid_t *ret_uid);

/* ctl_require_root, then ctl_resolve_user. 0, or an exit code after printing. */
int ctl_require_root_user(const char *op, const char *name, uid_t *ret_uid);

/* Allocate a request and a reply buffer and start the request: type, uid
 * (LK_UID_NONE: none sent). 0, or CTL_EXIT_FAILED after printing. Both are set even on failure, so
 * that _cleanup_msg_ frees whichever was allocated. */
int ctl_msgs_new(struct lk_msg **ret_req, struct lk_msg **ret_rep, uint16_t type, uid_t uid);

/* Read a passphrase from standard input (one line) or ask on the terminal
 * with prompt, twice if confirm. 0, or an exit code after printing. */
struct passphrase;
int ctl_read_passphrase(const char *op, const char *prompt, bool confirm, bool from_stdin,
                        struct passphrase *ret);

/* KDF_PARAMS{uid, flags} (flags 0: none sent): the parameters of a slot,
 * checked against the bounds. 0, or an exit code after printing. */
struct lk_kdf_params;
int ctl_kdf_params(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags,
                   struct lk_kdf_params *ret);
/* The same, with the reply's flags (LK_KDF_RF_*) in *ret_flags (if not NULL). */
int ctl_kdf_params_flags(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags,
                         struct lk_kdf_params *ret, uint32_t *ret_flags);

/* Allocate w (secret memory, LK_WRAP_KEY_SIZE), read the passphrase of uid
 * and derive W into it with the daemon's KDF parameters. 0 or an exit code
 * after printing. */
struct lk_secret;
int ctl_derive_for_user(const struct ctl *ctl, const char *op, uid_t uid, const char *user, bool from_stdin,
                        struct lk_secret *w);

/*
 * Fill whichever of *etc (configuration directory) and *vendor (vendor
 * directory) is NULL, from the running latchkeyd (CONFIG_DIR); when it
 * cannot be asked, from the compiled-in defaults, saying so on stderr. A
 * NULL etc or vendor pointer is not wanted.
 */
void ctl_daemon_config_dirs(const struct ctl *ctl, const char *op, const char **etc, const char **vendor);

/* Time the daemon gets for one reply. Generous: ENCRYPT may walk a
 * directory and UNLOCK may add several keys. */
#define CTL_CONNECT_TIMEOUT_MS 5000
#define CTL_REPLY_TIMEOUT_MS   30000

#endif
