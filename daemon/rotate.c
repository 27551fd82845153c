/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Protector key rotation (ROTATE): a fresh P' replaces P, so a secret that
 * opened an old protector file (a used escrow answer, an old password, a
 * retired recovery code) opens nothing in the wrapped keys on disk after it.
 * K does not change (fscrypt cannot re-key a directory in place).
 *
 * Crash-safe order (format.h §4), each step durable before the next:
 *   1. <state>/rotating-<uid>: the SHA-256 of the new protector file;
 *   2. each root: K under P' in the xattr <main>.rotating (fsync);
 *   3. the new protector file, atomically: the commit point;
 *   4. each root: <main> = K under P' (fsync), <main>.rotating removed;
 *   5. the marker removed.
 * Before 3 the old file and the old main xattrs are what the disk has; after
 * 3 the pending copies hold K under the P' of the file on disk. A crash
 * anywhere is settled at the next start (daemon_rotation_recover): the hash
 * says whether 3 happened, and so whether the pending copies replace the main
 * ones or are dropped. No key is needed for that.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "crypto.h"
#include "daemon.h"
#include "openat.h"
#include "rotate.h"
#include "escrow_slots.h"
#include "fileio.h"
#include "log.h"
#include "protectors.h"
#include "root.h"
#include "root_ops.h"
#include "secret.h"
#include "wrapped_key.h"

#define MARKER_PREFIX      "rotating-"
#define MARKER_MAX         128
#define XATTR_NAME_MAX_LEN 96

/* Crash-safety tests (test builds only): LATCHKEY_TEST_CRASH_AT=rotate-commit
 * kills latchkeyd with every pending copy written but before the new
 * protector file; rotate-settle right after it. */
static void crash_point(const char *step)
{
#if LK_TEST_HOOKS
	const char *e = secure_getenv("LATCHKEY_TEST_CRASH_AT");

	if (e && strcmp(e, step) == 0)
		raise(SIGKILL);
#endif
}

static void marker_name(uid_t uid, char out[64])
{
	snprintf(out, 64, MARKER_PREFIX "%u", (unsigned)uid);
}

static void xattr_names(uid_t uid, char main[XATTR_NAME_MAX_LEN], char pending[XATTR_NAME_MAX_LEN])
{
	(void)lk_wrapped_key_xattr_name(uid, main, XATTR_NAME_MAX_LEN);
	snprintf(pending, XATTR_NAME_MAX_LEN, LK_XATTR_KEY_PREFIX "%u" LK_XATTR_ROTATING_SUFFIX,
	         (unsigned)uid);
}

static int sha256_hex(const uint8_t *buf, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned n = 0;

	if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != sizeof(md))
		return -EIO;
	lk_hex(md, sizeof(md), out);
	return 0;
}

/* The pending copy replaces the main xattr (commit) or is dropped (undo). */
static int settle_root(uid_t uid, const struct lk_index_entry *e, bool commit)
{
	char main[XATTR_NAME_MAX_LEN], pending[XATTR_NAME_MAX_LEN];
	uint8_t blob[LK_WRAPPED_KEY_SIZE + 1];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r;

	xattr_names(uid, main, pending);
	r = root_open_entry(e, &fd);
	if (r < 0)
		return r;
	n = fgetxattr(fd, pending, blob, sizeof(blob));
	if (n < 0)
		return errno == ENODATA ? 0 : -errno;
	if (commit) {
		if (n != LK_WRAPPED_KEY_SIZE)
			return -EBADMSG;
		if (fsetxattr(fd, main, blob, LK_WRAPPED_KEY_SIZE, 0) < 0 || fsync(fd) < 0)
			return -errno;
	}
	/* Removed only once the main copy is durable: until then it is what opens. */
	if (fremovexattr(fd, pending) < 0 && errno != ENODATA)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 1;
}

