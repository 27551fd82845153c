/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/self/mountinfo, read strictly: which mounts show which filesystem. */
#ifndef LK_MOUNTINFO_H
#define LK_MOUNTINFO_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

struct lk_mount {
	uint32_t major, minor; /* st_dev of the filesystem */
	char root[PATH_MAX];   /* the directory of the filesystem mounted here */
	char point[PATH_MAX];  /* where, relative to our root */
	char fstype[64];
};

/*
 * One line of mountinfo (no trailing newline): "ID PARENT MAJ:MIN ROOT POINT
 * OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". The kernel escapes space,
 * tab, newline and backslash in ROOT and POINT as \040 \011 \012 \134; those
 * are decoded, and any other backslash is refused. -EBADMSG if malformed.
 */
int lk_mountinfo_parse_line(const char *line, struct lk_mount *ret);

/*
 * Call cb for each mount in f (an open mountinfo) until it returns
 * non-zero, which is returned. Malformed lines are skipped. 0 at the end.
 */
int lk_mountinfo_foreach(FILE *f, int (*cb)(const struct lk_mount *m, void *userdata), void *userdata);

#endif
