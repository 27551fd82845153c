/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TSS side of TPM2 slots: seal and unseal one 32-byte secret with
 * libtss2-esys. Every use recreates the same primary key from a fixed
 * template (no persistent handle, no NV write), so nothing is left in the
 * TPM between logins. Sessions are salted with that primary and encrypt
 * the secret parameters: the sensitive data going in at Create, the
 * unsealed data coming back at Unseal (AES-128-CFB), so a bus sniffer sees
 * neither. The TCTI is always named by the caller; the TSS's own search
 * (which ends at a simulator on localhost:2321) is never used.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "log.h"
#include "secret.h"
#include "tpm2.h"

/* The TSS reads TSS2_LOG and TSS2_LOGFILE at its first log line: replace
 * them before any TSS code runs, so whoever started latchkeyd cannot make it
 * log TPM traffic (a trace holds the auth value and the unsealed secret) or
 * write a file of their choosing. Its own logging is off: failures are
 * mapped and logged once here (tpm_fail, tpm_slot.c). */
__attribute__((constructor)) static void tpm2_scrub_environment(void)
{
	unsetenv("TSS2_LOGFILE");
	setenv("TSS2_LOG", "all+NONE", 1);
}

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	ESYS_TR primary, session, object;
};

static void tpm_close(struct tpm *t)
{
	ESYS_TR *handles[] = {&t->object, &t->session, &t->primary};

	for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
		if (t->esys && *handles[i] != ESYS_TR_NONE) {
			Esys_FlushContext(t->esys, *handles[i]);
			*handles[i] = ESYS_TR_NONE;
		}
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

/* TPM response codes to errno; the layer bits (TSS or TPM) are ignored. */
static int rc_to_errno(TSS2_RC rc)
{
	TSS2_RC base = rc & 0xffffu, fmt1 = base & TPM2_RC_FMT1 ? (base & 0xbfu) : base;

	if (rc == TSS2_RC_SUCCESS)
		return 0;
	if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER || base == TSS2_BASE_RC_IO_ERROR ||
	    base == TSS2_BASE_RC_NO_CONNECTION)
		return -ENODEV;
	if (fmt1 == TPM2_RC_AUTH_FAIL || fmt1 == TPM2_RC_BAD_AUTH)
		return -EACCES;
	if (fmt1 == TPM2_RC_POLICY_FAIL || fmt1 == TPM2_RC_INTEGRITY || fmt1 == TPM2_RC_PCR_CHANGED)
		return -EPERM;
	if (base == TPM2_RC_LOCKOUT)
		return -EAGAIN;
	if (base == TPM2_RC_RETRY || base == TPM2_RC_YIELDED || base == TPM2_RC_TESTING)
		return -EBUSY;
	return -EIO;
}

static int tpm_fail(const char *what, TSS2_RC rc)
{
	int r = rc_to_errno(rc);

	/* A wrong auth value or the PCR policy is the caller's to report. */
	if (r != -EACCES && r != -EPERM)
		log_debug("TPM2: %s failed: TSS rc 0x%08x", what, (unsigned)rc);
	return r;
}

static int tpm_open(const char *tcti, bool with_primary, struct tpm *t)
{
	static const TPM2B_SENSITIVE_CREATE empty_sensitive = {};
	static const TPM2B_DATA no_outside_info = {};
	static const TPML_PCR_SELECTION no_pcrs = {};
	/* The storage primary: ECC P-256, AES-128-CFB, restricted decrypt. Fixed,
	 * so the same key comes back from the owner seed every time. */
	static const TPM2B_PUBLIC primary_template = {
	    .publicArea =
	        {
	            .type = TPM2_ALG_ECC,
	            .nameAlg = TPM2_ALG_SHA256,
	            .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	                                TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
	                                TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_NODA,
	            .parameters.eccDetail =
	                {
	                    .symmetric = {.algorithm = TPM2_ALG_AES,
	                                  .keyBits.aes = 128,
	                                  .mode.aes = TPM2_ALG_CFB},
	                    .scheme = {.scheme = TPM2_ALG_NULL},
	                    .curveID = TPM2_ECC_NIST_P256,
	                    .kdf = {.scheme = TPM2_ALG_NULL},
	                },
	        },
	};
	TSS2_RC rc;

	*t = (struct tpm){.primary = ESYS_TR_NONE, .session = ESYS_TR_NONE, .object = ESYS_TR_NONE};
	tpm2_scrub_environment();
	if (!tcti || !*tcti)
		return -EINVAL;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		log_debug("TPM2: no TPM at TCTI \"%s\" (TSS rc 0x%08x)", tcti, (unsigned)rc);
		return -ENODEV;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_Initialize", rc);
	if (!with_primary)
		return 0;
	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
	                        &empty_sensitive, &primary_template, &no_outside_info, &no_pcrs, &t->primary,
	                        NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("CreatePrimary", rc);
	return 0;
}

