#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl recovery and escrow against the scripted latchkeyd, which keeps
# a model of each uid's slots and checks every REWRAP field: the request
# sequence (flags, kinds, KDF parameters), the NEED_PASSPHRASE fallback,
# wrong codes and answers, output formats, secrets kept out of output.
# The escrow answer is checked against W computed with the openssl tool.
# Needs root (the client talks only to root-owned servers): else exit 77.
set -u
CTL=$1
MOCK=$2
[ "$(id -u)" = 0 ] || { echo "needs root (the client refuses non-root servers)"; exit 77; }
command -v python3 >/dev/null && command -v openssl >/dev/null || exit 77
TMP=$(mktemp -d /tmp/latchkeyctl-recovery.XXXXXX)
MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail=0
SOCK="$TMP/sock"
CONF="$TMP/conf"
CODE_RE='^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}$'

. "$(dirname "$0")/mock-lib.sh"
# Here has takes extended regular expressions.
has() { grep -q -E -e "$2" "$TMP/$1" || { echo "FAIL: $1 lacks [$2]"; sed 's/^/    /' "$TMP/$1"; fail=1; }; }
hasnt() { ! grep -q -E -e "$2" "$TMP/$1" || { echo "FAIL: $1 has [$2]"; sed 's/^/    /' "$TMP/$1"; fail=1; }; }
# The REWRAP flags sent, in order, one per line (decimal).
rewraps() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "REWRAP":
        print(r["flags"], r.get("reply", "OK"))
    elif r["type"] == "ROTATE":
        print("R%d" % r["flags"], r.get("reply", "OK"))' "$TMP/log"; }
# The salt (E) of the last escrow slot the mock accepted.
escrow_salt() { python3 -c '
import json, sys
salt = ""
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "REWRAP" and (r["flags"] >> 8) == 3 and "reply" not in r:
        salt = r["kdf"]["salt"]
    elif r["type"] == "ROTATE" and "escrow_salt" in r:
        salt = r["escrow_salt"]
print(salt)' "$TMP/log"; }
expect_rewraps() {
	got=$(rewraps | tr '\n' ' ')
	[ "$got" = "$1" ] || { echo "FAIL $2: REWRAPs [$got], want [$1]"; fail=1; }
}
hex() { od -An -v -tx1 | tr -d ' \n'; }
# Flags: FROM | TO << 8; kinds LOGIN 1, RECOVERY 2, ESCROW 3.
HELD_TO_RECOVERY=512; LOGIN_TO_RECOVERY=513; RECOVERY_TO_LOGIN=258
HELD_TO_ESCROW=768; LOGIN_TO_ESCROW=769; ESCROW_TO_LOGIN=259

# --- help and usage ----------------------------------------------------------
run 0 "recovery --help" -- "$CTL" recovery --help
for w in create reset --passphrase-stdin --json "stdin line 2"; do has out "$w"; done
run 0 "escrow --help" -- "$CTL" escrow --help
for w in keygen enable add request answer recover --config-dir --private-key --out \
	"latchkey-escrow-request 2 uid=UID user=NAME machine=" "latchkey-escrow-answer 2 uid=UID user=NAME machine=.* W=" --yes; do has out "$w"; done
run 0 "escrow add --help" -- "$CTL" escrow add --help
run 2 "recovery, no subcommand" -- "$CTL" recovery
run 2 "recovery bogus" -- "$CTL" recovery bogus root
run 2 "recovery create, no user" -- "$CTL" recovery create
run 2 "recovery reset --passphrase-stdin" -- "$CTL" recovery reset root --passphrase-stdin
run 2 "escrow keygen without --out" -- "$CTL" escrow keygen
run 2 "escrow answer without key" -- "$CTL" escrow answer
run 2 "escrow request, option of another subcommand" -- "$CTL" escrow request root --out x
has err "escrow request does not take --out"
run 2 "escrow request --json" -- "$CTL" --json escrow request root
run 2 "escrow enable relative config dir" -- "$CTL" escrow enable x.pem --config-dir etc

# --- recovery create: no live session, so the passphrase fallback -----------
start_mock normal
printf 'old pw\n' | run 0 "enroll" -- "$CTL" --socket "$SOCK" --json enroll root --kdf-time 1 --passphrase-stdin --config-dir "$CONF"
has out '"escrow":false'
# No recovery slot, no escrow slot yet (the code is the man page's example).
printf 'Y0ZXS-CRGSX-6K8G0-8D8PG-9M1BV-XF87J\nx\n' | run 1 "reset without a recovery slot" -- \
	"$CTL" --socket "$SOCK" recovery reset root
has err "the user has no recovery code"
run 1 "escrow request without an escrow slot" -- "$CTL" --socket "$SOCK" escrow request root
has err "the user has no escrow slot"
: >"$TMP/log"
printf 'old pw\n' | run 0 "recovery create (passphrase)" -- "$CTL" --socket "$SOCK" recovery create root --passphrase-stdin
[ "$(wc -l <"$TMP/out")" = 1 ] || { echo "FAIL: stdout is not one line"; fail=1; }
has out "$CODE_RE"
CODE1=$(cat "$TMP/out")
has err "shown only this once"
has err "login passphrase is needed"
has log '"type": "KDF_PARAMS", "uid": 0, "flags": 258'    # FRESH | KIND(RECOVERY)
expect_rewraps "$HELD_TO_RECOVERY ERROR 6 $LOGIN_TO_RECOVERY OK " "create, fallback"
has log "\"flags\": $LOGIN_TO_RECOVERY, .*\"key_len\": 32, \"new_key_len\": 32"
grep -q -e "$CODE1" -e "$(echo "$CODE1" | tr -d -)" "$TMP/err" "$TMP/log" && { echo "FAIL: code leaked"; fail=1; }
grep -q "old pw" "$TMP/out" "$TMP/err" "$TMP/log" && { echo "FAIL: passphrase leaked"; fail=1; }

printf 'bad pw\n' | run 5 "recovery create, wrong passphrase" -- "$CTL" --socket "$SOCK" recovery create root --passphrase-stdin
has err "wrong passphrase for root"
[ -s "$TMP/out" ] && { echo "FAIL: a code printed after a failure"; fail=1; }

# A second code replaces the first.
printf 'old pw\n' | run 0 "recovery create --json" -- "$CTL" --socket "$SOCK" --json recovery create root --passphrase-stdin
python3 - "$TMP/out" "$CODE_RE" <<'PY' || fail=1
import json, re, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"user", "uid", "code"} and d["user"] == "root" and d["uid"] == 0, d
assert re.match(sys.argv[2], d["code"]), d
PY
CODE2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$TMP/out")
[ "$CODE1" != "$CODE2" ] || { echo "FAIL: same code twice"; fail=1; }

