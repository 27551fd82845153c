/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl doctor: what latchkey needs from this system, and the fixes. */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "doctor.h"
#include "json_out.h"
#include "output.h"

static void doctor_help(void)
{
	printf("Usage: latchkeyctl doctor [--json] [--root DIR] [--pam-dir DIR] [--state-dir DIR]\n"
	       "\n"
	       "Check what latchkey needs and print each finding with its fix: fscrypt in the\n"
	       "kernel (probed with FS_IOC_ADD_ENCRYPTION_KEY, adding nothing), the encrypt\n"
	       "feature of each mounted ext4 and f2fs, pam_latchkey.so in common-auth,\n"
	       "-session and -password (present, optional, after pam_unix.so, not jumped\n"
	       "over; pam_fscrypt not stacked too), latchkeyd answering on its socket, its\n"
	       "units enabled, and the state directory root's alone. Changes nothing.\n"
	       "Exit status 1 if any check failed (warnings do not count).\n"
	       "\n"
	       "Options:\n"
	       "  --json           print {\"ok\",\"findings\":[{\"check\",\"level\",\"message\",\"fix\"}]}\n"
	       "  --root DIR       read PAM files, units and the state directory below DIR\n"
	       "  --pam-dir DIR    PAM configuration (default ROOT/etc/pam.d)\n"
	       "  --state-dir DIR  state directory (default ROOT%s)\n"
	       "  -h, --help       show this help\n",
	       LK_DEFAULT_STATE_DIR);
}

void doctor_add(struct doctor *d, enum doctor_level level, const char *check, const char *fix,
                const char *fmt, ...)
{
	struct doctor_finding *grown, *f;
	va_list ap;
	int r;

	grown = reallocarray(d->findings, d->n_findings + 1, sizeof(*d->findings));
	if (!grown) {
		d->oom = 1;
		return;
	}
	d->findings = grown;
	f = &d->findings[d->n_findings];
	*f = (struct doctor_finding){.level = level, .check = strdup(check), .fix = fix ? strdup(fix) : NULL};
	va_start(ap, fmt);
	r = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	if (r < 0 || !f->check || (fix && !f->fix)) {
		free(f->check);
		free(f->fix);
		if (r >= 0)
			free(f->message);
		d->oom = 1;
		return;
	}
	d->n_findings++;
}

static const char *level_name(enum doctor_level l)
{
	return l == DOCTOR_OK ? "ok" : l == DOCTOR_WARN ? "warning" : "fail";
}

static void print_findings_json(const struct doctor *d, bool ok)
{
	struct json_object *doc = json_object_new_object(), *findings = json_object_new_array();

	json_out_add_bool(doc, "ok", ok);
	for (size_t i = 0; i < d->n_findings; i++) {
		const struct doctor_finding *f = &d->findings[i];
		struct json_object *o = json_object_new_object();

		json_out_add_string(o, "check", f->check);
		json_out_add_string(o, "level", level_name(f->level));
		json_out_add_string(o, "message", f->message);
		json_object_object_add(o, "fix", f->fix ? json_out_string(f->fix) : NULL);
		json_object_array_add(findings, o);
	}
	json_object_object_add(doc, "findings", findings);
	(void)json_out_print(doc);
}

static void print_findings(const struct doctor *d, bool json, bool ok)
{
	if (json) {
		print_findings_json(d, ok);
		return;
	}
	for (size_t i = 0; i < d->n_findings; i++) {
		const struct doctor_finding *f = &d->findings[i];

		printf("%-7s %-10s ", level_name(f->level), f->check);
		text_print_escaped(stdout, f->message);
		putchar('\n');
		if (f->fix) {
			printf("%-18s fix: ", "");
			text_print_escaped(stdout, f->fix);
			putchar('\n');
		}
	}
}

int cmd_doctor(struct ctl *ctl, int argc, char **argv)
{
	enum { OPT_JSON = 0x100, OPT_ROOT, OPT_PAM_DIR, OPT_STATE_DIR };
	static const struct option options[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"pam-dir", required_argument, NULL, OPT_PAM_DIR},
	    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	char pam_dir[PATH_MAX], state_dir[PATH_MAX];
	const char *root = "", *pam_opt = NULL, *state_opt = NULL;
	struct doctor d = {.socket_path = ctl->socket_path};
	bool ok = true;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_ROOT:
			root = optarg;
			break;
		case OPT_PAM_DIR:
			pam_opt = optarg;
			break;
		case OPT_STATE_DIR:
			state_opt = optarg;
			break;
		case 'h':
			doctor_help();
			return CTL_EXIT_OK;
		default:
			return ctl_usage_error("doctor", "invalid option");
		}
	}
	if (optind != argc)
		return ctl_usage_error("doctor", "unexpected argument '%s'", argv[optind]);
	if (root[0] && root[0] != '/')
		return ctl_usage_error("doctor", "--root needs an absolute path");
	if (strcmp(root, "/") == 0)
		root = "";
	snprintf(pam_dir, sizeof(pam_dir), "%s%s", pam_opt ? "" : root, pam_opt ? pam_opt : "/etc/pam.d");
	snprintf(state_dir, sizeof(state_dir), "%s%s", state_opt ? "" : root,
	         state_opt ? state_opt : LK_DEFAULT_STATE_DIR);
	d.root = root;
	d.pam_dir = pam_dir;
	d.state_dir = state_dir;

	doctor_check_filesystems(&d);
	doctor_check_pam(&d);
	doctor_check_daemon(&d);
	doctor_check_units(&d);
	doctor_check_state_dir(&d);
	doctor_check_tpm(&d);

	for (size_t i = 0; i < d.n_findings; i++)
		ok = ok && d.findings[i].level != DOCTOR_FAIL;
	print_findings(&d, ctl->json, ok && !d.oom);
	for (size_t i = 0; i < d.n_findings; i++) {
		free(d.findings[i].check);
		free(d.findings[i].message);
		free(d.findings[i].fix);
	}
	free(d.findings);
	if (d.oom)
		return ctl_fail(CTL_EXIT_FAILED, "doctor", "out of memory: some findings are missing");
	return ok ? CTL_EXIT_OK : CTL_EXIT_FAILED;
}
