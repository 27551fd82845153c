#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tests' one stand-in for latchkeyd, on latchkey_wire (protocol.h).

usage: mock-latchkeyd.py SOCKET LOG SCENARIO [CONFIG]

Writes "ready" to stdout once listening, appends one JSON line per request
to LOG, and runs until killed. Two families of scenarios:

- the cli tier's (normal, not-enrolled, bad-key, busy, perm, session,
  status-short, reload-refused, disk-full, ...): one request per connection, answered
  from a model of each uid's protector slots; the log line holds the
  request's fields, keys as their lengths only.
- the pam tier's, "pam-" + a mode of tests/pam/fake-daemon.h (pam-normal,
  pam-hang, pam-garbage, pam-wrong-uid, pam-idle-close, pam-drop-submit,
  pam-slow): many connections at once, as pam_latchkey holds a session's
  open; answers as CONFIG (re-read at every request: "name value" lines
  written by tests/pam/fake-daemon.c) says; logs each accept, each probe
  (a STATUS with seq PROBE_SEQ, with the number of other connections still
  open) and each request whole, as hex, which fake-daemon.c decodes with
  lib/wire.c to check what the module sent.

Why one Python program and not the C fake the pam tests had: the cli
tier's scenarios (slot models, REWRAP and ROTATE checks) are far shorter
here, and the framing is latchkey_wire's, checked against protocol.h; the
pam tier only needs its requests back, which the log gives it.
"""
import errno
import json
import os
import selectors
import socket
import sys
import time

from latchkey_wire import (REQ_NAMES as REQ, REP_OK as OK, REP_ERROR as ERROR, OK as OK_STATUS,  # noqa: E402
                           REP_KDF_PARAMS as KDF, REP_UNLOCK_RESULT as UNLOCK_RESULT,
                           REP_LOCK_RESULT as LOCK_RESULT, REP_STATUS_ENTRY as ENTRY,
                           REP_STATUS_END as END, REP_ENCRYPT_RESULT as ENCRYPT_RESULT,
                           REP_USER_ENTRY as USER_ENTRY, REP_SLOT_ENTRY as SLOT_ENTRY,
                           T_UID, T_STATUS, T_FLAGS, T_COUNT, T_KDF, T_KEY, T_KEY_ID, T_STATE,
                           T_PATH, T_TEXT, T_NEW_KEY, T_ACCOUNT, T_ERROR,
                           E_PROTOCOL, E_INTERNAL, E_PERM, E_NOT_ENROLLED, E_BAD_KEY, E_NEED_PASSPHRASE,
                           E_INVALID, E_NOT_FOUND, E_BUSY, RF_BUSY, KDF_F_FRESH, KDF_RF_BOUND,
                           KDF_ARGON2ID, KDF_X25519, ROT_F_ESCROW_RESEALED, ROT_F_RECOVERY_RETIRED,
                           KEY_ABSENT, KEY_PRESENT, KEY_INCOMPLETELY_REMOVED, UF_ENROLLED,
                           RW_FROM_KIND, RW_TO_KIND, KDF_F_KIND, u32, get_u32, kdf, parse_kdf,
                           encode, decode, WireError, REQ_KDF_PARAMS, REQ_AUTH_SUBMIT, REQ_REWRAP,
                           REQ_SESSION_OPEN, REQ_SESSION_CLOSE, REQ_STATUS, RF_STILL_LOCKED, MSG_MAX)

# format.h's slot kinds (enum lk_slot_kind), not part of the wire header.
SLOT_LOGIN, SLOT_RECOVERY, SLOT_ESCROW = 1, 2, 3


def kdf_floor():
    return kdf(KDF_ARGON2ID, 3, 64 * 1024, 1, bytes(range(16)))


def kdf_problem(kind, kdf):
    """Why kdf (LK_T_KDF bytes) cannot be a slot of this kind, or None."""
    try:
        alg, t, m, p, salt = parse_kdf(kdf)
    except WireError:
        return "malformed kdf"
    sl = len(salt)
    if kind == SLOT_ESCROW:
        ok = alg == KDF_X25519 and sl == 32 and t == m == p == 0
    else:
        ok = alg == KDF_ARGON2ID and 16 <= sl <= 32 and 1 <= t <= 10 and 65536 <= m <= 1048576 and 1 <= p <= 8
    return None if ok else "kdf %r does not fit slot kind %d" % ((alg, sl, t, m, p), kind)


def err(status, text=None):
    return [(ERROR, [(T_STATUS, u32(status))] + ([(T_TEXT, text.encode())] if text else []))]


def slot_kdf_params(scenario, fields, state):
    """KDF_PARAMS with flags: a fresh salt, or the parameters of the uid's slot of that kind."""
    flags = get_u32(fields, T_FLAGS, 0)
    kind, uid = KDF_F_KIND(flags) or SLOT_LOGIN, get_u32(fields, T_UID)
    if flags & KDF_F_FRESH:
        if kind == SLOT_ESCROW:
            return err(E_INVALID, "escrow slots take no passphrase parameters")
        return [(KDF, [(T_KDF, kdf(KDF_ARGON2ID, 3, 64 * 1024, 1, os.urandom(16)))])]
    slot = state.get("slots", {}).get(uid, {}).get(kind)
    if slot:
        # Escrow slots made now are bound (LK_KDF_RF_BOUND), as latchkeyd's.
        return [(KDF, [(T_KDF, slot["kdf"])] + ([(T_FLAGS, u32(KDF_RF_BOUND))] if kind == SLOT_ESCROW else []))]
    if kind != SLOT_LOGIN:
        return err(E_NOT_FOUND, "user has no slot of kind %d" % kind)
    return None


