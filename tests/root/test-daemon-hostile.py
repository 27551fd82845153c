#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile client against the real latchkeyd: garbage, oversized and
malformed frames, passed file descriptors, a non-root peer acting for
someone else, connection floods, idle connections, and password guessing.
After each attack the daemon must still serve a legitimate root request.
Root only (the daemon's peers are switched to uid 65534 for the attacks)."""
import os, socket, subprocess, sys, tempfile, time, shutil, array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))
import latchkey_wire as wire
from latchkey_wire import (REQ_KDF_PARAMS as REQ_KDF, REQ_AUTH_SUBMIT as REQ_AUTH, REQ_SESSION_OPEN as REQ_OPEN,
                           REQ_UNLOCK, REQ_LOCK, REQ_STATUS, REQ_ENROLL, REP_OK, REP_ERROR, REP_STATUS_END,
                           T_UID, T_KDF, T_KEY, T_TEXT, E_PERM, E_BAD_KEY, E_THROTTLED, KDF_ARGON2ID,
                           tlv, u32)

if os.geteuid() != 0:
    print("SKIP: needs root"); sys.exit(77)

BUILD = os.environ["LK_BUILD"]
NOBODY = 65534
KDF = wire.kdf(KDF_ARGON2ID, 3, 65536, 1, b"s" * 16)

def frame(mtype, body=b"", seq=7, **kw): return wire.frame(mtype, body, seq, **kw)
def parse(buf):
    m = wire.decode(buf)
    return m.type, m.fields

failures = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: failures.append(what)

work = tempfile.mkdtemp(prefix="latchkey-hostile.")
os.chmod(work, 0o755)
sock_path = os.path.join(work, "socket")
log = open(os.path.join(work, "daemon.log"), "w")
daemon = subprocess.Popen([f"{BUILD}/daemon/latchkeyd", "--socket", sock_path, "--state-dir",
                           os.path.join(work, "state"), "--debug"], stdout=log, stderr=log)
