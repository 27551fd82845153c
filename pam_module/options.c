/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <sys/un.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "latchkey/protocol.h"
#include "names.h"
#include "options.h"

static const char *startswith(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

void lk_pam_options_parse(pam_handle_t *pamh, int argc, const char **argv, struct lk_pam_options *ret)
{
	struct lk_pam_options o = {
	    .debug = false,
	    .socket_path = LK_SOCKET_PATH,
	    .min_uid = LK_PAM_DEFAULT_MIN_UID,
	    .timeout_ms = LK_PAM_DEFAULT_TIMEOUT_MS,
	};

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v;
		unsigned long n;

		if (!a)
			continue;
		if (strcmp(a, "debug") == 0)
			o.debug = true;
		else if (strcmp(a, "no_prompt") == 0)
			o.no_prompt = true;
		else if ((v = startswith(a, "socket="))) {
			/* sun_path holds 108 bytes including the NUL. */
			if (v[0] != '/' || strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				pam_syslog(pamh, LOG_ERR,
				           "ignoring socket=: not an absolute path of usable length");
			else
				o.socket_path = v;
		} else if ((v = startswith(a, "min_uid="))) {
			if (lk_parse_uint(v, 0, (uid_t)-2, &n) < 0)
				pam_syslog(pamh, LOG_ERR, "ignoring invalid min_uid=%s", v);
			else
				o.min_uid = (uid_t)n;
		} else if ((v = startswith(a, "timeout_ms="))) {
			if (lk_parse_uint(v, 1, LK_PAM_MAX_TIMEOUT_MS, &n) < 0)
				pam_syslog(pamh, LOG_ERR, "ignoring timeout_ms=%s: must be 1..%u", v,
				           LK_PAM_MAX_TIMEOUT_MS);
			else
				o.timeout_ms = (unsigned)n;
		} else
			pam_syslog(pamh, LOG_ERR, "ignoring unknown option: %s", a);
	}

	*ret = o;
}