def rewrap(scenario, fields, state):
    """REWRAP, checking every field as latchkeyd would."""
    for tag in (T_UID, T_NEW_KEY, T_KDF, T_FLAGS):
        if tag not in fields:
            return err(E_PROTOCOL, "REWRAP without tag %d" % tag)
    uid, flags = get_u32(fields, T_UID), get_u32(fields, T_FLAGS)
    frm, to = RW_FROM_KIND(flags), RW_TO_KIND(flags)
    if flags >> 16 or to not in (SLOT_LOGIN, SLOT_RECOVERY, SLOT_ESCROW) or \
            frm not in (0, SLOT_LOGIN, SLOT_RECOVERY, SLOT_ESCROW) or len(fields[T_NEW_KEY]) != 32:
        return err(E_INVALID, "bad REWRAP flags or key")
    problem = kdf_problem(to, fields[T_KDF])
    if problem:
        return err(E_INVALID, problem)
    slots = state.setdefault("slots", {}).get(uid)
    if not slots:
        return err(E_NOT_ENROLLED)
    if frm == 0:
        if T_KEY in fields:
            return err(E_INVALID, "a key with FROM kind 0")
        if "session" not in scenario:
            return err(E_NEED_PASSPHRASE)
    elif T_KEY not in fields:
        return err(E_INVALID, "FROM kind %d without a key" % frm)
    elif frm not in slots or slots[frm]["key"] != fields[T_KEY]:
        return err(E_BAD_KEY)
    # The new slot replaces every older one of its kind.
    slots[to] = {"kdf": fields[T_KDF], "key": fields[T_NEW_KEY]}
    return [(OK, [])]


