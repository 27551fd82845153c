#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the booted test system: start a login program (login, su) on a
# pseudo-terminal, answer its password prompt, and in the shell it starts
# print the session's view of the home, wait for HOLD (if given) to exist,
# and log out. Prints everything the terminal showed; exits 0 when the shell
# ran the commands.
#   pty-session.py PASSWORD [--hold FILE] -- COMMAND [ARGS...]
import os, pty, select, sys, time

args = sys.argv[1:]
password = args.pop(0).encode()
hold = None
if args[0] == "--hold":
    hold = args[1]
    args = args[2:]
assert args.pop(0) == "--"

pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)

out = b""
def read_until(pred, timeout):
    global out
    end = time.monotonic() + timeout
    while not pred(out):
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True

ok = read_until(lambda b: b.rstrip().endswith(b"assword:"), 30)
if ok:
    os.write(fd, password + b"\n")
    # The user's shell is sh: its prompt ends in "$ ".
    ok = read_until(lambda b: b.endswith(b"$ "), 60)
if ok:
    wait = f'while [ ! -e {hold} ]; do sleep 0.1; done; ' if hold else ""
    os.write(fd, f'echo LK-SESSION; cat "$HOME/f"; {wait}echo LK-END; exit\n'.encode())
    ok = read_until(lambda b: b.count(b"LK-END") >= 2, 600)
read_until(lambda b: False, 5)  # to EOF: the session closes
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(0 if ok else 1)