/* A session salted with the primary, encrypting the first command
 * parameter and the first response parameter with AES-128-CFB. */
static int start_salted_session(struct tpm *t, TPM2_SE type, TPMA_SESSION attrs, ESYS_TR *ret)
{
	static const TPMT_SYM_DEF aes_cfb = {
	    .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB};
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, t->primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
	                           ESYS_TR_NONE, NULL, type, &aes_cfb, TPM2_ALG_SHA256, ret);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("StartAuthSession", rc);
	rc = Esys_TRSess_SetAttributes(t->esys, *ret, attrs | TPMA_SESSION_CONTINUESESSION, 0xff);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("TRSess_SetAttributes", rc);
}

static void pcr_selection(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *sel)
{
	*sel = (TPML_PCR_SELECTION){.count = 1};
	sel->pcrSelections[0].hash = bank;
	sel->pcrSelections[0].sizeofSelect = 3;
	for (unsigned i = 0; i < 24; i++)
		if (mask & (1u << i))
			sel->pcrSelections[0].pcrSelect[i / 8] |= 1u << (i % 8);
}

/* PolicyPCR then PolicyAuthValue. pcr_digest: the expected values' digest;
 * empty for the TPM's current values (in a trial session: what a policy
 * sealed now expects). */
static int run_policy(struct tpm *t, ESYS_TR session, uint16_t bank, uint32_t mask,
                      const TPM2B_DIGEST *pcr_digest)
{
	TPML_PCR_SELECTION sel;
	TSS2_RC rc;

	pcr_selection(bank, mask, &sel);
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, pcr_digest, &sel);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("PolicyPCR", rc);
	rc = Esys_PolicyAuthValue(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("PolicyAuthValue", rc);
}

static void or_list(const struct tpm2_sealed *s, TPML_DIGEST *ret)
{
	*ret = (TPML_DIGEST){.count = s->n_branches};
	for (unsigned i = 0; i < s->n_branches; i++) {
		ret->digests[i].size = LK_TPM_DIGEST_SIZE;
		memcpy(ret->digests[i].buffer, s->branches[i], LK_TPM_DIGEST_SIZE);
	}
}

/* The digest of one branch (or, with or_of, of the PolicyOR of or_of's
 * branches), from a trial session. */
static int policy_digest(struct tpm *t, uint16_t bank, uint32_t mask, const TPM2B_DIGEST *pcr_digest,
                         const struct tpm2_sealed *or_of, TPM2B_DIGEST *ret)
{
	static const TPMT_SYM_DEF no_sym = {.algorithm = TPM2_ALG_NULL};
	TPM2B_DIGEST *digest = NULL;
	ESYS_TR trial = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
	                           ESYS_TR_NONE, NULL, TPM2_SE_TRIAL, &no_sym, TPM2_ALG_SHA256, &trial);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("StartAuthSession (trial)", rc);
	if (or_of) {
		TPML_DIGEST list;
		or_list(or_of, &list);
		rc = Esys_PolicyOR(t->esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &list);
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("PolicyOR (trial)", rc);
	} else
		r = run_policy(t, trial, bank, mask, pcr_digest);
	if (r == 0) {
		rc = Esys_PolicyGetDigest(t->esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &digest);
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("PolicyGetDigest", rc);
	}
	if (r == 0)
		*ret = *digest;
	Esys_Free(digest);
	Esys_FlushContext(t->esys, trial);
	return r;
}

/* The policy to seal under: one branch, or the PolicyOR of the current
 * values' branch and the predicted ones' (their digests kept in *s, which
 * unsealing needs). */
