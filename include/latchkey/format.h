/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkey on-disk formats. All integers little-endian; every
 * structure has a fixed size so parsers check exact lengths, never trust a
 * length field to size an allocation.
 *
 * Key hierarchy:
 *   W = Argon2id(passphrase, salt, t, m, p)                 32 B, wrapping key
 *       (escrow slots: W = HKDF-SHA256(ikm=X25519(e, R), salt="", info) where
 *        E = e*G is the ephemeral public key stored as the slot's salt, R the
 *        recipient's key, and info = LK_INFO_ESCROW_V2 || E || R || u32 uid ||
 *        u8 len || user name || machine id (16 bytes, /etc/machine-id); slots
 *        of derivation 0 used info = LK_INFO_ESCROW || E || R, bound to nothing
 *        but the slot)
 *   P = random                                              32 B, protector key
 *   K = random                                              64 B, fscrypt v2 master key
 *   slot KEK   = HKDF-SHA256(ikm=W, salt="", info=LK_INFO_SLOT_V2 || u8 kind || u32 uid)
 *                (slots with derivation 0, written before version 2: info=LK_INFO_SLOT)
 *   policy KEK = HKDF-SHA256(ikm=P, salt="", info=LK_INFO_POLICY)
 *   wrapped P  = AES-256-GCM(slot KEK,   nonce, P, aad = file header || slot header)
 *   wrapped K  = AES-256-GCM(policy KEK, nonce, K, aad = wrapped-key header)
 *
 * 1. Protector file  <state-dir>/protectors/<uid>   (root 0600, <= 4 KiB)
 *
 *   file header, 16 bytes
 *     0   4  magic     LK_PROTECTOR_MAGIC ("LKPF")
 *     4   2  version   2 (1 is still read; every write is version 2)
 *     6   2  n_slots   1..LK_MAX_SLOTS
 *     8   4  uid
 *     12  4  next_id   version 2: the id the next slot gets, above every id
 *                      this file has ever held (a persisted counter, so ids are
 *                      never reused); version 1: 0, and read as max id + 1
 *   then n_slots slots of LK_SLOT_SIZE bytes each:
 *     0   1  kind      enum lk_slot_kind
 *     1   1  kdf       LK_KDF_ARGON2ID, or LK_KDF_X25519 for escrow
 *     2   1  salt_len  LK_SALT_MIN..LK_SALT_MAX (new login/recovery slots: LK_SALT_MIN)
 *     3   1  derivation LK_SLOT_DERIV_V1 (0: the only value in version 1 files)
 *                      or LK_SLOT_DERIV_V2 (every slot written now)
 *     4   4  slot_id   unique within the file, never reused
 *     8   4  t_cost    Argon2 passes
 *     12  4  m_cost    Argon2 memory in KiB
 *     16  4  parallelism (new slots: 1)
 *     20  32 salt      (salt_len bytes used, rest zero)
 *     52  12 nonce
 *     64  32 ciphertext of P
 *     96  16 GCM tag
 *   The slot AAD is the 16-byte file header with n_slots and next_id forced to
 *   0 and version set to 1 for derivation V1 slots, 2 for V2 (so adding or
 *   removing another slot does not invalidate this one, and a version 1 slot
 *   still opens in a version 2 file) followed by bytes 0..51 of the slot
 *   (the derivation byte included: it cannot be downgraded). A V2 escrow slot
 *   appends u8 len || user name || machine id (16 bytes): the slot opens only
 *   for that user name on that machine. File size must equal 16 + n_slots * 112.
 *   Upgrade: a version 1 file is rewritten as version 2 at its next write
 *   (its V1 slots kept as they are, bit for bit); new slots are always V2.
 *   A V1 escrow slot is replaced by a V2 one at the user's next rewrap when
 *   the daemon finds the machine's escrow public key (escrow.pub).
 *   Implementation, not format: a LK_KDF_ARGON2ID slot with parallelism 1
 *   and salt_len 16 is derived by libsodium (crypto_pwhash_argon2id, which
 *   has exactly those limits), any other by libargon2. Both compute Argon2id
 *   v1.3, so the same record gives the same W through either (unit-tested);
 *   no separate kdf id is needed, and a legacy slot (several lanes, or the
 *   32-byte salt earlier password changes wrote) becomes the libsodium kind
 *   at its next rewrap, whose fresh parameters are always p=1, 16-byte salt.
 *
 * 2. Wrapped policy key  xattr trusted.latchkey.key.<uid> on the encrypted root
 *
 *     0   4  magic     LK_WRAPPED_KEY_MAGIC ("LKWK")
 *     4   2  version   2 (1: the same without the branch list; still read)
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
 * 3. Root index  <state-dir>/index/<uid>   (root 0600, <= 128 KiB, text)
 *   version 2 (written):
 *     line 1:  "latchkey-index 2"
 *     line 2 (optional): "account <name>", the account name the uid had when
 *              the state was made (1..LK_ACCOUNT_MAX bytes, no control
 *              characters, space or ':', not starting with '-'); a uid whose
 *              account now has another name is a reused uid, and the state
 *              is not its own
 *     then one line per encrypted root, fields separated by one space:
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
 *     then one line per encrypted root:  "<32 lowercase hex key_id> <absolute path>"
 *   paths contain no control characters; at most LK_MAX_INDEX_ENTRIES lines.
 *   The xattrs are the truth; the index says where to look, and the
 *   handle and filesystem let a lock remove the key without any path.
 *
 * 4. Key rotation (new P): for a short time each root also carries
 *    LK_XATTR_KEY_PREFIX "<uid>" LK_XATTR_ROTATING_SUFFIX, K wrapped under the
 *    new P, and <state-dir>/rotating-<uid> (root 0600, text) says
 *      "latchkey-rotation 1\n<64 hex: SHA-256 of the new protector file>\n"
 *    If the protector file on disk has that hash, the rotation committed: the
 *    pending copies replace the main xattrs; otherwise they are removed.
 *
 * 5. TPM2 slots (kind LK_SLOT_TPM2). The slot is an ordinary 112-byte slot
 *    whose wrapping key is S, 32 random bytes sealed by the TPM; the sealed
 *    object is too large for a slot, so it lives beside the protector file in
 *    <state-dir>/tpm/<uid>-<slot_id>  (root 0600, <= LK_TPM_BLOB_MAX_SIZE):
 *     0   4  magic     LK_TPM_BLOB_MAGIC ("LKTP")
 *     4   2  version   1
 *     6   2  pcr_bank  TPM2_ALG_* of the PCR policy
 *     8   4  pcr_mask  bit n = PCR n
 *     12  4  uid
 *     16  4  slot_id
 *     20  2  pub_len   then pub_len bytes: marshalled TPM2B_PUBLIC
 *        2  priv_len  then priv_len bytes: marshalled TPM2B_PRIVATE
 *        1  n_branches  0, or 2..8, then n_branches 32-byte policy digests
 *    The object is a keyedhash (sealed data S) under a primary ECC P-256
 *    storage key created from a fixed template in the owner hierarchy at
 *    every use (no persistent handle, no NV write); it is fixedTPM, not
 *    userWithAuth, and DA-protected, with authPolicy = PolicyPCR(bank, mask,
 *    values at seal time) then PolicyAuthValue; or, resealed for a planned
 *    update (latchkeyctl tpm reseal --predict), PolicyOR of the branches
 *    listed (the first: values at seal time; then each predicted set), each
 *    PolicyPCR(bank, mask, that set) then PolicyAuthValue; and authValue =
 *    HKDF-SHA256(ikm=W, salt="", info=LK_INFO_TPM_AUTH || u32 uid || u32 slot_id)
 *    where W is the login slot's Argon2id output. A blob swapped for another
 *    yields another S, which the slot's GCM tag refuses.
 */
