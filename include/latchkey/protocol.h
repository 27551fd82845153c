/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * latchkey wire protocol, version 1.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET. One message is one packet of at most
 * LK_MSG_MAX bytes; a longer packet (MSG_TRUNC) is a protocol error and
 * closes the connection. The server authorises on SO_PEERCRED only; the uid
 * field inside a message names the *target* user, never the caller.
 *
 * Every message = 16-byte header + TLV body, all integers little-endian:
 *
 *   offset size field
 *   0      4    magic    LK_PROTO_MAGIC ("LKP1" read as LE u32)
 *   4      2    version  LK_PROTO_VERSION
 *   6      2    type     enum lk_msg_type
 *   8      4    seq      chosen by the client, echoed in every reply
 *   12     4    body_len number of bytes after the header (must equal packet-16)
 *
 * body: a sequence of fields { u16 tag; u16 len; u8 value[len] }.
 *   - a tag may appear at most once per message; an unknown tag is an error;
 *   - each tag has a fixed length or a bounded one (see enum lk_tag);
 *   - strings carry no terminating NUL and must not contain NUL bytes.
 *
 * Requests and what they may carry (R = required, O = optional):
 *
 *   KDF_PARAMS     uid R, flags O            -> KDF_PARAMS(kdf) | ERROR
 *                  flags: LK_KDF_F_KIND(kind) picks the slot (default LOGIN);
 *                  LK_KDF_F_FRESH asks for parameters for a *new* slot: a
 *                  fresh random salt and the machine's current target cost
 *                  (peer uid 0 only for FRESH).
 *   AUTH_SUBMIT    uid R, key R              -> OK | ERROR          (peer uid 0)
 *   SESSION_OPEN   uid R, text O (service)   -> UNLOCK_RESULT | ERROR (peer uid 0)
 *                  the connection then stays open for the session's life;
 *                  end-of-file on it ends the session. A user who is not
 *                  enrolled gets ERROR NOT_ENROLLED and no session; a user
 *                  whose share of connections is used up gets ERROR BUSY.
 *   SESSION_CLOSE  (none)                    -> OK, flags O (LK_RF_BUSY)
 *                  sent after the lock of the user's last session (unless
 *                  lock_delay defers it); LK_RF_BUSY: files still in use.
 *   UNLOCK         uid R, key O              -> UNLOCK_RESULT | ERROR
 *   LOCK           uid R                     -> LOCK_RESULT | ERROR
 *   STATUS         uid O (absent = all)      -> STATUS_ENTRY* then STATUS_END
 *   ENROLL         uid R, kdf R, key R       -> OK | ERROR          (peer uid 0)
 *   ENCRYPT        uid R, path R, key O,     -> ENCRYPT_RESULT | ERROR (peer uid 0)
 *                  flags O (LK_EF_V1: legacy v1 policy)
 *   REWRAP         uid R, key O, new_key R,  -> OK | ERROR           (peer uid 0)
 *                  kdf R, flags R
 *                  Replaces every slot of kind LK_RW_TO_KIND(flags) with one
 *                  wrapping P under new_key with kdf (salt fresh), checked to
 *                  open before it is written, in one atomic replace of the
 *                  protector file: after a crash either the old slots or the
 *                  new one are there, never both, never neither.
 *                  P comes from opening a slot of kind LK_RW_FROM_KIND(flags)
 *                  with key, or, when that kind is 0 and key is absent, from
 *                  the P the daemon holds for a user with a live session
 *                  (admin reset); if it holds none: ERROR NEED_PASSPHRASE.
 *   ROTATE         uid R, key O, new_key R,  -> OK(count, flags) | ERROR (peer uid 0)
 *                  kdf R, flags R
 *                  A new protector key P': every wrapped K of the user's
 *                  indexed roots resealed under P', and a new protector file
 *                  holding a login slot (new_key, kdf) and, when the machine
 *                  has an escrow key, a new escrow slot; recovery slots are
 *                  retired (their codes are not known here). The old P comes
 *                  from a slot of kind LK_RW_FROM_KIND(flags) opened with
 *                  key, or (kind 0, no key) from a live session. OK's count:
 *                  roots resealed; flags: LK_ROT_F_*. Crash-safe (format.h §4).
 *   RELOAD         (none)                    -> OK | ERROR(text)    (peer uid 0)
 *                  re-read the configuration (as SIGHUP does) and provision
 *                  new per-user policies for users with a live session; a
 *                  bad configuration is refused and the old one kept.
 *   FORGET         uid R, key_id R           -> LOCK_RESULT | ERROR  (peer uid 0)
 *                  remove the root's key from the kernel (by identifier, on
 *                  its filesystem: the directory may be gone) and drop it
 *                  from uid's index. The directory itself is not touched.
 *   UNENROLL       uid R                     -> LOCK_RESULT | ERROR  (peer uid 0)
 *                  lock every root of uid, then delete uid's protector file
 *                  (login, recovery and escrow slots) and index. Refused
 *                  (BUSY) while uid has a live session.
 *   USERS          uid O (absent = all)      -> (USER_ENTRY SLOT_ENTRY*)* then
 *                                               STATUS_END     (root, or the user
 *                                               about themselves)
 *                  every enrolled or indexed user: account, sessions, slots.
 *   CONFIG_DIR     flags O (LK_CD_VENDOR)    -> OK(path) | ERROR
 *                  the configuration directory the daemon reads, or with
 *                  LK_CD_VENDOR its vendor directory (any peer: latchkeyctl
 *                  writes where the running daemon reads, not where it
 *                  guesses).
 *   RELOCATE       uid R, key_id R, path R,  -> OK | ERROR           (peer uid 0)
 *                  flags O
 *                  The encrypted root of uid with identifier key_id now lives
 *                  at path (latchkeyctl migrate swapped it into place with
 *                  RENAME_EXCHANGE): the daemon checks that the directory at
 *                  path has that policy and uid's wrapped key, then records
 *                  path in uid's index. With LK_RLF_FORGET (latchkeyctl
 *                  decrypt) the root is gone instead: path must no longer
 *                  carry that policy; the index entry is removed and the key
 *                  taken out of the kernel (an fd of path's parent names the
 *                  filesystem).
 *   LOGIN_ENROLL   uid R, kdf O, key O       -> KDF_PARAMS | OK | ERROR (peer uid 0)
 *                  Enrolment at a first password login (pam_latchkey, after
 *                  pam_unix accepted the password). Without key: the daemon
 *                  checks that enroll_at_login covers uid and that uid is
 *                  not enrolled (else ERROR PERM or EXISTS) and answers the
 *                  new login slot's parameters (the machine's KDF target,
 *                  a fresh salt). With kdf and key (W derived with them):
 *                  enrols uid; with create_home, a missing home (passwd)
 *                  is made encrypted and filled from home_skel. OK carries
 *                  flags LK_LEF_*.
 *
 * Replies:
 *   OK             (none); path for CONFIG_DIR; flags O (only after
 *                  SESSION_CLOSE)
 *   ERROR          status R, error O (errno detail), text O (human message,
 *                  never contains secrets; for unprivileged peers it never
 *                  distinguishes "no such user" from "wrong key")
 *   KDF_PARAMS     kdf R, flags O (LK_KDF_RF_BOUND: the slot is a V2 escrow
 *                  slot, bound to uid, user name and machine id)
 *   UNLOCK_RESULT  status R, count R (policies unlocked), flags O (LK_RF_*)
 *   LOCK_RESULT    status R, count R (policies locked), flags O
 *   STATUS_ENTRY   uid R, key_id R, state R, path R, count O (sessions of
 *                  that user), account O (the account name recorded with the
 *                  state)
 *   USER_ENTRY     uid R, count R (sessions), flags R (LK_UF_*), account O
 *   SLOT_ENTRY     uid R, flags R (enum lk_slot_kind), count R (slot id), kdf R
 *   STATUS_END     count R (number of entries sent)
 *
 * Account names: the state of a uid records the account name it was made
 * for. When the uid's account now has another name (a reused uid), that
 * state is not the account's: KDF_PARAMS, AUTH_SUBMIT, UNLOCK, ENCRYPT and
 * REWRAP answer OTHER_ACCOUNT, SESSION_OPEN unlocks nothing, STATUS shows a
 * non-root peer nothing, and ENROLL is refused with OTHER_ACCOUNT until
 * root runs UNENROLL for the uid.
 *   ENCRYPT_RESULT key_id R, path R
 */
