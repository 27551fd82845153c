/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* latchkeyctl tpm bind, unbind and reseal, in latchkeyd (see tpm_admin.h). */
#include <errno.h>

#include "daemon.h"
#include "log.h"
#include "store.h"
#include "tpm_admin.h"
#include "tpm_slot.h"

#define NO_SUPPORT_TEXT                                                                                      \
	"this latchkeyd was built without TPM2 support (libtss2-esys): there is no TPM2 slot kind"
#define NOT_BOUND_TEXT "not bound to the TPM: use 'latchkeyctl tpm bind USER'"
#define WRITE_TEXT     "cannot write the protector file"

/* A TPM failure as the client hears it: -ENODEV, with what the TPM said. */
static int tpm_failed(int r, const char **why)
{
	*why = r == -ENOENT ? "the user has no login slot" : tpm_slot_strerror(r);
	return r == -ENOENT ? -ENOENT : -ENODEV;
}

int tpm_bind(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
             const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char **why)
{
	struct lk_protector next = *pr;
	unsigned n_removed = 0;
	uint32_t id;
	int r, i;

	if (!tpm_slot_supported())
		return *why = NO_SUPPORT_TEXT, -ENODEV;
	if (d->config.tpm.mode == LK_TPM_OFF)
		return *why = "tpm = off in latchkey.conf: set tpm = preferred or required, then reload",
		       -EINVAL;
	if (lk_protector_find_kind(&next, LK_SLOT_TPM2) >= 0)
		return *why = "already bound to the TPM: 'latchkeyctl tpm reseal USER' seals it anew",
		       -EEXIST;
	if (lk_protector_find_kind(&next, LK_SLOT_RECOVERY) < 0 &&
	    lk_protector_find_kind(&next, LK_SLOT_ESCROW) < 0)
		return *why = "a TPM2 slot must never be the only way in (a new TPM, a firmware update or a "
		              "cleared "
		              "TPM would lock the user out): create a recovery code ('latchkeyctl recovery "
		              "create "
		              "USER') or an escrow slot ('latchkeyctl escrow add USER') first",
		       -EINVAL;
	i = tpm_slot_login_kdf_index(&next);
	r = i < 0 ? -ENOENT : tpm_slot_add(d, &next, &next.slots[i].kdf, w, p, &id);
	if (r < 0)
		return tpm_failed(r, why);
	while (d->config.tpm.mode == LK_TPM_REQUIRED &&
	       (i = lk_protector_find_kind(&next, LK_SLOT_LOGIN)) >= 0) {
		n_removed++;
		(void)lk_protector_remove_slot(&next, next.slots[i].slot_id);
	}
	r = store_save_protector(&d->store, &next);
	if (r < 0) {
		tpm_slot_forget(d, next.uid, id);
		return *why = WRITE_TEXT, r;
	}
	*pr = next;
	log_info("uid %u bound to the TPM: TPM2 slot %u added%s", (unsigned)pr->uid, (unsigned)id,
	         n_removed ? ", password-only login slot removed (tpm = required)" : "");
	return 0;
}

int tpm_unbind(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
               const uint8_t p[LK_PROTECTOR_KEY_SIZE], const char **why)
{
	struct lk_protector next = *pr;
	uint32_t ids[LK_MAX_SLOTS];
	unsigned n = 0;
	int r = 0, i;

	if (lk_protector_find_kind(&next, LK_SLOT_TPM2) < 0)
		return *why = "not bound to the TPM", -ENOENT;
	if (lk_protector_find_kind(&next, LK_SLOT_LOGIN) < 0) {
		struct lk_kdf_params kdf = next.slots[tpm_slot_login_kdf_index(&next)].kdf;
		r = lk_protector_add_slot(&next, LK_SLOT_LOGIN, &kdf, w, p, NULL);
	}
	while (r == 0 && (i = lk_protector_find_kind(&next, LK_SLOT_TPM2)) >= 0) {
		ids[n++] = next.slots[i].slot_id;
		r = lk_protector_remove_slot(&next, next.slots[i].slot_id);
	}
	if (r == 0)
		r = store_save_protector(&d->store, &next);
	if (r < 0)
		return *why = WRITE_TEXT, r;
	/* The objects go once the file no longer names them. */
	for (unsigned k = 0; k < n; k++)
		tpm_slot_forget(d, next.uid, ids[k]);
	*pr = next;
	log_info("uid %u unbound from the TPM (%u TPM2 slot(s) removed)", (unsigned)pr->uid, n);
	return 0;
}

int tpm_reseal(struct daemon *d, struct lk_protector *pr, const uint8_t w[LK_WRAP_KEY_SIZE],
               const uint8_t p[LK_PROTECTOR_KEY_SIZE], const struct lk_pcr_prediction *predicted,
               const char **why)
{
	int r;

	if (!tpm_slot_supported())
		return *why = NO_SUPPORT_TEXT, -ENODEV;
	if (lk_protector_find_kind(pr, LK_SLOT_TPM2) < 0)
		return *why = NOT_BOUND_TEXT, -ENOENT;
	r = tpm_slot_reseal_to(d, pr, w, p, predicted);
	if (r == -EDOM)
		return *why = "the predicted values are not for the PCRs of tpm_pcrs in latchkey.conf",
		       -EINVAL;
	return r < 0 ? tpm_failed(r, why) : 0;
}
