#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Writes the hand-made seeds (index text, wire packets, invalid binaries) of
# the fuzz corpus. Run once from tests/fuzz; the output is committed.
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', 'lib'))
import latchkey_wire as w  # noqa: E402

def put(sub, name, data):
    os.makedirs(os.path.join('corpus', sub), exist_ok=True)
    with open(os.path.join('corpus', sub, name), 'wb') as f:
        f.write(data)

ID = b'00112233445566778899aabbccddeeff'
HDR = b'latchkey-index 1\n'
put('fuzz-index', 'valid-empty', HDR)
put('fuzz-index', 'valid-two', HDR + ID + b' /home/alice\n' + ID + b' /srv/data\n')
put('fuzz-index', 'invalid-no-newline', HDR + ID + b' /home/alice')
put('fuzz-index', 'invalid-dotdot', HDR + ID + b' /home/../etc\n')
put('fuzz-index', 'invalid-upper-hex', HDR + ID.upper() + b' /x\n')

def msg(mtype, seq, body, version=None):
    return w.frame(mtype, body, seq, version=version)

tlv = w.tlv
uid = tlv(w.T_UID, w.u32(1000))
kdf = tlv(w.T_KDF, w.kdf(w.KDF_ARGON2ID, 3, 65536, 4, b'\x5a' * 16))
put('fuzz-wire', 'valid-kdf-params-req', msg(w.REQ_KDF_PARAMS, 1, uid))
put('fuzz-wire', 'valid-kdf-params-rep', msg(w.REP_KDF_PARAMS, 1, kdf))
put('fuzz-wire', 'valid-unlock-key', msg(w.REQ_UNLOCK, 2, uid + tlv(w.T_KEY, b'\x01' * 32)))
put('fuzz-wire', 'valid-encrypt', msg(w.REQ_ENCRYPT, 3, uid + tlv(w.T_PATH, b'/home/alice')))
put('fuzz-wire', 'valid-status-entry', msg(w.REP_STATUS_ENTRY, 4, uid + tlv(w.T_KEY_ID, b'\x02' * 16)
                                            + tlv(w.T_STATE, w.u32(w.KEY_PRESENT))
                                            + tlv(w.T_PATH, b'/home/alice')))
put('fuzz-wire', 'valid-error', msg(w.REP_ERROR, 5, tlv(w.T_STATUS, w.u32(w.E_BAD_KEY)) + tlv(w.T_TEXT, b'bad key')))
put('fuzz-wire', 'valid-session-close', msg(w.REQ_SESSION_CLOSE, 6, b''))
put('fuzz-wire', 'invalid-dup-tag', msg(w.REQ_KDF_PARAMS, 1, uid + uid))
put('fuzz-wire', 'invalid-bad-len', msg(w.REQ_KDF_PARAMS, 1, uid)[:-1])
put('fuzz-wire', 'invalid-version', msg(w.REQ_KDF_PARAMS, 1, uid, version=2))
put('fuzz-wire', 'invalid-nul-in-path', msg(w.REQ_ENCRYPT, 3, uid + tlv(w.T_PATH, b'/home\x00x')))

put('fuzz-protector', 'invalid-empty', b'')
put('fuzz-protector', 'invalid-header-only', struct.pack('<IHHII', 0x46504b4c, 1, 0, 1000, 0))
put('fuzz-wrapped-key', 'invalid-short', b'LKWK\x01\x00\x01\x00')
put('fuzz-wrapped-key', 'invalid-zeros', b'\x00' * 120)

# The configuration parser (config/config.h): one valid file of each kind,
# and the lexical traps inih would read differently.
WEB = b'[policy web]\nroot = /var/cache/web\nper_user = yes\n'
put('fuzz-config', 'valid-dropin', b'# browser caches\n' + WEB + b'subdir = u%U-%u\nmode = 0750\n'
    b'contents = Adiantum\nfilenames = Adiantum\npadding = 16\niv_ino_lblk_64 = yes\nlock_on_logout = no\n'
    b'\n[policy tmp]\nroot = /srv/tmp\nper_user = true\nfilenames = AES-256-HCTR2\n')
put('fuzz-config', 'valid-main', b'[latchkey]\nlock_on_logout = no\nlock_delay = 2min\n'
    b'[user alice]\nlock_on_logout = yes\n[user bob]\n')
put('fuzz-config', 'valid-adoption', b'[latchkey]\nenroll_at_login = group:staff\ncreate_home = yes\n'
    b'home_skel = /etc/skel\n')
put('fuzz-config', 'invalid-uid-range', b'[latchkey]\nenroll_at_login = uids:9-3\n')
put('fuzz-config', 'invalid-continuation', WEB + b'subdir = %u\n  cache\n')
put('fuzz-config', 'invalid-inline-comment', WEB + b'mode = 0700 ; private\n')
put('fuzz-config', 'invalid-nul', b'[policy web]\nroot = /var/ca\x00che\nper_user = yes\n')
put('fuzz-config', 'invalid-long-line', WEB + b'#' + b'x' * 2100 + b'\n')
put('fuzz-config', 'invalid-nested', WEB + b'[policy in]\nroot = /var/cache/web/in\nper_user = yes\n')
put('fuzz-config', 'invalid-dup-key', WEB + b'mode = 0700\nmode = 0750\n')
put('fuzz-config', 'invalid-typo', WEB + b'mdoe = 0700\n')
put('fuzz-config', 'invalid-tab-in-key', WEB + b'roo\tiv_ino_lblk_64 = = yes\n')
put('fuzz-config', 'invalid-value-starts-comment', WEB + b'subdir =#u%U%u*mroot = \n')