try:
    for _ in range(100):
        if os.path.exists(sock_path): break
        time.sleep(0.05)

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(3); s.connect(sock_path); return s

    def root_ok():
        """A legitimate root request is answered."""
        s = connect(); s.send(frame(REQ_STATUS)); 
        while True:
            mtype, _ = parse(s.recv(4096))
            if mtype == REP_STATUS_END: s.close(); return True

    def closed_by_daemon(s):
        try:
            return s.recv(4096) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def as_nobody(fn):
        """Run fn in a child whose socket peer credentials are uid 65534."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                os.setgroups([]); os.setresgid(NOBODY, NOBODY, NOBODY); os.setresuid(NOBODY, NOBODY, NOBODY)
                res = fn()
            except Exception as e:
                res = f"exception {e!r}"
            os.write(w, repr(res).encode()); os._exit(0)
        os.close(w)
        out = b""
        while chunk := os.read(r, 65536): out += chunk
        os.waitpid(pid, 0)
        return eval(out.decode())

    def daemon_fds(): return len(os.listdir(f"/proc/{daemon.pid}/fd"))

    # 1. Garbage, bad magic, bad version, wrong length, unknown type/tag, duplicate tag, oversize.
    attacks = {
        "random bytes": os.urandom(200),
        "short header": b"LKP1",
        "bad magic": frame(REQ_STATUS, magic=0xdeadbeef),
        "future version": frame(REQ_STATUS, version=2),
        "body_len lies": frame(REQ_STATUS, tlv(T_UID, u32(0)), body_len=100),
        "unknown type": frame(0x55),
        "unknown tag": frame(REQ_STATUS, tlv(99, b"x")),
        "duplicate tag": frame(REQ_STATUS, tlv(T_UID, u32(1)) + tlv(T_UID, u32(2))),
        "truncated tlv": frame(REQ_STATUS, tlv(T_UID, b"ab", length=40)),
        "oversized frame": frame(REQ_STATUS, tlv(T_TEXT, b"A" * 5000)),
    }
    for name, data in attacks.items():
        s = connect(); s.send(data)
        check(closed_by_daemon(s), f"{name}: connection closed")
        s.close()
    check(root_ok(), "daemon still serves root after malformed frames")

    # 2. File descriptors passed with SCM_RIGHTS are closed, not kept.
    time.sleep(0.2)  # let earlier connections finish closing
    before = daemon_fds()
    for _ in range(5):
        s = connect()
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(10)]
        s.sendmsg([frame(REQ_STATUS)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        while parse(s.recv(4096))[0] != REP_STATUS_END: pass
        for fd in fds: os.close(fd)
        s.close()
    time.sleep(0.2)
    check(daemon_fds() <= before, f"50 passed fds closed (daemon fds {before} -> {daemon_fds()})")

    # 3. A non-root peer acting for another user (uid 0's target, or 1234).
    def impersonate():
        out = {}
        for name, f in {
            "kdf params of uid 1234": frame(REQ_KDF, tlv(T_UID, u32(1234))),
            "auth submit": frame(REQ_AUTH, tlv(T_UID, u32(NOBODY)) + tlv(T_KEY, b"\0" * 32)),
            "session open": frame(REQ_OPEN, tlv(T_UID, u32(NOBODY))),
            "unlock uid 1234": frame(REQ_UNLOCK, tlv(T_UID, u32(1234)) + tlv(T_KEY, b"\0" * 32)),
            "lock uid 1234": frame(REQ_LOCK, tlv(T_UID, u32(1234))),
            "status of uid 1234": frame(REQ_STATUS, tlv(T_UID, u32(1234))),
            "enroll": frame(REQ_ENROLL, tlv(T_UID, u32(NOBODY))
                            + tlv(T_KDF, KDF)
                            + tlv(T_KEY, b"\0" * 32)),
        }.items():
            s = connect(); s.send(f)
            mtype, fields = parse(s.recv(4096)); s.close()
            out[name] = (mtype, wire.get_u32(fields, wire.T_STATUS, 0xffffffff))
        return out
    for name, (mtype, status) in as_nobody(impersonate).items():
        check(mtype == REP_ERROR and status == E_PERM, f"uid {NOBODY}: {name} -> permission denied")

    # 4. Connection flood from one uid: capped at 16, root still served within 1 s.
    def flood():
        conns, refused = [], 0
        for _ in range(40):
            s = connect(); conns.append(s)
        time.sleep(0.3)
        for s in conns:
            s.setblocking(False)
            try:
                if s.recv(4096) == b"": refused += 1
            except BlockingIOError: pass
        t0 = time.monotonic()
        # the parent checks root service while these are still open
        os.write(sync_w, b"x"); os.read(sync_r2, 1)
        return refused
    sync_r, sync_w = os.pipe(); sync_r2, sync_w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setgroups([]); os.setresgid(NOBODY, NOBODY, NOBODY); os.setresuid(NOBODY, NOBODY, NOBODY)
        refused = flood(); os._exit(min(refused, 255))
    os.read(sync_r, 1)
    t0 = time.monotonic(); served = root_ok(); dt = time.monotonic() - t0
    os.write(sync_w2, b"x")
    _, st = os.waitpid(pid, 0)
    check(os.WEXITSTATUS(st) >= 40 - 16, f"flood: {os.WEXITSTATUS(st)} of 40 connections from one uid refused")
    check(served and dt < 1.0, f"root served during the flood in {dt*1000:.0f} ms")

    # 5. An idle (slowloris) connection is dropped at the 5 s deadline.
    s = connect(); s.settimeout(8); t0 = time.monotonic()
    check(closed_by_daemon(s) and 4.0 < time.monotonic() - t0 < 7.5,
          f"idle connection dropped after {time.monotonic() - t0:.1f} s")

    # 6. Guessing one's own passphrase is throttled (enrol nobody with a known key first).
    s = connect()
    s.send(frame(REQ_ENROLL, tlv(T_UID, u32(NOBODY))
                 + tlv(T_KDF, KDF)
                 + tlv(T_KEY, b"K" * 32)))
    check(parse(s.recv(4096))[0] == REP_OK, "root enrols a test protector for uid 65534")
    def guess():
        statuses = []
        for i in range(6):
            s = connect(); s.send(frame(REQ_UNLOCK, tlv(T_UID, u32(NOBODY)) + tlv(T_KEY, bytes([i]) * 32)))
            _, f = parse(s.recv(4096)); s.close()
            statuses.append(wire.get_u32(f, wire.T_STATUS))
        return statuses
    statuses = as_nobody(guess)
    check(statuses[:4] == [E_BAD_KEY] * 4 and E_THROTTLED in statuses[4:],
          f"wrong-key guesses are throttled after 3 failures: {statuses}")
    check(root_ok(), "daemon still serves root at the end")
finally:
    daemon.terminate(); daemon.wait()
    log.close()
    if failures:
        print(open(os.path.join(work, "daemon.log")).read())
    shutil.rmtree(work)
print("PASS" if not failures else f"{len(failures)} check(s) failed")
sys.exit(1 if failures else 0)
