/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One [policy NAME] section: its keys, their checks, and its text. */
#include <errno.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "internal.h"

const char *const lk_cache_policy_keys[LK_POLICY_KEY_COUNT] = {
    [LK_POLICY_KEY_ROOT] = "root",
    [LK_POLICY_KEY_PER_USER] = "per_user",
    [LK_POLICY_KEY_SUBDIR] = "subdir",
    [LK_POLICY_KEY_MODE] = "mode",
    [LK_POLICY_KEY_CONTENTS] = "contents",
    [LK_POLICY_KEY_FILENAMES] = "filenames",
    [LK_POLICY_KEY_PADDING] = "padding",
    [LK_POLICY_KEY_IV_INO_LBLK_64] = "iv_ino_lblk_64",
    [LK_POLICY_KEY_LOCK_ON_LOGOUT] = "lock_on_logout",
};

bool lk_cache_policy_name_is_valid(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, LK_CACHE_POLICY_NAME_MAX + 1);
	/* Never hidden: the name is also the drop-in's file name, and the
	 * loader skips dot files as editors' leftovers. */
	if (len == 0 || len > LK_CACHE_POLICY_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int lk_cache_policy_init(struct lk_cache_policy *p, const char *name)
{
	if (!p || !lk_cache_policy_name_is_valid(name))
		return -EINVAL;
	*p = (struct lk_cache_policy){
	    .mode = 0700,
	    .contents_mode = FSCRYPT_MODE_AES_256_XTS,
	    .filenames_mode = FSCRYPT_MODE_AES_256_CTS,
	    .flags = FSCRYPT_POLICY_FLAGS_PAD_32,
	    .lock_on_logout = LK_INHERIT,
	};
	strcpy(p->subdir, "%u");
	strcpy(p->name, name);
	return 0;
}

/* What the drop-in text can carry: a value as inih hands it over (trimmed,
 * one line, no inline comment). The line reader enforces this for files;
 * here it protects lk_cache_policy_format from values set directly. */
static int value_check(const char *key, const char *value, char *why, size_t why_size)
{
	size_t len = strlen(value);

	if (len == 0)
		return cfg_why(why, why_size, "empty value for %s; give a value or remove the line", key);
	if (len > LK_CONFIG_LINE_MAX)
		return cfg_why(why, why_size, "value of %s is longer than %d bytes; shorten it", key,
		               LK_CONFIG_LINE_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f)
			return cfg_why(why, why_size, "value of %s contains a control character; remove it",
			               key);
		if ((c == ';' || c == '#') && i > 0 && value[i - 1] == ' ')
			return cfg_why(
			    why, why_size,
			    "value of %s contains \" %c\", which starts a comment; remove the space", key, c);
	}
	/* Written back as "key = value", a leading one would start a comment. */
	if (value[0] == ';' || value[0] == '#')
		return cfg_why(why, why_size,
		               "value of %s starts with '%c', which starts a comment; remove it", key,
		               value[0]);
	if (value[0] == ' ' || value[len - 1] == ' ')
		return cfg_why(why, why_size, "value of %s starts or ends with a space; remove it", key);
	return 0;
}

/* "/a//b/./c/" -> "/a/b/c": what the admin most likely meant, for the
 * error message only (".." is never resolved lexically). */
static void root_tidy(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = in; *p && o + 1 < size;) {
		while (*p == '/')
			p++;
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0')) {
			p++;
			continue;
		}
		if (!*p)
			break;
		out[o++] = '/';
		while (*p && *p != '/' && o + 1 < size)
			out[o++] = *p++;
	}
	if (o == 0 && size > 1)
		out[o++] = '/';
	out[o] = '\0';
}