/* Settle every indexed root of uid; the marker goes only when all are. */
static int settle_user(struct daemon *d, uid_t uid, bool commit)
{
	struct lk_index ix;
	char marker[64];
	int r, failed = 0;

	r = store_load_index(&d->store, uid, &ix);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < ix.n; i++) {
		r = settle_root(uid, &ix.e[i], commit);
		if (r < 0 && r != -ENOENT && r != -ESTALE) {
			log_error_errno(r, "uid %u: %s: key rotation not settled", (unsigned)uid,
			                ix.e[i].path);
			failed = r;
		}
	}
	if (failed)
		return failed;
	marker_name(uid, marker);
	r = lk_unlink_durable_at(d->store.dir_fd, marker);
	return r == -ENOENT ? 0 : r;
}

/* Reseal one root's K under P' into the pending xattr. */
static int reseal_root(uid_t uid, const struct lk_index_entry *e, const uint8_t *p_old, const uint8_t *p_new)
{
	char main[XATTR_NAME_MAX_LEN], pending[XATTR_NAME_MAX_LEN];
	struct lk_secret k _cleanup_secret_ = {};
	uint8_t blob[LK_WRAPPED_KEY_SIZE], out[LK_WRAPPED_KEY_SIZE], id[LK_KEY_ID_SIZE];
	_cleanup_close_ int fd = -1;
	int r, kind;

	xattr_names(uid, main, pending);
	r = root_open_entry(e, &fd);
	if (r < 0)
		return r;
	r = root_read_wrapped_key(fd, uid, blob);
	if (r < 0)
		return r;
	kind = lk_wrapped_key_kind(blob, sizeof(blob));
	if (kind < 0)
		return kind;
	r = lk_secret_new(&k, LK_MASTER_KEY_SIZE);
	if (r < 0)
		return r;
	r = lk_wrapped_key_open(blob, sizeof(blob), uid, p_old, k.ptr, id);
	if (r < 0)
		return r;
	if (!lk_secret_equal(id, e->key_id, LK_KEY_ID_SIZE))
		return -EBADMSG; /* not the key the index names: touch nothing */
	r = lk_wrapped_key_seal_kind((uint16_t)kind, uid, p_new, k.ptr, out);
	if (r < 0)
		return r;
	if (fsetxattr(fd, pending, out, sizeof(out), 0) < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* The new protector file in memory: login slot, escrow slot if the machine
 * has an escrow key, recovery slots retired. */
static int build_next(struct daemon *d, const struct lk_protector *pr, const uint8_t *p_new,
                      const struct lk_kdf_params *kdf, const uint8_t *w_login, struct lk_protector *next,
                      uint32_t *flags, const char **why)
{
	struct lk_secret check _cleanup_secret_ = {};
	bool escrow = false, had_escrow = false;
	unsigned idx;

	*next = (struct lk_protector){
	    .uid = pr->uid,
	    .next_slot_id = pr->next_slot_id,
	    .have_binding = pr->have_binding,
	    .binding = pr->binding,
	};
	for (unsigned i = 0; i < pr->n_slots; i++) {
		if (pr->slots[i].kind == LK_SLOT_RECOVERY)
			*flags |= LK_ROT_F_RECOVERY_RETIRED;
		had_escrow |= pr->slots[i].kind == LK_SLOT_ESCROW;
		/* Ids stay unique across the rotation too. */
		if (pr->slots[i].slot_id >= next->next_slot_id)
			next->next_slot_id = pr->slots[i].slot_id + 1;
	}
	if (lk_protector_add_slot(next, LK_SLOT_LOGIN, kdf, w_login, p_new, NULL) < 0) {
		*why = "cannot make the new login slot";
		return -EIO;
	}
	if (daemon_escrow_reseal(d, next, p_new, false, &escrow) == 0 && escrow)
		*flags |= LK_ROT_F_ESCROW_RESEALED;
	else if (had_escrow)
		*flags |= LK_ROT_F_ESCROW_DROPPED;
	if (lk_secret_new(&check, LK_PROTECTOR_KEY_SIZE) < 0 ||
	    lk_protector_open(next, LK_SLOT_LOGIN, w_login, check.ptr, &idx) < 0 ||
	    !lk_secret_equal(check.ptr, p_new, LK_PROTECTOR_KEY_SIZE)) {
		*why = "the new login slot did not verify";
		return -EIO;
	}
	return 0;
}

/* Steps 1-2: the marker, then every root's pending copy. On failure
 * everything written is undone and *why says what failed. */
static int prepare(struct daemon *d, uid_t uid, const struct lk_index *ix, const struct lk_protector *next,
                   const uint8_t *p_old, const uint8_t *p_new, const char **why)
{
	uint8_t buf[LK_PROTECTOR_MAX_SIZE];
	char hex[65], text[MARKER_MAX], marker[64];
	size_t len;
	int r, n;

	r = lk_protector_serialize(next, buf, sizeof(buf), &len);
	if (r == 0)
		r = sha256_hex(buf, len, hex);
	if (r < 0) {
		*why = "cannot encode the new protector file";
		return r;
	}
	n = snprintf(text, sizeof(text), LK_ROTATION_HEADER "\n%s\n", hex);
	marker_name(uid, marker);
	r = lk_write_file_atomic_at(d->store.dir_fd, marker, text, (size_t)n, 0600);
	if (r < 0) {
		*why = "cannot write the rotation marker; nothing was changed";
		return r;
	}
	for (unsigned i = 0; i < ix->n; i++) {
		r = reseal_root(uid, &ix->e[i], p_old, p_new);
		if (r == -ESTALE)
			continue; /* deleted: no wrapped key left to reseal */
		if (r < 0) {
			log_error_errno(r, "uid %u: %s: cannot reseal the wrapped key", (unsigned)uid,
			                ix->e[i].path);
			*why =
			    r == -EBADMSG
			        ? "a encrypted root's wrapped key does not open or is not the indexed one; "
			          "nothing was changed"
			        : "a encrypted root cannot be reached or written; nothing was changed";
			(void)settle_user(d, uid, false);
			return r;
		}
	}
	return 0;
}

/* Whether the protector file on disk is the new one (a failure after the
 * rename, such as the directory's fsync, leaves it in place). */
static bool disk_has(struct daemon *d, uid_t uid, const uint8_t *w_login, const uint8_t *p_new)
{
	struct lk_secret check _cleanup_secret_ = {};
	struct lk_protector disk;

	return lk_secret_new(&check, LK_PROTECTOR_KEY_SIZE) == 0 &&
	       daemon_load_protector(d, uid, &disk) == 0 &&
	       lk_protector_open(&disk, LK_SLOT_LOGIN, w_login, check.ptr, NULL) == 0 &&
	       lk_secret_equal(check.ptr, p_new, LK_PROTECTOR_KEY_SIZE);
}

/* The rotation proper: pr, opened with p_old, becomes a file under a fresh
 * P' (the order in the comment at the top). */
static int rotate(struct daemon *d, struct user *u, const struct lk_protector *pr,
                  const uint8_t p_old[LK_PROTECTOR_KEY_SIZE], const struct lk_kdf_params *kdf,
                  const uint8_t w_login[LK_WRAP_KEY_SIZE], unsigned *ret_roots, uint32_t *ret_flags,
                  const char **ret_why)
{
	struct lk_secret p_new _cleanup_secret_ = {};
	struct lk_protector next;
	struct lk_index ix;
	uint32_t flags = 0;
	int r;

	r = store_load_index(&d->store, pr->uid, &ix);
	if (r < 0) {
		*ret_why = "cannot read the root index";
		return -EIO;
	}
	if (lk_secret_new(&p_new, LK_PROTECTOR_KEY_SIZE) < 0 ||
	    lk_random_bytes(p_new.ptr, LK_PROTECTOR_KEY_SIZE) < 0) {
		*ret_why = "cannot make a new protector key";
		return -EIO;
	}
	r = build_next(d, pr, p_new.ptr, kdf, w_login, &next, &flags, ret_why);
	if (r < 0)
		return r;
	if (prepare(d, pr->uid, &ix, &next, p_old, p_new.ptr, ret_why) < 0)
		return -EIO;

	crash_point("rotate-commit");
	r = store_save_protector(&d->store, &next);
	if (r < 0 && !disk_has(d, pr->uid, w_login, p_new.ptr)) {
		/* The old file is still the one on disk (or nothing can tell):
		 * the marker and the pending copies settle as "not committed". */
		(void)settle_user(d, pr->uid, false);
		*ret_why = r == -ENOSPC ? "no space left for the protector file; nothing was changed"
		                        : "cannot write the protector file; nothing was changed";
		return -EIO;
	}
	/* Committed. From here on only P' opens what the disk holds. */
	if (u->p && user_set_key(u, p_new.ptr) < 0)
		user_drop_key(u);
	user_drop_pending(u);
	crash_point("rotate-settle");
	r = settle_user(d, pr->uid, true);
	if (r < 0) {
		*ret_why =
		    "the new key is committed, but some roots still carry the old copy; restart latchkeyd "
		    "to finish";
		return -EIO;
	}
	*ret_roots = ix.n;
	*ret_flags = flags;
	return 0;
}

int daemon_rotate(struct daemon *d, const struct ucred *peer, uid_t charge_uid, uid_t uid, uint8_t from,
                  const uint8_t *w_from, const struct lk_kdf_params *kdf,
                  const uint8_t w_login[LK_WRAP_KEY_SIZE], unsigned *ret_roots, uint32_t *ret_flags,
                  const char **ret_why)
{
	struct lk_secret p _cleanup_secret_ = {};
	struct lk_protector pr;
	struct user *u;
	int r;

	*ret_why = NULL;
	u = user_get(&d->users, uid, true);
	if (!u)
		return -ENOMEM;
	r = protector_open_from(d, peer, charge_uid, uid, from, w_from, &p, &pr);
	if (r < 0)
		return r;
	r = rotate(d, u, &pr, p.ptr, kdf, w_login, ret_roots, ret_flags, ret_why);
	if (r < 0) {
		if (*ret_why)
			log_error("uid %u: protector key not rotated: %s", (unsigned)uid, *ret_why);
		return r;
	}
	log_info("uid %u: protector key rotated (from the %s key): %u wrapped key(s) resealed%s%s",
	         (unsigned)uid, slot_kind_name(from), *ret_roots,
	         *ret_flags & LK_ROT_F_ESCROW_RESEALED ? ", escrow slot resealed" : "",
	         *ret_flags & LK_ROT_F_RECOVERY_RETIRED ? ", recovery code retired" : "");
	return 0;
}

/* rotating-<uid>: finish (the protector file has the recorded hash) or undo. */
static void recover_one(struct daemon *d, uid_t uid, const char *name)
{
	uint8_t buf[LK_PROTECTOR_MAX_SIZE + 1], text[MARKER_MAX];
	char hex[65], want[65], pname[32];
	size_t len = 0, tlen = 0;
	bool commit = false;
	int r;

	r = lk_read_file_at(d->store.dir_fd, name, 0, sizeof(text) - 1, text, &tlen);
	text[r < 0 ? 0 : tlen] = '\0';
	if (r < 0 || sscanf((char *)text, LK_ROTATION_HEADER "\n%64[0-9a-f]\n", want) != 1 ||
	    strlen(want) != 64) {
		log_error("%s: unreadable rotation marker; leaving uid %u's roots as they are", name,
		          (unsigned)uid);
		return;
	}
	snprintf(pname, sizeof(pname), "%u", (unsigned)uid);
	if (lk_read_file_at(d->store.protectors_fd, pname, 0, LK_PROTECTOR_MAX_SIZE, buf, &len) == 0 &&
	    sha256_hex(buf, len, hex) == 0)
		commit = strcmp(hex, want) == 0;
	log_info("uid %u: %s an interrupted key rotation", (unsigned)uid, commit ? "finishing" : "undoing");
	(void)settle_user(d, uid, commit);
}

void daemon_rotation_recover(struct daemon *d)
{
	_cleanup_(closedirp) DIR *dir = NULL;
	struct dirent *de;

	if (lk_opendir_at(d->store.dir_fd, ".", 0, &dir) < 0)
		return;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long uid;

		if (strncmp(de->d_name, MARKER_PREFIX, strlen(MARKER_PREFIX)) != 0)
			continue;
		errno = 0;
		uid = strtoul(de->d_name + strlen(MARKER_PREFIX), &end, 10);
		if (errno || *end || end == de->d_name + strlen(MARKER_PREFIX) || uid >= LK_UID_NONE)
			continue;
		recover_one(d, (uid_t)uid, de->d_name);
	}
}
