#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real libpam, real pam_unix, the built module: when latchkeyd is absent,
hangs (accepts, never answers) or answers garbage, the login still succeeds
(pam_unix decides), finishes within 5 s, and the module logs one clear line.
Syslog is captured by the test's own listener: when no /dev/log exists, a
symlink to it for the test's duration (removed afterwards); when a syslog
daemon owns /dev/log, the login runs in a private mount namespace with the
listener bind-mounted over /dev/log, so the real one is never touched."""
import os, socket, subprocess, sys, tempfile, threading, time, shutil, random

if os.geteuid() != 0:
    print("SKIP: needs root"); sys.exit(77)
BUILD = os.environ["LK_BUILD"]
failures = []
def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: failures.append(what)

work = tempfile.mkdtemp(prefix="latchkey-broken.")
user = f"lktb{random.randint(1000, 99999)}"
service = f"latchkey-broken-{os.getpid()}"
password = f"pw-{random.randint(0, 1 << 30)}"
own_devlog = not os.path.exists("/dev/log")
messages, stop = [], threading.Event()
servers = []
try:
    subprocess.run(["useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", user], check=True)
    subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    log_path = os.path.join(work, "log.sock")
    log_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log_sock.bind(log_path); log_sock.settimeout(0.1)
    def collect():
        while not stop.is_set():
            try: messages.append(log_sock.recv(8192).decode(errors="replace"))
            except socket.timeout: pass
    threading.Thread(target=collect, daemon=True).start()
    if own_devlog:
        os.symlink(log_path, "/dev/log")
    def login(args):
        if own_devlog:
            return args
        return ["unshare", "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /dev/log && exec "$@"', log_path] + args

    def server(path, mode):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(path); s.listen(16)
        def run():
            conns = []
            while not stop.is_set():
                s.settimeout(0.1)
                try: c, _ = s.accept()
                except socket.timeout: continue
                except OSError: return
                conns.append(c)  # hang: keep it open, never answer
                if mode == "garbage":
                    try:
                        c.recv(4096); c.send(os.urandom(64))
                    except OSError: pass
        threading.Thread(target=run, daemon=True).start()
        servers.append(s)

    cases = {"absent": os.path.join(work, "no-such-socket")}
    for mode in ("hang", "garbage"):
        cases[mode] = os.path.join(work, mode + ".sock"); server(cases[mode], mode)

    for mode, path in cases.items():
        with open(f"/etc/pam.d/{service}", "w") as f:
            f.write("auth required pam_unix.so\n"
                    f"auth optional {BUILD}/pam_module/pam_latchkey.so socket={path}\n"
                    "account required pam_unix.so\n"
                    "session required pam_unix.so\n"
                    f"session optional {BUILD}/pam_module/pam_latchkey.so socket={path}\n")
        before = len(messages)
        t0 = time.monotonic()
        r = subprocess.run(login([f"{BUILD}/tests/root/pam-login", service, user, "--", "true"]),
                           input=password + "\n", text=True, capture_output=True)
        dt = time.monotonic() - t0
        time.sleep(0.2)
        check(r.returncode == 0, f"{mode}: login succeeds (pam_unix decides), exit {r.returncode} {r.stderr.strip()}")
        check(dt < 5.0, f"{mode}: login finished in {dt:.2f} s (limit 5 s)")
        lines = [m for m in messages[before:] if "pam_latchkey" in m]
        check(any("latchkeyd" in m and "home stays locked" in m for m in lines),
              f"{mode}: clear log line: {lines[:2]}")
        check(not any(password in m for m in messages), f"{mode}: password not in any log line")
finally:
    stop.set()
    for s in servers: s.close()
    if own_devlog and os.path.islink("/dev/log"): os.unlink("/dev/log")
    if os.path.exists(f"/etc/pam.d/{service}"): os.unlink(f"/etc/pam.d/{service}")
    subprocess.run(["userdel", user], stderr=subprocess.DEVNULL)
    shutil.rmtree(work)
print("PASS" if not failures else f"{len(failures)} check(s) failed")
sys.exit(1 if failures else 0)
