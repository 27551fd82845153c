#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""latchkey_wire.py against the C compiler and against itself.

  test-wire.py WIRE_CONSTANTS
WIRE_CONSTANTS is the program `latchkey_wire.py --emit-c` wrote, compiled
against include/latchkey/protocol.h: its output must equal the module's
values line for line. Then: the parser refuses what it cannot read, and
messages survive encode/decode while malformed ones are refused."""
import re
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import latchkey_wire as wire  # noqa: E402

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


# 1. The compiler's values are the module's.
c_out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
py_out = wire.values()
c_lines, py_lines = c_out.splitlines(), py_out.splitlines()
for c, p in zip(c_lines, py_lines):
    if c != p:
        check(False, f"C says {c!r}, latchkey_wire.py says {p!r}")
check(len(c_lines) == len(py_lines) and len(c_lines) > 100,
      f"{len(c_lines)} constants from C, {len(py_lines)} from the module")
check(c_out == py_out, "every constant of protocol.h is the same in C and in latchkey_wire.py")
check(wire.REQ_STATUS == 7 and wire.REP_STATUS_END == 0x87 and wire.MAGIC == 0x31504B4C,
      "spot check against the documented values (STATUS 7, STATUS_END 0x87, LKP1)")

# 2. The parser fails loudly on what it cannot read.
good = open(wire.HEADER_PATH).read()
bad_edits = {
    "an expression it does not know": re.sub(r"#define LK_MSG_MAX( +)4096", r"#define LK_MSG_MAX\1(4096 + 0)", good,
                                             count=1),
    "an unknown function-like macro": good.replace("#endif", "#define LK_NEW(x) ((x) + 1)\n#endif"),
    "a vanished function-like macro": "\n".join(l for l in good.split("\n")
                                               if not l.startswith("#define LK_RW_TO_KIND")),
    "an enumerator it cannot read": re.sub(r"LK_T_UID( *)= 1,", r"LK_T_UID\1= 1 + 0,", good, count=1),
    "a stray declaration": good.replace("#endif", "struct lk_x { int a; };\n#endif"),
    "a name defined twice": good.replace("#endif", "#define LK_HDR_SIZE 16\n#endif"),
    "an unterminated comment": good + "/* open",
}
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "protocol.h")
    for what, text in bad_edits.items():
        check(text != good, f"the edit for {what} applies")
        with open(path, "w") as f:
            f.write(text)
        try:
            wire.parse_header(path)
            check(False, f"parser refuses {what}")
        except wire.ProtocolHeaderError as e:
            check(True, f"parser refuses {what} ({e})")
    with open(path, "w") as f:
        f.write(good)
    check(wire.parse_header(path)[0] == wire.CONSTANTS, "the unedited header parses the same")

# 3. Framing.
kdf = wire.kdf(wire.KDF_ARGON2ID, 3, 65536, 1, b"s" * 16)
m = wire.decode(wire.encode(wire.REQ_ENROLL, 9, [(wire.T_UID, wire.u32(1000)), (wire.T_KDF, kdf)]))
check(m.type == wire.REQ_ENROLL and m.seq == 9 and wire.get_u32(m.fields, wire.T_UID) == 1000,
      "encode/decode round trip")
check(wire.parse_kdf(m.fields[wire.T_KDF]) == (wire.KDF_ARGON2ID, 3, 65536, 1, b"s" * 16), "kdf round trip")
check(wire.status(wire.decode(wire.encode(wire.REP_ERROR, 1, {wire.T_STATUS: wire.u32(4)}))) == wire.E_BAD_KEY
      and wire.status(m, "none") == "none", "status of a reply, default when absent")
for what, buf in {
    "short header": b"LKP1",
    "bad magic": wire.frame(wire.REQ_STATUS, magic=0xDEADBEEF),
    "future version": wire.frame(wire.REQ_STATUS, version=2),
    "body_len lies": wire.frame(wire.REQ_STATUS, wire.tlv(1, wire.u32(0)), body_len=100),
    "truncated field": wire.frame(wire.REQ_STATUS, wire.tlv(wire.T_UID, b"ab", length=40)),
    "duplicate tag": wire.frame(wire.REQ_STATUS, wire.tlv(1, wire.u32(1)) + wire.tlv(1, wire.u32(2))),
}.items():
    try:
        wire.decode(buf)
        check(False, f"decode refuses {what}")
    except wire.WireError:
        check(True, f"decode refuses {what}")

print("PASS" if not failures else f"{len(failures)} check(s) failed")
sys.exit(1 if failures else 0)