static int seal_policy(struct tpm *t, uint16_t bank, uint32_t mask,
                       const uint8_t (*predicted)[LK_TPM_DIGEST_SIZE], unsigned n_predicted,
                       struct tpm2_sealed *s, TPM2B_DIGEST *ret)
{
	static const TPM2B_DIGEST current_values = {};
	TPM2B_DIGEST pcr_digest = {.size = LK_TPM_DIGEST_SIZE}, branch;
	int r;

	if (n_predicted == 0)
		return policy_digest(t, bank, mask, &current_values, NULL, ret);
	if (n_predicted > LK_TPM_BRANCHES_MAX - 1)
		return -E2BIG;
	for (unsigned i = 0; i <= n_predicted; i++) {
		if (i > 0)
			memcpy(pcr_digest.buffer, predicted[i - 1], LK_TPM_DIGEST_SIZE);
		r = policy_digest(t, bank, mask, i == 0 ? &current_values : &pcr_digest, NULL, &branch);
		if (r < 0)
			return r;
		if (branch.size != LK_TPM_DIGEST_SIZE)
			return -EIO;
		memcpy(s->branches[i], branch.buffer, LK_TPM_DIGEST_SIZE);
	}
	s->n_branches = n_predicted + 1;
	return policy_digest(t, bank, mask, NULL, s, ret);
}

int tpm2_seal(const char *tcti, uint16_t pcr_bank, uint32_t pcr_mask,
              const uint8_t (*predicted)[LK_TPM_DIGEST_SIZE], unsigned n_predicted,
              const uint8_t auth[LK_TPM_SECRET_SIZE], const uint8_t secret[LK_TPM_SECRET_SIZE],
              struct tpm2_sealed *ret)
{
	static const TPM2B_DATA no_outside_info = {};
	static const TPML_PCR_SELECTION no_pcrs = {};
	TPM2B_PUBLIC template = {
	    .publicArea =
	        {
	            .type = TPM2_ALG_KEYEDHASH,
	            .nameAlg = TPM2_ALG_SHA256,
	            /* No userWithAuth: only the policy opens it. No noDA: wrong
	             * auth values count towards the TPM's lockout. */
	            .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT,
	            .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
	        },
	};
	struct lk_secret sens _cleanup_secret_ = {};
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	struct tpm2_sealed out = {.pcr_bank = pcr_bank, .pcr_mask = pcr_mask};
	TPM2B_SENSITIVE_CREATE *in;
	struct tpm t;
	size_t off;
	TSS2_RC rc;
	int r;

	r = lk_secret_new(&sens, sizeof(*in));
	if (r < 0)
		return r;
	in = sens.ptr;
	in->sensitive.userAuth.size = LK_TPM_SECRET_SIZE;
	memcpy(in->sensitive.userAuth.buffer, auth, LK_TPM_SECRET_SIZE);
	in->sensitive.data.size = LK_TPM_SECRET_SIZE;
	memcpy(in->sensitive.data.buffer, secret, LK_TPM_SECRET_SIZE);

	r = tpm_open(tcti, true, &t);
	if (r == 0)
		r = seal_policy(&t, pcr_bank, pcr_mask, predicted, n_predicted, &out,
		                &template.publicArea.authPolicy);
	if (r == 0)
		r = start_salted_session(&t, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT,
		                         &t.session);
	if (r == 0) {
		rc = Esys_Create(t.esys, t.primary, t.session, ESYS_TR_NONE, ESYS_TR_NONE, in, &template,
		                 &no_outside_info, &no_pcrs, &priv, &pub, NULL, NULL, NULL);
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("Create", rc);
	}
	off = 0;
	if (r == 0 && Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out.pub, sizeof(out.pub), &off) != TSS2_RC_SUCCESS)
		r = -EOVERFLOW;
	out.pub_len = off;
	off = 0;
	if (r == 0 &&
	    Tss2_MU_TPM2B_PRIVATE_Marshal(priv, out.priv, sizeof(out.priv), &off) != TSS2_RC_SUCCESS)
		r = -EOVERFLOW;
	out.priv_len = off;
	Esys_Free(priv);
	Esys_Free(pub);
	tpm_close(&t);
	if (r == 0)
		*ret = out;
	return r;
}

