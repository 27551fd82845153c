/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyctl doctor: checks of the system latchkey depends on, each giving a
 * finding (ok, warning or failure) and, unless ok, the command that fixes it.
 * The probes read the system only; they change nothing.
 */
#ifndef LK_CTL_DOCTOR_H
#define LK_CTL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

struct doctor_finding {
	enum doctor_level level;
	char *check; /* "kernel", "filesystem", "pam", "daemon", "units", "state", "tpm" */
	char *message;
	char *fix; /* NULL when nothing needs fixing */
};

struct doctor {
	const char *root;      /* prefix for the files read ("" for the running system) */
	const char *pam_dir;   /* full path, root applied */
	const char *state_dir; /* full path, root applied */
	const char *socket_path;
	struct doctor_finding *findings;
	size_t n_findings;
	int oom; /* a finding could not be recorded */
};

/* Record a finding; fix may be NULL. On allocation failure d->oom is set. */
void doctor_add(struct doctor *d, enum doctor_level level, const char *check, const char *fix,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* doctor_fs.c: fscrypt support in the kernel, the encrypt feature of each
 * mounted ext4 and f2fs. */
void doctor_check_filesystems(struct doctor *d);
/* doctor_pam.c: pam_latchkey.so in common-auth, -session and -password, in
 * an order in which it runs, the module file, and pam_fscrypt. */
void doctor_check_pam(struct doctor *d);
/* doctor_system.c: the daemon answers, its units are installed and enabled,
 * the state directory is root's alone. */
void doctor_check_daemon(struct doctor *d);
void doctor_check_units(struct doctor *d);
void doctor_check_state_dir(struct doctor *d);
/* doctor_tpm.c: TPM2 support in this build, latchkey.conf's tpm setting, the
 * TPM device it names. */
void doctor_check_tpm(struct doctor *d);

#endif
