#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Protector format upgrade, the KDF floor, and crash-safe rotation:
#  - a version 1 protector file (written by an independent implementation of
#    the old format) with a v1 login slot and a v1 escrow slot still opens;
#    its escrow request is a version 1 line; at the next rewrap latchkeyd
#    writes version 2, keeps the login slot bit for bit, and upgrades the
#    escrow slot to one bound to user and machine: the old v1 answer is then
#    refused and a version 2 answer recovers;
#  - ENROLL and REWRAP with Argon2id t below 3 are refused by latchkeyd;
#  - latchkeyd killed right before the rotation's commit, or right after it:
#    the restart undoes or finishes it (no pending xattr, no marker, the
#    wrapped key as before or resealed), and the passphrase unlocks;
#  - rotate with a wrong passphrase is exit 5 and changes nothing.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, for its python3-argon2 and python3-cryptography

lk_make_fs
U=lkkh$RANDOM; PW="pw $RANDOM"
lk_add_user "$U" "$PW"
UID_U=$(id -u "$U")
MID=$(cat /etc/machine-id)
PROT=$W/state/protectors/$UID_U
unlock_rc() { local rc=0; printf '%s\n' "$2" | ctl unlock "$1" --passphrase-stdin >/dev/null 2>&1 || rc=$?; echo $rc; }
xattr() { getfattr --only-values -n "trusted.latchkey.key.$UID_U" "$MNT/home/$U" 2>/dev/null | od -An -tx1 | tr -d ' \n'; }
answer() { "$LATCHKEYCTL" escrow answer --yes --private-key "$W/offline/escrow.key"; }

mkdir -m 0700 "$W/offline"
"$LATCHKEYCTL" escrow keygen --out "$W/offline/escrow.key" >"$W/escrow.pub.pem" 2>/dev/null || fail "keygen"
ctl escrow enable "$W/escrow.pub.pem" --config-dir "$W/etc" >/dev/null || fail "enable"
lk_start_daemon

# --- a version 1 file ---------------------------------------------------------------
E1=$(printf '%s\n' "$PW" | "$PY" "$LK_SRC/tests/root/make-v1-protector.py" "$PROT" "$UID_U" "$W/etc/escrow.pub") ||
  fail "cannot write the v1 file"
cp "$PROT" "$W/v1-file"
printf '%s\n' "$PW" | ctl encrypt "$MNT/home/$U" --user "$U" --passphrase-stdin >/dev/null || fail "encrypt with the v1 login slot"
ID=$(xfs_io -c get_encpolicy "$MNT/home/$U" | awk '/Master key identifier/ {print $4}')
ctl lock "$U" >/dev/null
[ "$(unlock_rc "$U" "$PW")" = 0 ] && [[ "$(key_status "$ID")" == Present* ]] || fail "the v1 login slot does not unlock"
ctl lock "$U" >/dev/null
cmp -s "$PROT" "$W/v1-file" || fail "reading the v1 file rewrote it"
ctl escrow request "$U" >"$W/req1" 2>/dev/null || fail "request"
grep -qx "latchkey-escrow-request 1 uid=$UID_U E=$E1" "$W/req1" || fail "v1 slot's request: $(cat "$W/req1")"
answer <"$W/req1" >"$W/ans1" 2>"$W/err" || fail "v1 answer"
grep -q "Version 1 request" "$W/err" || fail "the holder was not warned about a v1 request: $(cat "$W/err")"
ok "a version 1 protector file opens, and its v1 escrow slot gives a version 1 request"

printf '%s\n' "$PW" | ctl recovery create "$U" --passphrase-stdin >/dev/null 2>&1 || fail "recovery create (a rewrap)"
grep -q "uid $UID_U: escrow slot upgraded" "$W/daemon.log" || fail "no escrow upgrade logged"
[ "$(od -An -tu1 -j4 -N1 "$PROT" | tr -d ' ')" = 2 ] || fail "the file was not rewritten as version 2"
cmp -s <(tail -c +17 "$W/v1-file" | head -c 112) <(tail -c +17 "$PROT" | head -c 112) || fail "the login slot changed"
ctl escrow request "$U" >"$W/req2" 2>/dev/null || fail "request after the upgrade"
grep -Eq "^latchkey-escrow-request 2 uid=$UID_U user=$U machine=$MID E=[0-9a-f]{64}$" "$W/req2" || fail "request: $(cat "$W/req2")"
grep -q "E=$E1" "$W/req2" && fail "the escrow slot was not resealed"
rc=0; printf '%s\nx\n' "$(cat "$W/ans1")" | ctl escrow recover "$U" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "version 1 answer" "$W/err" || fail "v1 answer after the upgrade: exit $rc, $(cat "$W/err")"
[ "$(unlock_rc "$U" "$PW")" = 0 ] || fail "the old passphrase broke"
ctl lock "$U" >/dev/null
answer <"$W/req2" >"$W/ans2" 2>/dev/null || fail "v2 answer"
PW2="second $RANDOM"
printf '%s\n%s\n' "$(cat "$W/ans2")" "$PW2" | ctl escrow recover "$U" --config-dir "$W/etc" >/dev/null 2>&1 || fail "v2 recover"
[ "$(unlock_rc "$U" "$PW2")" = 0 ] || fail "the recovered passphrase does not unlock"
ctl lock "$U" >/dev/null
ok "the next rewrap writes version 2, keeps the v1 login slot, upgrades escrow; the v1 answer is refused, a v2 one recovers"

