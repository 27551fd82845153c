/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parser rules beyond format.h: every line, the last included, ends in
 * '\n' (a missing final newline means a torn write and is refused); no
 * empty lines; no NUL bytes; exactly one space between fields; no
 * duplicate paths. A version 2 file serialises back byte for byte.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crypto.h"
#include "names.h"
#include "root_index.h"

#define ACCOUNT_PREFIX "account "

int lk_path_is_valid(const char *path)
{
	size_t len;

	if (!path || path[0] != '/')
		return -EINVAL;
	len = strnlen(path, LK_PATH_MAX + 1);
	if (len > LK_PATH_MAX)
		return -EINVAL;
	if (len == 1)
		return 0; /* "/" */
	if (path[len - 1] == '/')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f)
			return -EINVAL;
		if (c != '/')
			continue;
		/* Look at the component that starts after this slash. */
		const char *comp = path + i + 1;
		size_t clen = strcspn(comp, "/");

		if (clen == 0)
			return -EINVAL; /* "//" */
		if ((clen == 1 && comp[0] == '.') || (clen == 2 && comp[0] == '.' && comp[1] == '.'))
			return -EINVAL;
	}
	return 0;
}

int lk_account_is_valid(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, LK_ACCOUNT_MAX + 1);
	if (len == 0 || len > LK_ACCOUNT_MAX || name[0] == '-')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c == 0x7f || c == ':')
			return -EINVAL;
	}
	return 0;
}

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int index_find(const struct lk_index *ix, const char *path)
{
	for (unsigned i = 0; i < ix->n; i++)
		if (strcmp(ix->e[i].path, path) == 0)
			return (int)i;
	return -ENOENT;
}

int lk_index_find_key(const struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE])
{
	for (unsigned i = 0; i < ix->n; i++)
		if (memcmp(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE) == 0)
			return (int)i;
	return -ENOENT;
}

/* A cursor over one line: each field ends at a single space. */
struct fields {
	const char *p, *end;
};

/* The next field up to (not including) a space; the last one (the path)
 * takes the rest of the line. */
static int next_field(struct fields *f, bool last, const char **ret, size_t *ret_len)
{
	const char *sp;

	if (f->p >= f->end)
		return -EBADMSG;
	if (last) {
		*ret = f->p;
		*ret_len = (size_t)(f->end - f->p);
		f->p = f->end;
		return 0;
	}
	sp = memchr(f->p, ' ', (size_t)(f->end - f->p));
	if (!sp || sp == f->p)
		return -EBADMSG;
	*ret = f->p;
	*ret_len = (size_t)(sp - f->p);
	f->p = sp + 1;
	return 0;
}

static int parse_hex(const char *s, size_t len, uint8_t *out, size_t out_len)
{
	if (len != 2 * out_len)
		return -EBADMSG;
	/* lk_unhex also takes uppercase; the format says lowercase only. */
	for (size_t i = 0; i < len; i++)
		if (!is_lower_hex(s[i]))
			return -EBADMSG;
	return lk_unhex(s, out, out_len) < 0 ? -EBADMSG : 0;
}

