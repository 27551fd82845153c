/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PAM stacks, as Debian lays them out (common-auth, -session, -password,
 * which pam-auth-update writes): pam_latchkey.so must be in each, optional,
 * after pam_unix.so (it needs the password pam_unix has checked), and not
 * on a line that pam_unix's "success=N" jumps over (it would never run after
 * a good password). pam_fscrypt in the same stacks would manage the same
 * keys a second way.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "doctor.h"

#define MAX_LINES 128

struct pam_line {
	unsigned lineno;
	char control[256];
	char module[PATH_MAX];
	unsigned success_jump; /* N of [success=N ...], 0 if none */
};

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool module_is(const struct pam_line *l, const char *name)
{
	return strcmp(basename_of(l->module), name) == 0;
}

/* "type control module [args]" with type (or "-type") equal to want; a
 * control may be "[...]" with spaces inside. Returns 1 for a line of that
 * type, 0 for anything else. */
static int parse_line(char *s, const char *want, unsigned lineno, struct pam_line *l)
{
	char type[32];
	const char *p, *end;
	int n = 0;

	s[strcspn(s, "#\n")] = '\0';
	if (sscanf(s, " %31s %n", type, &n) != 1)
		return 0;
	if (strcmp(type[0] == '-' ? type + 1 : type, want) != 0)
		return 0;
	p = s + n;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return 0;
		end++;
	} else
		end = p + strcspn(p, " \t");
	if ((size_t)(end - p) >= sizeof(l->control))
		return 0;
	memcpy(l->control, p, (size_t)(end - p));
	l->control[end - p] = '\0';
	if (sscanf(end, " %4095s", l->module) != 1)
		return 0;
	l->lineno = lineno;
	p = strstr(l->control, "success=");
	l->success_jump = p && l->control[0] == '[' ? (unsigned)strtoul(p + 8, NULL, 10) : 0;
	return 1;
}

/* Is pam_latchkey.so installed where libpam looks? */
static bool module_installed(const struct doctor *d, const char *module)
{
	static const char *const dirs[] = {"/lib/*/security",   "/usr/lib/*/security", "/lib/security",
	                                   "/usr/lib/security", "/lib64/security",     "/usr/lib64/security"};
	char pattern[PATH_MAX];
	bool found = false;

	if (module[0] == '/') {
		snprintf(pattern, sizeof(pattern), "%s%s", d->root, module);
		return access(pattern, R_OK) == 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(dirs) && !found; i++) {
		glob_t g = {0};

		snprintf(pattern, sizeof(pattern), "%s%s/%s", d->root, dirs[i], module);
		found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
		globfree(&g);
	}
	return found;
}

static void check_stack(struct doctor *d, const char *type, bool needs_password)
{
	char path[PATH_MAX], line[4096];
	struct pam_line lines[MAX_LINES];
	size_t n = 0, latch = SIZE_MAX, unix_ = SIZE_MAX;
	unsigned lineno = 0;
	_cleanup_(fclosep) FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/common-%s", d->pam_dir, type);
	f = fopen(path, "re");
	if (!f) {
		doctor_add(d, DOCTOR_WARN, "pam",
		           "check that pam_latchkey.so is in the system's PAM stacks by hand",
		           "%s: %s (not a Debian PAM layout?)", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) && n < MAX_LINES)
		n += (size_t)parse_line(line, type, ++lineno, &lines[n]);

	for (size_t i = 0; i < n; i++) {
		if (module_is(&lines[i], "pam_fscrypt.so"))
			doctor_add(
			    d, DOCTOR_WARN, "pam", "pam-auth-update --disable fscrypt",
			    "%s line %u: pam_fscrypt.so is stacked too; it and latchkey would both add and "
			    "remove fscrypt keys",
			    path, lines[i].lineno);
		if (module_is(&lines[i], "pam_unix.so") && unix_ == SIZE_MAX)
			unix_ = i;
		if (module_is(&lines[i], "pam_latchkey.so") && latch == SIZE_MAX)
			latch = i;
	}
	if (latch == SIZE_MAX) {
		doctor_add(d, DOCTOR_FAIL, "pam", "pam-auth-update --enable latchkey",
		           "%s: pam_latchkey.so is missing: logins will not %s", path,
		           strcmp(type, "auth") == 0      ? "unlock homes"
		           : strcmp(type, "session") == 0 ? "lock homes at logout"
		                                          : "rewrap keys on password changes");
		return;
	}
	if (!module_installed(d, lines[latch].module))
		doctor_add(d, DOCTOR_FAIL, "pam", "reinstall latchkey (apt-get install --reinstall latchkey)",
		           "%s line %u: %s is not installed in a PAM module directory", path,
		           lines[latch].lineno, lines[latch].module);
	if (strcmp(lines[latch].control, "optional") != 0)
		doctor_add(d, DOCTOR_WARN, "pam", "make it 'optional' (pam-auth-update writes it so)",
		           "%s line %u: pam_latchkey.so is '%s': a latchkey failure would refuse the login",
		           path, lines[latch].lineno, lines[latch].control);
	if (needs_password && unix_ != SIZE_MAX && latch < unix_) {
		doctor_add(
		    d, DOCTOR_FAIL, "pam", "move pam_latchkey.so after pam_unix.so (pam-auth-update --force)",
		    "%s line %u: pam_latchkey.so comes before pam_unix.so, so it never sees the checked "
		    "password",
		    path, lines[latch].lineno);
		return;
	}
	for (size_t i = 0; i < latch; i++)
		if (lines[i].success_jump > 0 && latch <= i + lines[i].success_jump) {
			doctor_add(
			    d, DOCTOR_FAIL, "pam",
			    "move pam_latchkey.so after the lines that success jumps over "
			    "(pam-auth-update --force)",
			    "%s line %u: %s's success=%u jumps over pam_latchkey.so (line %u): it never runs "
			    "after a good password",
			    path, lines[i].lineno, basename_of(lines[i].module), lines[i].success_jump,
			    lines[latch].lineno);
			return;
		}
	doctor_add(d, DOCTOR_OK, "pam", NULL, "%s: pam_latchkey.so on line %u (%s)", path,
	           lines[latch].lineno, lines[latch].control);
}

void doctor_check_pam(struct doctor *d)
{
	check_stack(d, "auth", true);
	check_stack(d, "session", false);
	check_stack(d, "password", true);
}
