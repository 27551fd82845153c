/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One file's text into struct lk_config.
 *
 * inih splits "key = value" lines and calls our handler, but as Debian
 * builds it (libinih 55) it is lenient in ways a security configuration
 * must not be: indented lines continue the previous value, " ;" starts an
 * inline comment, "key: value" is a key, text after "[section]" is
 * ignored, section names are cut at 49 bytes, a UTF-8 BOM is skipped, and
 * a line longer than its 200-byte buffer is cut and the cut-off value
 * still handed to the handler. Its handler is not told the line number
 * nor called for section headers either.
 *
 * So inih reads through our own line reader (reader() below), which counts
 * lines and refuses, before inih sees a line, everything inih would read
 * differently from the strict grammar in config.h. It also parses the
 * section headers itself. inih is then left only lines whose meaning is
 * unambiguous, and the handler knows exactly which line it is handling:
 * inih calls it right after reading that line.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "internal.h"
#include "names.h"

enum section_kind {
	SECTION_NONE,
	SECTION_LATCHKEY,
	SECTION_USER,
	SECTION_POLICY,
};

enum {
	LATCHKEY_KEY_LOCK_ON_LOGOUT,
	LATCHKEY_KEY_LOCK_DELAY,
	LATCHKEY_KEY_ENROLL_AT_LOGIN,
	LATCHKEY_KEY_CREATE_HOME,
	LATCHKEY_KEY_HOME_SKEL,
	LATCHKEY_KEY_TPM,
	LATCHKEY_KEY_TPM_TCTI,
	LATCHKEY_KEY_TPM_PCRS,
	LATCHKEY_KEY_COUNT
};
static const char *const latchkey_keys[LATCHKEY_KEY_COUNT] = {
    "lock_on_logout", "lock_delay", "enroll_at_login", "create_home",
    "home_skel",      "tpm",        "tpm_tcti",        "tpm_pcrs"};
static const char *const user_keys[] = {"lock_on_logout"};

struct parser {
	struct lk_config *c;
	const char *text;
	size_t len, pos;
	const char *filename;
	enum lk_config_file_kind kind;
	struct lk_config_error *err;
	unsigned line;
	int r; /* the first error; inih goes on after a handler error */

	enum section_kind section;
	unsigned section_line;
	unsigned key_line[LK_POLICY_KEY_COUNT]; /* where each key was set; 0: not yet */
	unsigned latchkey_line;                 /* the [latchkey] header, 0: none yet */
	struct lk_cache_policy policy;
	struct lk_user_setting user;
};

static int fail(struct parser *ps, unsigned line, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct parser *ps, unsigned line, int r, const char *fmt, ...)
{
	va_list ap;

	if (ps->r < 0)
		return ps->r; /* keep the first */
	va_start(ap, fmt);
	cfg_verror(ps->err, ps->filename, line, fmt, ap);
	va_end(ap);
	ps->r = r;
	return r;
}

static const char *example_section(const struct parser *ps)
{
	return ps->kind == LK_CONFIG_MAIN ? "[latchkey]" : "[policy NAME]";
}

static const char *valid_sections(const struct parser *ps)
{
	return ps->kind == LK_CONFIG_MAIN ? "[latchkey] or [user NAME]" : "[policy NAME]";
}

