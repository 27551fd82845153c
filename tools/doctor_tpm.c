/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TPM2 slots: whether this build has them, what latchkey.conf asks for, and
 * whether the TPM it names is there. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "doctor.h"

void doctor_check_tpm(struct doctor *d)
{
	char etc[PATH_MAX], vendor[PATH_MAX], dev[PATH_MAX];
	struct lk_config_error err = {};
	struct lk_config c;
	struct stat st;
	const char *mode, *path;
	int r;

	snprintf(etc, sizeof(etc), "%s%s", d->root, LK_DEFAULT_CONFIG_DIR);
	snprintf(vendor, sizeof(vendor), "%s%s", d->root, LK_VENDOR_CONFIG_DIR);
	r = lk_config_load(etc, vendor, &c, &err);
	if (r < 0) {
		char msg[sizeof(err.message) + PATH_MAX + 16];
		lk_config_error_format(&err, msg, sizeof(msg));
		doctor_add(d, DOCTOR_FAIL, "tpm", "fix the file named, then systemctl reload latchkeyd",
		           "the configuration does not load: %s", msg);
		return;
	}
	mode = c.tpm.mode == LK_TPM_REQUIRED    ? "required"
	       : c.tpm.mode == LK_TPM_PREFERRED ? "preferred"
	                                        : "off";
	if (!HAVE_TPM2) {
		if (c.tpm.mode == LK_TPM_OFF)
			doctor_add(
			    d, DOCTOR_OK, "tpm", NULL,
			    "no TPM2 slots: this build has no TPM2 support (built without libtss2-esys)");
		else
			doctor_add(
			    d, DOCTOR_WARN, "tpm",
			    "install a latchkey built with libtss2-dev, or set tpm = off",
			    "tpm = %s, but this build has no TPM2 support (built without libtss2-esys): "
			    "logins use the other slots",
			    mode);
		goto out;
	}
	if (c.tpm.mode == LK_TPM_OFF) {
		doctor_add(d, DOCTOR_OK, "tpm", NULL, "TPM2 slots are off (tpm = off in latchkey.conf)");
		goto out;
	}
	/* Only a device TCTI can be checked without talking to the TPM, which
	 * doctor does not do (it reads, never acts). */
	if (strncmp(c.tpm.tcti, "device:", 7) != 0) {
		doctor_add(d, DOCTOR_OK, "tpm", NULL, "tpm = %s through %s (not checked: not a device)", mode,
		           c.tpm.tcti);
		goto out;
	}
	path = c.tpm.tcti + 7;
	snprintf(dev, sizeof(dev), "%s%s", d->root, path);
	if (stat(dev, &st) < 0 || !S_ISCHR(st.st_mode))
		doctor_add(
		    d, DOCTOR_WARN, "tpm",
		    "load the TPM driver (tpm_crb or tpm_tis), or set tpm = off in latchkey.conf",
		    "tpm = %s, but there is no TPM at %s: TPM2 slots cannot open and logins fall back to "
		    "the other slots",
		    mode, path);
	else
		doctor_add(d, DOCTOR_OK, "tpm", NULL, "tpm = %s; TPM at %s", mode, path);
out:
	lk_config_free(&c);
}
