/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Defensive reads and atomic, durable writes of metadata files. */
#ifndef LK_FILEIO_H
#define LK_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read a whole metadata file relative to dirfd: O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC,
 * then fstat on the fd: must be a regular file, owned by expected_uid, not
 * group/world writable, size <= max_size. Reads at most max_size+1 bytes.
 * buf must have room for max_size bytes. -ENOENT if absent, -EBADMSG/-EFBIG/
 * -EPERM for a file that is not what it should be (FIFO, symlink (-ELOOP),
 * too large, wrong owner).
 */
int lk_read_file_at(int dirfd, const char *name, uid_t expected_uid, size_t max_size, uint8_t *buf,
                    size_t *ret_len);

/*
 * Atomically replace dirfd/name with data: create "name.tmp-XXXXXX" with
 * O_CREAT|O_EXCL|O_NOFOLLOW (mode), write all, fsync, renameat over name,
 * fsync dirfd. On any error the temporary file is unlinked and name is
 * untouched. Returns 0 or -errno (e.g. -ENOSPC).
 *
 * For crash-safety tests, built with -Dtest_hooks=true only: when
 * LATCHKEY_TEST_FAIL_AT names a step ("write", "fsync", "rename",
 * "dirsync") the write fails there with -EIO, as if the disk failed;
 * LATCHKEY_TEST_CRASH_AT=step kills the process with SIGKILL just before
 * it. Without test hooks the environment is never read.
 */
int lk_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* write(2) all len bytes, retrying on EINTR and short writes. 0 or -errno
 * (-EIO if the fd takes no more). */
int lk_write_all(int fd, const void *buf, size_t len);

/* Remove name durably (unlinkat + fsync dirfd). -ENOENT if absent. */
int lk_unlink_durable_at(int dirfd, const char *name);

/* Remove stale "*.tmp-*" files left by a crash. Returns how many, or -errno. */
int lk_sweep_temp_files_at(int dirfd);

#endif