int tpm2_unseal(const char *tcti, const struct tpm2_sealed *s, const uint8_t auth[LK_TPM_SECRET_SIZE],
                uint8_t secret_out[LK_TPM_SECRET_SIZE])
{
	static const TPM2B_DIGEST current_values = {};
	struct lk_secret authv _cleanup_secret_ = {};
	TPM2B_SENSITIVE_DATA *data = NULL;
	TPM2B_PRIVATE priv = {};
	TPM2B_PUBLIC pub = {};
	struct tpm t;
	size_t off;
	TSS2_RC rc;
	int r;

	off = 0;
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(s->pub, s->pub_len, &off, &pub) != TSS2_RC_SUCCESS ||
	    off != s->pub_len)
		return -EBADMSG;
	off = 0;
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(s->priv, s->priv_len, &off, &priv) != TSS2_RC_SUCCESS ||
	    off != s->priv_len)
		return -EBADMSG;
	r = lk_secret_new(&authv, sizeof(TPM2B_AUTH));
	if (r < 0)
		return r;
	((TPM2B_AUTH *)authv.ptr)->size = LK_TPM_SECRET_SIZE;
	memcpy(((TPM2B_AUTH *)authv.ptr)->buffer, auth, LK_TPM_SECRET_SIZE);

	r = tpm_open(tcti, true, &t);
	if (r == 0) {
		rc = Esys_Load(t.esys, t.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub,
		               &t.object);
		/* Another TPM's object fails its integrity check here. */
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("Load", rc);
	}
	if (r == 0)
		r = start_salted_session(&t, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &t.session);
	if (r == 0)
		r = run_policy(&t, t.session, s->pcr_bank, s->pcr_mask, &current_values);
	if (r == 0 && s->n_branches) {
		TPML_DIGEST list;
		or_list(s, &list);
		rc = Esys_PolicyOR(t.esys, t.session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &list);
		/* The current values are in none of the branches: as a PCR
		 * mismatch of a one-branch policy. */
		r = rc == TSS2_RC_SUCCESS           ? 0
		    : (rc & 0xbfu) == TPM2_RC_VALUE ? -EPERM
		                                    : tpm_fail("PolicyOR", rc);
	}
	if (r == 0) {
		rc = Esys_TR_SetAuth(t.esys, t.object, authv.ptr);
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("TR_SetAuth", rc);
	}
	if (r == 0) {
		rc = Esys_Unseal(t.esys, t.object, t.session, ESYS_TR_NONE, ESYS_TR_NONE, &data);
		r = rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("Unseal", rc);
	}
	if (r == 0 && data->size != LK_TPM_SECRET_SIZE)
		r = -EBADMSG;
	if (r == 0)
		memcpy(secret_out, data->buffer, LK_TPM_SECRET_SIZE);
	if (data) {
		lk_wipe(data, sizeof(*data));
		Esys_Free(data);
	}
	/* Clear the object's auth value inside ESYS before it is freed. */
	if (t.esys && t.object != ESYS_TR_NONE)
		Esys_TR_SetAuth(t.esys, t.object, NULL);
	tpm_close(&t);
	return r;
}

int tpm2_lockout_status(const char *tcti, struct tpm2_lockout *ret)
{
	TPMS_CAPABILITY_DATA *data = NULL;
	struct tpm2_lockout l = {};
	TPMI_YES_NO more;
	struct tpm t;
	TSS2_RC rc;
	int r;

	r = tpm_open(tcti, false, &t);
	if (r < 0)
		goto out;
	/* Unauthenticated: these properties are public, and reading them
	 * counts for nothing. */
	rc = Esys_GetCapability(t.esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
	                        TPM2_PT_LOCKOUT_COUNTER, 4, &more, &data);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("GetCapability", rc);
		goto out;
	}
	for (uint32_t i = 0; i < data->data.tpmProperties.count; i++) {
		const TPMS_TAGGED_PROPERTY *p = &data->data.tpmProperties.tpmProperty[i];
		if (p->property == TPM2_PT_LOCKOUT_COUNTER)
			l.counter = p->value;
		else if (p->property == TPM2_PT_MAX_AUTH_FAIL)
			l.max_tries = p->value;
		else if (p->property == TPM2_PT_LOCKOUT_INTERVAL)
			l.interval_s = p->value;
	}
	*ret = l;
	r = 0;
out:
	free(data);
	tpm_close(&t);
	return r;
}