/* The section just ended: check what needs all its keys, then keep it. */
static int end_section(struct parser *ps)
{
	struct lk_cache_policy *p = &ps->policy;
	char why[sizeof(ps->err->message)];
	unsigned line;
	int r;

	switch (ps->section) {
	case SECTION_POLICY:
		if (p->root[0] == '\0')
			return fail(ps, ps->section_line, -EINVAL,
			            "[policy %s] has no root; add root = /absolute/path", p->name);
		if (!ps->key_line[LK_POLICY_KEY_PER_USER])
			return fail(ps, ps->section_line, -EINVAL,
			            "[policy %s] has no per_user; add per_user = yes", p->name);
		if (lk_cache_policy_check(p, why, sizeof(why)) < 0) {
			/* Point at whichever of the pair was written last. */
			line = ps->key_line[LK_POLICY_KEY_CONTENTS] > ps->key_line[LK_POLICY_KEY_FILENAMES]
			           ? ps->key_line[LK_POLICY_KEY_CONTENTS]
			           : ps->key_line[LK_POLICY_KEY_FILENAMES];
			return fail(ps, line ?: ps->section_line, -EINVAL, "%s", why);
		}
		snprintf(p->source, sizeof(p->source), "%s", ps->filename);
		p->line = ps->section_line;
		r = cfg_add_cache_policy(ps->c, p);
		if (r == -E2BIG)
			return fail(ps, ps->section_line, r, "more than %d policies; merge or remove some",
			            LK_MAX_CACHE_POLICIES);
		if (r < 0)
			return fail(ps, ps->section_line, r, "out of memory");
		break;
	case SECTION_USER:
		r = cfg_add_user(ps->c, &ps->user);
		if (r == -E2BIG)
			return fail(ps, ps->section_line, r, "more than %d [user] sections; remove some",
			            LK_MAX_USER_SETTINGS);
		if (r < 0)
			return fail(ps, ps->section_line, r, "out of memory");
		break;
	case SECTION_LATCHKEY:
	case SECTION_NONE:
		break;
	}
	ps->section = SECTION_NONE;
	return 0;
}

static int malformed_header(struct parser *ps)
{
	return fail(ps, ps->line, -EINVAL, "malformed section header; write it as %s", valid_sections(ps));
}

/* "[latchkey]", "[user NAME]" or "[policy NAME]": exactly these forms. */
static int header_line(struct parser *ps, const char *line, size_t n)
{
	char body[LK_CONFIG_LINE_MAX + 1], q[CFG_QUOTE_MAX];
	const char *kind, *arg;
	char *space;
	int r;

	r = end_section(ps);
	if (r < 0)
		return r;

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (n < 2 || line[n - 1] != ']')
		return malformed_header(ps);
	memcpy(body, line + 1, n - 2);
	body[n - 2] = '\0';
	if (strpbrk(body, "[]\t"))
		return malformed_header(ps);
	kind = body;
	space = strchr(body, ' ');
	arg = NULL;
	if (space) {
		*space = '\0';
		arg = space + 1;
	}

	if (strcmp(kind, "latchkey") != 0 && strcmp(kind, "user") != 0 && strcmp(kind, "policy") != 0)
		return fail(ps, ps->line, -EINVAL, "unknown section [%.64s%s%.64s]; valid sections here: %s",
		            kind, arg ? " " : "", arg ?: "", valid_sections(ps));
	if (ps->kind == LK_CONFIG_MAIN && strcmp(kind, "policy") == 0)
		return fail(ps, ps->line, -EINVAL,
		            "[policy] sections belong in drop-ins; move it to policy.d/NAME.conf");
	if (ps->kind == LK_CONFIG_DROPIN && strcmp(kind, "policy") != 0)
		return fail(ps, ps->line, -EINVAL,
		            "[%s] belongs in latchkey.conf; a drop-in holds only [policy NAME] sections",
		            kind);
	if (strcmp(kind, "latchkey") == 0) {
		if (arg)
			return malformed_header(ps);
		if (ps->latchkey_line)
			return fail(ps, ps->line, -EINVAL,
			            "[latchkey] appears twice (first at line %u); merge the two sections",
			            ps->latchkey_line);
		ps->latchkey_line = ps->line;
		ps->section = SECTION_LATCHKEY;
	} else if (!arg || !*arg || strchr(arg, ' ')) {
		return malformed_header(ps);
	} else if (strcmp(kind, "user") == 0) {
		if (!lk_user_name_is_valid(arg))
			return fail(ps, ps->line, -EINVAL,
			            "invalid user name %s; write the login name (no space, ':', ',' or '/', "
			            "at most 32 bytes)",
			            cfg_quote(arg, q, sizeof(q)));
		for (unsigned i = 0; i < ps->c->n_users; i++)
			if (strcmp(ps->c->users[i].user, arg) == 0)
				return fail(ps, ps->line, -EINVAL,
				            "[user %s] appears twice; merge the two sections", arg);
		ps->user = (struct lk_user_setting){.lock_on_logout = LK_INHERIT};
		snprintf(ps->user.user, sizeof(ps->user.user), "%s", arg);
		ps->section = SECTION_USER;
	} else {
		if (lk_cache_policy_init(&ps->policy, arg) < 0)
			return fail(ps, ps->line, -EINVAL,
			            "invalid policy name %s; use 1 to %d of A-Z a-z 0-9 _ . - (not starting "
			            "with '.')",
			            cfg_quote(arg, q, sizeof(q)), LK_CACHE_POLICY_NAME_MAX);
		ps->section = SECTION_POLICY;
	}
	ps->section_line = ps->line;
	memset(ps->key_line, 0, sizeof(ps->key_line));
	return 0;
}