/* A decimal number of at most 10 digits without sign or leading zero. */
static int parse_dec(const char *s, size_t len, unsigned long max, unsigned long *ret)
{
	char buf[16];

	if (len == 0 || len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return lk_parse_uint(buf, 0, max, ret) < 0 ? -EBADMSG : 0;
}

static int parse_path(const char *s, size_t len, struct lk_index_entry *e)
{
	if (len > LK_PATH_MAX)
		return -EBADMSG;
	memcpy(e->path, s, len);
	e->path[len] = '\0';
	return lk_path_is_valid(e->path) < 0 ? -EBADMSG : 0;
}

static int parse_entry_v1(const char *line, size_t len, struct lk_index_entry *e)
{
	const size_t hexlen = 2 * LK_KEY_ID_SIZE;

	if (len < hexlen + 2 || line[hexlen] != ' ')
		return -EBADMSG;
	if (parse_hex(line, hexlen, e->key_id, LK_KEY_ID_SIZE) < 0)
		return -EBADMSG;
	return parse_path(line + hexlen + 1, len - hexlen - 1, e);
}

static int parse_dev(const char *s, size_t len, struct lk_root_identity *id)
{
	const char *colon = memchr(s, ':', len);
	unsigned long major, minor;

	if (!colon || parse_dec(s, (size_t)(colon - s), UINT32_MAX, &major) < 0 ||
	    parse_dec(colon + 1, len - (size_t)(colon - s) - 1, UINT32_MAX, &minor) < 0)
		return -EBADMSG;
	id->dev_major = (uint32_t)major;
	id->dev_minor = (uint32_t)minor;
	return 0;
}

static int parse_entry_v2(const char *line, size_t len, struct lk_index_entry *e)
{
	struct fields f = {line, line + len};
	const char *s;
	size_t n;
	unsigned long type;

	if (next_field(&f, false, &s, &n) < 0 || parse_hex(s, n, e->key_id, LK_KEY_ID_SIZE) < 0)
		return -EBADMSG;
	if (next_field(&f, false, &s, &n) < 0)
		return -EBADMSG;
	if (!(n == 1 && s[0] == '-')) {
		if (parse_hex(s, n, e->id.uuid, LK_FS_UUID_SIZE) < 0)
			return -EBADMSG;
		e->id.has_uuid = true;
	}
	if (next_field(&f, false, &s, &n) < 0 || parse_dev(s, n, &e->id) < 0)
		return -EBADMSG;
	if (next_field(&f, false, &s, &n) < 0)
		return -EBADMSG;
	if (n == 1 && s[0] == '-') {
		if (next_field(&f, false, &s, &n) < 0 || !(n == 1 && s[0] == '-'))
			return -EBADMSG;
	} else {
		if (parse_dec(s, n, INT32_MAX, &type) < 0)
			return -EBADMSG;
		if (next_field(&f, false, &s, &n) < 0 || n == 0 || n % 2 || n / 2 > LK_HANDLE_MAX ||
		    parse_hex(s, n, e->id.handle, n / 2) < 0)
			return -EBADMSG;
		e->id.has_handle = true;
		e->id.handle_type = (int32_t)type;
		e->id.handle_len = (uint8_t)(n / 2);
	}
	if (next_field(&f, false, &s, &n) < 0)
		return -EBADMSG;
	if (n == 4 && memcmp(s, "gone", 4) == 0)
		e->gone = true;
	else if (!(n == 2 && memcmp(s, "ok", 2) == 0))
		return -EBADMSG;
	if (next_field(&f, true, &s, &n) < 0)
		return -EBADMSG;
	return parse_path(s, n, e);
}

/* The account line of a version 2 index at buf + pos (the header's end),
 * into account ("" when there is none); *ret_pos after it. */
static int parse_account(const char *buf, size_t len, size_t pos, char account[LK_ACCOUNT_MAX + 1],
                         size_t *ret_pos)
{
	const char *a, *nl;
	size_t alen;

	account[0] = '\0';
	*ret_pos = pos;
	if (len - pos <= strlen(ACCOUNT_PREFIX) ||
	    memcmp(buf + pos, ACCOUNT_PREFIX, strlen(ACCOUNT_PREFIX)) != 0)
		return 0;
	a = buf + pos + strlen(ACCOUNT_PREFIX);
	nl = memchr(a, '\n', len - (size_t)(a - buf));
	if (!nl)
		return -EBADMSG;
	alen = (size_t)(nl - a);
	if (alen == 0 || alen > LK_ACCOUNT_MAX)
		return -EBADMSG;
	memcpy(account, a, alen);
	account[alen] = '\0';
	if (lk_account_is_valid(account) < 0)
		return -EBADMSG;
	*ret_pos = (size_t)(nl - buf) + 1;
	return 0;
}

/* Which version the header says; -EBADMSG if it is neither. */
static int parse_header(const char *buf, size_t len)
{
	const size_t hlen = strlen(LK_INDEX_HEADER);

	if (len > LK_INDEX_MAX_SIZE || memchr(buf, '\0', len))
		return -EBADMSG;
	/* Both headers have the same length. */
	if (len < hlen + 1 || buf[hlen] != '\n')
		return -EBADMSG;
	if (memcmp(buf, LK_INDEX_HEADER, hlen) == 0)
		return 2;
	if (memcmp(buf, LK_INDEX_HEADER_V1, hlen) == 0)
		return 1;
	return -EBADMSG;
}

int lk_index_parse_account(const char *buf, size_t len, char account[LK_ACCOUNT_MAX + 1])
{
	size_t pos;
	int v;

	if (!buf || !account)
		return -EINVAL;
	v = parse_header(buf, len);
	if (v < 0)
		return v;
	account[0] = '\0';
	if (v == 1)
		return 0;
	return parse_account(buf, len, strlen(LK_INDEX_HEADER) + 1, account, &pos);
}

int lk_index_parse(const char *buf, size_t len, struct lk_index *ret)
{
	_cleanup_free_ struct lk_index *ix = NULL;
	const size_t hlen = strlen(LK_INDEX_HEADER);
	size_t pos;
	int r;

	if (!buf || !ret)
		return -EINVAL;
	r = parse_header(buf, len);
	if (r < 0)
		return r;

	/* About 130 KiB: too large for the stack of a PAM host's thread. */
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;
	ix->version = (unsigned)r;
	pos = hlen + 1;
	if (ix->version == 2) {
		r = parse_account(buf, len, pos, ix->account, &pos);
		if (r < 0)
			return r;
	}

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen;

		if (!nl)
			return -EBADMSG;
		if (ix->n >= LK_MAX_INDEX_ENTRIES)
			return -EBADMSG;
		llen = (size_t)(nl - (buf + pos));
		r = ix->version == 2 ? parse_entry_v2(buf + pos, llen, &ix->e[ix->n])
		                     : parse_entry_v1(buf + pos, llen, &ix->e[ix->n]);
		if (r < 0)
			return r;
		if (index_find(ix, ix->e[ix->n].path) >= 0)
			return -EBADMSG;
		ix->n++;
		pos += llen + 1;
	}
	memcpy(ret, ix, sizeof(*ix));
	return 0;
}

