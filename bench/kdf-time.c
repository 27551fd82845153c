/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kdf-time: Argon2id alone, as latchkey derives it, for bench/run.
 *   kdf-time T M_KIB P SALT_LEN N
 * Derives N times with lk_kdf_derive (p=1 with a 16-byte salt goes to
 * libsodium, anything else to libargon2 on p threads) and prints one line per
 * run: wall milliseconds, then CPU milliseconds of all threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench-clock.h"
#include "kdf.h"

int main(int argc, char **argv)
{
	struct lk_kdf_params k = {.alg = LK_KDF_ARGON2ID};
	uint8_t w[LK_WRAP_KEY_SIZE];
	int n;

	if (argc != 6) {
		fprintf(stderr, "usage: kdf-time T M_KIB P SALT_LEN N\n");
		return 2;
	}
	k.t_cost = (uint32_t)strtoul(argv[1], NULL, 10);
	k.m_cost_kib = (uint32_t)strtoul(argv[2], NULL, 10);
	k.parallelism = (uint32_t)strtoul(argv[3], NULL, 10);
	k.salt_len = (uint8_t)strtoul(argv[4], NULL, 10);
	n = atoi(argv[5]);
	memset(k.salt, 0x5a, sizeof(k.salt));
	if (lk_kdf_params_check(&k) < 0 || n < 1) {
		fprintf(stderr, "kdf-time: parameters out of bounds\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), c0 = cpu_ms();

		if (lk_kdf_derive(&k, "bench", 5, w) < 0) {
			fprintf(stderr, "kdf-time: derivation failed\n");
			return 1;
		}
		printf("%.3f %.3f\n", now_ms() - t0, cpu_ms() - c0);
	}
	return 0;
}