# --- the floor ----------------------------------------------------------------------
floor_reply() {
  "$PY" - "$SOCK" "$1" "$2" "$3" <<'PY'
import os, sys
import latchkey_wire as wire
sock, mtype, uid, t = sys.argv[1], getattr(wire, "REQ_" + sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fields = {wire.T_UID: wire.u32(uid), wire.T_KDF: wire.kdf(wire.KDF_ARGON2ID, t, 65536, 1, os.urandom(16))}
if mtype == wire.REQ_ENROLL:
    fields[wire.T_KEY] = os.urandom(32)
else:
    fields.update({wire.T_NEW_KEY: os.urandom(32), wire.T_FLAGS: wire.u32(wire.RW_FLAGS(0, 1))})
m = wire.request(sock, mtype, fields, timeout=10)[0]
out = []
if wire.T_STATUS in m.fields: out.append("status=%d" % wire.status(m))
if wire.T_TEXT in m.fields: out.append(m.fields[wire.T_TEXT].decode())
print(wire.REP_NAMES[m.type], *out)
PY
}
V=lkkv$RANDOM; lk_add_user "$V" "vpw"
out=$(floor_reply ENROLL "$(id -u "$V")" 1); echo "$out" | grep -q "^ERROR status=7 .*floor" || fail "ENROLL t=1: $out"
[ -e "$W/state/protectors/$(id -u "$V")" ] && fail "ENROLL t=1 wrote a protector file"
out=$(floor_reply REWRAP "$UID_U" 2); echo "$out" | grep -q "^ERROR status=7 .*floor" || fail "REWRAP t=2: $out"
out=$(floor_reply ENROLL "$(id -u "$V")" 3); echo "$out" | grep -q "^OK" || fail "ENROLL t=3: $out"
ok "ENROLL (t=1) and REWRAP (t=2) below the floor are refused; t=3 is taken"

# --- rotation: wrong passphrase, and a crash at each step ----------------------------
before=$(xattr)
rc=0; printf 'wrong\n' | ctl rotate "$U" --passphrase-stdin >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && [ "$(xattr)" = "$before" ] || fail "rotate with a wrong passphrase: exit $rc, $(cat "$W/err")"
for point in rotate-commit rotate-settle; do
  lk_stop_daemon
  export LATCHKEY_TEST_CRASH_AT=$point; lk_start_daemon; unset LATCHKEY_TEST_CRASH_AT
  before=$(xattr)
  printf '%s\n' "$PW2" | ctl rotate "$U" --passphrase-stdin >/dev/null 2>&1 && fail "rotate survived the crash at $point"
  wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
  ls "$W/state" | grep -q "^rotating-$UID_U$" || fail "no rotation marker after the crash at $point"
  lk_start_daemon
  for _ in $(seq 100); do ls "$W/state" | grep -q rotating || break; sleep 0.05; done
  ls "$W/state" | grep -q rotating && fail "the marker stayed after the restart ($point)"
  getfattr -d -m trusted.latchkey "$MNT/home/$U" 2>/dev/null | grep -q rotating && fail "a pending xattr stayed ($point)"
  if [ $point = rotate-commit ]; then
    grep -q "uid $UID_U: undoing an interrupted key rotation" "$W/daemon.log" || fail "not undone"
    [ "$(xattr)" = "$before" ] || fail "the wrapped key changed although the rotation never committed"
  else
    grep -q "uid $UID_U: finishing an interrupted key rotation" "$W/daemon.log" || fail "not finished"
    [ "$(xattr)" != "$before" ] || fail "the committed rotation left the old wrapped key"
  fi
  [ "$(unlock_rc "$U" "$PW2")" = 0 ] && [[ "$(key_status "$ID")" == Present* ]] || fail "no unlock after the crash at $point"
  ctl lock "$U" >/dev/null
done
ok "a crash before the rotation's commit is undone at restart, one after it finished; the passphrase unlocks either way"
echo PASS