def rotate(scenario, fields, state, rec):
    """ROTATE: the P held or opened by FROM; a new login slot; the escrow slot
    resealed (a new E, as latchkeyd does with escrow.pub), recovery retired."""
    for tag in (T_UID, T_NEW_KEY, T_KDF, T_FLAGS):
        if tag not in fields:
            return err(E_PROTOCOL, "ROTATE without tag %d" % tag)
    uid, flags = get_u32(fields, T_UID), get_u32(fields, T_FLAGS)
    frm = RW_FROM_KIND(flags)
    if flags >> 8 or frm not in (0, SLOT_LOGIN, SLOT_RECOVERY, SLOT_ESCROW):
        return err(E_INVALID, "bad ROTATE flags")
    problem = kdf_problem(SLOT_LOGIN, fields[T_KDF])
    if problem:
        return err(E_INVALID, problem)
    slots = state.setdefault("slots", {}).get(uid)
    if not slots:
        return err(E_NOT_ENROLLED)
    if frm == 0 and "session" not in scenario:
        return err(E_NEED_PASSPHRASE)
    if frm and (frm not in slots or slots[frm]["key"] != fields.get(T_KEY)):
        return err(E_BAD_KEY)
    out = 0
    new = {SLOT_LOGIN: {"kdf": fields[T_KDF], "key": fields[T_NEW_KEY]}}
    if SLOT_ESCROW in slots:
        e = os.urandom(32)
        new[SLOT_ESCROW] = {"kdf": kdf(KDF_X25519, 0, 0, 0, e), "key": os.urandom(32)}
        rec["escrow_salt"] = e.hex()
        out |= ROT_F_ESCROW_RESEALED
    if SLOT_RECOVERY in slots:
        out |= ROT_F_RECOVERY_RETIRED
    state["slots"][uid] = new
    return [(OK, [(T_COUNT, u32(1)), (T_FLAGS, u32(out))])]


def entry(uid, path, state, sessions):
    return [(T_UID, u32(uid)), (T_KEY_ID, bytes(range(0xa0, 0xb0))), (T_STATE, u32(state)),
            (T_PATH, path.encode("utf-8", "surrogateescape")), (T_COUNT, u32(sessions))]


TRICKY = "/srv/q\"uo\\te/\x1b[2J/j\u00f6rg/\udcff"


def answer(scenario, mtype, fields, state, rec=None):
    """List of (type, fields) replies for one request."""
    name = REQ.get(mtype)
    if name == "KDF_PARAMS":
        if scenario == "not-enrolled":
            return [(ERROR, [(T_STATUS, u32(E_NOT_ENROLLED))])]
        return slot_kdf_params(scenario, fields, state) or [(KDF, [(T_KDF, kdf_floor())])]
    if name == "REWRAP":
        return rewrap(scenario, fields, state)
    if name == "ROTATE":
        return rotate(scenario, fields, state, rec if rec is not None else {})
    if name == "STATUS":
        if scenario == "status-short":
            return [(ENTRY, entry(0, "/a", KEY_PRESENT, 1)), (END, [(T_COUNT, u32(2))])]
        if scenario == "perm":
            return [(ERROR, [(T_STATUS, u32(E_PERM)), (T_TEXT, b"only root may do that")])]
        es = [entry(0, "/home/enc", KEY_PRESENT, 1), entry(0, "/tmp", KEY_ABSENT, 0),
              entry(4242424, TRICKY, KEY_INCOMPLETELY_REMOVED, 0)]
        return [(ENTRY, e) for e in es] + [(END, [(T_COUNT, u32(len(es)))])]
    if name == "USERS":
        if scenario == "perm":
            return [(ERROR, [(T_STATUS, u32(E_PERM)), (T_TEXT, b"only root may do that")])]
        users = [(USER_ENTRY, [(T_UID, u32(0)), (T_COUNT, u32(1)), (T_FLAGS, u32(UF_ENROLLED)), (T_ACCOUNT, b"root")]),
                 (SLOT_ENTRY, [(T_UID, u32(0)), (T_FLAGS, u32(SLOT_LOGIN)), (T_COUNT, u32(1)), (T_KDF, kdf_floor())])]
        return users + [(END, [(T_COUNT, u32(len(users)))])]
    if name == "LOCK":
        if scenario == "busy":
            return [(LOCK_RESULT, [(T_STATUS, u32(E_BUSY)), (T_COUNT, u32(1)), (T_FLAGS, u32(RF_BUSY))])]
        return [(LOCK_RESULT, [(T_STATUS, u32(OK_STATUS)), (T_COUNT, u32(2))])]
    if name == "UNLOCK":
        if scenario == "bad-key":
            return [(ERROR, [(T_STATUS, u32(E_BAD_KEY))])]
        if scenario == "disk-full":
            return [(ERROR, [(T_STATUS, u32(E_INTERNAL)), (T_ERROR, u32(errno.ENOSPC)),
                             (T_TEXT, b"cannot write the root index")])]
        return [(UNLOCK_RESULT, [(T_STATUS, u32(OK_STATUS)), (T_COUNT, u32(3))])]
    if name == "ENROLL":
        uid = get_u32(fields, T_UID)
        state.setdefault("slots", {})[uid] = {SLOT_LOGIN: {"kdf": fields[T_KDF], "key": fields[T_KEY]}}
        return [(OK, [])]
    if name == "ENCRYPT":
        if T_KEY not in fields:
            return [(ERROR, [(T_STATUS, u32(E_NEED_PASSPHRASE))])]
        return [(ENCRYPT_RESULT, [(T_KEY_ID, bytes(range(16))), (T_PATH, fields[T_PATH])])]
    if name == "RELOAD":
        if scenario == "reload-refused":
            return [(ERROR, [(T_STATUS, u32(E_INVALID)), (T_TEXT, b"policy.d/x.conf:3: mock refuses this configuration")])]
        return [(OK, [])]
    return [(ERROR, [(T_STATUS, u32(E_PROTOCOL))])]


