/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The adoption settings of [latchkey]: who is enrolled at first login
 * (enroll_at_login) and where a new home's skeleton comes from
 * (home_skel), and the login.defs values they depend on. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "internal.h"
#include "names.h"
#include "root_index.h"

#define LOGIN_DEFS      "/etc/login.defs"
#define DEFAULT_UID_MIN 1000
#define DEFAULT_UID_MAX 60000
#define MAX_GROUPS      1024

static int parse_uid(const char *s, const char *end, uint32_t *ret)
{
	char *e;
	unsigned long v;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || e != end || v >= UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

int lk_enroll_rule_parse(const char *value, struct lk_enroll_rule *ret, char *why, size_t why_size)
{
	struct lk_enroll_rule r = {};
	const char *dash;
	char q[80];

	if (strcmp(value, "none") == 0) {
		r.kind = LK_ENROLL_NONE;
	} else if (strcmp(value, "all") == 0) {
		r.kind = LK_ENROLL_ALL;
	} else if (strncmp(value, "group:", 6) == 0) {
		if (!lk_user_name_is_valid(value + 6) || strlen(value + 6) > LK_USER_NAME_MAX)
			return cfg_why(why, why_size,
			               "enroll_at_login: %s is not a group name; write group:NAME",
			               cfg_quote(value + 6, q, sizeof(q)));
		r.kind = LK_ENROLL_GROUP;
		strcpy(r.group, value + 6);
	} else if (strncmp(value, "uids:", 5) == 0) {
		dash = strchr(value + 5, '-');
		if (!dash || parse_uid(value + 5, dash, &r.uid_min) < 0 ||
		    parse_uid(dash + 1, dash + 1 + strlen(dash + 1), &r.uid_max) < 0 ||
		    r.uid_min > r.uid_max || r.uid_min == 0)
			return cfg_why(
			    why, why_size,
			    "enroll_at_login: write uids:A-B with 1 <= A <= B, e.g. uids:1000-1999");
		r.kind = LK_ENROLL_UIDS;
	} else {
		return cfg_why(why, why_size,
		               "enroll_at_login must be none, all, group:NAME or uids:A-B, not %s",
		               cfg_quote(value, q, sizeof(q)));
	}
	*ret = r;
	return 0;
}

int lk_home_skel_parse(const char *value, char *out, size_t size, char *why, size_t why_size)
{
	if (lk_path_is_valid(value) < 0 || strlen(value) >= size)
		return cfg_why(why, why_size,
		               "home_skel must be an absolute, canonical path, e.g. /etc/skel");
	strcpy(out, value);
	return 0;
}

int lk_login_defs_get(const char *login_defs, const char *name, unsigned long *ret)
{
	char line[512];
	size_t n = strlen(name);
	int r = -ENOENT;
	FILE *f = fopen(login_defs ? login_defs : LOGIN_DEFS, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;
		unsigned long v;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, name, n) != 0 || (p[n] != ' ' && p[n] != '\t'))
			continue;
		errno = 0;
		v = strtoul(p + n, &e, 0); /* 0700 octal, 1000 decimal, as shadow-utils reads them */
		if (errno || e == p + n)
			continue;
		*ret = v;
		r = 0; /* the last one wins, as in shadow-utils */
	}
	fclose(f);
	return r;
}

static bool in_group(const char *group, const char *user, gid_t gid)
{
	struct group *gr = getgrnam(group);
	gid_t groups[MAX_GROUPS];
	int n = MAX_GROUPS;

	if (!gr)
		return false;
	if (gr->gr_gid == gid)
		return true;
	if (getgrouplist(user, gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return true;
	return false;
}

bool lk_enroll_rule_matches(const struct lk_enroll_rule *r, uid_t uid, const char *user, gid_t gid,
                            const char *login_defs)
{
	unsigned long lo = DEFAULT_UID_MIN, hi = DEFAULT_UID_MAX;

	if (uid == 0)
		return false;
	switch (r->kind) {
	case LK_ENROLL_ALL:
		(void)lk_login_defs_get(login_defs, "UID_MIN", &lo);
		(void)lk_login_defs_get(login_defs, "UID_MAX", &hi);
		return uid >= lo && uid <= hi;
	case LK_ENROLL_GROUP:
		return in_group(r->group, user, gid);
	case LK_ENROLL_UIDS:
		return uid >= r->uid_min && uid <= r->uid_max;
	default:
		return false;
	}
}