/* The longest line: every field at its maximum, separators and newline. */
#define ENTRY_MAX                                                                                            \
	(2 * LK_KEY_ID_SIZE + 1 + 2 * LK_FS_UUID_SIZE + 1 + 21 + 1 + 10 + 1 + 2 * LK_HANDLE_MAX + 1 + 4 +    \
	 1 + LK_PATH_MAX + 1)

static size_t put_entry(char *out, const struct lk_index_entry *e)
{
	const struct lk_root_identity *id = &e->id;
	size_t pos = 0;

	lk_hex(e->key_id, LK_KEY_ID_SIZE, out + pos);
	pos += 2 * LK_KEY_ID_SIZE;
	out[pos++] = ' ';
	if (id->has_uuid) {
		lk_hex(id->uuid, LK_FS_UUID_SIZE, out + pos);
		pos += 2 * LK_FS_UUID_SIZE;
	} else {
		out[pos++] = '-';
	}
	pos += (size_t)sprintf(out + pos, " %u:%u ", id->dev_major, id->dev_minor);
	if (id->has_handle) {
		pos += (size_t)sprintf(out + pos, "%d ", (int)id->handle_type);
		lk_hex(id->handle, id->handle_len, out + pos);
		pos += 2 * (size_t)id->handle_len;
	} else {
		memcpy(out + pos, "- -", 3);
		pos += 3;
	}
	pos += (size_t)sprintf(out + pos, " %s %s\n", e->gone ? "gone" : "ok", e->path);
	return pos;
}

int lk_index_serialize(const struct lk_index *ix, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	const size_t hlen = strlen(LK_INDEX_HEADER);
	size_t cap, pos = 0;

	if (!ix || !ret || !ret_len || ix->n > LK_MAX_INDEX_ENTRIES)
		return -EINVAL;
	if (ix->account[0] && lk_account_is_valid(ix->account) < 0)
		return -EINVAL;
	cap = hlen + 1 + strlen(ACCOUNT_PREFIX) + LK_ACCOUNT_MAX + 1 + (size_t)ix->n * ENTRY_MAX + 1;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	memcpy(out, LK_INDEX_HEADER "\n", hlen + 1);
	pos = hlen + 1;
	if (ix->account[0])
		pos += (size_t)sprintf(out + pos, ACCOUNT_PREFIX "%s\n", ix->account);
	for (unsigned i = 0; i < ix->n; i++) {
		const struct lk_index_entry *e = &ix->e[i];

		/* Write only what we would parse back. */
		if (lk_path_is_valid(e->path) < 0 ||
		    (e->id.has_handle &&
		     (e->id.handle_len == 0 || e->id.handle_len > LK_HANDLE_MAX || e->id.handle_type < 0)))
			return -EINVAL;
		pos += put_entry(out + pos, e);
	}
	out[pos] = '\0';
	if (pos > LK_INDEX_MAX_SIZE)
		return -EFBIG;
	*ret_len = pos;
	*ret = TAKE_PTR(out);
	return 0;
}

int lk_index_put(struct lk_index *ix, const uint8_t key_id[LK_KEY_ID_SIZE], const char *path)
{
	int i;

	if (!ix || !key_id || ix->n > LK_MAX_INDEX_ENTRIES || lk_path_is_valid(path) < 0)
		return -EINVAL;
	i = index_find(ix, path);
	if (i < 0) {
		if (ix->n >= LK_MAX_INDEX_ENTRIES)
			return -ENOSPC;
		i = (int)ix->n++;
		memset(&ix->e[i], 0, sizeof(ix->e[i]));
		strcpy(ix->e[i].path, path);
	} else if (memcmp(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE) != 0) {
		/* Another directory now: what identified the old one is stale. */
		memset(&ix->e[i].id, 0, sizeof(ix->e[i].id));
		ix->e[i].gone = false;
	}
	memcpy(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE);
	return i;
}

int lk_index_remove(struct lk_index *ix, const char *path)
{
	int i;

	if (!ix || !path || ix->n > LK_MAX_INDEX_ENTRIES)
		return -EINVAL;
	i = index_find(ix, path);
	if (i < 0)
		return -ENOENT;
	memmove(&ix->e[i], &ix->e[i + 1], (ix->n - (unsigned)i - 1) * sizeof(ix->e[0]));
	ix->n--;
	memset(&ix->e[ix->n], 0, sizeof(ix->e[0]));
	return 0;
}
