/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The admin's configuration: global settings, per-user settings and the
 * per-user directory policies of shared caches.
 *
 * Files (as systemd and PAM do it: the vendor directory under /usr holds
 * defaults, /etc overrides them file by file):
 *
 *   <etc>/latchkey.conf              else <vendor>/latchkey.conf   (optional)
 *   <etc>/policy.d/NAME.conf          override <vendor>/policy.d/NAME.conf;
 *                                     an empty file or a symlink to /dev/null
 *                                     in <etc> masks the vendor file.
 *   Drop-ins are read in lexical order of NAME. Only "*.conf" is read;
 *   names starting with '.' are skipped.
 *
 * Every file must be a regular file (no symlink, except the /dev/null
 * mask), owned by root (or by the user running the loader, for tests),
 * not group/world-writable, at most LK_CONFIG_FILE_MAX bytes; the
 * directories must be owned the same way and not group/world-writable.
 *
 * Syntax (INI, parsed with inih, but stricter than inih): comments are
 * whole lines starting with '#' or ';'; "key = value" lines; no inline
 * comments, no continuation (indented) lines, no NUL or control
 * characters (tab aside), no CR, no BOM, lines of at most 2048 bytes, no
 * key outside a section, no key twice in a section.
 *
 * latchkey.conf:
 *   [latchkey]
 *   lock_on_logout = yes|no         default yes
 *   lock_delay     = 0|30s|500ms|2min   default 0, at most 1h; units ms, s, min, h
 *   enroll_at_login = none | all | group:NAME | uids:A-B   default none
 *                                   who gets a login protector at their first
 *                                   password login (all: UID_MIN..UID_MAX
 *                                   of login.defs)
 *   create_home    = yes|no         default no: create a missing home at
 *                                   that login, encrypted, filled from home_skel
 *   home_skel      = /etc/skel      default /etc/skel; absolute
 *   tpm            = off | preferred | required   default off: whether
 *                                   `latchkeyctl tpm bind` keeps the
 *                                   password-only login slot (preferred) or
 *                                   removes it (required)
 *   tpm_tcti       = device:/dev/tpmrm0   default; the TSS TCTI, always named
 *                                   (device:PATH, swtpm:path=SOCKET, mssim:...)
 *   tpm_pcrs       = sha256:7       default; BANK:N[,N...] (sha1, sha256,
 *                                   sha384), PCRs 0..23, for new TPM slots
 *   [user NAME]                       (per-user overrides; NAME as useradd
 *                                     takes it)
 *   lock_on_logout = yes|no
 *
 * Booleans: yes/no, true/false, 1/0, in any case.
 *
 * policy.d/NAME.conf (one or more sections):
 *   [policy NAME]                     NAME: [A-Za-z0-9_.-]{1,64}, not starting
 *                                     with '.', unique
 *   root      = /var/cache/browser    required; absolute, canonical
 *   per_user  = yes                   required; the only kind there is
 *   subdir    = %u                    default %u; %u user name, %U uid, %% '%';
 *                                     must hold %u or %U, no '/', <= 255 bytes
 *                                     once expanded
 *   mode      = 0700                  default 0700; owner rwx, no group/other
 *                                     write, nothing beyond 0777
 *   contents  = AES-256-XTS | Adiantum                      default AES-256-XTS
 *   filenames = AES-256-CTS | AES-256-HCTR2 | Adiantum      default AES-256-CTS
 *   padding   = 4 | 8 | 16 | 32       default 32
 *   iv_ino_lblk_64 = yes|no           default no
 *   lock_on_logout = yes|no           default: inherit
 *
 * Every error is fatal for the load (the caller keeps its old config) and
 * names the file, the line, and the fix.
 */
#ifndef LK_CONFIG_CONFIG_H
#define LK_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/protocol.h"

#define LK_CACHE_POLICY_NAME_MAX 64
#define LK_SUBDIR_TEMPLATE_MAX   64
#define LK_USER_NAME_MAX         32
#define LK_CONFIG_FILE_MAX       (64 * 1024) /* bytes per file */
#define LK_MAX_CACHE_POLICIES    64
#define LK_LOCK_DELAY_MAX_MS     (3600u * 1000u)

enum lk_tristate {
	LK_INHERIT = -1,
	LK_NO = 0,
	LK_YES = 1,
};