/* "key = value": refuse what inih would read another way. */
static int key_line(struct parser *ps, const char *line, size_t n)
{
	char key[65], q[CFG_QUOTE_MAX];
	const char *eq, *colon;
	size_t klen;

	for (size_t i = 1; i < n; i++)
		if ((line[i] == ';' || line[i] == '#') && (line[i - 1] == ' ' || line[i - 1] == '\t'))
			return fail(
			    ps, ps->line, -EINVAL,
			    "inline comment; put comments on a line of their own, starting with '#' or ';'");
	eq = memchr(line, '=', n);
	colon = memchr(line, ':', n);
	if (colon && (!eq || colon < eq))
		return fail(ps, ps->line, -EINVAL, "':' is not a separator here; write \"key = value\"");
	if (!eq)
		return fail(ps, ps->line, -EINVAL,
		            "expected \"key = value\"; add '=' between the key and the value");
	klen = (size_t)(eq - line);
	while (klen > 0 && (line[klen - 1] == ' ' || line[klen - 1] == '\t'))
		klen--;
	if (klen == 0)
		return fail(ps, ps->line, -EINVAL, "missing key before '='; write \"key = value\"");
	if (ps->section == SECTION_NONE) {
		snprintf(key, sizeof(key), "%.*s", (int)(klen < 64 ? klen : 64), line);
		return fail(ps, ps->line, -EINVAL, "key %s outside a section; put it under %s",
		            cfg_quote(key, q, sizeof(q)), example_section(ps));
	}
	return 0;
}

/* Everything about one raw line that inih must not be left to decide. */
static int check_line(struct parser *ps, const char *line, size_t n)
{
	size_t i = 0;

	if (n > LK_CONFIG_LINE_MAX)
		return fail(ps, ps->line, -EINVAL, "line is longer than %d bytes; shorten it",
		            LK_CONFIG_LINE_MAX);
	if (ps->line == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		return fail(ps, ps->line, -EINVAL, "UTF-8 byte order mark; save the file without it");
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)line[k];

		if (c == '\0')
			return fail(ps, ps->line, -EINVAL, "NUL byte; the file must be plain text");
		if (c == '\r')
			return fail(ps, ps->line, -EINVAL,
			            "carriage return (DOS line end); convert the file with dos2unix");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(ps, ps->line, -EINVAL, "control character 0x%02x; remove it", c);
	}

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == n || line[i] == '#' || line[i] == ';')
		return 0; /* blank or comment */
	if (i > 0)
		/* inih would take it as the continuation of the previous value. */
		return fail(ps, ps->line, -EINVAL,
		            "line starts with whitespace; continuation lines are not supported: remove the "
		            "indentation and keep each value on one line");
	if (line[0] == '[')
		return header_line(ps, line, n);
	return key_line(ps, line, n);
}

