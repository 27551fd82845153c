/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl's side of the conversation with latchkeyd, and the helpers
 * every command shares (errors, users, passphrase to W). */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "client.h"
#include "ctl.h"
#include "kdf.h"
#include "names.h"
#include "json_out.h"
#include "output.h"
#include "passwd.h"
#include "passphrase.h"
#include "secret.h"

/* The first error of this run, for the --json error object. */
static struct {
	bool set;
	char status[64];
	char message[512];
} first_error;

static void record_error(const char *status, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void record_error(const char *status, const char *fmt, va_list ap)
{
	if (first_error.set)
		return;
	first_error.set = true;
	snprintf(first_error.status, sizeof(first_error.status), "%s", status);
	vsnprintf(first_error.message, sizeof(first_error.message), fmt, ap);
}

static void record_errorf(const char *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record_errorf(const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_error(status, fmt, ap);
	va_end(ap);
}

void ctl_print_json_error(int code)
{
	struct json_object *doc = json_out_versioned(), *error = json_object_new_object();

	json_out_add_uint(error, "exit_status", (unsigned)code);
	json_out_add_string(error, "status", first_error.set ? first_error.status : "failed");
	json_out_add_string(error, "message", first_error.set ? first_error.message : "failed");
	json_object_object_add(doc, "error", error);
	(void)json_out_print(doc);
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_error("usage", fmt, ap);
	va_end(ap);
	fputs("latchkeyctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nTry 'latchkeyctl %s --help'.\n", cmd);
	else
		fputs("\nTry 'latchkeyctl --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

int ctl_fail(int code, const char *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_error("failed", fmt, ap);
	va_end(ap);
	fprintf(stderr, "latchkeyctl: %s: ", op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct lk_msg *ctl_msg_new(void)
{
	/* mlock may fail under a small RLIMIT_MEMLOCK; the memory is still
	 * wiped and kept out of core dumps, which is what matters here. */
	struct lk_msg *m = lk_secret_alloc(sizeof(struct lk_msg), NULL);

	if (!m)
		fprintf(stderr, "latchkeyctl: cannot allocate memory: %s\n", strerror(errno));
	return m;
}

void ctl_msg_free(struct lk_msg **m)
{
	if (*m) {
		lk_msg_wipe(*m);
		lk_secret_free(*m, sizeof(struct lk_msg));
		*m = NULL;
	}
}

int ctl_connect(const struct ctl *ctl, const char *op, int *ret_fd)
{
	int fd = lk_client_connect(ctl->socket_path, 1, lk_now_ms() + CTL_CONNECT_TIMEOUT_MS);

	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (fd == -EACCES)
		return ctl_fail(CTL_EXIT_PERM, op, "cannot connect to latchkeyd at %s: %s", ctl->socket_path,
		                strerror(-fd));
	if (fd == -EPERM)
		/* Someone other than root is listening there: never talk to it. */
		return ctl_fail(CTL_EXIT_UNREACHABLE, op,
		                "refusing to talk to %s: the listening process is not root",
		                ctl->socket_path);
	return ctl_fail(CTL_EXIT_UNREACHABLE, op,
	                "cannot reach latchkeyd at %s: %s (is latchkeyd.socket running?)", ctl->socket_path,
	                strerror(-fd));
}

int ctl_request(const struct ctl *ctl, const char *op, const struct lk_msg *req, struct lk_msg *rep)
{
	_cleanup_close_ int fd = -1;
	int r;

	r = ctl_connect(ctl, op, &fd);
	if (r != 0)
		return r;

	r = lk_client_call(fd, req, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "no valid reply from latchkeyd: %s", strerror(-r));
	return 0;
}

int ctl_request_expect(const struct ctl *ctl, const char *op, const struct lk_msg *req, struct lk_msg *rep,
                       uint16_t want)
{
	int r = ctl_request(ctl, op, req, rep);

	if (r != 0)
		return r;
	if (rep->type != want)
		return ctl_reply_error(op, rep);
	return 0;
}

int ctl_status_to_exit(uint32_t status)
{
	switch (status) {
	case LK_OK:
		return CTL_EXIT_OK;
	case LK_E_PERM:
		return CTL_EXIT_PERM;
	case LK_E_BAD_KEY:
		return CTL_EXIT_AUTH;
	case LK_E_NOT_ENROLLED:
		return CTL_EXIT_NOT_ENROLLED;
	default:
		return CTL_EXIT_FAILED;
	}
}

int ctl_reply_error(const char *op, const struct lk_msg *rep)
{
	uint32_t status = lk_msg_status(rep);
	const char *text, *detail;

	if (rep->type != LK_REP_ERROR)
		return ctl_fail(CTL_EXIT_FAILED, op, "unexpected reply %s from latchkeyd",
		                lk_msg_type_to_string(rep->type));

	/* The daemon's text never holds secrets (protocol.h). The errno is
	 * the detail when it sent no text, and beside the text for an
	 * internal failure: what an admin acts on (a full or read-only
	 * /var/lib). */
	text = lk_msg_has(rep, LK_T_TEXT) && rep->text[0] ? rep->text : NULL;
	detail = lk_msg_has(rep, LK_T_ERROR) && rep->error > 0 ? strerror(rep->error) : NULL;
	if (text && detail && status != LK_E_INTERNAL)
		detail = NULL;
	if (text && detail)
		record_errorf(lk_status_to_string(status), "%s (%s)", text, detail);
	else
		record_errorf(lk_status_to_string(status), "%s",
		              text     ? text
		              : detail ? detail
		                       : lk_status_to_string(status));
	fprintf(stderr, "latchkeyctl: %s: %s", op, lk_status_to_string(status));
	if (text) {
		fputs(": ", stderr);
		text_print_escaped(stderr, text);
	}
	if (detail)
		fprintf(stderr, text ? " (%s)" : ": %s", detail);
	fputc('\n', stderr);
	return ctl_status_to_exit(status);
}

int ctl_require_root(const char *op)
{
	if (geteuid() != 0)
		return ctl_fail(CTL_EXIT_PERM, op, "must be run as root");
	return 0;
}

int ctl_resolve_user(const char *op, const char *name, uid_t *ret_uid)
{
	_cleanup_passwd_ struct lk_passwd p = {};
	int r;

	/* The user database decides which names exist (upper case, say);
	 * a name it does not know is judged by what useradd could create. */
	if (!name[0] || strnlen(name, LK_ACCOUNT_MAX + 1) > LK_ACCOUNT_MAX)
		return ctl_fail(CTL_EXIT_USAGE, op, "invalid user name");
	r = lk_passwd_by_name(name, &p);
	if (r < 0 && r != -ENOENT)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot look up user: %s", strerror(-r));
	if (r == -ENOENT) {
		if (!lk_user_name_is_valid(name))
			return ctl_fail(CTL_EXIT_USAGE, op, "invalid user name");
		fprintf(stderr, "latchkeyctl: %s: no such user: ", op);
		text_print_escaped(stderr, name);
		fputc('\n', stderr);
		record_errorf("failed", "no such user");
		return CTL_EXIT_FAILED;
	}
	*ret_uid = p.pw.pw_uid;
	return 0;
}

int ctl_require_root_user(const char *op, const char *name, uid_t *ret_uid)
{
	int r = ctl_require_root(op);

	if (r != 0)
		return r;
	return ctl_resolve_user(op, name, ret_uid);
}

int ctl_call_quiet(const struct ctl *ctl, const struct lk_msg *req, struct lk_msg *rep, bool *ret_connected)
{
	_cleanup_close_ int fd = lk_client_connect(ctl->socket_path, 1, lk_now_ms() + CTL_CONNECT_TIMEOUT_MS);

	*ret_connected = fd >= 0;
	if (fd < 0)
		return fd;
	return lk_client_call(fd, req, rep, lk_now_ms() + CTL_REPLY_TIMEOUT_MS);
}

int ctl_msgs_new(struct lk_msg **ret_req, struct lk_msg **ret_rep, uint16_t type, uid_t uid)
{
	*ret_req = ctl_msg_new();
	*ret_rep = ctl_msg_new();
	if (!*ret_req || !*ret_rep)
		return CTL_EXIT_FAILED;
	lk_msg_init(*ret_req, type, 1);
	if (uid != (uid_t)LK_UID_NONE)
		lk_msg_set_uid(*ret_req, uid);
	return 0;
}

int ctl_read_passphrase(const char *op, const char *prompt, bool confirm, bool from_stdin,
                        struct passphrase *ret)
{
	int r;

	if (from_stdin)
		r = passphrase_read_fd(STDIN_FILENO, ret);
	else
		r = passphrase_prompt(prompt, confirm, ret);
	if (r < 0)
		/* -ENXIO: no terminal to ask on, which is how it was invoked. */
		return ctl_fail(r == -ENXIO ? CTL_EXIT_USAGE : CTL_EXIT_FAILED, op, "%s",
		                passphrase_strerror(r));
	return 0;
}

int ctl_kdf_params(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags,
                   struct lk_kdf_params *ret)
{
	return ctl_kdf_params_flags(ctl, op, uid, flags, ret, NULL);
}

int ctl_kdf_params_flags(const struct ctl *ctl, const char *op, uid_t uid, uint32_t flags,
                         struct lk_kdf_params *ret, uint32_t *ret_flags)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	int r;

	r = ctl_msgs_new(&req, &rep, LK_REQ_KDF_PARAMS, uid);
	if (r != 0)
		return r;
	if (flags != 0)
		lk_msg_set_flags(req, flags);
	r = ctl_request(ctl, op, req, rep);
	if (r != 0)
		return r;
	if (lk_msg_is_error(rep, LK_E_NOT_FOUND) && LK_KDF_F_KIND(flags) == LK_SLOT_RECOVERY)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "the user has no recovery code (see 'latchkeyctl recovery create')");
	if (lk_msg_is_error(rep, LK_E_NOT_FOUND) && LK_KDF_F_KIND(flags) == LK_SLOT_ESCROW)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "the user has no escrow slot (see 'latchkeyctl escrow add')");
	if (rep->type != LK_REP_KDF_PARAMS || !lk_msg_has(rep, LK_T_KDF))
		return ctl_reply_error(op, rep);
	if (lk_kdf_params_check(&rep->kdf) < 0)
		return ctl_fail(CTL_EXIT_FAILED, op,
		                "latchkeyd sent KDF parameters outside the allowed bounds");
	*ret = rep->kdf;
	if (ret_flags)
		*ret_flags = lk_msg_has(rep, LK_T_FLAGS) ? rep->flags : 0;
	return 0;
}

int ctl_derive_for_user(const struct ctl *ctl, const char *op, uid_t uid, const char *user, bool from_stdin,
                        struct lk_secret *w)
{
	struct passphrase pw _cleanup_passphrase_ = {};
	struct lk_kdf_params kdf;
	char prompt[128];
	int r;

	r = lk_secret_new(w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "cannot allocate memory: %s", strerror(-r));

	/* Ask the daemon first: no point typing a passphrase for a user it
	 * does not know, or when it is not running. */
	r = ctl_kdf_params(ctl, op, uid, 0, &kdf);
	if (r != 0)
		return r;

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", user);
	r = ctl_read_passphrase(op, prompt, false, from_stdin, &pw);
	if (r != 0)
		return r;

	r = lk_kdf_derive(&kdf, pw.buf.ptr, pw.len, w->ptr);
	if (r < 0)
		return ctl_fail(CTL_EXIT_FAILED, op, "key derivation failed: %s", strerror(-r));
	return 0;
}
