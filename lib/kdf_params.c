/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lk_kdf_params_check (declared in kdf.h) apart from the derivation: latchkeyd
 * checks every record's parameters but never derives, so it links neither
 * libsodium nor libargon2. */
#include <errno.h>

#include "kdf.h"

int lk_kdf_params_check(const struct lk_kdf_params *p)
{
	if (!p)
		return -EINVAL;
	if (p->alg == LK_KDF_X25519)
		/* An escrow slot: no passphrase KDF, the salt is a public key. */
		return p->salt_len == 32 && p->t_cost == 0 && p->m_cost_kib == 0 && p->parallelism == 0
		           ? 0
		           : -EINVAL;
	if (p->alg != LK_KDF_ARGON2ID)
		return -EINVAL;
	if (p->salt_len < LK_SALT_MIN || p->salt_len > LK_SALT_MAX)
		return -EINVAL;
	if (p->t_cost < LK_KDF_T_MIN || p->t_cost > LK_KDF_T_MAX)
		return -EINVAL;
	if (p->m_cost_kib < LK_KDF_M_MIN_KIB || p->m_cost_kib > LK_KDF_M_MAX_KIB)
		return -EINVAL;
	if (p->parallelism < LK_KDF_P_MIN || p->parallelism > LK_KDF_P_MAX)
		return -EINVAL;
	/* Argon2 needs at least 8 KiB per lane; the floor is far above that. */
	return 0;
}