PROBE_SEQ = 0xFEED  # fake-daemon.c's fake_sync()
NOBODY = 65534


def pam_config(path):
    """CONFIG's "name value" lines: numbers, or hex for good_key, kdf and fresh
    (kdf/fresh: "alg t m p salt_hex")."""
    cfg = {}
    with open(path) as f:
        for line in f:
            name, _, value = line.strip().partition(" ")
            if name in ("kdf", "fresh"):
                alg, t, m, p, salt = value.split()
                cfg[name] = kdf(int(alg), int(t), int(m), int(p), bytes.fromhex(salt))
            elif name == "good_key":
                cfg[name] = bytes.fromhex(value)
            elif name:
                cfg[name] = int(value)
    return cfg


def pam_answer(mode, msg, cfg, state):
    """(replies, keep the connection open) for one pam-tier request, as
    tests/pam/fake-daemon.h describes each mode."""
    if mode == "hang":
        return [], True
    if mode == "garbage":
        return [os.urandom(200)], True
    f, seq, out = msg.fields, msg.seq, None
    if msg.type == REQ_KDF_PARAMS:
        if cfg["kdf_status"]:
            out = (ERROR, [(T_STATUS, u32(cfg["kdf_status"]))])
        else:
            fresh = get_u32(f, T_FLAGS, 0) & KDF_F_FRESH
            out = (KDF, [(T_KDF, cfg["fresh"] if fresh else cfg["kdf"])])
    elif msg.type == REQ_AUTH_SUBMIT:
        if mode == "drop-submit" and not state.get("dropped"):
            state["dropped"] = True
            return [], False
        if cfg["check_key"] and f.get(T_KEY) != cfg["good_key"]:
            out = (ERROR, [(T_STATUS, u32(E_BAD_KEY))])
        else:
            out = (OK, [])
    elif msg.type == REQ_REWRAP:
        out = (ERROR, [(T_STATUS, u32(cfg["rewrap_status"]))]) if cfg["rewrap_status"] else (OK, [])
    elif msg.type == REQ_SESSION_OPEN:
        flags = cfg["session_flags"]
        out = (UNLOCK_RESULT, [(T_STATUS, u32(OK_STATUS)), (T_COUNT, u32(0 if flags & RF_STILL_LOCKED else 1)),
                               (T_FLAGS, u32(flags))])
    elif msg.type == REQ_SESSION_CLOSE:
        out = (OK, [])
    else:
        out = (ERROR, [(T_STATUS, u32(E_PROTOCOL))])
    if mode == "slow":
        time.sleep(cfg["reply_delay_ms"] / 1000)
    return [encode(out[0], seq, out[1])], not (mode == "idle-close" and msg.type == REQ_KDF_PARAMS)