#ifndef LATCHKEY_PROTOCOL_H
#define LATCHKEY_PROTOCOL_H

#include <stdint.h>

#define LK_PROTO_MAGIC   0x31504b4cu /* "LKP1" */
#define LK_PROTO_VERSION 1
#define LK_HDR_SIZE      16
#define LK_MSG_MAX       4096

/* Compiled-in default; only a PAM module argument or a command-line
 * option may override it, never the environment. */
#define LK_SOCKET_PATH "/run/latchkey/socket"

#define LK_UID_NONE      UINT32_MAX
#define LK_WRAP_KEY_SIZE 32 /* W, the passphrase-derived wrapping key */
#define LK_KEY_ID_SIZE   16 /* fscrypt v2 key identifier */
#define LK_SALT_MIN      16
#define LK_SALT_MAX      32
#define LK_PATH_MAX      1024
#define LK_TEXT_MAX      512
#define LK_ACCOUNT_MAX   256 /* account name recorded with a uid's state */

enum lk_msg_type {
	LK_REQ_KDF_PARAMS = 1,
	LK_REQ_AUTH_SUBMIT = 2,
	LK_REQ_SESSION_OPEN = 3,
	LK_REQ_SESSION_CLOSE = 4,
	LK_REQ_UNLOCK = 5,
	LK_REQ_LOCK = 6,
	LK_REQ_STATUS = 7,
	LK_REQ_ENROLL = 8,
	LK_REQ_ENCRYPT = 9,
	LK_REQ_REWRAP = 10,
	LK_REQ_RELOAD = 11,
	LK_REQ_FORGET = 12,
	LK_REQ_UNENROLL = 13,
	LK_REQ_USERS = 14,
	LK_REQ_RELOCATE = 16,
	LK_REQ_LOGIN_ENROLL = 17,
	LK_REQ_ROTATE = 18,
	LK_REQ_CONFIG_DIR = 20,
	LK_REQ_TPM_BIND = 23,   /* uid, key (login W): add a TPM2 slot (root) */
	LK_REQ_TPM_UNBIND = 24, /* uid: remove the TPM2 slots (root) */
	LK_REQ_TPM_RESEAL = 25, /* uid, key (login W), pcr: reseal the TPM2 slot to the current
	                         * PCR values or the predicted ones (PolicyOR) (root) */
	_LK_REQ_MAX,