static char *reader(char *out, int size, void *stream)
{
	struct parser *ps = stream;
	const char *line, *nl;
	size_t n;

	if (ps->r < 0 || ps->pos >= ps->len)
		return NULL;
	line = ps->text + ps->pos;
	nl = memchr(line, '\n', ps->len - ps->pos);
	n = nl ? (size_t)(nl - line) : ps->len - ps->pos;
	ps->pos += n + (nl ? 1 : 0);
	ps->line++;

	if (check_line(ps, line, n) < 0)
		return NULL;
	/* Never let inih cut a line: with Debian's settings (below) its
	 * buffer holds LK_CONFIG_LINE_MAX; another build may have less. */
	if (size < 0 || (size_t)size < n + 2) {
		fail(ps, ps->line, -EINVAL,
		     "line is longer than %d bytes, the most this build of inih reads; shorten it",
		     size > 2 ? size - 2 : 0);
		return NULL;
	}
	memcpy(out, line, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	return out;
}

static int unknown_key(struct parser *ps, const char *key, const char *const *keys, size_t n_keys)
{
	char list[256], q[CFG_QUOTE_MAX], where[LK_CACHE_POLICY_NAME_MAX + 16];
	const char *hint = cfg_suggest_name(key, keys, n_keys);

	if (ps->section == SECTION_POLICY)
		snprintf(where, sizeof(where), "[policy %s]", ps->policy.name);
	else if (ps->section == SECTION_USER)
		snprintf(where, sizeof(where), "[user %s]", ps->user.user);
	else
		snprintf(where, sizeof(where), "[latchkey]");
	cfg_join_names(keys, n_keys, list, sizeof(list));
	if (hint)
		return fail(ps, ps->line, -EINVAL,
		            "unknown key %s in %s; did you mean \"%s\"? Valid keys: %s",
		            cfg_quote(key, q, sizeof(q)), where, hint, list);
	return fail(ps, ps->line, -EINVAL, "unknown key %s in %s; valid keys: %s",
	            cfg_quote(key, q, sizeof(q)), where, list);
}

static int key_index(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return (int)i;
	return -1;
}

static int handle_key(struct parser *ps, const char *key, const char *value)
{
	char why[sizeof(ps->err->message)];
	const char *const *keys;
	size_t n_keys;
	bool b;
	int k, r;

	switch (ps->section) {
	case SECTION_LATCHKEY:
		keys = latchkey_keys;
		n_keys = ELEMENTSOF(latchkey_keys);
		break;
	case SECTION_USER:
		keys = user_keys;
		n_keys = ELEMENTSOF(user_keys);
		break;
	case SECTION_POLICY:
		keys = lk_cache_policy_keys;
		n_keys = LK_POLICY_KEY_COUNT;
		break;
	default:
		return -EINVAL; /* key_line() refused it already */
	}
	k = key_index(key, keys, n_keys);
	if (k < 0)
		return unknown_key(ps, key, keys, n_keys);
	if (ps->key_line[k])
		return fail(ps, ps->line, -EINVAL,
		            "duplicate key \"%s\" (first set at line %u); keep only one", key,
		            ps->key_line[k]);
	ps->key_line[k] = ps->line;
	if (!*value)
		return fail(ps, ps->line, -EINVAL, "empty value for %s; give a value or remove the line",
		            key);

	switch (ps->section) {
	case SECTION_LATCHKEY:
		if (k == LATCHKEY_KEY_LOCK_DELAY) {
			r = cfg_parse_duration_ms(value, &ps->c->lock_delay_ms, why, sizeof(why));
		} else if (k == LATCHKEY_KEY_ENROLL_AT_LOGIN) {
			r = lk_enroll_rule_parse(value, &ps->c->enroll_at_login, why, sizeof(why));
		} else if (k == LATCHKEY_KEY_TPM || k == LATCHKEY_KEY_TPM_TCTI ||
		           k == LATCHKEY_KEY_TPM_PCRS) {
			r = lk_tpm_setting_parse(key, value, &ps->c->tpm, why, sizeof(why));
		} else if (k == LATCHKEY_KEY_HOME_SKEL) {
			r = lk_home_skel_parse(value, ps->c->home_skel, sizeof(ps->c->home_skel), why,
			                       sizeof(why));
		} else {
			r = cfg_parse_boolean(key, value, &b, why, sizeof(why));
			if (r == 0 && k == LATCHKEY_KEY_CREATE_HOME)
				ps->c->create_home = b;
			else if (r == 0)
				ps->c->lock_on_logout = b;
		}
		break;
	case SECTION_USER:
		r = cfg_parse_boolean(key, value, &b, why, sizeof(why));
		if (r == 0)
			ps->user.lock_on_logout = b ? LK_YES : LK_NO;
		break;
	default:
		r = lk_cache_policy_set(&ps->policy, key, value, why, sizeof(why));
		break;
	}
	if (r < 0)
		return fail(ps, ps->line, r, "%s", why);
	return 0;
}

/* inih's callback: nonzero means the line was fine. */
static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parser *ps = user;

	(void)section; /* inih's copy is cut at 49 bytes; ours is whole */
	if (ps->r < 0)
		return 0;
	return handle_key(ps, key, value) == 0;
}

