/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkeyd's locked-memory budget. Every secret page (message buffers, each
 * user's P and pending P, KEKs, K, the ADD_KEY argument) is mlock()ed by
 * lib/secret.c; from daemon_memlock_setup on, a page that cannot be locked
 * is refused instead of used unlocked, so the request needing it fails
 * cleanly (LK_E_INTERNAL, with a text saying why) and nothing reaches swap.
 *
 * The budget is RLIMIT_MEMLOCK (the unit's LimitMEMLOCK=). A process with
 * CAP_IPC_LOCK ignores that limit, so the unit does not grant it: the limit
 * is then the real bound on what the daemon can pin. Each user with a live
 * session holds one page (P), plus one for 30 s after `auth` (pending P); a
 * request needs a handful more for a moment. 10,000 users need about
 * 10,000 x 2 x 4 KiB = 80 MiB; the unit allows 128 MiB.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client.h"
#include "daemon.h"
#include "memlock.h"
#include "log.h"
#include "secret.h"

#define REFUSAL_LOG_INTERVAL_MS 60000
#define CAP_IPC_LOCK_BIT        14

/* Whether this process holds CAP_IPC_LOCK (then RLIMIT_MEMLOCK does not apply). */
static bool has_cap_ipc_lock(void)
{
	char line[256];
	unsigned long long eff = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "CapEff: %llx", &eff) == 1;
	fclose(f);
	return found && (eff >> CAP_IPC_LOCK_BIT) & 1;
}

int daemon_memlock_setup(struct daemon *d)
{
	struct rlimit rl;
	long page = sysconf(_SC_PAGESIZE);

	lk_secret_require_locked();
	d->refusals_before = lk_secret_refusals();
	if (has_cap_ipc_lock())
		log_info("memlock budget: unlimited (CAP_IPC_LOCK); secret pages are always locked");
	else if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && page > 0)
		log_info(
		    "memlock budget: %llu KiB (RLIMIT_MEMLOCK), about %llu users with a live session; secret "
		    "pages beyond it are refused",
		    (unsigned long long)rl.rlim_cur / 1024,
		    (unsigned long long)rl.rlim_cur / (unsigned long long)page / 2);
	return 0;
}

void daemon_note_secret_refusals(struct daemon *d, unsigned n)
{
	uint64_t now = lk_now_ms();

	if (n == 0)
		return;
	d->refusals_unlogged += n;
	if (d->refusal_logged_ms && now - d->refusal_logged_ms < REFUSAL_LOG_INTERVAL_MS)
		return;
	log_error(
	    "refused %u secret page(s) that could not be locked (RLIMIT_MEMLOCK / LimitMEMLOCK= used up); "
	    "the requests needing them failed, nothing was changed",
	    d->refusals_unlogged);
	d->refusals_unlogged = 0;
	d->refusal_logged_ms = now;
}
