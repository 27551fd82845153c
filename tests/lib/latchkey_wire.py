#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""latchkey's wire protocol for the Python tests: the one place they frame
and parse messages.

The numbers (message types, tags, statuses, flags, sizes) are not copied
here: they are read from include/latchkey/protocol.h when this module is
imported, by a strict parser that raises ProtocolHeaderError on any line of
the header it does not understand, so a header edit either reaches every
test or stops them all. `latchkey_wire.py --emit-c` writes a C program that
prints each constant as the compiler sees it, `--values` prints the
module's; the unit test wire-constants compares the two.

Finding protocol.h: $LK_PROTOCOL_H if set, else a protocol.h beside this
file (a test that runs a script as another user copies both into a
directory that user can read), else the source tree's include/latchkey/.

Every constant is a module global, its LK_ prefix dropped: REQ_STATUS,
REP_ERROR, T_UID, E_BAD_KEY, OK (LK_OK), KEY_PRESENT, RF_BUSY, MSG_MAX,
PROTO_MAGIC (also MAGIC), PROTO_VERSION (also VERSION), HDR_SIZE...
"""
import os
import re
import socket
import struct
import sys
from collections import namedtuple

HEADER_FMT = "<IHHII"  # magic, version, type, seq, body_len (protocol.h)
TLV_FMT = "<HH"  # tag, len
KDF_FMT = "<BBHIII"  # alg, salt_len, 0, t, m_kib, p, then salt (LK_T_KDF)


class ProtocolHeaderError(Exception):
    """protocol.h has a line this module cannot read."""


class WireError(ValueError):
    """A message that is not a well-formed latchkey message."""


# The function-like macros of protocol.h, implemented below. A new one in
# the header is an error until it is added here (and to --emit-c's checks).
_MACROS = {
    "LK_KDF_F_KIND": ("kind",),
    "LK_RW_FLAGS": ("from", "to"),
    "LK_RW_FROM_KIND": ("flags",),
    "LK_RW_TO_KIND": ("flags",),
}


def KDF_F_KIND(kind):
    return kind & 0xFF


def RW_FLAGS(frm, to):
    return (frm & 0xFF) | ((to & 0xFF) << 8)


def RW_FROM_KIND(flags):
    return flags & 0xFF


def RW_TO_KIND(flags):
    return (flags >> 8) & 0xFF


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_INT = r"(?:0[xX][0-9a-fA-F]+|[0-9]+)[uU]?"


def _value(text, known, where):
    """An object-like macro's or enumerator's value: an integer literal,
    (1u << N), a string literal, UINT32_MAX or an earlier constant."""
    text = text.strip()
    if re.fullmatch(_INT, text):
        return int(text.rstrip("uU"), 0)
    m = re.fullmatch(r"\(\s*(" + _INT + r")\s*<<\s*(" + _INT + r")\s*\)", text)
    if m:
        return int(m.group(1).rstrip("uU"), 0) << int(m.group(2).rstrip("uU"), 0)
    m = re.fullmatch(r'"([^"\\]*)"', text)
    if m:
        return m.group(1)
    if text == "UINT32_MAX":
        return 0xFFFFFFFF
    if text in known:
        return known[text]
    raise ProtocolHeaderError(f"{where}: cannot read the value {text!r}")


def _strip_comments(src, path):
    out, i = [], 0
    while True:
        j = src.find("/*", i)
        if j < 0:
            out.append(src[i:])
            break
        k = src.find("*/", j + 2)
        if k < 0:
            raise ProtocolHeaderError(f"{path}: unterminated comment")
        out.append(src[i:j])
        # Keep the line count, for error messages.
        out.append("\n" * src.count("\n", j, k))
        i = k + 2
    if "//" in "".join(out):
        raise ProtocolHeaderError(f"{path}: // comments are not expected")
    return "".join(out)


def parse_header(path):
    """{name: value} and {enum name: [member names]} of protocol.h at path.
    Raises ProtocolHeaderError on anything it does not understand."""
    with open(path, encoding="utf-8") as f:
        lines = _strip_comments(f.read(), path).split("\n")
    consts, enums, enum, next_value = {}, {}, None, 0
    guard, macros = None, set()
    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        s = line.strip()
        if not s:
            continue
        if enum is not None:
            if s == "};":
                enum = None
                continue
            m = re.fullmatch(r"(" + _NAME + r")\s*(?:=\s*(.+?))?\s*,?", s)
            if not m:
                raise ProtocolHeaderError(f"{where}: cannot read the enumerator {s!r}")
            name, val = m.group(1), m.group(2)
            value = _value(val, consts, where) if val is not None else next_value
            if not isinstance(value, int):
                raise ProtocolHeaderError(f"{where}: {name} is not an integer")
            if name in consts:
                raise ProtocolHeaderError(f"{where}: {name} defined twice")
            consts[name] = value
            enums[enum].append(name)
            next_value = value + 1
            continue
        m = re.fullmatch(r"enum\s+(" + _NAME + r")\s*\{", s)
        if m:
            enum, next_value = m.group(1), 0
            enums[enum] = []
            continue
        m = re.fullmatch(r"#\s*ifndef\s+(" + _NAME + r")", s)
        if m and guard is None:
            guard = m.group(1)
            continue
        if guard and re.fullmatch(r"#\s*define\s+" + guard, s):
            continue
        if re.fullmatch(r"#\s*endif", s) or re.fullmatch(r"#\s*include\s+<stdint\.h>", s):
            continue
        m = re.fullmatch(r"#\s*define\s+(" + _NAME + r")\(([^)]*)\)\s+(.+)", s)
        if m:
            args = tuple(a.strip() for a in m.group(2).split(","))
            if _MACROS.get(m.group(1)) != args:
                raise ProtocolHeaderError(f"{where}: function-like macro {m.group(1)}{args} "
                                          "is not implemented in latchkey_wire.py")
            macros.add(m.group(1))
            continue
        m = re.fullmatch(r"#\s*define\s+(" + _NAME + r")\s+(.+)", s)
        if m:
            if m.group(1) in consts:
                raise ProtocolHeaderError(f"{where}: {m.group(1)} defined twice")
            consts[m.group(1)] = _value(m.group(2), consts, where)
            continue
        raise ProtocolHeaderError(f"{where}: cannot read {s!r}")
    if enum is not None:
        raise ProtocolHeaderError(f"{path}: enum {enum} not closed")
    for name in set(_MACROS) - macros:
        raise ProtocolHeaderError(f"{path}: the macro {name} is gone: drop it here too")
    return consts, enums


def find_header():
    env = os.environ.get("LK_PROTOCOL_H")
    if env:
        return env
    here = os.path.dirname(os.path.realpath(__file__))
    for cand in (os.path.join(here, "protocol.h"),
                 os.path.join(here, "..", "..", "include", "latchkey", "protocol.h")):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    raise ProtocolHeaderError(f"protocol.h not found beside {here} nor in the source tree "
                              "(set LK_PROTOCOL_H)")


HEADER_PATH = find_header()
CONSTANTS, ENUMS = parse_header(HEADER_PATH)
for _name, _v in CONSTANTS.items():
    if _name.startswith("LK_"):
        globals()[_name[3:]] = _v
MAGIC, VERSION = PROTO_MAGIC, PROTO_VERSION  # noqa: F821 (read from the header)
if struct.calcsize(HEADER_FMT) != HDR_SIZE:  # noqa: F821
    raise ProtocolHeaderError(f"LK_HDR_SIZE {HDR_SIZE} is not the header this module frames")  # noqa: F821

# Names by number, for logs and messages: REQ_NAMES[7] == "STATUS".
REQ_NAMES = {CONSTANTS[n]: n[len("LK_REQ_"):] for n in ENUMS["lk_msg_type"] if n.startswith("LK_REQ_")}
REP_NAMES = {CONSTANTS[n]: n[len("LK_REP_"):] for n in ENUMS["lk_msg_type"] if n.startswith("LK_REP_")}
STATUS_NAMES = {CONSTANTS[n]: n[3:] for n in ENUMS["lk_status"] if not n.startswith("_")}

Msg = namedtuple("Msg", "type seq fields")
Kdf = namedtuple("Kdf", "alg t m p salt")


def u32(v):
    return struct.pack("<I", v)


def get_u32(fields, tag, default=None):
    """The u32 value of tag in fields, or default when absent."""
    if tag not in fields:
        return default
    if len(fields[tag]) != 4:
        raise WireError(f"tag {tag}: {len(fields[tag])} bytes, not a u32")
    return struct.unpack("<I", fields[tag])[0]


def tlv(tag, value, length=None):
    """One field; length overrides the length written (for malformed frames)."""
    return struct.pack(TLV_FMT, tag, len(value) if length is None else length) + value


def frame(mtype, body=b"", seq=1, magic=None, version=None, body_len=None):
    """A message: header + body (bytes). magic, version and body_len override
    the header's fields, for malformed frames."""
    return struct.pack(HEADER_FMT, MAGIC if magic is None else magic,
                       VERSION if version is None else version, mtype, seq,
                       len(body) if body_len is None else body_len) + body


