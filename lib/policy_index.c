/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parser rules beyond format.h: every line, the last included, ends in
 * '\n' (a missing final newline means a torn write and is refused); no
 * empty lines; no NUL bytes; one space between the identifier and the
 * path; no duplicate paths.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crypto.h"
#include "policy_index.h"

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

static int parse_entry(const char *line, size_t len, struct lk_index_entry *e)
{
	const size_t hexlen = 2 * LK_KEY_ID_SIZE;

	if (len < hexlen + 2 || line[hexlen] != ' ')
		return -EBADMSG;
	/* lk_unhex also takes uppercase; the format says lowercase only. */
	for (size_t i = 0; i < hexlen; i++)
		if (!is_lower_hex(line[i]))
			return -EBADMSG;
	if (len - hexlen - 1 > LK_PATH_MAX)
		return -EBADMSG;
	if (lk_unhex(line, e->key_id, LK_KEY_ID_SIZE) < 0)
		return -EBADMSG;
	memcpy(e->path, line + hexlen + 1, len - hexlen - 1);
	e->path[len - hexlen - 1] = '\0';
	if (lk_path_is_valid(e->path) < 0)
		return -EBADMSG;
	return 0;
}

int lk_index_parse(const char *buf, size_t len, struct lk_index *ret)
{
	_cleanup_free_ struct lk_index *ix = NULL;
	const size_t hlen = strlen(LK_INDEX_HEADER);
	size_t pos;
	int r;

	if (!buf || !ret)
		return -EINVAL;
	if (len > LK_INDEX_MAX_SIZE || memchr(buf, '\0', len))
		return -EBADMSG;
	if (len < hlen + 1 || memcmp(buf, LK_INDEX_HEADER, hlen) != 0 || buf[hlen] != '\n')
		return -EBADMSG;

	/* About 66 KiB: too large for the stack of a PAM host's thread. */
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return -ENOMEM;

	for (pos = hlen + 1; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen;

		if (!nl)
			return -EBADMSG;
		if (ix->n >= LK_MAX_INDEX_ENTRIES)
			return -EBADMSG;
		llen = (size_t)(nl - (buf + pos));
		r = parse_entry(buf + pos, llen, &ix->e[ix->n]);
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

int lk_index_serialize(const struct lk_index *ix, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	const size_t hlen = strlen(LK_INDEX_HEADER);
	size_t cap, pos = 0;

	if (!ix || !ret || !ret_len || ix->n > LK_MAX_INDEX_ENTRIES)
		return -EINVAL;
	cap = hlen + 1 + (size_t)ix->n * (2 * LK_KEY_ID_SIZE + 1 + LK_PATH_MAX + 1) + 1;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	memcpy(out, LK_INDEX_HEADER "\n", hlen + 1);
	pos = hlen + 1;
	for (unsigned i = 0; i < ix->n; i++) {
		const struct lk_index_entry *e = &ix->e[i];
		size_t plen;

		/* Write only what we would parse back. */
		if (lk_path_is_valid(e->path) < 0)
			return -EINVAL;
		plen = strlen(e->path);
		lk_hex(e->key_id, LK_KEY_ID_SIZE, out + pos);
		pos += 2 * LK_KEY_ID_SIZE;
		out[pos++] = ' ';
		memcpy(out + pos, e->path, plen);
		pos += plen;
		out[pos++] = '\n';
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
		strcpy(ix->e[i].path, path);
	}
	memcpy(ix->e[i].key_id, key_id, LK_KEY_ID_SIZE);
	return 0;
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
