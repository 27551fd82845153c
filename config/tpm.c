/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TPM2 settings of [latchkey]: tpm, tpm_tcti, tpm_pcrs. Parsed here
 * whether or not latchkeyd was built with the TPM2 slot kind, so one
 * latchkey.conf is valid on both builds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "internal.h"

/* TPM2_ALG_* values (TPM 2.0 Part 2, table 9); no TSS header needed here. */
#define ALG_SHA1   0x0004
#define ALG_SHA256 0x000b
#define ALG_SHA384 0x000c

void lk_tpm_config_init(struct lk_tpm_config *c)
{
	*c = (struct lk_tpm_config){.mode = LK_TPM_OFF, .pcr_bank = ALG_SHA256, .pcr_mask = 1u << 7};
	strcpy(c->tcti, "device:/dev/tpmrm0");
}

static int parse_pcrs(const char *value, struct lk_tpm_config *c, char *why, size_t why_size)
{
	static const struct {
		const char *name;
		uint16_t alg;
	} banks[] = {{"sha1", ALG_SHA1}, {"sha256", ALG_SHA256}, {"sha384", ALG_SHA384}};
	const char *colon = strchr(value, ':'), *p;
	uint32_t mask = 0;
	uint16_t alg = 0;
	size_t i;

	for (i = 0; colon && i < ELEMENTSOF(banks); i++)
		if ((size_t)(colon - value) == strlen(banks[i].name) &&
		    strncmp(value, banks[i].name, colon - value) == 0)
			alg = banks[i].alg;
	if (!alg)
		return cfg_why(
		    why, why_size,
		    "tpm_pcrs must be BANK:N[,N...] with BANK sha1, sha256 or sha384, e.g. sha256:7");
	for (p = colon + 1;;) {
		char *end;
		unsigned long n;

		if (*p < '0' || *p > '9')
			return cfg_why(why, why_size,
			               "tpm_pcrs: PCR numbers 0..23 separated by ',', e.g. sha256:0,7");
		n = strtoul(p, &end, 10);
		if (n > 23)
			return cfg_why(why, why_size, "tpm_pcrs: PCR %lu out of range 0..23", n);
		mask |= 1u << n;
		if (*end == '\0')
			break;
		if (*end != ',')
			return cfg_why(why, why_size,
			               "tpm_pcrs: PCR numbers 0..23 separated by ',', e.g. sha256:0,7");
		p = end + 1;
	}
	c->pcr_bank = alg;
	c->pcr_mask = mask;
	return 0;
}

int lk_tpm_setting_parse(const char *key, const char *value, struct lk_tpm_config *c, char *why,
                         size_t why_size)
{
	char q[80];

	if (strcmp(key, "tpm") == 0) {
		if (strcmp(value, "off") == 0)
			c->mode = LK_TPM_OFF;
		else if (strcmp(value, "preferred") == 0)
			c->mode = LK_TPM_PREFERRED;
		else if (strcmp(value, "required") == 0)
			c->mode = LK_TPM_REQUIRED;
		else
			return cfg_why(why, why_size, "tpm must be off, preferred or required, not %s",
			               cfg_quote(value, q, sizeof(q)));
		return 0;
	}
	if (strcmp(key, "tpm_tcti") == 0) {
		/* Named, never the TSS's default search (which ends at a simulator
		 * on localhost any local user could run). */
		if (strlen(value) > LK_TPM_TCTI_MAX || !strchr(value, ':') || value[0] == ':')
			return cfg_why(
			    why, why_size,
			    "tpm_tcti must name a TCTI and its configuration, e.g. device:/dev/tpmrm0");
		strcpy(c->tcti, value);
		return 0;
	}
	if (strcmp(key, "tpm_pcrs") == 0)
		return parse_pcrs(value, c, why, why_size);
	return -EINVAL;
}