	LK_REP_OK = 0x81,
	LK_REP_ERROR = 0x82,
	LK_REP_KDF_PARAMS = 0x83,
	LK_REP_UNLOCK_RESULT = 0x84,
	LK_REP_LOCK_RESULT = 0x85,
	LK_REP_STATUS_ENTRY = 0x86,
	LK_REP_STATUS_END = 0x87,
	LK_REP_ENCRYPT_RESULT = 0x88,
	LK_REP_USER_ENTRY = 0x8c,
	LK_REP_SLOT_ENTRY = 0x8d,
	_LK_REP_MAX,
};

enum lk_tag {
	LK_T_UID = 1,      /* u32 */
	LK_T_STATUS = 2,   /* u32, enum lk_status */
	LK_T_ERROR = 3,    /* i32, positive errno detail */
	LK_T_FLAGS = 4,    /* u32 */
	LK_T_COUNT = 5,    /* u32 */
	LK_T_KDF = 6,      /* u8 alg, u8 salt_len, u16 0, u32 t, u32 m_kib, u32 p, salt[salt_len] */
	LK_T_KEY = 7,      /* LK_WRAP_KEY_SIZE bytes, secret */
	LK_T_KEY_ID = 8,   /* LK_KEY_ID_SIZE bytes */
	LK_T_STATE = 9,    /* u32, enum lk_key_state */
	LK_T_PATH = 10,    /* string, 1..LK_PATH_MAX, absolute */
	LK_T_TEXT = 11,    /* string, 0..LK_TEXT_MAX */
	LK_T_NEW_KEY = 12, /* LK_WRAP_KEY_SIZE bytes, secret: the new slot's wrapping key */
	LK_T_ACCOUNT = 13, /* string, 1..LK_ACCOUNT_MAX: account name recorded with a uid's state */
	LK_T_PCR = 14,     /* u16 bank (TPM2_ALG_*), u16 0, u32 mask (bit n: PCR n), digest[32]:
	                    * SHA-256 of the predicted values of those PCRs, concatenated in
	                    * index order (the PolicyPCR digest of a planned boot) */
	_LK_T_MAX,
};

enum lk_status {
	LK_OK = 0,
	LK_E_PROTOCOL = 1,        /* malformed or unexpected message */
	LK_E_PERM = 2,            /* the peer may not do this */
	LK_E_NOT_ENROLLED = 3,    /* no protector for this user */
	LK_E_BAD_KEY = 4,         /* the wrapping key did not authenticate */
	LK_E_NO_CREDENTIAL = 5,   /* reserved: latchkeyd no longer sends it (a session
	                           * without a pending credential opens with
	                           * LK_RF_STILL_LOCKED); clients still read it */
	LK_E_NEED_PASSPHRASE = 6, /* daemon does not hold the user's key: send one */
	LK_E_INVALID = 7,         /* bad argument (path, parameters, user) */
	LK_E_EXISTS = 8,          /* already there (enrolled, encrypted) */
	LK_E_NOT_FOUND = 9,
	LK_E_UNSUPPORTED = 10, /* filesystem or kernel lacks what is needed */
	LK_E_BUSY = 11,        /* files still in use: incompletely locked */
	LK_E_THROTTLED = 12,   /* too many failures, retry later */
	LK_E_INTERNAL = 13,
	LK_E_PARTIAL = 14,       /* some policies failed; see count/flags */
	LK_E_OTHER_ACCOUNT = 15, /* the uid's state belongs to a former account (reused uid) */
	LK_E_TPM = 20,           /* the TPM is absent, refused or failed; see text */
	_LK_STATUS_MAX,
};