#ifndef LATCHKEY_FORMAT_H
#define LATCHKEY_FORMAT_H

#define LK_PROTECTOR_MAGIC      0x46504b4cu /* "LKPF" */
#define LK_PROTECTOR_VERSION    2
#define LK_PROTECTOR_VERSION_V1 1
#define LK_PROTECTOR_HDR_SIZE   16
#define LK_SLOT_SIZE            112
#define LK_SLOT_AAD_SIZE        52
#define LK_MAX_SLOTS            8
#define LK_PROTECTOR_MAX_SIZE   (LK_PROTECTOR_HDR_SIZE + LK_MAX_SLOTS * LK_SLOT_SIZE)

#define LK_PROTECTOR_KEY_SIZE 32 /* P */
#define LK_MASTER_KEY_SIZE    64 /* K */
#define LK_GCM_NONCE_SIZE     12
#define LK_GCM_TAG_SIZE       16

enum lk_slot_kind {
	LK_SLOT_LOGIN = 1,
	LK_SLOT_RECOVERY = 2,
	LK_SLOT_ESCROW = 3, /* kdf = LK_KDF_X25519: salt holds the ephemeral public key */
	LK_SLOT_TPM2 = 4,   /* W is a random per-slot key S sealed by the TPM (§5); the kdf
	                     * fields are the login slot's, so the login's W derives the TPM auth */
};

