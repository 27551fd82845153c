/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fscrypt encryption mode names, and which pairs latchkey allows. */
#include <errno.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "config.h"
#include "internal.h"

/* The names the kernel documentation (fscrypt.rst) uses. Every mode the
 * kernel knows is listed, so that a policy found on disk can be shown by
 * name; which of them a configuration may use is decided below. */
static const struct {
	uint8_t mode;
	const char *name;
} mode_names[] = {
    {FSCRYPT_MODE_AES_256_XTS, "AES-256-XTS"},
    {FSCRYPT_MODE_AES_256_CTS, "AES-256-CTS"},
    {FSCRYPT_MODE_AES_128_CBC, "AES-128-CBC"},
    {FSCRYPT_MODE_AES_128_CTS, "AES-128-CTS"},
    {7, "SM4-XTS"}, /* FSCRYPT_MODE_SM4_XTS, not in Debian 12's headers */
    {8, "SM4-CTS"}, /* FSCRYPT_MODE_SM4_CTS */
    {FSCRYPT_MODE_ADIANTUM, "Adiantum"},
    {FSCRYPT_MODE_AES_256_HCTR2, "AES-256-HCTR2"},
};

const char *lk_fscrypt_mode_name(uint8_t mode)
{
	for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
		if (mode_names[i].mode == mode)
			return mode_names[i].name;
	return NULL;
}

int lk_fscrypt_mode_from_name(const char *name, uint8_t *ret)
{
	if (!name || !ret)
		return -EINVAL;
	/* Case does not carry meaning here and admins type "adiantum". */
	for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
		if (strcasecmp(mode_names[i].name, name) == 0) {
			*ret = mode_names[i].mode;
			return 0;
		}
	return -EINVAL;
}

/* The modes latchkey accepts (docs/ARCHITECTURE.md, "Configuration"):
 * AES-256-XTS contents with AES-256-CTS or AES-256-HCTR2 names, or Adiantum
 * for both (machines without AES instructions). Everything else is legacy
 * or not reviewed for latchkey. */
bool lk_fscrypt_contents_mode_allowed(uint8_t mode)
{
	return mode == FSCRYPT_MODE_AES_256_XTS || mode == FSCRYPT_MODE_ADIANTUM;
}

bool lk_fscrypt_filenames_mode_allowed(uint8_t mode)
{
	return mode == FSCRYPT_MODE_AES_256_CTS || mode == FSCRYPT_MODE_AES_256_HCTR2 ||
	       mode == FSCRYPT_MODE_ADIANTUM;
}

int lk_fscrypt_modes_check(uint8_t contents, uint8_t filenames, char *why, size_t why_size)
{
	if (!lk_fscrypt_contents_mode_allowed(contents))
		return cfg_why(why, why_size, "contents mode %s is not allowed; use AES-256-XTS or Adiantum",
		               lk_fscrypt_mode_name(contents) ?: "?");
	if (!lk_fscrypt_filenames_mode_allowed(filenames))
		return cfg_why(why, why_size,
		               "filenames mode %s is not allowed; use AES-256-CTS, AES-256-HCTR2 or Adiantum",
		               lk_fscrypt_mode_name(filenames) ?: "?");
	if (contents == FSCRYPT_MODE_ADIANTUM && filenames != FSCRYPT_MODE_ADIANTUM)
		return cfg_why(
		    why, why_size,
		    "contents Adiantum cannot be combined with filenames %s; set filenames = Adiantum",
		    lk_fscrypt_mode_name(filenames));
	if (contents != FSCRYPT_MODE_ADIANTUM && filenames == FSCRYPT_MODE_ADIANTUM)
		return cfg_why(
		    why, why_size,
		    "filenames Adiantum cannot be combined with contents %s; set contents = Adiantum",
		    lk_fscrypt_mode_name(contents));
	return 0;
}