/* As reported by FS_IOC_GET_ENCRYPTION_KEY_STATUS, plus what we know. */
enum lk_key_state {
	LK_KEY_UNKNOWN = 0,
	LK_KEY_ABSENT = 1,               /* locked */
	LK_KEY_PRESENT = 2,              /* unlocked */
	LK_KEY_INCOMPLETELY_REMOVED = 3, /* lock requested, files still busy */
	LK_KEY_UNAVAILABLE = 4,          /* directory or its filesystem unreachable */
	LK_KEY_GONE = 5,                 /* the directory was deleted */
};

/* UNLOCK_RESULT / LOCK_RESULT flags */
#define LK_RF_NOTHING_TO_DO  (1u << 0) /* user has no policies */
#define LK_RF_SOME_FAILED    (1u << 1) /* at least one policy could not be (un)locked */
#define LK_RF_STILL_LOCKED   (1u << 2) /* session open but no credential: nothing unlocked */
#define LK_RF_BUSY           (1u << 3) /* lock incomplete: files in use, retrying */
#define LK_RF_ALREADY_LOCKED (1u << 4) /* LOCK: every root was locked before */
#define LK_RF_GONE           (1u << 5) /* some roots no longer exist (see STATUS) */

/* USER_ENTRY flags */
#define LK_UF_ENROLLED      (1u << 0) /* has a protector file */
#define LK_UF_KEY_HELD      (1u << 1) /* the daemon holds P (unlocked by a live session) */
#define LK_UF_OTHER_ACCOUNT (1u << 2) /* the state belongs to a former account of the uid */

/* KDF_PARAMS request flags */
#define LK_KDF_F_KIND(kind) (0xffu & (uint32_t)(kind)) /* enum lk_slot_kind; 0 = LOGIN */
#define LK_KDF_F_FRESH      (1u << 8)
/* KDF_PARAMS reply flags */
#define LK_KDF_RF_BOUND (1u << 0) /* V2 escrow slot: W binds uid, user name, machine id */

/* ROTATE reply (OK) flags */
#define LK_ROT_F_ESCROW_RESEALED  (1u << 0) /* a new escrow slot, sealed to the machine's escrow key */
#define LK_ROT_F_RECOVERY_RETIRED (1u << 1) /* the recovery code no longer works: make a new one */
#define LK_ROT_F_ESCROW_DROPPED   (1u << 2) /* an escrow slot was dropped: no escrow.pub to reseal it */

/* REWRAP flags: which slot kind opens P (0 = the P held for a live
 * session), and which kind the new slot is. */
#define LK_RW_FLAGS(from, to)  ((0xffu & (uint32_t)(from)) | ((0xffu & (uint32_t)(to)) << 8))
#define LK_RW_FROM_KIND(flags) (0xffu & (flags))
#define LK_RW_TO_KIND(flags)   (((flags) >> 8) & 0xffu)

/* CONFIG_DIR flags */
#define LK_CD_VENDOR (1u << 0) /* the vendor directory, not the configuration directory */

/* ENCRYPT flags */
#define LK_EF_V1 (1u << 0) /* legacy v1 policy, key in the user's keyring */

/* RELOCATE flags */
#define LK_RLF_FORGET (1u << 0) /* the root was removed: drop it from the index and the kernel */

/* LOGIN_ENROLL's OK flags */
#define LK_LEF_HOME_CREATED (1u << 0) /* a new encrypted home was made and filled */
#define LK_LEF_HOME_PLAIN   (1u << 1) /* the home exists unencrypted: left alone */

/* KDF algorithms (LK_T_KDF alg byte, and the protector slot's kdf byte) */
#define LK_KDF_ARGON2ID 1 /* W = Argon2id(passphrase, salt, t, m, p) */
/* escrow: W = HKDF(X25519(recipient, ephemeral)); salt = the 32-byte
 * ephemeral public key, t = m = p = 0 */
#define LK_KDF_X25519 2

#endif
