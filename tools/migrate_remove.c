/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removal of the original once its verified copy is in place: depth
 * first, by fd and name, never following a symlink. A rerun after a crash
 * simply continues (what is gone is gone). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "migrate.h"

static int remove_dir_contents(int dir, struct migrate_progress *p, struct migrate_path *err_path)
{
	struct migrate_names names = {};
	int r = migrate_list_dir(dir, &names);

	for (size_t i = 0; r == 0 && i < names.n; i++) {
		struct stat st;
		size_t saved;

		r = migrate_path_push(err_path, names.v[i], &saved);
		if (r < 0)
			break;
		if (fstatat(dir, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? 0 : -errno;
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int fd = migrate_open_dir_at(dir, names.v[i]);
			r = fd < 0 ? fd : remove_dir_contents(fd, p, err_path);
			if (r == 0 && unlinkat(dir, names.v[i], AT_REMOVEDIR) < 0)
				r = -errno;
		} else if (unlinkat(dir, names.v[i], 0) < 0 && errno != ENOENT) {
			r = -errno;
		}
		if (r == 0) {
			migrate_path_pop(err_path, saved);
			migrate_progress_add(p, 1, 0);
			if (p->files == 2)
				migrate_hook("remove");
		}
	}
	migrate_names_free(&names);
	return r;
}

int migrate_remove_tree(int parent, const char *name, struct migrate_progress *p,
                        struct migrate_path *err_path)
{
	_cleanup_close_ int fd = migrate_open_dir_at(parent, name);
	int r;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	r = remove_dir_contents(fd, p, err_path);
	if (r < 0)
		return r;
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return fsync(parent) < 0 ? -errno : 0;
}
