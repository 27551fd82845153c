#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl against a scripted fake latchkeyd: output formats, exit codes,
# the ENCRYPT passphrase round trip. latchkeyctl only talks to a root-owned
# server, so this needs root (exit 77 = skipped otherwise).
set -u
CTL=$1
MOCK=$2
VALIDATE=${3:-}
SCHEMA=${4:-}
[ "$(id -u)" = 0 ] || { echo "needs root (the client refuses non-root servers)"; exit 77; }
command -v python3 >/dev/null || exit 77
TMP=$(mktemp -d /tmp/latchkeyctl-test.XXXXXX)  # under /tmp: one mock entry is /tmp
MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail=0
SOCK="$TMP/sock"

. "$(dirname "$0")/mock-lib.sh"
start_mock normal
run 0 "status --json" -- "$CTL" --socket "$SOCK" status --json
python3 - "$TMP/out" <<'PY' || fail=1
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                       # must be valid UTF-8
d = json.loads(raw)
p = d["policies"]
assert len(p) == 3, p
assert p[0] == {"user": "root", "uid": 0, "path": "/home/enc", "key_id": "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
                "state": "unlocked", "sessions": 1}, p[0]
assert p[1]["state"] == "locked" and p[1]["sessions"] == 0
assert p[2]["user"] is None and p[2]["uid"] == 4242424 and p[2]["state"] == "incompletely-locked"
assert p[2]["path"] == "/srv/q\"uo\\te/\x1b[2J/j\u00f6rg/\ufffd", repr(p[2]["path"])
PY
has log '"type": "STATUS"'
# The document validates against the schema kept in the repository; so
# does the error object of a failed --json command.
validate() {
	[ -n "$VALIDATE" ] || return 0
	python3 "$VALIDATE" "$SCHEMA" "$@" >"$TMP/valid" 2>&1; rc=$?
	if [ $rc = 77 ] && [ "${CI:-}" != true ]; then echo "note: $(cat "$TMP/valid")"; return 0; fi
	[ $rc = 0 ] || { echo "FAIL: $(cat "$TMP/valid")"; fail=1; }
}
cp "$TMP/out" "$TMP/status.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema_version"] == 2 and d["users"][0]["slots"][0]["kind"] == "login", d' \
	"$TMP/status.json" || fail=1
run 3 "status --json, no daemon" -- "$CTL" --socket "$TMP/nothing" status --json
cp "$TMP/out" "$TMP/error.json"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["exit_status"] == 3 and "cannot reach" in e["message"], e' \
	"$TMP/error.json" || fail=1
validate "$TMP/status.json" "$TMP/error.json"
run 0 "status text" -- "$CTL" --socket "$SOCK" status
has out "USER.*PATH.*KEY-ID.*STATE.*SESSIONS"
has out "root.*/home/enc a0a1a2a3a4a5a6a7a8a9aaabacadaeaf unlocked 1"
has out 'incompletely-locked'
grep -q "$(printf '\033')" "$TMP/out" && { echo "FAIL: raw ESC reached the terminal"; fail=1; }
mkdir "$TMP/sub"
run 0 "status DIR filter" -- "$CTL" --socket "$SOCK" --json status "$TMP/sub/.."
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["policies"]; assert [e["path"] for e in p]==["/tmp"], p' \
	"$TMP/out" || fail=1
has log '"type": "STATUS"}'   # DIR given: no uid sent
run 0 "status USER" -- "$CTL" --socket "$SOCK" status root
has log '"uid": 0'
run 0 "lock" -- "$CTL" --socket "$SOCK" lock root
has out "Locked 2 directories of root"
printf 'correct horse\n' | run 0 "unlock" -- "$CTL" --socket "$SOCK" unlock root --passphrase-stdin
has out "Unlocked 3 directories of root"
has log '"type": "UNLOCK", "uid": 0, "key_len": 32'
printf '\n' | run 1 "unlock, empty passphrase" -- "$CTL" --socket "$SOCK" unlock root --passphrase-stdin
has err "empty passphrase"

printf 'pw\n' | run 0 "enroll" -- "$CTL" --socket "$SOCK" --json enroll root --kdf-time 1 --passphrase-stdin
has err "Tuning Argon2id for ~1 ms"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kdf"]["t_cost"]>=3 and d["kdf"]["m_cost_kib"]>=65536, d' \
	"$TMP/out" || fail=1
has log '"type": "ENROLL", "uid": 0, .*"key_len": 32'
grep -q '"pw"' "$TMP/log" "$TMP/out" "$TMP/err" && { echo "FAIL: passphrase echoed"; fail=1; }

mkdir "$TMP/dir"
: >"$TMP/log"
printf 'pw\n' | run 0 "encrypt with passphrase" -- "$CTL" --socket "$SOCK" encrypt "$TMP/dir" --user root --passphrase-stdin
has out "Key identifier: 000102030405060708090a0b0c0d0e0f"
[ "$(grep -c ENCRYPT "$TMP/log")" = 2 ] || { echo "FAIL: expected two ENCRYPT requests"; cat "$TMP/log"; fail=1; }
has log '"type": "KDF_PARAMS"'

start_mock busy
run 1 "lock busy" -- "$CTL" --socket "$SOCK" lock root
has err "incompletely locked: files still in use; latchkeyd keeps retrying"
start_mock bad-key
printf 'wrong\n' | run 5 "unlock bad key" -- "$CTL" --socket "$SOCK" unlock root --passphrase-stdin
has err "wrong passphrase"
start_mock disk-full
printf 'pw\n' | run 1 "unlock disk full" -- "$CTL" --socket "$SOCK" unlock root --passphrase-stdin
has err "unlock: internal error in latchkeyd: cannot write the root index (No space left on device)"
printf 'pw\n' | run 1 "unlock disk full json" -- "$CTL" --socket "$SOCK" --json unlock root --passphrase-stdin
has out "cannot write the root index (No space left on device)"
start_mock not-enrolled
printf 'pw\n' | run 6 "unlock not enrolled" -- "$CTL" --socket "$SOCK" unlock root --passphrase-stdin
has err "latchkeyctl: unlock: user not enrolled"
start_mock perm
run 4 "status perm" -- "$CTL" --socket "$SOCK" status
has err "latchkeyctl: status: permission denied: only root may do that"
start_mock status-short
run 1 "status short list" -- "$CTL" --socket "$SOCK" status
has err "announced 2 entries but sent 1"

exit $fail