# --- recovery reset ------------------------------------------------------------
: >"$TMP/log"
printf '%s\nnew pw\n' "$CODE1" | run 5 "reset with the replaced code" -- "$CTL" --socket "$SOCK" recovery reset root
has err "wrong recovery code for root"
expect_rewraps "R2 ERROR 4 " "reset, wrong code"

typo=$(echo "$CODE2" | python3 -c 'import sys; c=sys.stdin.read().strip(); i=13; print(c[:i] + ("Z" if c[i] != "Z" else "Y") + c[i+1:])')
: >"$TMP/log"
printf '%s\nnew pw\n' "$typo" | run 5 "reset, typo" -- "$CTL" --socket "$SOCK" recovery reset root
has err "has a typo"
[ -s "$TMP/log" ] && { echo "FAIL: a typo reached the daemon"; cat "$TMP/log"; fail=1; }
printf '%s\nnew pw\n' "${CODE2#?????-}" | run 5 "reset, a group missing" -- "$CTL" --socket "$SOCK" recovery reset root
has err "30 characters in groups of 5"
printf '%s\nnew pw\n' "$(echo "$CODE2" | sed 's/^./U/')" | run 5 "reset, bad character" -- "$CTL" --socket "$SOCK" recovery reset root
has err "character 1 of the recovery code"
printf '' | run 2 "reset, no code" -- "$CTL" --socket "$SOCK" recovery reset root
printf '%s\n' "$CODE2" | run 1 "reset, no new passphrase" -- "$CTL" --socket "$SOCK" recovery reset root
has err "empty passphrase"

