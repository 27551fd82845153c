/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the valid seeds of the fuzz corpus (run by hand, output committed):
 *   gen-seeds DIR   ->  DIR/fuzz-protector/valid-*, DIR/fuzz-wrapped-key/valid-*
 * The keys match the fixed ones in the targets, so the unwrap paths run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "protector.h"
#include "wrapped_key.h"

static int put(const char *dir, const char *sub, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "we");
	if (!f || fwrite(data, 1, len, f) != len) {
		perror(path);
		return 1;
	}
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	static const uint8_t w[LK_WRAP_KEY_SIZE] = {0x42}, p[LK_PROTECTOR_KEY_SIZE] = {0x24};
	struct lk_kdf_params kdf = {
	    .alg = LK_KDF_ARGON2ID,
	    .salt_len = 16,
	    .t_cost = 3,
	    .m_cost_kib = 65536,
	    .parallelism = 4,
	};
	uint8_t buf[LK_PROTECTOR_MAX_SIZE], k[LK_MASTER_KEY_SIZE], blob[LK_WRAPPED_KEY_SIZE];
	struct lk_protector pr = {.uid = 1000};
	size_t len;
	int r = 0;

	if (argc != 2)
		return 2;
	memset(kdf.salt, 0x5a, sizeof(kdf.salt));
	if (lk_protector_add_slot(&pr, LK_SLOT_LOGIN, &kdf, w, p, NULL) < 0 ||
	    lk_protector_serialize(&pr, buf, sizeof(buf), &len) < 0)
		return 1;
	r |= put(argv[1], "fuzz-protector", "valid-one-slot", buf, len);
	kdf.salt_len = 32;
	if (lk_protector_add_slot(&pr, LK_SLOT_RECOVERY, &kdf, w, p, NULL) < 0 ||
	    lk_protector_serialize(&pr, buf, sizeof(buf), &len) < 0)
		return 1;
	r |= put(argv[1], "fuzz-protector", "valid-two-slots", buf, len);

	memset(k, 0x11, sizeof(k));
	if (lk_wrapped_key_seal(1000, p, k, blob) < 0)
		return 1;
	r |= put(argv[1], "fuzz-wrapped-key", "valid-uid-1000", blob, sizeof(blob));
	if (lk_wrapped_key_seal(0, p, k, blob) < 0)
		return 1;
	r |= put(argv[1], "fuzz-wrapped-key", "valid-uid-0", blob, sizeof(blob));
	return r;
}
