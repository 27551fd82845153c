/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate's journal (atomic write, strict read) and the small structures
 * of its tree walks: the relative path and the inode map. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "migrate.h"

static int failures;
#define CHECK(c)                                                                                             \
	do {                                                                                                 \
		if (!(c)) {                                                                                  \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                         \
			failures++;                                                                          \
		}                                                                                            \
	} while (0)

static void put(int dir, const char *name, const char *text)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void test_journal(int dir)
{
	struct migrate_journal j = {.direction = MIGRATE_ENCRYPT,
	                            .phase = MIGRATE_PHASE_COPY,
	                            .uid = 1234,
	                            .orig_ino = 42,
	                            .copy_ino = 0};
	struct migrate_journal k;
	char name[256];

	CHECK(migrate_journal_name("alice", name, sizeof(name)) == 0);
	CHECK(strcmp(name, ".alice.latchkey-migrate.journal") == 0);
	CHECK(migrate_journal_load(dir, name, &k) == -ENOENT);
	CHECK(migrate_journal_save(dir, name, &j) == 0);
	CHECK(migrate_journal_load(dir, name, &k) == 0);
	CHECK(k.direction == MIGRATE_ENCRYPT && k.phase == MIGRATE_PHASE_COPY && k.uid == 1234 &&
	      k.orig_ino == 42 && k.copy_ino == 0 && !k.has_key_id);

	/* every phase, a key id, decrypt */
	for (int p = MIGRATE_PHASE_COPY; p <= MIGRATE_PHASE_REMOVING; p++) {
		j.phase = p;
		j.direction = MIGRATE_DECRYPT;
		j.copy_ino = 99;
		j.has_key_id = true;
		for (int i = 0; i < LK_KEY_ID_SIZE; i++)
			j.key_id[i] = (uint8_t)(i * 17 + p);
		CHECK(migrate_journal_save(dir, name, &j) == 0);
		CHECK(migrate_journal_load(dir, name, &k) == 0);
		CHECK(k.phase == (enum migrate_phase)p && k.direction == MIGRATE_DECRYPT && k.copy_ino == 99);
		CHECK(k.has_key_id && memcmp(k.key_id, j.key_id, LK_KEY_ID_SIZE) == 0);
	}
	/* no temporary left behind by the atomic writes */
	CHECK(lk_sweep_temp_files_at(dir) == 0);

	/* anything else is not ours */
	static const char *const bad[] = {
	    "",
	    "latchkey-migrate 2\ndirection encrypt\nphase copy\nuid 1\norig-ino 1\ncopy-ino 0\n",
	    "latchkey-migrate 1\ndirection sideways\nphase copy\nuid 1\norig-ino 1\ncopy-ino 0\n",
	    "latchkey-migrate 1\ndirection encrypt\nphase done\nuid 1\norig-ino 1\ncopy-ino 0\n",
	    "latchkey-migrate 1\ndirection encrypt\nphase copy\nuid 4294967295\norig-ino 1\ncopy-ino 0\n",
	    "latchkey-migrate 1\ndirection encrypt\nphase copy\nuid 1\norig-ino 1\n",
	    "latchkey-migrate 1\ndirection encrypt\nphase copy\nuid 1\norig-ino 1\ncopy-ino 0\nkey-id zz\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(dir, "bad", bad[i]);
		CHECK(migrate_journal_load(dir, "bad", &k) == -EBADMSG);
	}
	/* a journal someone else could have written is refused */
	if (geteuid() == 0) {
		put(dir, "foreign",
		    "latchkey-migrate 1\ndirection encrypt\nphase copy\nuid 1\norig-ino 1\ncopy-ino 0\n");
		CHECK(fchownat(dir, "foreign", 1, 1, 0) == 0);
		CHECK(migrate_journal_load(dir, "foreign", &k) < 0);
	}
}

static void test_path_and_map(void)
{
	struct migrate_path p = {};
	struct migrate_inode_map m = {};
	size_t a, b;
	uint64_t v;

	CHECK(migrate_path_push(&p, "top", &a) == 0);
	CHECK(migrate_path_push(&p, "new\nline", &b) == 0);
	CHECK(strcmp(p.buf, "top/new\nline") == 0);
	migrate_path_pop(&p, b);
	CHECK(strcmp(p.buf, "top") == 0);
	for (int i = 0; i < 300; i++) {
		char name[300];
		memset(name, 'x', 255);
		name[255] = '\0';
		CHECK(migrate_path_push(&p, name, &b) == 0);
	}
	CHECK(p.len == 3 + 300 * 256);
	migrate_path_pop(&p, a);
	CHECK(p.len == 0 && p.buf[0] == '\0');
	migrate_path_free(&p);

	CHECK(migrate_inode_map_get(&m, 7, &v) == 0);
	for (uint64_t i = 0; i < 5000; i++)
		CHECK(migrate_inode_map_put(&m, i * 4096, i + 1) == 0);
	CHECK(migrate_inode_map_put(&m, 0, 77) == 0); /* replace */
	CHECK(m.n == 5000);
	CHECK(migrate_inode_map_get(&m, 0, &v) == 1 && v == 77);
	CHECK(migrate_inode_map_get(&m, 4999 * 4096, &v) == 1 && v == 5000);
	CHECK(migrate_inode_map_get(&m, 4096 + 1, &v) == 0);
	migrate_inode_map_free(&m);
}

int main(void)
{
	char tmpl[] = "/tmp/lk-migrate-journal-XXXXXX";
	char cmd[128];
	int dir;

	if (!mkdtemp(tmpl))
		return 1;
	dir = open(tmpl, O_RDONLY | O_DIRECTORY);
	test_journal(dir);
	test_path_and_map();
	close(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		failures++;
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