# Lower case and spaces are fine.
lower=$(echo "$CODE2" | tr 'A-Z-' 'a-z ')
: >"$TMP/log"
printf '  %s \nnew pw\n' "$lower" | run 0 "reset" -- "$CTL" --socket "$SOCK" recovery reset root
has out "Set a new latchkey passphrase for root"
has out "passwd root"
has out "latchkeyctl recovery create root"
has log '"type": "KDF_PARAMS", "uid": 0, "flags": 2}'     # KIND(RECOVERY)
has log '"type": "KDF_PARAMS", "uid": 0, "flags": 257}'   # FRESH | KIND(LOGIN)
expect_rewraps "R2 OK " "reset"
has out "recovery code was retired"
grep -q "new pw" "$TMP/out" "$TMP/err" "$TMP/log" && { echo "FAIL: passphrase leaked"; fail=1; }
# The new passphrase now opens the login slot, the old one does not.
printf 'old pw\n' | run 5 "old passphrase after reset" -- "$CTL" --socket "$SOCK" recovery create root --passphrase-stdin
printf 'new pw\n' | run 0 "new passphrase after reset" -- "$CTL" --socket "$SOCK" recovery create root --passphrase-stdin
CODE3=$(cat "$TMP/out")
printf '%s\nnewer pw\n' "$CODE3" | run 0 "reset --json" -- "$CTL" --socket "$SOCK" --json recovery reset root
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"user":"root","uid":0,"reset":True}, d' \
	"$TMP/out" || fail=1
has err "passwd root"

# --- recovery create with a live session: no passphrase asked -----------------
start_mock session
printf 'pw\n' | run 0 "enroll (session mock)" -- "$CTL" --socket "$SOCK" enroll root --kdf-time 1 --passphrase-stdin --config-dir "$CONF"
: >"$TMP/log"
run 0 "recovery create, live session" -- "$CTL" --socket "$SOCK" recovery create root </dev/null
has out "$CODE_RE"
hasnt err "passphrase is needed"
expect_rewraps "$HELD_TO_RECOVERY OK " "create, live session"
start_mock not-enrolled
run 6 "recovery create, not enrolled" -- "$CTL" --socket "$SOCK" recovery create root </dev/null
has err "not enrolled"

# --- escrow: keys -------------------------------------------------------------
run 0 "escrow keygen" -- "$CTL" escrow keygen --out "$TMP/k.pem"
cp "$TMP/out" "$TMP/pub.pem"
[ "$(stat -c %a "$TMP/k.pem")" = 600 ] || { echo "FAIL: private key mode $(stat -c %a "$TMP/k.pem")"; fail=1; }
openssl pkey -in "$TMP/k.pem" -pubout | cmp -s - "$TMP/pub.pem" || { echo "FAIL: printed key is not k.pem's"; fail=1; }
openssl pkey -in "$TMP/k.pem" -noout -text | grep -q "X25519 Private-Key" || { echo "FAIL: not X25519"; fail=1; }
has err "Key fingerprint"
sum=$(sha256sum <"$TMP/k.pem")
run 1 "escrow keygen refuses to overwrite" -- "$CTL" escrow keygen --out "$TMP/k.pem"
has err "refusing to overwrite"
[ "$(sha256sum <"$TMP/k.pem")" = "$sum" ] || { echo "FAIL: key overwritten"; fail=1; }

run 1 "escrow enable with the private key" -- "$CTL" escrow enable "$TMP/k.pem" --config-dir "$CONF"
has err "PRIVATE key"
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$TMP/ed.pem"
run 1 "escrow enable, Ed25519" -- "$CTL" escrow enable "$TMP/ed.pem" --config-dir "$CONF"
has err "not an X25519 public key"
[ -e "$CONF/escrow.pub" ] && { echo "FAIL: escrow.pub written from a bad key"; fail=1; }
run 0 "escrow enable" -- "$CTL" escrow enable "$TMP/pub.pem" --config-dir "$CONF"
[ "$(stat -c '%a %U' "$CONF/escrow.pub")" = "644 root" ] || { echo "FAIL: escrow.pub $(stat -c '%a %U' "$CONF/escrow.pub")"; fail=1; }
cmp -s "$CONF/escrow.pub" "$TMP/pub.pem" || { echo "FAIL: escrow.pub differs"; fail=1; }
has out "Escrow enabled: $CONF/escrow.pub"
run 0 "escrow enable --json, same key" -- "$CTL" --json escrow enable "$TMP/pub.pem" --config-dir "$CONF"
FP=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["path"]==sys.argv[2] and not d["replaced"], d; print(d["fingerprint"])' \
	"$TMP/out" "$CONF/escrow.pub") || fail=1