def encode(mtype, seq=1, fields=()):
    """A message from fields: a dict or a sequence of (tag, bytes)."""
    items = fields.items() if isinstance(fields, dict) else fields
    return frame(mtype, b"".join(tlv(t, v) for t, v in items), seq)


def decode(buf):
    """Msg(type, seq, {tag: bytes}); WireError unless buf is one well-formed
    message (magic, version, body_len, whole fields, no tag twice)."""
    if len(buf) < HDR_SIZE:  # noqa: F821
        raise WireError(f"{len(buf)} bytes: shorter than a header")
    magic, version, mtype, seq, blen = struct.unpack_from(HEADER_FMT, buf)
    if magic != MAGIC or version != VERSION:
        raise WireError(f"bad magic {magic:#x} or version {version}")
    if blen != len(buf) - HDR_SIZE:  # noqa: F821
        raise WireError(f"body_len {blen}, body {len(buf) - HDR_SIZE} bytes")  # noqa: F821
    fields, off = {}, HDR_SIZE  # noqa: F821
    while off < len(buf):
        if off + 4 > len(buf):
            raise WireError("truncated field header")
        tag, n = struct.unpack_from(TLV_FMT, buf, off)
        off += 4
        if off + n > len(buf):
            raise WireError(f"tag {tag}: {n} bytes announced, {len(buf) - off} left")
        if tag in fields:
            raise WireError(f"tag {tag} twice")
        fields[tag] = bytes(buf[off:off + n])
        off += n
    return Msg(mtype, seq, fields)


