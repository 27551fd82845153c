#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a hostile local user runs against latchkeyd (the root tests start it
as that user):
  hostile-client.py connect-flood SOCKET SECONDS   connect() and close() in a loop
  hostile-client.py denied-flood SOCKET SECONDS UID   requests about someone else
  hostile-client.py slow-drip SOCKET SECONDS        hold every connection it may,
                                                    one request each per second, and
                                                    keep asking for more
  hostile-client.py denied-once SOCKET UID         one denied request
Prints one line of counts at the end."""
import os, socket, sys, time

# From the source tree, latchkey_wire is in ../lib; test-hostile-load.sh
# runs a copy of this script with copies of the module and protocol.h
# beside it (the script's directory is first on sys.path).
sys.path.append(os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))
from latchkey_wire import REQ_UNLOCK, REQ_STATUS, REP_ERROR, REP_STATUS_END, T_UID, frame, tlv, u32, decode


def uid_tlv(uid):
    return tlv(T_UID, u32(uid))


def connect_flood(path, seconds):
    end, n, full = time.monotonic() + seconds, 0, 0
    while time.monotonic() < end:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.setblocking(False)
        try:
            s.connect(path)
            n += 1
        except BlockingIOError:
            full += 1
        except OSError:
            pass
        s.close()
    print(f"connect-flood: {n} connected, {full} found the backlog full")


def denied_flood(path, seconds, victim):
    end, n = time.monotonic() + seconds, 0
    s = None
    while time.monotonic() < end:
        try:
            if s is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(2)
                s.connect(path)
            s.send(frame(REQ_STATUS if n % 2 else REQ_UNLOCK, uid_tlv(victim), seq=n + 1))
            s.recv(4096)
            n += 1
        except OSError:
            if s:
                s.close()
            s = None
    print(f"denied-flood: {n} denied requests")


def denied_once(path, victim):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(path)
    s.send(frame(REQ_STATUS, uid_tlv(victim)))
    s.recv(4096)
    print("denied-once: sent")


def slow_drip(path, seconds):
    end, held, refused = time.monotonic() + seconds, [], 0
    last_drip = 0.0
    while time.monotonic() < end:
        # Ask for another connection; the daemon closes the excess at once.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(1)
        try:
            s.connect(path)
            held.append(s)
        except OSError:
            s.close()
            refused += 1
        now = time.monotonic()
        if now - last_drip >= 1.0:
            last_drip = now
            alive = []
            for c in held:
                try:
                    c.send(frame(REQ_STATUS, uid_tlv(os.getuid())))
                    while True:
                        if decode(c.recv(4096)).type in (REP_ERROR, REP_STATUS_END):
                            break
                    alive.append(c)
                except OSError:
                    refused += 1
                    c.close()
            held = alive
        time.sleep(0.02)
    print(f"slow-drip: {len(held)} held at the end, {refused} refused or dropped")


cmd, path = sys.argv[1], sys.argv[2]
if cmd == "connect-flood":
    connect_flood(path, float(sys.argv[3]))
elif cmd == "denied-flood":
    denied_flood(path, float(sys.argv[3]), int(sys.argv[4]))
elif cmd == "denied-once":
    denied_once(path, int(sys.argv[3]))
elif cmd == "slow-drip":
    slow_drip(path, float(sys.argv[3]))
else:
    sys.exit(2)
