#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The offline attack key rotation ends, done independently of latchkeyd.

  old-copy-attack.py PROTECTOR_FILE UID USER MACHINE_ID W_HEX XATTR_FILE

Opens the escrow slot of PROTECTOR_FILE (a copy taken earlier) with W (an
escrow answer's W) as format.h says, giving that file's P, and tries to
unwrap the wrapped key in XATTR_FILE (120 bytes) with it. Prints "opened"
and exits 0 when K comes out, "refused" and exits 1 when it does not, 2 when
the slot itself does not open."""
import struct
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def main():
    path, uid, user, mid, w, xattr = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), \
        bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5]), sys.argv[6]
    data = open(path, "rb").read()
    p = None
    for off in range(16, len(data), 112):
        slot = data[off:off + 112]
        if slot[0] != 3:
            continue
        header = bytearray(data[:16])
        header[4:6] = struct.pack("<H", 1 if slot[3] == 0 else 2)
        header[6:8] = b"\0\0"
        header[12:16] = b"\0\0\0\0"
        aad = bytes(header) + slot[:52]
        if slot[3] == 0:
            kek = hkdf(w, b"latchkey v1 protector slot")
        else:
            kek = hkdf(w, b"latchkey v2 protector slot" + bytes([3]) + struct.pack("<I", uid))
            aad += bytes([len(user)]) + user + mid
        try:
            p = AESGCM(kek).decrypt(slot[52:64], slot[64:112], aad)
        except InvalidTag:
            continue
    if p is None:
        print("slot refused")
        sys.exit(2)
    blob = open(xattr, "rb").read()
    try:
        AESGCM(hkdf(p, b"latchkey v1 policy key")).decrypt(blob[28:40], blob[40:120], blob[:28])
    except InvalidTag:
        print("refused")
        sys.exit(1)
    print("opened")


main()
