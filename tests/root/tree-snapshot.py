#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Snapshot of a directory tree, independent of latchkeyctl's own checks.

  tree-snapshot.py snap DIR      print one line per entry (sorted, any bytes escaped)
  tree-snapshot.py make DIR OWNER [--big]  build the test tree every kind of entry

A line holds the path, type, mode, owner, size, device number, mtime and
atime in ns (atime not for the top, nor for symlinks, whose atime every
readlink moves), symlink target, extended attributes
(ACLs included, trusted.latchkey.* excluded), SHA-256 of the content (the
size and every 4 KiB block that is not all zeros, holes skipped with
SEEK_DATA) and the hard-link group (the first path of the inode). Every
open uses O_NOATIME so that taking a snapshot changes no atime.
"""
import hashlib
import os
import socket
import stat
import sys

NOATIME = os.O_NOATIME


def content_hash(fd, size):
    h = hashlib.sha256(size.to_bytes(8, "little"))
    off = 0
    zero = bytes(4096)
    while off < size:
        try:
            data = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        hole = min(os.lseek(fd, data, os.SEEK_HOLE), size)
        pos = data - data % 4096
        while pos < hole:
            buf = os.pread(fd, min(1 << 20, hole - pos), pos)
            if not buf:
                break
            for b in range(0, len(buf), 4096):
                blk = buf[b:b + 4096]
                if blk != zero[:len(blk)]:
                    h.update(((pos + b) // 4096).to_bytes(8, "little"))
                    h.update(blk)
            pos += len(buf)
        off = hole
    return h.hexdigest()


def xattrs(target):
    out = []
    nofollow = not isinstance(target, int)
    kw = {"follow_symlinks": False} if nofollow else {}
    for name in sorted(os.listxattr(target, **kw)):
        if name.startswith("trusted.latchkey."):
            continue
        out.append("%s=%s" % (name, os.getxattr(target, name, **kw).hex()))
    return ",".join(out)


def snap(top):
    lines, first = [], {}

    def entry(dirfd, name, rel, is_top=False):
        st = os.stat(name, dir_fd=dirfd, follow_symlinks=False) if not is_top else os.fstat(dirfd)
        kind = stat.S_IFMT(st.st_mode)
        f = [repr(rel), "mode=%o" % st.st_mode, "owner=%d:%d" % (st.st_uid, st.st_gid),
             "mtime=%d" % st.st_mtime_ns]
        # readlink(2) updates a symlink's atime and no flag prevents it
        if not is_top and not stat.S_ISLNK(st.st_mode):
            f.append("atime=%d" % st.st_atime_ns)
        if not stat.S_ISDIR(st.st_mode):
            f.append("size=%d" % st.st_size)
            if st.st_nlink > 1 or st.st_ino in first:
                f.append("link=%r" % first.setdefault(st.st_ino, rel))
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            f.append("rdev=%d" % st.st_rdev)
        proc = b"/proc/self/fd/%d/%s" % (dirfd, name) if not is_top else b"/proc/self/fd/%d" % dirfd
        if stat.S_ISLNK(st.st_mode):
            f.append("target=%r" % os.readlink(name, dir_fd=dirfd))
        if stat.S_ISREG(st.st_mode):
            fd = os.open(name, os.O_RDONLY | NOATIME | os.O_NOFOLLOW, dir_fd=dirfd)
            try:
                f.append("sha256=" + content_hash(fd, st.st_size))
                f.append("xattrs=" + xattrs(fd))
            finally:
                os.close(fd)
        elif stat.S_ISDIR(st.st_mode):
            fd = dirfd if is_top else os.open(name, os.O_RDONLY | os.O_DIRECTORY | NOATIME | os.O_NOFOLLOW,
                                              dir_fd=dirfd)
            try:
                f.append("xattrs=" + xattrs(fd))
                lines.append(" ".join(f))
                for child in sorted(os.fsencode(n) for n in os.listdir(fd)):
                    entry(fd, child, rel + b"/" + child)
            finally:
                if not is_top:
                    os.close(fd)
            return
        else:
            f.append("xattrs=" + xattrs(proc))
        lines.append(" ".join(f))

    topfd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | NOATIME)
    entry(topfd, b".", b".", is_top=True)
    os.close(topfd)
    for line in lines:
        print(line)


def make(top, owner, big):
    uid, gid = (int(x) for x in owner.split(":"))
    os.makedirs(top, exist_ok=True)
    t = top.encode()

    def p(*parts):
        return os.path.join(t, *parts)

    def write(path, data, mode=0o644):
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)

    os.mkdir(p(b"docs"))
    write(p(b"docs", b"notes.txt"), b"top secret notes\n")
    write(p(b"docs", b"empty"), b"")
    write(p(b"docs", b"random.bin"), os.urandom(3 << 20))          # > one copy chunk
    write(p(b"docs", b"suid"), b"#!/bin/sh\n", 0o4755)
    write(p(b"docs", b"grp"), b"group\n", 0o640)
    write(p(b"new\nline"), b"a name with a newline\n")
    write(p(b"latin-\xe9\xff\xfe"), b"not UTF-8\n")
    write(p(b"n" * 255), b"longest name\n")
    write(p(b"sp ace 'q' \"dq\" \\"), b"quotes\n")
    # hard links across directories, three names
    os.mkdir(p(b"links"))
    os.mkdir(p(b"links", b"other"))
    write(p(b"links", b"one"), b"linked\n")
    os.link(p(b"links", b"one"), p(b"links", b"other", b"two"))
    os.link(p(b"links", b"one"), p(b"docs", b"three"))
    # symlinks: relative, absolute dangling, to a directory
    os.symlink(b"../docs/notes.txt", p(b"links", b"rel"))
    os.symlink(b"/nonexistent/target", p(b"links", b"dangling"))
    os.symlink(b"docs", p(b"dirlink"))
    # special files
    os.mkdir(p(b"special"))
    os.mkfifo(p(b"special", b"fifo"), 0o600)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(p(b"special", b"sock"))
    s.close()
    os.mknod(p(b"special", b"null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.mknod(p(b"special", b"blk"), stat.S_IFBLK | 0o600, os.makedev(7, 200))
    os.link(p(b"special", b"fifo"), p(b"special", b"fifo-link"))
    # a sparse file: data at both ends and in the middle, holes between
    size = (1 << 30) if big else (64 << 20)
    with open(p(b"sparse"), "wb") as f:
        f.truncate(size)
        f.seek(0); f.write(b"start" * 100)
        f.seek(size // 2); f.write(os.urandom(8192))
        f.seek(size - 5); f.write(b"end!\n")
    # 200 levels of nesting
    d = p(b"deep")
    os.mkdir(d)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(200):
        os.mkdir(b"d%d" % i, dir_fd=fd)
        nfd = os.open(b"d%d" % i, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    wfd = os.open(b"bottom", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd)
    os.write(wfd, b"at the bottom\n")
    os.close(wfd)
    os.close(fd)
    # user xattrs (ACLs are set by the caller with setfacl)
    os.setxattr(p(b"docs", b"notes.txt"), "user.colour", b"blue")
    os.setxattr(p(b"docs"), "user.dir", b"\x00binary\xff")
    os.setxattr(p(b"special", b"fifo"), "trusted.other", b"kept")
    # owners: the user, except one root file; odd timestamps (ns)
    for root, dirs, files in os.walk(t):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)
    os.chown(p(b"docs", b"grp"), 0, gid)
    os.chmod(p(b"docs", b"suid"), 0o4755)  # chown cleared it
    os.chown(t, uid, gid)
    for root, dirs, files in os.walk(t, topdown=False):
        for n in dirs + files:
            os.utime(os.path.join(root, n), ns=(1600000000123456789, 1500000000987654321), follow_symlinks=False)


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(sys.argv[2].encode())
    elif sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], "--big" in sys.argv)
    else:
        sys.exit("usage: tree-snapshot.py snap DIR | make DIR UID:GID [--big]")
