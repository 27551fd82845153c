/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The -errno values the domain functions the request handlers call
 * (protectors.c, encrypt.c, rotate.c and the rest) return, and what each
 * means to the client; outcome_status() is the one map from them to the
 * wire status:
 *
 *   0             done
 *   -EOWNERDEAD   the uid's state belongs to a former account
 *   -ENOKEY       no protector: the user is not enrolled
 *   -EBADMSG      the wrapping key does not open the slot (a wrong secret)
 *   -EAGAIN       throttled after too many wrong guesses
 *   -EKEYEXPIRED  no key is held for the user: the client must send one
 *   -ENODEV       the TPM is needed (tpm = required) and cannot answer
 *   -EEXIST       already there (enrolled, encrypted, bound)
 *   -ENOENT       no such slot, root or directory
 *   -EOPNOTSUPP   the filesystem or kernel lacks what is needed
 *   -EPERM        the configuration does not allow it for this user
 *   -EPROTO       the request lacks what this operation needs
 *   -EINVAL       the request cannot be applied (*why says why)
 *   other         an internal failure: its errno (ENOSPC, EROFS, EIO...) is
 *                 the reply's detail, for the admin
 */
#ifndef LKD_OUTCOME_H
#define LKD_OUTCOME_H

#include <stdint.h>

/* The wire status (LK_OK, LK_E_*) of a domain function's return value r. */
uint32_t outcome_status(int r);

/* r from a lower layer, returned as an internal failure: kept when it
 * cannot be read as one of the outcomes above (so ENOSPC reaches the
 * admin), else -EIO (an ENOENT from a failed write is no "not found"). */
int outcome_internal(int r);

#endif