/* Slot byte 3: how the slot KEK (and an escrow slot's W) is derived. */
#define LK_SLOT_DERIV_V1   0  /* info LK_INFO_SLOT; escrow W over E and R only */
#define LK_SLOT_DERIV_V2   1  /* info binds kind and uid; escrow W and AAD bind uid, name, machine */
#define LK_MACHINE_ID_SIZE 16 /* /etc/machine-id, 32 hex digits */
#define LK_BOUND_NAME_MAX  64 /* longest user name a V2 escrow slot binds */

#define LK_WRAPPED_KEY_MAGIC     0x4b574b4cu /* "LKWK" */
#define LK_WRAPPED_KEY_VERSION   1
#define LK_WRAPPED_FSCRYPT_V2    1
#define LK_WRAPPED_FSCRYPT_V1    2 /* legacy: key_id = 8-byte descriptor + 8 zero bytes */
#define LK_WRAPPED_KEY_SIZE      120
#define LK_WRAPPED_KEY_AAD_SIZE  28
#define LK_XATTR_KEY_PREFIX      "trusted.latchkey.key."
#define LK_XATTR_ROTATING_SUFFIX ".rotating"
#define LK_ROTATION_HEADER       "latchkey-rotation 1"

#define LK_INDEX_HEADER      "latchkey-index 2"
#define LK_INDEX_HEADER_V1   "latchkey-index 1"
#define LK_INDEX_MAX_SIZE    (128 * 1024)
#define LK_FS_UUID_SIZE      16
#define LK_HANDLE_MAX        64
#define LK_MAX_INDEX_ENTRIES 64

#define LK_INFO_SLOT      "latchkey v1 protector slot" /* derivation V1 slots only */
#define LK_INFO_SLOT_V2   "latchkey v2 protector slot"
#define LK_INFO_POLICY    "latchkey v1 policy key"
#define LK_INFO_ESCROW    "latchkey v1 escrow" /* derivation V1 escrow slots only */
#define LK_INFO_ESCROW_V2 "latchkey v2 escrow"
#define LK_INFO_TPM_AUTH  "latchkey v2 tpm2 auth"

#define LK_TPM_BLOB_MAGIC      0x50544b4cu /* "LKTP" */
#define LK_TPM_BLOB_VERSION    2
#define LK_TPM_BLOB_VERSION_V1 1 /* no branch list */
#define LK_TPM_BLOB_MAX_SIZE   1024

/* Argon2id bounds, enforced on every record read and every parameter set.
 * Below the floor is a downgrade; above the ceiling a denial of service. */
#define LK_KDF_T_MIN     1
#define LK_KDF_T_MAX     10
#define LK_KDF_M_MIN_KIB (64u * 1024u)
#define LK_KDF_M_MAX_KIB (1024u * 1024u)
#define LK_KDF_P_MIN     1
#define LK_KDF_P_MAX     8
/* The floor for every slot written (ENROLL, REWRAP, rotation, latchkeyctl):
 * older records with fewer passes are still read. */
#define LK_KDF_NEW_T_MIN 3

#endif
