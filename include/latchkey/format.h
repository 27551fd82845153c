/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkey on-disk formats, version 1. All integers little-endian; every
 * structure has a fixed size so parsers check exact lengths, never trust a
 * length field to size an allocation.
 *
 * Key hierarchy:
 *   W = Argon2id(passphrase, salt, t, m, p)                 32 B, wrapping key
 *       (escrow slots: W = HKDF-SHA256(ikm=X25519(e, R), salt="",
 *        info=LK_INFO_ESCROW || E || R) where E = e*G is the ephemeral
 *        public key stored as the slot's salt and R the recipient's key)
 *   P = random                                              32 B, protector key
 *   K = random                                              64 B, fscrypt v2 master key
 *   slot KEK   = HKDF-SHA256(ikm=W, salt="", info=LK_INFO_SLOT)
 *   policy KEK = HKDF-SHA256(ikm=P, salt="", info=LK_INFO_POLICY)
 *   wrapped P  = AES-256-GCM(slot KEK,   nonce, P, aad = file header || slot header)
 *   wrapped K  = AES-256-GCM(policy KEK, nonce, K, aad = wrapped-key header)
 *
 * 1. Protector file  <state-dir>/protectors/<uid>   (root 0600, <= 4 KiB)
 *
 *   file header, 16 bytes
 *     0   4  magic     LK_PROTECTOR_MAGIC ("LKPF")
 *     4   2  version   1
 *     6   2  n_slots   1..LK_MAX_SLOTS
 *     8   4  uid
 *     12  4  reserved  0
 *   then n_slots slots of LK_SLOT_SIZE bytes each:
 *     0   1  kind      enum lk_slot_kind
 *     1   1  kdf       LK_KDF_ARGON2ID
 *     2   1  salt_len  LK_SALT_MIN..LK_SALT_MAX
 *     3   1  reserved  0
 *     4   4  slot_id   unique within the file, never reused while the file lives
 *     8   4  t_cost    Argon2 passes
 *     12  4  m_cost    Argon2 memory in KiB
 *     16  4  parallelism
 *     20  32 salt      (salt_len bytes used, rest zero)
 *     52  12 nonce
 *     64  32 ciphertext of P
 *     96  16 GCM tag
 *   The slot AAD is the 16-byte file header with n_slots forced to 0 (so
 *   adding or removing another slot does not invalidate this one) followed by
 *   bytes 0..51 of the slot. File size must equal 16 + n_slots * 112.
 *
 * 2. Wrapped policy key  xattr trusted.latchkey.key.<uid> on the policy root
 *
 *     0   4  magic     LK_WRAPPED_KEY_MAGIC ("LKWK")
 *     4   2  version   1
 *     6   2  kind      LK_WRAPPED_FSCRYPT_V2 (64-byte fscrypt v2 master key), or
 *                      LK_WRAPPED_FSCRYPT_V1 (64-byte legacy v1 master key)
 *     8   4  uid       the user whose P wraps this copy
 *     12  16 key_id    fscrypt v2 key identifier of K; for V1 the descriptor
 *                      (first 8 bytes of SHA-512(SHA-512(K))) then 8 zero bytes
 *     28  12 nonce
 *     40  64 ciphertext of K
 *     104 16 GCM tag
 *   total LK_WRAPPED_KEY_SIZE = 120; AAD = bytes 0..27.
 *
 * 3. Policy index  <state-dir>/index/<uid>   (root 0600, <= 128 KiB, text)
 *   version 2 (written):
 *     line 1:  "latchkey-index 2"
 *     line 2 (optional): "account <name>", the account name the uid had when
 *              the state was made (1..LK_ACCOUNT_MAX bytes, no control
 *              characters, space or ':', not starting with '-'); a uid whose
 *              account now has another name is a reused uid, and the state
 *              is not its own
 *     then one line per policy root, fields separated by one space:
 *       <32 lowercase hex key_id>
 *       <32 lowercase hex filesystem UUID, or "-" when the kernel has none>
 *       <major>:<minor>    decimal device number of the filesystem when last seen
 *       <handle type>      decimal, from name_to_handle_at, or "-"
 *       <handle>           lowercase hex, 1..LK_HANDLE_MAX bytes, or "-"
 *                          (type and handle are both "-" or neither)
 *       <"ok" | "gone">    "gone": the directory was found deleted
 *       <absolute path>    where the root was last seen: a hint, refreshed
 *                          when the handle finds it elsewhere
 *   version 1 (read, upgraded at the next write):
 *     line 1:  "latchkey-index 1"
 *     then one line per policy root:  "<32 lowercase hex key_id> <absolute path>"
 *   paths contain no control characters; at most LK_MAX_INDEX_ENTRIES lines.
 *   The xattrs are the truth; the index says where to look, and the
 *   handle and filesystem let a lock remove the key without any path.
 */
#ifndef LATCHKEY_FORMAT_H
#define LATCHKEY_FORMAT_H

#define LK_PROTECTOR_MAGIC   0x46504b4cu /* "LKPF" */
#define LK_PROTECTOR_VERSION 1
#define LK_PROTECTOR_HDR_SIZE 16
#define LK_SLOT_SIZE         112
#define LK_SLOT_AAD_SIZE     52
#define LK_MAX_SLOTS         8
#define LK_PROTECTOR_MAX_SIZE (LK_PROTECTOR_HDR_SIZE + LK_MAX_SLOTS * LK_SLOT_SIZE)

#define LK_PROTECTOR_KEY_SIZE 32 /* P */
#define LK_MASTER_KEY_SIZE    64 /* K */
#define LK_GCM_NONCE_SIZE     12
#define LK_GCM_TAG_SIZE       16

enum lk_slot_kind {
	LK_SLOT_LOGIN    = 1,
	LK_SLOT_RECOVERY = 2,
	LK_SLOT_ESCROW   = 3, /* kdf = LK_KDF_X25519: salt holds the ephemeral public key */
};

#define LK_WRAPPED_KEY_MAGIC   0x4b574b4cu /* "LKWK" */
#define LK_WRAPPED_KEY_VERSION 1
#define LK_WRAPPED_FSCRYPT_V2  1
#define LK_WRAPPED_FSCRYPT_V1  2 /* legacy: key_id = 8-byte descriptor + 8 zero bytes */
#define LK_WRAPPED_KEY_SIZE    120
#define LK_WRAPPED_KEY_AAD_SIZE 28
#define LK_XATTR_KEY_PREFIX    "trusted.latchkey.key."

#define LK_INDEX_HEADER       "latchkey-index 2"
#define LK_INDEX_HEADER_V1    "latchkey-index 1"
#define LK_INDEX_MAX_SIZE     (128 * 1024)
#define LK_FS_UUID_SIZE       16
#define LK_HANDLE_MAX         64
#define LK_MAX_INDEX_ENTRIES  64

#define LK_INFO_SLOT   "latchkey v1 protector slot"
#define LK_INFO_POLICY "latchkey v1 policy key"
#define LK_INFO_ESCROW "latchkey v1 escrow"

/* Argon2id bounds, enforced on every record read and every parameter set.
 * Below the floor is a downgrade; above the ceiling a denial of service. */
#define LK_KDF_T_MIN     1
#define LK_KDF_T_MAX     10
#define LK_KDF_M_MIN_KIB (64u * 1024u)
#define LK_KDF_M_MAX_KIB (1024u * 1024u)
#define LK_KDF_P_MIN     1
#define LK_KDF_P_MAX     8

#endif