struct lk_cache_policy {
	char name[LK_CACHE_POLICY_NAME_MAX + 1];
	char root[LK_PATH_MAX + 1];
	char subdir[LK_SUBDIR_TEMPLATE_MAX + 1]; /* template */
	mode_t mode;
	uint8_t contents_mode;        /* FSCRYPT_MODE_* */
	uint8_t filenames_mode;       /* FSCRYPT_MODE_* */
	uint8_t flags;                /* FSCRYPT_POLICY_FLAGS_PAD_* | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64 */
	int lock_on_logout;           /* enum lk_tristate */
	char source[LK_PATH_MAX + 1]; /* the file it came from */
	unsigned line;                /* the line of its [policy] header */
};

struct lk_user_setting {
	char user[LK_USER_NAME_MAX + 1];
	int lock_on_logout; /* enum lk_tristate */
};

/* Who is enrolled at their first password login (enroll_at_login). */
enum lk_enroll_kind {
	LK_ENROLL_NONE = 0,
	LK_ENROLL_ALL,   /* UID_MIN..UID_MAX of login.defs */
	LK_ENROLL_GROUP, /* members of group (primary or supplementary) */
	LK_ENROLL_UIDS,  /* uid_min..uid_max */
};
struct lk_enroll_rule {
	enum lk_enroll_kind kind;
	char group[LK_USER_NAME_MAX + 1];
	uint32_t uid_min, uid_max;
};

/* The TPM2 slot settings (tpm, tpm_tcti, tpm_pcrs). */
enum lk_tpm_mode {
	LK_TPM_OFF = 0,
	LK_TPM_PREFERRED,
	LK_TPM_REQUIRED,
};
#define LK_TPM_TCTI_MAX 255
struct lk_tpm_config {
	enum lk_tpm_mode mode;
	char tcti[LK_TPM_TCTI_MAX + 1];
	uint16_t pcr_bank; /* TPM2_ALG_SHA1 / SHA256 / SHA384 */
	uint32_t pcr_mask; /* bit n: PCR n */
};

struct lk_config {
	bool lock_on_logout;
	unsigned lock_delay_ms;
	struct lk_enroll_rule enroll_at_login;
	bool create_home;
	char home_skel[LK_PATH_MAX + 1];
	struct lk_tpm_config tpm;
	unsigned n_users;
	struct lk_user_setting *users;
	unsigned n_cache_policies;
	struct lk_cache_policy *cache_policies;
};

struct lk_config_error {
	char file[LK_PATH_MAX + 1];
	unsigned line;     /* 0: the file as a whole */
	char message[512]; /* says what is wrong and how to fix it; no trailing newline */
};

enum lk_config_file_kind {
	LK_CONFIG_MAIN,   /* latchkey.conf: [latchkey] and [user NAME] */
	LK_CONFIG_DROPIN, /* policy.d/NAME.conf: [policy NAME] */
};

void lk_config_init(struct lk_config *c); /* the defaults, no policies */
void lk_config_free(struct lk_config *c);

/* Load everything. On error returns -errno, fills *err, and leaves *ret
 * freed (empty). */
int lk_config_load(const char *etc_dir, const char *vendor_dir, struct lk_config *ret,
                   struct lk_config_error *err);

/* One file's text into c (tests and the fuzzer use this directly), then
 * the checks across files (duplicate names, nested or equal roots). A file
 * that fails adds nothing to c. filename is used for errors and as each
 * policy's source. Not thread-safe: it sets libinih's process-wide options
 * (variables in Debian's build of inih). */
int lk_config_parse_buffer(struct lk_config *c, const char *text, size_t len, const char *filename,
                           enum lk_config_file_kind kind, struct lk_config_error *err);
int lk_config_finish(struct lk_config *c, struct lk_config_error *err);

/* "file:line: message" (or "file: message" when line is 0). */
void lk_config_error_format(const struct lk_config_error *err, char *buf, size_t size);

/* Whether uid's keys of policy p (NULL: the user's own encrypted
 * directories) are removed at logout: the [user] setting, else the
 * policy's, else the global one. */
bool lk_config_lock_on_logout(const struct lk_config *c, const char *user, const struct lk_cache_policy *p);

/* enroll_at_login's value into *ret; -EINVAL with why otherwise. */
/* One tpm* key of [latchkey] into c; -EINVAL with why set on a bad value. */
int lk_tpm_setting_parse(const char *key, const char *value, struct lk_tpm_config *c, char *why,
                         size_t why_size);
void lk_tpm_config_init(struct lk_tpm_config *c);