# The fingerprint is SHA-256 of the raw public key.
[ "$FP" = "$(openssl pkey -in "$TMP/k.pem" -pubout -outform DER | tail -c 32 | sha256sum | cut -d' ' -f1)" ] ||
	{ echo "FAIL: fingerprint $FP"; fail=1; }
"$CTL" escrow keygen --out "$TMP/k2.pem" >"$TMP/pub2.pem" 2>/dev/null
run 0 "escrow enable, another key" -- "$CTL" --json escrow enable "$TMP/pub2.pem" --config-dir "$CONF"
has out '"replaced":true'
run 0 "escrow enable, back to the first key" -- "$CTL" escrow enable "$TMP/pub.pem" --config-dir "$CONF"
has out "This replaced another escrow key"

# --- escrow: enrolment and add ----------------------------------------------------
start_mock normal
: >"$TMP/log"
printf 'pw1\n' | run 0 "enroll with escrow" -- "$CTL" --socket "$SOCK" --json enroll root --kdf-time 1 --passphrase-stdin --config-dir "$CONF"
has out '"escrow":true'
expect_rewraps "$LOGIN_TO_ESCROW OK " "enroll with escrow"
has log "\"flags\": $LOGIN_TO_ESCROW, \"kdf\": \{\"t\": 0, \"m\": 0, \"p\": 0, \"salt_len\": 32, \"alg\": 2"
: >"$TMP/log"
printf 'pw1\n' | run 0 "escrow add" -- "$CTL" --socket "$SOCK" escrow add root --passphrase-stdin --config-dir "$CONF"
has out "Added an escrow slot for root"
expect_rewraps "$HELD_TO_ESCROW ERROR 6 $LOGIN_TO_ESCROW OK " "escrow add"
printf 'nope\n' | run 5 "escrow add, wrong passphrase" -- "$CTL" --socket "$SOCK" escrow add root --passphrase-stdin --config-dir "$CONF"

# --- escrow: request, answer (checked with openssl), recover --------------------
run 0 "escrow request" -- "$CTL" --socket "$SOCK" escrow request root
MID=$(cat /etc/machine-id)
has out "^latchkey-escrow-request 2 uid=0 user=root machine=$MID E=[0-9a-f]{64}\$"
[ "$(wc -l <"$TMP/out")" = 1 ] || { echo "FAIL: request is not one line"; fail=1; }
cp "$TMP/out" "$TMP/request"
E=$(sed 's/.*E=//' "$TMP/request")
# E is the salt of the escrow slot the daemon holds (the last one accepted).
[ "$(escrow_salt)" = "$E" ] || { echo "FAIL: request E is not the slot's"; fail=1; }

run 0 "escrow answer" -- "$CTL" escrow answer --yes --private-key "$TMP/k.pem" <"$TMP/request"
has out "^latchkey-escrow-answer 2 uid=0 user=root machine=$MID E=$E W=[0-9a-f]{64}\$"
has err "Request for user root \\(uid 0\\) on machine $MID"
cp "$TMP/out" "$TMP/answer"
W=$(sed 's/.*W=//' "$TMP/answer")
# E as a SubjectPublicKeyInfo: the fixed X25519 DER prefix, then the key.
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "302a300506032b656e032100$E" >"$TMP/E.der"
openssl pkey -pubin -inform DER -in "$TMP/E.der" -out "$TMP/E.pem"
K=$(openssl pkeyutl -derive -inkey "$TMP/k.pem" -peerkey "$TMP/E.pem" | hex)
R=$(openssl pkey -in "$TMP/k.pem" -pubout -outform DER | tail -c 32 | hex)
# Version 2: uid (LE32), user name (length-prefixed) and machine id follow E and R.
INFO=$(printf 'latchkey v2 escrow' | hex)$E${R}00000000$(printf '\004root' | hex)$MID
W2=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "hexkey:$K" -kdfopt "hexinfo:$INFO" HKDF | tr -d : | tr A-F a-f)
[ "$W" = "$W2" ] || { echo "FAIL: answer W $W, openssl says $W2"; fail=1; }

