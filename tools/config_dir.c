/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where latchkeyd reads its configuration: asked of the running daemon (it
 * may run with --config-dir), so that latchkeyctl writes drop-ins and reads
 * escrow.pub where the daemon looks, not where latchkeyctl was built to
 * guess. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "ctl.h"

/* Ask one question on one connection: the path, or -errno / -EPROTO (an
 * answer that is not a path: a latchkeyd too old to know the request). */
static int ask_daemon(const struct ctl *ctl, uint32_t flags, char *out, size_t size, const char **ret_why)
{
	struct lk_msg *req _cleanup_msg_ = NULL;
	struct lk_msg *rep _cleanup_msg_ = NULL;
	bool connected;
	int r;

	*ret_why = NULL;
	if (ctl_msgs_new(&req, &rep, LK_REQ_CONFIG_DIR, LK_UID_NONE) != 0)
		return -ENOMEM;
	if (flags)
		lk_msg_set_flags(req, flags);
	/* Root servers only: a path from any other listener could send a root
	 * latchkeyctl's writes anywhere. */
	r = ctl_call_quiet(ctl, req, rep, &connected);
	if (r < 0)
		return r;
	if (rep->type != LK_REP_OK || !lk_msg_has(rep, LK_T_PATH)) {
		*ret_why = "it does not say where it reads its configuration (an older latchkeyd?)";
		return -EPROTO;
	}
	if (strlen(rep->path) >= size)
		return -ENAMETOOLONG;
	strcpy(out, rep->path);
	return 0;
}

void ctl_daemon_config_dirs(const struct ctl *ctl, const char *op, const char **etc, const char **vendor)
{
	static char etc_buf[LK_PATH_MAX + 1], vendor_buf[LK_PATH_MAX + 1];
	const char *why = NULL;
	int r = 0;

	if (etc && !*etc) {
		r = ask_daemon(ctl, 0, etc_buf, sizeof(etc_buf), &why);
		if (r == 0)
			*etc = etc_buf;
	}
	if (r == 0 && vendor && !*vendor) {
		r = ask_daemon(ctl, LK_CD_VENDOR, vendor_buf, sizeof(vendor_buf), &why);
		if (r == 0)
			*vendor = vendor_buf;
	}
	if (r == 0)
		return;
	if (etc && !*etc)
		*etc = LK_DEFAULT_CONFIG_DIR;
	if (vendor && !*vendor)
		*vendor = LK_VENDOR_CONFIG_DIR;
	/* Not an error: the command may not need latchkeyd (escrow enable), or
	 * will say itself that it cannot reach it. */
	fprintf(stderr,
	        "latchkeyctl: %s: cannot ask latchkeyd at %s where it reads its configuration (%s); "
	        "using %s%s%s\n",
	        op, ctl->socket_path, why ?: strerror(-r), etc ? *etc : "", etc && vendor ? " and " : "",
	        vendor ? *vendor : "");
}
