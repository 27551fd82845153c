/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The small data structures migrate's tree walks share: the relative path
 * of the current entry, the inode maps for hard links, the test hook. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "migrate.h"
#include "openat.h"

int migrate_path_push(struct migrate_path *p, const char *name, size_t *ret_saved_len)
{
	size_t n = strlen(name), need = p->len + 1 + n + 1;

	if (need > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		char *b;
		while (cap < need)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (!b)
			return -ENOMEM;
		p->buf = b;
		p->cap = cap;
	}
	*ret_saved_len = p->len;
	if (p->len)
		p->buf[p->len++] = '/';
	memcpy(p->buf + p->len, name, n + 1);
	p->len += n;
	return 0;
}

void migrate_path_pop(struct migrate_path *p, size_t saved_len)
{
	p->len = saved_len;
	if (p->buf)
		p->buf[saved_len] = '\0';
}

void migrate_path_free(struct migrate_path *p)
{
	free(p->buf);
	*p = (struct migrate_path){};
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

int migrate_inode_map_get(const struct migrate_inode_map *m, uint64_t key, uint64_t *ret_val)
{
	if (!m->cap)
		return 0;
	/* Keys are stored +1 so that 0 marks a free slot. */
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == 0)
			return 0;
		if (m->keys[i] == key + 1) {
			*ret_val = m->vals[i];
			return 1;
		}
	}
}

int migrate_inode_map_put(struct migrate_inode_map *m, uint64_t key, uint64_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct migrate_inode_map g = {.cap = m->cap ? m->cap * 2 : 1024};
		g.keys = calloc(g.cap, sizeof(uint64_t));
		g.vals = calloc(g.cap, sizeof(uint64_t));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				(void)migrate_inode_map_put(&g, m->keys[i] - 1, m->vals[i]);
		migrate_inode_map_free(m);
		*m = g;
	}
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == 0 || m->keys[i] == key + 1) {
			m->n += m->keys[i] == 0;
			m->keys[i] = key + 1;
			m->vals[i] = val;
			return 0;
		}
	}
}

void migrate_inode_map_free(struct migrate_inode_map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct migrate_inode_map){};
}

void migrate_tree_free(struct migrate_tree *t)
{
	migrate_path_free(&t->path);
	migrate_inode_map_free(&t->links);
	migrate_inode_map_free(&t->links_back);
	for (size_t i = 0; i < t->n_handles; i++)
		free(t->handles[i]);
	free(t->handles);
	t->handles = NULL;
	t->n_handles = 0;
}

int migrate_fail(struct migrate_tree *t, const char *what, int r)
{
	t->what = what;
	return r;
}

bool migrate_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

void migrate_hook(const char *point)
{
#if LK_TEST_HOOKS
	const char *want = getenv("LATCHKEY_TEST_MIGRATE_KILL");
	if (want && strcmp(want, point) == 0)
		raise(SIGKILL);
#else
	(void)point;
#endif
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void migrate_names_free(struct migrate_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	*n = (struct migrate_names){};
}

int migrate_list_dir(int dirfd, struct migrate_names *ret)
{
	struct migrate_names n = {};
	struct dirent *de;
	_cleanup_(closedirp) DIR *d = NULL;
	int r;

	r = lk_opendir_at(dirfd, ".", O_NOATIME, &d);
	if (r < 0)
		return r;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n.n == n.cap) {
			size_t cap = n.cap ? n.cap * 2 : 16;
			char **v = realloc(n.v, cap * sizeof(char *));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			n.v = v;
			n.cap = cap;
		}
		n.v[n.n] = strdup(de->d_name);
		if (!n.v[n.n]) {
			r = -ENOMEM;
			break;
		}
		n.n++;
	}
	if (r < 0) {
		migrate_names_free(&n);
		return r;
	}
	if (n.n > 1) /* an empty directory has no array (qsort's is non-null) */
		qsort(n.v, n.n, sizeof(char *), cmp_names);
	*ret = n;
	return 0;
}

int migrate_open_dir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
