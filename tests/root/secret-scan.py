#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helper of test-secret-residue.sh, independent of latchkey's C code.

  secret-scan.py derive SOCKET UID STATE_DIR POLICY_ROOT OUT  (passphrase on stdin)
      Asks latchkeyd for the login slot's KDF parameters (KDF_PARAMS), derives
      W with Argon2id (python3-argon2), opens the protector slot with it (P)
      and the encrypted root's wrapped key with P (K), checks K against the
      directory's key identifier (printed; the KDF parameters go to stderr
      as "kdf t=T m=M p=P salt=LEN"), and writes the secrets as "name hex"
      lines to OUT (0600).
  secret-scan.py scan SECRETS [--absent a,b] [--present c] TARGET...
      TARGET is a core file, pid:N (every readable mapping of process N via
      /proc/N/mem, including MADV_DONTDUMP ones) or log:FILE (raw bytes, hex
      and base64 forms). Each secret is searched whole and by its 16-byte
      pieces, so partial copies count too. Exit 1 if an --absent secret is
      found or a --present one (a control) is not.

Runs with Debian's /usr/bin/python3 (python3-argon2, python3-cryptography)."""
import base64, os, re, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "lib"))
import latchkey_wire as wire  # noqa: E402 (the wire protocol; the protector format is below)

SLOT_LOGIN, SLOT_SIZE, HDR = 1, 112, 16  # format.h's protector file


def kdf_params(sock_path, uid):
    rep = wire.request(sock_path, wire.REQ_KDF_PARAMS, {wire.T_UID: wire.u32(uid)})[0]
    if rep.type != wire.REP_KDF_PARAMS:
        sys.exit(f"KDF_PARAMS: unexpected reply type {rep.type:#x}")
    if wire.T_KDF not in rep.fields:
        sys.exit("KDF_PARAMS: no kdf field")
    return wire.parse_kdf(rep.fields[wire.T_KDF])


def hkdf(alg, ikm, info, length):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(algorithm=alg(), length=length, salt=None, info=info).derive(ikm)


def derive(sock_path, uid, state_dir, root, out_path):
    from argon2.low_level import Type, hash_secret_raw
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    passphrase = sys.stdin.buffer.readline().rstrip(b"\n")
    alg, t, m, p, salt = kdf_params(sock_path, uid)
    if alg != wire.KDF_ARGON2ID:
        sys.exit(f"KDF_PARAMS: algorithm {alg} is not Argon2id")
    print(f"kdf t={t} m={m} p={p} salt={len(salt)}", file=sys.stderr)
    w = hash_secret_raw(passphrase, salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32,
                        type=Type.ID, version=19)

    # P: the login slot whose salt the daemon just announced.
    data = open(os.path.join(state_dir, "protectors", str(uid)), "rb").read()
    prot = slot_kek = None
    for off in range(HDR, len(data), SLOT_SIZE):
        slot = data[off:off + SLOT_SIZE]
        if slot[0] == SLOT_LOGIN and slot[20:20 + slot[2]] == salt:
            # format.h: the AAD header has n_slots and next_id forced to 0 and the
            # slot's own version; V2 slots bind kind and uid in the KEK's info.
            header = bytearray(data[:HDR])
            header[4:6] = struct.pack("<H", 1 if slot[3] == 0 else 2)
            header[6:8] = b"\0\0"
            header[12:16] = b"\0\0\0\0"
            info = (b"latchkey v1 protector slot" if slot[3] == 0 else
                    b"latchkey v2 protector slot" + bytes([SLOT_LOGIN]) + struct.pack("<I", int(uid)))
            slot_kek = hkdf(hashes.SHA256, w, info, 32)
            prot = AESGCM(slot_kek).decrypt(slot[52:64], slot[64:112], bytes(header) + slot[:52])
    if prot is None:
        sys.exit("no login slot with the announced salt")

    # K: the wrapped key on the encrypted root, opened with P.
    blob = os.getxattr(root, f"trusted.latchkey.key.{uid}")
    policy_kek = hkdf(hashes.SHA256, prot, b"latchkey v1 policy key", 32)
    k = AESGCM(policy_kek).decrypt(blob[28:40], blob[40:120], blob[:28])
    # The kernel's key identifier: HKDF-SHA512(K), info "fscrypt\0" + context 1.
    key_id = hkdf(hashes.SHA512, k, b"fscrypt\0\x01", 16)
    if key_id != blob[12:28]:
        sys.exit("the wrapped key's identifier does not match K")

    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        for name, v in (("password", passphrase), ("W", w), ("slot-KEK", slot_kek), ("P", prot),
                        ("policy-KEK", policy_kek), ("K", k)):
            f.write(f"{name} {v.hex()}\n")
    print(key_id.hex())


def needles(value, textual):
    """The byte strings that betray value: itself, its 16-byte pieces, and for logs its text forms."""
    forms = {value}
    if len(value) >= 32:
        forms |= {value[i:i + 16] for i in range(0, len(value) - 15, 16)}
    if textual:
        for v in list(forms):
            forms |= {v.hex().encode(), v.hex().upper().encode(), base64.b64encode(v)}
    return forms


def regions(target):
    """(label, bytes) pieces of a target."""
    if target.startswith("pid:"):
        pid = int(target[4:])
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
        maps = open(f"/proc/{pid}/smaps").read()
        for m in re.finditer(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+ *([^\n]*)\n(.*?)^VmFlags:([^\n]*)", maps,
                             re.M | re.S):
            lo, hi, perms, name, flags = int(m[1], 16), int(m[2], 16), m[3], m[4], m[6].split()
            # Code and read-only file data cannot have received a secret.
            if perms[0] != "r" or name in ("[vvar]", "[vsyscall]") or ("w" not in perms and name.startswith("/")):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            yield f"{name or '[anon]'} {lo:x}-{hi:x}{' (dontdump)' if 'dd' in flags else ''}", data
    elif target.startswith("log:"):
        yield target[4:], open(target[4:], "rb").read()
    else:
        yield target, open(target, "rb").read()


def scan(secrets_path, absent, present, targets):
    secrets = {}
    for line in open(secrets_path):
        name, value = line.split()
        secrets[name] = bytes.fromhex(value)
    bad = 0
    for target in targets:
        textual = target.startswith("log:")
        found = {name: [] for name in absent + present}
        nbytes = 0
        for label, data in regions(target):
            nbytes += len(data)
            for name in found:
                for n in needles(secrets[name], textual):
                    pos = data.find(n)
                    if pos >= 0:
                        found[name].append(f"{label} +{pos:#x} ({len(n)} bytes)")
                        break
        for name in absent:
            if found[name]:
                bad += 1
                print(f"FAIL: {name} found in {target}: " + "; ".join(found[name]))
        for name in present:
            if not found[name]:
                bad += 1
                print(f"FAIL: control {name} not found in {target}: the scan proves nothing")
        print(f"scanned {target}: {nbytes} bytes; absent: {','.join(absent) or '-'}"
              f"; present (control): {','.join(present) or '-'}")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 7 and argv[1] == "derive":
        derive(argv[2], int(argv[3]), argv[4], argv[5], argv[6])
        return 0
    if len(argv) >= 4 and argv[1] == "scan":
        absent, present, rest = [], [], argv[3:]
        while rest and rest[0] in ("--absent", "--present"):
            (absent if rest[0] == "--absent" else present).extend(x for x in rest[1].split(",") if x)
            rest = rest[2:]
        return scan(argv[2], absent, present, rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
