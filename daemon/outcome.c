/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a domain function's -errno means on the wire (outcome.h). */
#include <errno.h>

#include "latchkey/protocol.h"
#include "outcome.h"

uint32_t outcome_status(int r)
{
	switch (r) {
	case 0:
		return LK_OK;
	case -EPERM:
		return LK_E_PERM;
	case -ENOKEY:
		return LK_E_NOT_ENROLLED;
	case -EBADMSG:
		return LK_E_BAD_KEY;
	case -EINVAL:
		return LK_E_INVALID;
	case -EAGAIN:
		return LK_E_THROTTLED;
	case -EOWNERDEAD:
		return LK_E_OTHER_ACCOUNT;
	case -ENODEV:
		return LK_E_TPM;
	case -EEXIST:
		return LK_E_EXISTS;
	case -ENOENT:
		return LK_E_NOT_FOUND;
	case -EPROTO:
		return LK_E_PROTOCOL;
	case -EKEYEXPIRED:
		return LK_E_NEED_PASSPHRASE;
	case -EOPNOTSUPP:
		return LK_E_UNSUPPORTED;
	default:
		return LK_E_INTERNAL;
	}
}

int outcome_internal(int r)
{
	return r < 0 && outcome_status(r) == LK_E_INTERNAL ? r : -EIO;
}
