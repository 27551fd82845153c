/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * migrate's journal: one small text file beside the directory, root's,
 * mode 0600, replaced atomically (lib/fileio) at each phase change, so a
 * rerun after Ctrl-C, kill -9 or a power cut knows where the work stands:
 *
 *   latchkey-migrate 1
 *   direction encrypt|decrypt
 *   phase copy|verified|exchanged|removing
 *   uid N
 *   orig-ino N
 *   copy-ino N
 *   key-id HEX        (once known)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fileio.h"
#include "migrate.h"

#define JOURNAL_MAX 1024

static const char *const phases[] = {
    [MIGRATE_PHASE_COPY] = "copy",
    [MIGRATE_PHASE_VERIFIED] = "verified",
    [MIGRATE_PHASE_EXCHANGED] = "exchanged",
    [MIGRATE_PHASE_REMOVING] = "removing",
};

const char *migrate_phase_name(enum migrate_phase p)
{
	return p >= MIGRATE_PHASE_COPY && p <= MIGRATE_PHASE_REMOVING ? phases[p] : "?";
}

int migrate_journal_name(const char *base, char *buf, size_t size)
{
	int n = snprintf(buf, size, ".%s.latchkey-migrate.journal", base);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int migrate_journal_load(int parent, const char *name, struct migrate_journal *ret)
{
	char buf[JOURNAL_MAX + 1], dir[16], phase[16], hex[2 * LK_KEY_ID_SIZE + 1] = "";
	struct migrate_journal j = {};
	unsigned long long uid, orig, copy;
	size_t len;
	int r, n;

	r = lk_read_file_at(parent, name, 0, JOURNAL_MAX, (uint8_t *)buf, &len);
	if (r < 0)
		return r;
	buf[len] = '\0';
	n = sscanf(buf,
	           "latchkey-migrate 1\ndirection %15s\nphase %15s\nuid %llu\norig-ino %llu\ncopy-ino "
	           "%llu\nkey-id %32s",
	           dir, phase, &uid, &orig, &copy, hex);
	if (n < 5)
		return -EBADMSG;
	j.direction = strcmp(dir, "encrypt") == 0   ? MIGRATE_ENCRYPT
	              : strcmp(dir, "decrypt") == 0 ? MIGRATE_DECRYPT
	                                            : 0;
	for (int p = MIGRATE_PHASE_COPY; p <= MIGRATE_PHASE_REMOVING; p++)
		if (strcmp(phase, phases[p]) == 0)
			j.phase = p;
	if (!j.direction || !j.phase || uid >= UINT32_MAX)
		return -EBADMSG;
	j.uid = (uid_t)uid;
	j.orig_ino = orig;
	j.copy_ino = copy;
	if (n == 6) {
		if (lk_unhex(hex, j.key_id, LK_KEY_ID_SIZE) < 0)
			return -EBADMSG;
		j.has_key_id = true;
	}
	*ret = j;
	return 0;
}

int migrate_journal_save(int parent, const char *name, const struct migrate_journal *j)
{
	char buf[JOURNAL_MAX], hex[2 * LK_KEY_ID_SIZE + 1];
	int n;

	n = snprintf(buf, sizeof(buf),
	             "latchkey-migrate 1\ndirection %s\nphase %s\nuid %u\norig-ino %" PRIu64
	             "\ncopy-ino %" PRIu64 "\n",
	             j->direction == MIGRATE_ENCRYPT ? "encrypt" : "decrypt", migrate_phase_name(j->phase),
	             (unsigned)j->uid, j->orig_ino, j->copy_ino);
	if (j->has_key_id)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "key-id %s\n",
		              lk_hex(j->key_id, LK_KEY_ID_SIZE, hex));
	return lk_write_file_atomic_at(parent, name, buf, (size_t)n, 0600);
}
