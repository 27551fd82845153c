/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the daemon needs to bind, add and upgrade escrow slots itself: the
 * user name and machine id a V2 escrow slot is bound to (format.h), and the
 * machine's escrow public key, <config>/escrow.pub, to seal new slots to.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "escrow_slots.h"
#include "escrow.h"
#include "fileio.h"
#include "log.h"
#include "passwd.h"
#include "secret.h"

#define ESCROW_PUB_NAME "escrow.pub"

int daemon_load_protector(struct daemon *d, uid_t uid, struct lk_protector *ret)
{
	_cleanup_passwd_ struct lk_passwd pw = {};
	struct lk_protector pr;
	int r;

	r = store_load_protector(&d->store, uid, &pr);
	if (r < 0)
		return r;
	/* Without a name or a machine id, bound slots stay closed (and none
	 * can be added): every other slot works as before. */
	if (d->have_machine_id && lk_passwd_by_uid(uid, &pw) == 0 &&
	    lk_protector_set_binding(&pr, pw.pw.pw_name, d->machine_id) < 0)
		log_warning("uid %u: user name %s too long to bind an escrow slot to", (unsigned)uid,
		            pw.pw.pw_name);
	*ret = pr;
	return 0;
}

/* The machine's escrow public key: 1 and R, 0 when there is none, or -errno. */
static int load_escrow_pub(struct daemon *d, uint8_t R[LK_ESCROW_KEY_SIZE])
{
	_cleanup_close_ int dfd = -1;
	char pem[LK_ESCROW_PEM_MAX];
	size_t len;
	int r;

	dfd = open(d->config_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* Root's and not writable by others, as latchkeyctl checks it too. */
	r = lk_read_file_at(dfd, ESCROW_PUB_NAME, 0, sizeof(pem), (uint8_t *)pem, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (lk_escrow_public_from_pem(pem, len, R) < 0)
		return -EBADMSG;
	return 1;
}

int daemon_escrow_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t p[LK_PROTECTOR_KEY_SIZE],
                         bool only_v1, bool *ret_done)
{
	struct lk_secret w _cleanup_secret_ = {};
	struct lk_kdf_params kdf = {.alg = LK_KDF_X25519, .salt_len = LK_ESCROW_KEY_SIZE};
	struct lk_escrow_binding b = {.uid = pr->uid};
	struct lk_protector next = *pr;
	uint8_t R[LK_ESCROW_KEY_SIZE];
	bool had = false, had_v1 = false;
	int r;

	*ret_done = false;
	for (unsigned i = 0; i < pr->n_slots; i++)
		if (pr->slots[i].kind == LK_SLOT_ESCROW) {
			had = true;
			had_v1 |= pr->slots[i].derivation == LK_SLOT_DERIV_V1;
		}
	if (only_v1 && !had_v1)
		return 0;
	r = load_escrow_pub(d, R);
	if (r < 0)
		return log_warning_errno(r, "uid %u: %s/%s unusable; escrow slot not resealed",
		                         (unsigned)pr->uid, d->config_dir, ESCROW_PUB_NAME);
	if (r == 0)
		return 0;
	if (!pr->have_binding)
		return log_warning_errno(-ENOKEY,
		                         "uid %u: no user name or machine id to bind an escrow slot to",
		                         (unsigned)pr->uid);
	if (had)
		for (unsigned i = next.n_slots; i-- > 0;)
			if (next.slots[i].kind == LK_SLOT_ESCROW) {
				memmove(&next.slots[i], &next.slots[i + 1],
				        (next.n_slots - i - 1) * sizeof(next.slots[0]));
				next.n_slots--;
			}
	b.user = pr->binding.user;
	memcpy(b.machine_id, pr->binding.machine_id, LK_MACHINE_ID_SIZE);
	r = lk_secret_new(&w, LK_WRAP_KEY_SIZE);
	if (r < 0)
		return r;
	/* The ephemeral private key dies inside lk_escrow_seal_bound: only the
	 * offline holder can compute w again. */
	r = lk_escrow_seal_bound(R, &b, kdf.salt, w.ptr);
	if (r < 0)
		return r;
	r = lk_protector_add_slot(&next, LK_SLOT_ESCROW, &kdf, w.ptr, p, NULL);
	if (r < 0)
		return r;
	*pr = next;
	*ret_done = true;
	return 0;
}