run 2 "answer given an answer" -- "$CTL" escrow answer --yes --private-key "$TMP/k.pem" <"$TMP/answer"
has err "that is an answer line"
run 1 "answer with an encrypted key" -- sh -c \
	"openssl pkcs8 -topk8 -v2 aes256 -passout pass:x -in '$TMP/k.pem' >'$TMP/k-enc.pem' &&
	 '$CTL' escrow answer --yes --private-key '$TMP/k-enc.pem' <'$TMP/request'"
has err "is encrypted"

: >"$TMP/log"
printf '%s\nrecovered pw\n' "$(cat "$TMP/request")" | run 2 "recover given the request" -- \
	"$CTL" --socket "$SOCK" escrow recover root --config-dir "$CONF"
has err "that is the request line"
sed 's/uid=0 /uid=7 /' "$TMP/answer" | run 2 "recover, answer for another uid" -- "$CTL" --socket "$SOCK" escrow recover root --config-dir "$CONF"
has err "this answer is for uid 7, not root"
expect_rewraps "" "refused recoveries"

printf '%s\nrecovered pw\n' "$(cat "$TMP/answer")" | run 0 "escrow recover" -- "$CTL" --socket "$SOCK" escrow recover root --config-dir "$CONF"
has out "Set a new latchkey passphrase for root"
has out "passwd root"
has out "answers given before open nothing now"
expect_rewraps "R3 OK " "escrow recover"
E_SEALED=$(escrow_salt)
[ -n "$E_SEALED" ] && [ "$E_SEALED" != "$E" ] || { echo "FAIL: escrow slot not resealed"; fail=1; }
grep -q -e "$W" -e "recovered pw" "$TMP/log" "$TMP/out" "$TMP/err" && { echo "FAIL: secret leaked"; fail=1; }

# The used answer no longer works: refused as stale by the client, and
# also by the daemon when aimed at the new slot.
: >"$TMP/log"
printf '%s\nx\n' "$(cat "$TMP/answer")" | run 5 "used answer again" -- "$CTL" --socket "$SOCK" escrow recover root --config-dir "$CONF"
has err "no longer has"
run 0 "escrow request (new slot)" -- "$CTL" --socket "$SOCK" escrow request root
E_NEW=$(sed 's/.*E=//' "$TMP/out")
[ "$E_NEW" = "$E_SEALED" ] || { echo "FAIL: request after recover has E $E_NEW, want $E_SEALED"; fail=1; }
printf 'latchkey-escrow-answer 2 uid=0 user=root machine=%s E=%s W=%s\nx\n' "$MID" "$E_NEW" "$W" |
	run 5 "old W for the new slot" -- "$CTL" --socket "$SOCK" escrow recover root --config-dir "$CONF"
has err "does not open root's escrow slot"
expect_rewraps "R3 ERROR 4 " "stale answers"
# The passphrase set by recover opens the login slot.
printf 'pw1\n' | run 5 "old passphrase after recover" -- "$CTL" --socket "$SOCK" escrow add root --passphrase-stdin --config-dir "$CONF"
printf 'recovered pw\n' | run 0 "new passphrase after recover" -- "$CTL" --socket "$SOCK" --json escrow add root --passphrase-stdin --config-dir "$CONF"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["user"]=="root" and len(d["fingerprint"])==64, d' \
	"$TMP/out" || fail=1

# A damaged escrow.pub stops enrolment before anything is sent.
echo garbage >"$CONF/escrow.pub"
: >"$TMP/log"
printf 'pw\n' | run 1 "enroll, damaged escrow.pub" -- "$CTL" --socket "$SOCK" enroll root --kdf-time 1 --passphrase-stdin --config-dir "$CONF"
has err "not an X25519 public key"
[ -s "$TMP/log" ] && { echo "FAIL: enrolment went ahead"; fail=1; }
chmod 666 "$CONF/escrow.pub"
run 1 "escrow add, writable escrow.pub" -- "$CTL" --socket "$SOCK" escrow add root --config-dir "$CONF" </dev/null
has err "must be owned by root and not group or world writable"

exit $fail
