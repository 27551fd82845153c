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
 *   Drop-ins are read in lexical order of NAME. Only "*.conf" is read.
 *
 * latchkey.conf:
 *   [latchkey]
 *   lock_on_logout = yes|no         default yes
 *   lock_delay     = 0|30s|500ms|2min   default 0, at most 1h
 *   [user NAME]                       (per-user overrides)
 *   lock_on_logout = yes|no
 *
 * policy.d/NAME.conf (one or more sections):
 *   [policy NAME]                     NAME: [A-Za-z0-9_.-]{1,64}, unique
 *   root      = /var/cache/browser    required; absolute, canonical
 *   per_user  = yes                   required; the only kind there is
 *   subdir    = %u                    default %u; %u user name, %U uid, %% '%'
 *   mode      = 0700                  default 0700; no group/other write
 *   contents  = AES-256-XTS | Adiantum                      default AES-256-XTS
 *   filenames = AES-256-CTS | AES-256-HCTR2 | Adiantum      default AES-256-CTS
 *   padding   = 4 | 8 | 16 | 32       default 32
 *   iv_ino_lblk_64 = yes|no           default no
 *   lock_on_logout = yes|no           default: inherit
 *
 * Every error is fatal for the load (the caller keeps its old config) and
 * names the file, the line, and the fix.
 */
#ifndef LK_POLICY_CONFIG_H
#define LK_POLICY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "latchkey/protocol.h"

#define LK_POLICY_NAME_MAX     64
#define LK_SUBDIR_TEMPLATE_MAX 64
#define LK_USER_NAME_MAX       32
#define LK_CONFIG_FILE_MAX     (64 * 1024) /* bytes per file */
#define LK_MAX_POLICIES        64
#define LK_LOCK_DELAY_MAX_MS   (3600u * 1000u)

enum lk_tristate {
	LK_INHERIT = -1,
	LK_NO      = 0,
	LK_YES     = 1,
};

struct lk_cache_policy {
	char name[LK_POLICY_NAME_MAX + 1];
	char root[LK_PATH_MAX + 1];
	char subdir[LK_SUBDIR_TEMPLATE_MAX + 1]; /* template */
	mode_t mode;
	uint8_t contents_mode;  /* FSCRYPT_MODE_* */
	uint8_t filenames_mode; /* FSCRYPT_MODE_* */
	uint8_t flags;          /* FSCRYPT_POLICY_FLAGS_PAD_* | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64 */
	int lock_on_logout;     /* enum lk_tristate */
	char source[LK_PATH_MAX + 1]; /* the file it came from */
	unsigned line;                /* the line of its [policy] header */
};

struct lk_user_setting {
	char user[LK_USER_NAME_MAX + 1];
	int lock_on_logout; /* enum lk_tristate */
};

struct lk_config {
	bool lock_on_logout;
	unsigned lock_delay_ms;
	unsigned n_users;
	struct lk_user_setting *users;
	unsigned n_policies;
	struct lk_cache_policy *policies;
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
 * the checks across files (duplicate names, nested or equal roots). */
int lk_config_parse_buffer(struct lk_config *c, const char *text, size_t len, const char *filename,
			   enum lk_config_file_kind kind, struct lk_config_error *err);
int lk_config_finish(struct lk_config *c, struct lk_config_error *err);

/* "file:line: message" (or "file: message" when line is 0). */
void lk_config_error_format(const struct lk_config_error *err, char *buf, size_t size);

/* Whether uid's keys of policy p (NULL: the user's own encrypted
 * directories) are removed at logout: the [user] setting, else the
 * policy's, else the global one. */
bool lk_config_lock_on_logout(const struct lk_config *c, const char *user, const struct lk_cache_policy *p);

/* Expand p->subdir for a user. -EINVAL if the result is empty, ".", "..",
 * or contains '/'; -ENAMETOOLONG if it does not fit. */
int lk_cache_policy_subdir(const struct lk_cache_policy *p, const char *user, uid_t uid, char *out,
			   size_t size);

/* The drop-in text that defines p (what `latchkeyctl policy assign` writes). */
int lk_cache_policy_format(const struct lk_cache_policy *p, char *buf, size_t size);

/* "AES-256-XTS" <-> FSCRYPT_MODE_AES_256_XTS etc.; NULL / -EINVAL if unknown. */
const char *lk_fscrypt_mode_name(uint8_t mode);
int lk_fscrypt_mode_from_name(const char *name, uint8_t *ret);

#endif