def kdf(alg, t, m, p, salt):
    """LK_T_KDF's value."""
    return struct.pack(KDF_FMT, alg, len(salt), 0, t, m, p) + salt


def parse_kdf(value):
    """Kdf(alg, t, m, p, salt) of an LK_T_KDF value; WireError if malformed."""
    if len(value) < struct.calcsize(KDF_FMT):
        raise WireError("kdf field too short")
    alg, salt_len, zero, t, m, p = struct.unpack_from(KDF_FMT, value)
    if zero != 0 or len(value) != struct.calcsize(KDF_FMT) + salt_len:
        raise WireError("malformed kdf field")
    return Kdf(alg, t, m, p, value[struct.calcsize(KDF_FMT):])


def status(msg, default=None):
    """A reply's LK_T_STATUS, or default when it has none."""
    return get_u32(msg.fields, T_STATUS, default)  # noqa: F821


def connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    return s


def recv(sock):
    """The next message on sock, decoded; WireError at end of file."""
    buf = sock.recv(MSG_MAX)  # noqa: F821
    if not buf:
        raise WireError("connection closed")
    return decode(buf)


def request(path, mtype, fields=(), seq=1, timeout=5):
    """Send one request on a new connection and return its replies: one, or
    for STATUS and USERS every entry up to and including STATUS_END."""
    with connect(path, timeout) as s:
        s.send(encode(mtype, seq, fields))
        replies = [recv(s)]
        if mtype in (REQ_STATUS, REQ_USERS):  # noqa: F821
            while replies[-1].type not in (REP_STATUS_END, REP_ERROR):  # noqa: F821
                replies.append(recv(s))
        return replies


def emit_c():
    """A C program printing each constant of protocol.h as the compiler
    sees it, in --values' format, and the function-like macros on samples."""
    out = ["#include <inttypes.h>", "#include <stdio.h>", "#include \"latchkey/protocol.h\"",
           "int main(void)", "{"]
    for name, v in CONSTANTS.items():
        if isinstance(v, str):
            out.append(f'\tprintf("%s %s\\n", "{name}", {name});')
        else:
            out.append(f'\tprintf("%s %" PRIu64 "\\n", "{name}", (uint64_t)({name}));')
    for a, b in ((0, 0), (3, 1), (0x1ff, 0x2fe)):
        out.append(f'\tprintf("LK_RW_FLAGS({a},{b}) %" PRIu64 "\\n", (uint64_t)LK_RW_FLAGS({a}, {b}));')
    for a in (0, 3, 0x1ff, 0x30201):
        for m in ("LK_KDF_F_KIND", "LK_RW_FROM_KIND", "LK_RW_TO_KIND"):
            out.append(f'\tprintf("{m}({a}) %" PRIu64 "\\n", (uint64_t){m}((uint32_t){a}));')
    out += ["\treturn 0;", "}"]
    return "\n".join(out) + "\n"


def values():
    lines = [f"{n} {v}" for n, v in CONSTANTS.items()]
    for a, b in ((0, 0), (3, 1), (0x1ff, 0x2fe)):
        lines.append(f"LK_RW_FLAGS({a},{b}) {RW_FLAGS(a, b)}")
    for a in (0, 3, 0x1ff, 0x30201):
        for name, fn in (("LK_KDF_F_KIND", KDF_F_KIND), ("LK_RW_FROM_KIND", RW_FROM_KIND),
                         ("LK_RW_TO_KIND", RW_TO_KIND)):
            lines.append(f"{name}({a}) {fn(a)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--emit-c"]:
        sys.stdout.write(emit_c())
    elif sys.argv[1:] == ["--values"]:
        sys.stdout.write(values())
    else:
        sys.exit("usage: latchkey_wire.py --emit-c | --values")