def cli_request(scenario, msg, state, log):
    """The cli tier: log the request's fields, answer from the slot model."""
    mtype, seq, fields = msg
    rec = {"type": REQ.get(mtype, mtype)}
    for tag, v in fields.items():
        if tag == T_KEY:
            rec["key_len"] = len(v)
        elif tag == T_NEW_KEY:
            rec["new_key_len"] = len(v)
        elif tag == T_FLAGS:
            rec["flags"] = get_u32(fields, tag)
        elif tag == T_UID:
            rec["uid"] = get_u32(fields, tag)
        elif tag == T_PATH:
            rec["path"] = v.decode("utf-8", "surrogateescape")
        elif tag == T_KDF:
            k = parse_kdf(v)
            rec["kdf"] = {"t": k.t, "m": k.m, "p": k.p, "salt_len": len(k.salt), "alg": k.alg,
                          "salt": k.salt.hex()}
    replies = answer(scenario, mtype, fields, state, rec)
    if replies[0][0] == ERROR:
        rec["reply"] = "ERROR %d" % get_u32(dict(replies[0][1]), T_STATUS)
    log(rec)
    return [encode(rtype, seq, rfields) for rtype, rfields in replies]


def peer_closed(conn):
    try:
        return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    path, logpath, scenario = sys.argv[1:4]
    pam_mode = scenario[len("pam-"):] if scenario.startswith("pam-") else None
    config = sys.argv[4] if len(sys.argv) > 4 else None
    logf = open(logpath, "a")

    def log(rec):
        logf.write(json.dumps(rec) + "\n")
        logf.flush()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    # SO_PEERCRED reports the credentials at listen(): become nobody in
    # between, as a user-owned impostor would be.
    if pam_mode == "wrong-uid":
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    srv.listen(16)
    os.write(1, b"ready\n")  # one write: a reader may stop at the first one
    sel, conns, state = selectors.DefaultSelector(), [], {}
    sel.register(srv, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            conn = key.fileobj
            if conn is srv:
                c, _ = srv.accept()
                if pam_mode is not None:
                    log({"event": "accept"})
                if len(conns) >= 64:
                    c.close()
                    continue
                conns.append(c)
                sel.register(c, selectors.EVENT_READ)
                continue
            keep, replies = False, []
            try:
                pkt = conn.recv(MSG_MAX)
                msg = decode(pkt) if pkt else None
            except (OSError, WireError):
                # latchkeyctl sends only well-formed requests: a bad one ends
                # the cli mock; the pam module's are checked by its tests.
                if pam_mode is None:
                    raise
                msg = None
            if msg is not None and pam_mode is None:
                replies = cli_request(scenario, msg, state, log)
            elif msg is not None and msg.type == REQ_STATUS and msg.seq == PROBE_SEQ:
                log({"event": "probe", "open": sum(1 for c in conns if c is not conn and not peer_closed(c))})
                replies, keep = [encode(END, msg.seq, [(T_COUNT, u32(0))])], True
            elif msg is not None:
                log({"type": REQ.get(msg.type, msg.type), "raw": pkt.hex()})
                replies, keep = pam_answer(pam_mode, msg, pam_config(config), state)
            for r in replies:
                try:
                    conn.send(r)
                except OSError:
                    keep = False
            if not keep:
                sel.unregister(conn)
                conns.remove(conn)
                conn.close()


if __name__ == "__main__":
    main()
