/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel and filesystem probes. FS_IOC_ADD_ENCRYPTION_KEY with an empty key
 * tells all three cases apart without adding anything: ENOTTY, the kernel
 * (or the filesystem type) has no fscrypt; EOPNOTSUPP, ext4 or f2fs without
 * the encrypt feature (checked before the argument); EINVAL, supported.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "doctor.h"

struct mount_entry {
	char devnum[32];
	char mountpoint[4096];
	char fstype[32];
	char source[4096];
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
		    r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else
			*w++ = *r;
	}
	*w = '\0';
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [tags] - fstype source superopts".
 * Returns 0 for a parsed line, -EINVAL otherwise. */
static int parse_mountinfo_line(char *line, struct mount_entry *m)
{
	char *sep = strstr(line, " - ");
	char root[4096];

	if (!sep)
		return -EINVAL;
	*sep = '\0';
	if (sscanf(line, "%*u %*u %31s %4095s %4095s", m->devnum, root, m->mountpoint) != 3)
		return -EINVAL;
	if (sscanf(sep + 3, "%31s %4095s", m->fstype, m->source) != 2)
		return -EINVAL;
	/* A bind mount of a subdirectory repeats a filesystem seen at its root. */
	if (strcmp(root, "/") != 0)
		return -EINVAL;
	unescape_octal(m->mountpoint);
	unescape_octal(m->source);
	return 0;
}

static int probe_add_key(const char *mountpoint)
{
	_cleanup_close_ int fd = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct fscrypt_add_key_arg arg = {.key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER};

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, &arg) == 0)
		return 0; /* cannot happen with raw_size 0 */
	return -errno;
}

static const char *feature_fix_tool(const char *fstype)
{
	return strcmp(fstype, "f2fs") == 0 ? "fsck.f2fs -O encrypt" : "tune2fs -O encrypt";
}

void doctor_check_filesystems(struct doctor *d)
{
	_cleanup_(fclosep) FILE *f = fopen("/proc/self/mountinfo", "re");
	char seen[64][32];
	size_t n_seen = 0, n_fs = 0, n_supported = 0;
	char line[8192 + 256];

	if (!f) {
		doctor_add(d, DOCTOR_WARN, "filesystem", NULL, "cannot read /proc/self/mountinfo: %s",
		           strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct mount_entry m;
		char fix[8192 + 64];
		bool dup = false;
		int r;

		if (parse_mountinfo_line(line, &m) < 0)
			continue;
		if (strcmp(m.fstype, "ext4") != 0 && strcmp(m.fstype, "f2fs") != 0)
			continue;
		for (size_t i = 0; i < n_seen; i++)
			dup = dup || strcmp(seen[i], m.devnum) == 0;
		if (dup)
			continue;
		if (n_seen < 64)
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", m.devnum);
		n_fs++;

		r = probe_add_key(m.mountpoint);
		if (r == -EINVAL) {
			n_supported++;
			doctor_add(d, DOCTOR_OK, "filesystem", NULL, "%s (%s, %s): encryption enabled",
			           m.mountpoint, m.source, m.fstype);
		} else if (r == -EOPNOTSUPP) {
			n_supported++; /* the kernel has fscrypt; this filesystem lacks the feature */
			snprintf(fix, sizeof(fix), "umount %s; %s %s; mount it again", m.mountpoint,
			         feature_fix_tool(m.fstype), m.source);
			doctor_add(
			    d, DOCTOR_WARN, "filesystem", fix,
			    "%s (%s, %s): the encrypt feature is off, no directory on it can be encrypted",
			    m.mountpoint, m.source, m.fstype);
		} else if (r == -ENOTTY) {
			doctor_add(d, DOCTOR_FAIL, "kernel",
			           "use a kernel built with CONFIG_FS_ENCRYPTION (Linux 5.4 or later)",
			           "%s (%s): the kernel does not support FS_IOC_ADD_ENCRYPTION_KEY",
			           m.mountpoint, m.fstype);
		} else
			doctor_add(d, DOCTOR_WARN, "filesystem", "run latchkeyctl doctor as root",
			           "%s (%s): cannot probe: %s", m.mountpoint, m.fstype, strerror(-r));
	}
	if (n_fs == 0)
		doctor_add(d, DOCTOR_WARN, "filesystem",
		           "put the homes on ext4 (mkfs.ext4 -O encrypt) or f2fs",
		           "no ext4 or f2fs filesystem is mounted: latchkey has nothing to encrypt");
	else if (n_supported > 0)
		doctor_add(d, DOCTOR_OK, "kernel", NULL, "fscrypt v2 key ioctls supported");
}