int lk_enroll_rule_parse(const char *value, struct lk_enroll_rule *ret, char *why, size_t why_size);
/* Whether the rule covers the user (uid, name, primary gid); "all" reads
 * UID_MIN/UID_MAX from login_defs (a path; NULL: /etc/login.defs). */
bool lk_enroll_rule_matches(const struct lk_enroll_rule *r, uid_t uid, const char *user, gid_t gid,
                            const char *login_defs);
/* A numeric setting of login.defs (HOME_MODE 0700, UID_MIN 1000: octal
 * with a leading 0, else decimal); -ENOENT when unset. */
int lk_login_defs_get(const char *login_defs, const char *name, unsigned long *ret);

/* Expand p->subdir for a user. -EINVAL if the result is empty, ".", "..",
 * or contains '/'; -ENAMETOOLONG if it does not fit. */
int lk_cache_policy_subdir(const struct lk_cache_policy *p, const char *user, uid_t uid, char *out,
                           size_t size);

/* The drop-in text that defines p (what `latchkeyctl policy assign` writes). */
int lk_cache_policy_format(const struct lk_cache_policy *p, char *buf, size_t size);

/* "AES-256-XTS" <-> FSCRYPT_MODE_AES_256_XTS etc.; NULL / -EINVAL if unknown.
 * Names match case-insensitively; every mode the kernel knows has a name,
 * but a configuration may only use the pairs listed at the top. */
const char *lk_fscrypt_mode_name(uint8_t mode);
int lk_fscrypt_mode_from_name(const char *name, uint8_t *ret);

/*
 * Building a policy the way the parser does (latchkeyctl policy assign uses
 * these, so the command line and the files are checked by the same code).
 * Every "why" output gets "what is wrong; how to fix it" without file and
 * line, and may be NULL.
 */

/* The keys of a [policy NAME] section, in the order the format writes them. */
enum lk_policy_key {
	LK_POLICY_KEY_ROOT,
	LK_POLICY_KEY_PER_USER,
	LK_POLICY_KEY_SUBDIR,
	LK_POLICY_KEY_MODE,
	LK_POLICY_KEY_CONTENTS,
	LK_POLICY_KEY_FILENAMES,
	LK_POLICY_KEY_PADDING,
	LK_POLICY_KEY_IV_INO_LBLK_64,
	LK_POLICY_KEY_LOCK_ON_LOGOUT,
	LK_POLICY_KEY_COUNT,
};
extern const char *const lk_cache_policy_keys[LK_POLICY_KEY_COUNT];
/* enum lk_policy_key of a key name, or -ENOENT. */
int lk_cache_policy_key(const char *key);

/* [A-Za-z0-9_.-]{1,64}, not starting with '.' (the name is also a file name). */
bool lk_cache_policy_name_is_valid(const char *name);

/* p = the defaults (subdir %u, mode 0700, AES-256-XTS / AES-256-CTS,
 * padding 32, no IV_INO_LBLK_64, lock_on_logout inherited), no root yet,
 * no source. -EINVAL if name is not valid. */
int lk_cache_policy_init(struct lk_cache_policy *p, const char *name);

/* Set one key from its text as a drop-in would spell it ("mode", "0750").
 * -ENOENT for an unknown key (why suggests the closest one), -EINVAL for a
 * bad value; p is unchanged on error. per_user accepts only "yes". */
int lk_cache_policy_set(struct lk_cache_policy *p, const char *key, const char *value, char *why,
                        size_t why_size);

/* The checks across keys: a root is set, contents/filenames are an allowed
 * pair, no unknown flags. 0 or -EINVAL. */
int lk_cache_policy_check(const struct lk_cache_policy *p, char *why, size_t why_size);

/* A root as the configuration accepts it: absolute, canonical (no "//",
 * "." or ".." component, no trailing '/'), not "/", at most LK_PATH_MAX
 * bytes, no control characters. 0 or -EINVAL. Purely lexical. */
int lk_config_check_root(const char *root, char *why, size_t why_size);

/*
 * Whether the kernel and the filesystem of root_fd (an open directory)
 * accept p's encryption settings. In a temporary directory under root_fd
 * it adds a random throw-away key, sets p's v2 policy, creates and writes
 * a file (which sets up the ciphers), then removes all of it again. Needs
 * CAP_SYS_ADMIN. 0, or -errno with *ret_step naming the step that failed
 * ("set policy": modes or flags refused, typically -EINVAL; "create file":
 * -ENOPKG when a cipher is not built into the kernel).
 */
int lk_cache_policy_probe(int root_fd, const struct lk_cache_policy *p, const char **ret_step);

#endif