/* inih's knobs, where Debian's build makes them variables (a patch of
 * theirs). The reader above does not rely on them, except for the line
 * buffer size; they are set anyway so inih and the reader agree. These
 * are process-wide: nothing else in latchkey's processes uses inih. */
static void configure_inih(void)
{
#if LK_INIH_RUNTIME_OPTIONS
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_initial_alloc = LK_CONFIG_LINE_MAX + 3;
	ini_max_line = LK_CONFIG_LINE_MAX + 3;
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_allow_bom = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
#endif
}

int lk_config_parse_buffer(struct lk_config *c, const char *text, size_t len, const char *filename,
                           enum lk_config_file_kind kind, struct lk_config_error *err)
{
	struct parser ps = {
	    .c = c,
	    .text = text,
	    .len = text ? len : 0,
	    .filename = filename ? filename : "-",
	    .kind = kind,
	    .err = err,
	};
	/* A failed file leaves c as it was. */
	unsigned n_users = c ? c->n_users : 0, n_cache_policies = c ? c->n_cache_policies : 0;
	bool lock_on_logout = c ? c->lock_on_logout : false;
	unsigned lock_delay_ms = c ? c->lock_delay_ms : 0;
	struct lk_enroll_rule enroll = c ? c->enroll_at_login : (struct lk_enroll_rule){};
	bool create_home = c ? c->create_home : false;
	char home_skel[LK_PATH_MAX + 1] = "";
	struct lk_tpm_config tpm = c ? c->tpm : (struct lk_tpm_config){};
	int r;

	if (c)
		memcpy(home_skel, c->home_skel, sizeof(home_skel));

	if (!c || (kind != LK_CONFIG_MAIN && kind != LK_CONFIG_DROPIN))
		return -EINVAL;
	if (strlen(ps.filename) > LK_PATH_MAX)
		return fail(&ps, 0, -ENAMETOOLONG, "file name longer than %d bytes; use a shorter path",
		            LK_PATH_MAX);

	configure_inih();
	r = ini_parse_stream(reader, &ps, handler, &ps);
	if (ps.r == 0 && r == -2)
		fail(&ps, 0, -ENOMEM, "out of memory");
	else if (ps.r == 0 && r != 0)
		/* Not expected: check_line() refuses whatever inih refuses. */
		fail(&ps, r > 0 ? (unsigned)r : 0, -EINVAL,
		     "syntax error; write \"key = value\" lines under %s", valid_sections(&ps));
	if (ps.r == 0)
		end_section(&ps);
	if (ps.r < 0) {
		c->n_users = n_users;
		c->n_cache_policies = n_cache_policies;
		c->lock_on_logout = lock_on_logout;
		c->lock_delay_ms = lock_delay_ms;
		c->enroll_at_login = enroll;
		c->create_home = create_home;
		memcpy(c->home_skel, home_skel, sizeof(home_skel));
		c->tpm = tpm;
		return ps.r;
	}
	return 0;
}
