/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's state directory: protector files and root indexes.
 *   <state>/protectors/<uid>   format.h §1
 *   <state>/index/<uid>        format.h §3
 * Everything is root-owned 0700/0600 (in test builds: the running user's)
 * and written atomically. */
#ifndef LKD_STORE_H
#define LKD_STORE_H

#include <sys/types.h>

#include "root_index.h"
#include "protector.h"

struct store {
	int dir_fd;
	int protectors_fd;
	int index_fd;
};

int store_open(const char *path, struct store *ret);
void store_close(struct store *s);

/* -ENOENT when the user is not enrolled; -EBADMSG when the file is corrupt
 * or belongs to another uid. */
int store_load_protector(struct store *s, uid_t uid, struct lk_protector *ret);
int store_save_protector(struct store *s, const struct lk_protector *pr);

/* A missing index is an empty one. */
int store_load_index(struct store *s, uid_t uid, struct lk_index *ret);
int store_save_index(struct store *s, uid_t uid, const struct lk_index *ix);
/* Only the account name recorded in uid's index ("" if none, or no index:
 * *ret_exists false). */
int store_load_account(struct store *s, uid_t uid, char account[LK_ACCOUNT_MAX + 1], bool *ret_exists);

/*
 * The machine's Argon2id target (t, m, p; salt unused), as tuned at the last
 * enrolment: new slots (password change, recovery codes) get it, so a user
 * enrolled years ago is re-tuned at the next password change.
 *   <state>/kdf-target   "latchkey-kdf-target 1\n<t> <m_kib> <p>\n"
 * -ENOENT when none was recorded.
 */
int store_load_kdf_target(struct store *s, struct lk_kdf_params *ret);
int store_save_kdf_target(struct store *s, const struct lk_kdf_params *kdf);

/* The uids that have an index file, sorted; *ret is malloc()ed. */
int store_list_indexed_users(struct store *s, uid_t **ret, size_t *ret_n);
/* The uids that have an index or a protector file, sorted; *ret is malloc()ed. */
int store_list_users(struct store *s, uid_t **ret, size_t *ret_n);

/* Delete uid's protector file (every slot: login, recovery, escrow) and
 * index, each durably. A missing file is no error. */
int store_remove_user(struct store *s, uid_t uid);

#endif