int lk_config_check_root(const char *root, char *why, size_t why_size)
{
	char q[CFG_QUOTE_MAX], tidy[LK_PATH_MAX + 1];
	bool dot = false, dotdot = false;
	int r;

	r = value_check("root", root, why, why_size);
	if (r < 0)
		return r;
	if (root[0] != '/')
		return cfg_why(why, why_size, "root %s is not an absolute path; write it starting with '/'",
		               cfg_quote(root, q, sizeof(q)));
	if (strlen(root) > LK_PATH_MAX)
		return cfg_why(why, why_size, "root is longer than %d bytes; choose a shorter path",
		               LK_PATH_MAX);
	if (strcmp(root, "/") == 0)
		return cfg_why(why, why_size,
		               "root must not be \"/\"; choose a directory of its own, e.g. /var/cache/NAME");
	for (const char *p = root; *p; p++) {
		if (*p != '/')
			continue;
		if (p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			dot = true;
		if (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0'))
			dotdot = true;
	}
	if (dotdot)
		return cfg_why(
		    why, why_size,
		    "root %s contains a \"..\" component; write the real path (realpath prints it)",
		    cfg_quote(root, q, sizeof(q)));
	root_tidy(root, tidy, sizeof(tidy));
	if (strstr(root, "//"))
		return cfg_why(why, why_size, "root %s contains \"//\"; write \"%s\"",
		               cfg_quote(root, q, sizeof(q)), tidy);
	if (dot)
		return cfg_why(why, why_size, "root %s contains a \".\" component; write \"%s\"",
		               cfg_quote(root, q, sizeof(q)), tidy);
	if (root[strlen(root) - 1] == '/')
		return cfg_why(why, why_size, "root %s ends with '/'; write \"%s\"",
		               cfg_quote(root, q, sizeof(q)), tidy);
	return 0;
}

static int parse_mode(const char *s, mode_t *ret, char *why, size_t why_size)
{
	char q[CFG_QUOTE_MAX];
	unsigned long v = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5 || strspn(s, "01234567") != len)
		return cfg_why(why, why_size, "invalid mode %s; write an octal mode such as 0700",
		               cfg_quote(s, q, sizeof(q)));
	for (const char *p = s; *p; p++)
		v = v * 8 + (unsigned long)(*p - '0');
	if (v > 0777)
		return cfg_why(
		    why, why_size,
		    "mode %04lo has bits beyond 0777 (setuid, setgid or sticky); use a mode such as 0700", v);
	if (v & 022)
		return cfg_why(
		    why, why_size,
		    "mode %04lo lets group or others write; use 0700 (or 0750 or 0755 to let them read)", v);
	if ((v & 0700) != 0700)
		return cfg_why(
		    why, why_size,
		    "mode %04lo does not give the owner read, write and search; use a mode such as 0700", v);
	*ret = (mode_t)v;
	return 0;
}

static int parse_crypt_mode(const char *key, const char *s, bool contents, uint8_t *ret, char *why,
                            size_t why_size)
{
	const char *allowed = contents ? "AES-256-XTS or Adiantum" : "AES-256-CTS, AES-256-HCTR2 or Adiantum";
	char q[CFG_QUOTE_MAX];
	uint8_t m;

	if (lk_fscrypt_mode_from_name(s, &m) < 0)
		return cfg_why(why, why_size, "unknown %s mode %s; use %s", key, cfg_quote(s, q, sizeof(q)),
		               allowed);
	if (contents ? !lk_fscrypt_contents_mode_allowed(m) : !lk_fscrypt_filenames_mode_allowed(m))
		return cfg_why(why, why_size, "%s mode %s is not allowed; use %s", key,
		               lk_fscrypt_mode_name(m), allowed);
	*ret = m;
	return 0;
}

static int parse_padding(const char *s, uint8_t *ret, char *why, size_t why_size)
{
	static const char *const pads[] = {"4", "8", "16", "32"}; /* index = PAD_* value */
	char q[CFG_QUOTE_MAX];

	for (size_t i = 0; i < ELEMENTSOF(pads); i++)
		if (strcmp(s, pads[i]) == 0) {
			*ret = (uint8_t)i;
			return 0;
		}
	return cfg_why(why, why_size, "invalid padding %s; use 4, 8, 16 or 32", cfg_quote(s, q, sizeof(q)));
}

int lk_cache_policy_set(struct lk_cache_policy *p, const char *key, const char *value, char *why,
                        size_t why_size)
{
	char list[256], q[CFG_QUOTE_MAX];
	const char *hint;
	bool b;
	int r, k;

	if (!p || !key || !value)
		return -EINVAL;
	k = lk_cache_policy_key(key);
	if (k < 0) {
		hint = cfg_suggest_name(key, lk_cache_policy_keys, LK_POLICY_KEY_COUNT);
		cfg_join_names(lk_cache_policy_keys, LK_POLICY_KEY_COUNT, list, sizeof(list));
		cfg_why(why, why_size, "unknown key %s; %s%s%svalid keys: %s", cfg_quote(key, q, sizeof(q)),
		        hint ? "did you mean \"" : "", hint ?: "", hint ? "\"? " : "", list);
		return -ENOENT;
	}
	r = value_check(key, value, why, why_size);
	if (r < 0)
		return r;

	switch (k) {
	case LK_POLICY_KEY_ROOT:
		r = lk_config_check_root(value, why, why_size);
		if (r < 0)
			return r;
		strcpy(p->root, value); /* fits: checked against LK_PATH_MAX */
		return 0;
	case LK_POLICY_KEY_PER_USER:
		r = cfg_parse_boolean(key, value, &b, why, why_size);
		if (r < 0)
			return r;
		if (!b)
			return cfg_why(why, why_size,
			               "per_user = no is not supported; per-user directories are the only "
			               "kind of policy: set per_user = yes");
		return 0;
	case LK_POLICY_KEY_SUBDIR:
		r = cfg_subdir_template_check(value, why, why_size);
		if (r < 0)
			return r;
		strcpy(p->subdir, value);
		return 0;
	case LK_POLICY_KEY_MODE:
		return parse_mode(value, &p->mode, why, why_size);
	case LK_POLICY_KEY_CONTENTS:
		return parse_crypt_mode(key, value, true, &p->contents_mode, why, why_size);
	case LK_POLICY_KEY_FILENAMES:
		return parse_crypt_mode(key, value, false, &p->filenames_mode, why, why_size);
	case LK_POLICY_KEY_PADDING: {
		uint8_t pad = 0;

		r = parse_padding(value, &pad, why, why_size);
		if (r < 0)
			return r;
		p->flags = (uint8_t)((p->flags & ~FSCRYPT_POLICY_FLAGS_PAD_MASK) | pad);
		return 0;
	}
	case LK_POLICY_KEY_IV_INO_LBLK_64:
		r = cfg_parse_boolean(key, value, &b, why, why_size);
		if (r < 0)
			return r;
		p->flags = (uint8_t)(b ? p->flags | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64
		                       : p->flags & ~FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64);
		return 0;
	case LK_POLICY_KEY_LOCK_ON_LOGOUT:
		r = cfg_parse_boolean(key, value, &b, why, why_size);
		if (r < 0)
			return r;
		p->lock_on_logout = b ? LK_YES : LK_NO;
		return 0;
	}
	return -EINVAL; /* not reached */
}

int lk_cache_policy_key(const char *key)
{
	for (int i = 0; i < LK_POLICY_KEY_COUNT; i++)
		if (strcmp(key, lk_cache_policy_keys[i]) == 0)
			return i;
	return -ENOENT;
}

int lk_cache_policy_check(const struct lk_cache_policy *p, char *why, size_t why_size)
{
	if (!p)
		return -EINVAL;
	if (p->root[0] == '\0')
		return cfg_why(why, why_size, "[policy %s] has no root; add root = /absolute/path", p->name);
	if (p->flags & ~(FSCRYPT_POLICY_FLAGS_PAD_MASK | FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64))
		return cfg_why(why, why_size, "[policy %s] has unsupported policy flags 0x%02x", p->name,
		               p->flags);
	return lk_fscrypt_modes_check(p->contents_mode, p->filenames_mode, why, why_size);
}

int lk_cache_policy_format(const struct lk_cache_policy *p, char *buf, size_t size)
{
	static const char *const pads[] = {"4", "8", "16", "32"};
	struct lk_cache_policy scratch;
	const char *lock = "";
	char mode[8];
	int n;

	if (!p || !buf || !memchr(p->name, '\0', sizeof(p->name)) ||
	    !memchr(p->root, '\0', sizeof(p->root)) || !memchr(p->subdir, '\0', sizeof(p->subdir)))
		return -EINVAL;
	/* Every value goes through the parser's own checks, so that what is
	 * written is exactly what the loader accepts (and no value can carry
	 * a newline into the next line). */
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(p->mode & 07777));
	scratch = *p;
	if (!lk_cache_policy_name_is_valid(p->name) || lk_cache_policy_check(p, NULL, 0) < 0 ||
	    lk_config_check_root(p->root, NULL, 0) < 0 || cfg_subdir_template_check(p->subdir, NULL, 0) < 0 ||
	    p->mode > 0777 || lk_cache_policy_set(&scratch, "mode", mode, NULL, 0) < 0)
		return -EINVAL;
	if (p->lock_on_logout == LK_YES)
		lock = "lock_on_logout = yes\n";
	else if (p->lock_on_logout == LK_NO)
		lock = "lock_on_logout = no\n";
	else if (p->lock_on_logout != LK_INHERIT)
		return -EINVAL;

	n = snprintf(buf, size,
	             "[policy %s]\n"
	             "root = %s\n"
	             "per_user = yes\n"
	             "subdir = %s\n"
	             "mode = %s\n"
	             "contents = %s\n"
	             "filenames = %s\n"
	             "padding = %s\n"
	             "iv_ino_lblk_64 = %s\n"
	             "%s",
	             p->name, p->root, p->subdir, mode, lk_fscrypt_mode_name(p->contents_mode),
	             lk_fscrypt_mode_name(p->filenames_mode), pads[p->flags & FSCRYPT_POLICY_FLAGS_PAD_MASK],
	             (p->flags & FSCRYPT_POLICY_FLAG_IV_INO_LBLK_64) ? "yes" : "no", lock);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOBUFS;
	return n;
}
