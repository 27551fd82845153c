#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reads `strace -ff -y -e trace=fsync,fdatasync,rename,renameat,renameat2,
# write,pwrite64` output (one file per process: PREFIX.PID) and checks every
# atomic replace of a metadata file (NAME.tmp-XXXXXX renamed over NAME, as
# lib/fileio does): the temporary was fsynced after its last write and before
# the rename, and the very next call after the rename fsyncs the directory.
#   check-durable-writes.py PREFIX BASEDIR NAME...
# Each NAME (relative to BASEDIR) must have been replaced at least once.
# Prints one line per replace; exits 1 on the first missing step.
import glob, re, sys

prefix, base, want = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3:]
FD = r'(\d+)<([^>]*)>'
SYNC = re.compile(r'^(?:fsync|fdatasync)\(' + FD + r'\)\s+= (-?\d+)')
WRITE = re.compile(r'^(?:write|pwrite64)\(' + FD + r',')
RENAME = re.compile(r'^renameat2?\(' + FD + r', "([^"]*)", ' + FD + r', "([^"]*)"[^)]*\)\s+= (-?\d+)')
PLAIN_RENAME = re.compile(r'^rename\("([^"]*)", ')
TEMP = re.compile(r'^(.+)\.tmp-[A-Za-z0-9]{6}$')

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

seen = {}
for path in sorted(glob.glob(glob.escape(prefix) + ".*")):
    events = []   # (kind, path, ok)
    for line in open(path, errors="replace"):
        if m := SYNC.match(line):
            events.append(("sync", m[2], m[3] == "0"))
        elif m := WRITE.match(line):
            events.append(("write", m[2], True))
        elif m := RENAME.match(line):
            d_old, old, d_new, new, ok = m[2], m[3], m[5], m[6], m[7] == "0"
            t = TEMP.match(old)
            if ok and t and t[1] == new and d_old == d_new:
                events.append(("replace", (d_old, old, new), True))
        elif (m := PLAIN_RENAME.match(line)) and TEMP.match(m[1].rsplit("/", 1)[-1]):
            fail(f"a temporary renamed without a directory fd, cannot be checked: {line.strip()}")
    for i, (kind, what, _) in enumerate(events):
        if kind != "replace":
            continue
        d, old, new = what
        temp, target = f"{d}/{old}", f"{d}/{new}"
        writes = [j for j in range(i) if events[j][:2] == ("write", temp)]
        syncs = [j for j in range(i) if events[j] == ("sync", temp, True)]
        if not writes:
            fail(f"{target}: no write to the temporary {old} before the rename")
        if not syncs or syncs[-1] < writes[-1]:
            fail(f"{target}: renamed from {old} with no fsync of it after its last write")
        if i + 1 >= len(events) or events[i + 1] != ("sync", d, True):
            nxt = events[i + 1][:2] if i + 1 < len(events) else "nothing"
            fail(f"{target}: the rename is not followed by an fsync of {d} (next: {nxt})")
        rel = target[len(base) + 1:] if target.startswith(base + "/") else target
        seen[rel] = seen.get(rel, 0) + 1
        print(f"{rel}: write, fsync(temporary), rename, fsync(directory)")
for name in want:
    if name not in seen:
        fail(f"{name} was never replaced atomically (replaced: {sorted(seen) or 'nothing'})")
