#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write a protector file as the version 1 code did (format.h before version 2).

  make-v1-protector.py OUT UID ESCROW_PUB.pem   (passphrase on stdin)

A login slot (Argon2id t=3, 64 MiB, p=1 of the passphrase) and an escrow slot
sealed to the public key with the unbound version 1 derivation, both wrapping
one random P, with the slot KEK info "latchkey v1 protector slot" and the
header of version 1 in the AAD. Written independently of latchkey's C code."""
import os
import struct
import sys

from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def slot(uid, kind, alg, salt, t, m, p, slot_id, w, key):
    head = struct.pack("<BBBBIIII", kind, alg, len(salt), 0, slot_id, t, m, p) + salt.ljust(32, b"\0")
    nonce = os.urandom(12)
    aad = struct.pack("<IHHII", 0x46504B4C, 1, 0, uid, 0) + head
    ct = AESGCM(hkdf(w, b"latchkey v1 protector slot")).encrypt(nonce, key, aad)
    return head + nonce + ct


def main():
    out, uid, pub_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    passphrase = sys.stdin.buffer.readline().rstrip(b"\n")
    p = os.urandom(32)
    salt = os.urandom(16)
    w_login = hash_secret_raw(passphrase, salt, time_cost=3, memory_cost=65536, parallelism=1, hash_len=32,
                              type=Type.ID, version=19)
    pub = serialization.load_pem_public_key(open(pub_path, "rb").read())
    r = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    e = X25519PrivateKey.generate()
    e_pub = e.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    w_escrow = hkdf(e.exchange(pub), b"latchkey v1 escrow" + e_pub + r)
    data = struct.pack("<IHHII", 0x46504B4C, 1, 2, uid, 0)
    data += slot(uid, 1, 1, salt, 3, 65536, 1, 1, w_login, p)
    data += slot(uid, 3, 2, e_pub, 0, 0, 0, 2, w_escrow, p)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    print(e_pub.hex())


main()
