#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Escrow answers are bound to user and machine, and a recovery rotates P.
#  - the holder's answer for user B's slot presented as user A's (uid and
#    name of A on the request line) does not open B's slot: latchkeyd
#    refuses it (exit 5), B stays locked, B's passphrase unchanged;
#  - an answer made for another machine id does not open it either, and
#    latchkeyctl on another machine (test-build override) refuses it;
#  - after a real recovery (which rotates), an older copy of the protector
#    file plus the used answer opens nothing in the wrapped key on disk
#    (checked by an independent implementation), while the same pair opens
#    the copy of the wrapped key taken before: the control.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, for its python3-argon2 and python3-cryptography

lk_locked_home_setup lkeb
A=$U; PWA=$PW
B=lkeb$RANDOM; PWB="bee pw $RANDOM"
lk_add_user "$B" "$PWB"
IDB=$(lk_encrypted_home "$B" "$PWB")
ctl lock "$B" >/dev/null
MID=$(cat /etc/machine-id)
OTHER=0123456789abcdef0123456789abcdef
unlock_rc() { local rc=0; printf '%s\n' "$2" | ctl unlock "$1" --passphrase-stdin >/dev/null 2>&1 || rc=$?; echo $rc; }
answer() { "$LATCHKEYCTL" escrow answer --yes --private-key "$W/offline/escrow.key"; }

mkdir -m 0700 "$W/offline"
"$LATCHKEYCTL" escrow keygen --out "$W/offline/escrow.key" >"$W/escrow.pub.pem" 2>/dev/null || fail "keygen"
ctl escrow enable "$W/escrow.pub.pem" --config-dir "$W/etc" >/dev/null || fail "enable"
printf '%s\n' "$PWA" | ctl escrow add "$A" --passphrase-stdin --config-dir "$W/etc" >/dev/null || fail "escrow add $A"
printf '%s\n' "$PWB" | ctl escrow add "$B" --passphrase-stdin --config-dir "$W/etc" >/dev/null || fail "escrow add $B"

# --- B's slot presented as A's --------------------------------------------------
ctl escrow request "$B" >"$W/reqB" 2>/dev/null || fail "request for $B"
UA=$(id -u "$A"); UB=$(id -u "$B")
sed "s/ uid=$UB user=$B / uid=$UA user=$A /" "$W/reqB" >"$W/reqB-as-A"
grep -q "uid=$UA user=$A machine=$MID E=" "$W/reqB-as-A" || fail "forged request: $(cat "$W/reqB-as-A")"
answer <"$W/reqB-as-A" >"$W/ansB-as-A" 2>"$W/err" || fail "answer: $(cat "$W/err")"
grep -q "Request for user $A (uid $UA) on machine $MID" "$W/err" || fail "the holder was not shown the user: $(cat "$W/err")"
# The machine's root turns the answer back into one for B and uses it.
sed "s/ uid=$UA user=$A / uid=$UB user=$B /" "$W/ansB-as-A" >"$W/ans-forged"
rc=0; printf '%s\nstolen pw\n' "$(cat "$W/ans-forged")" | ctl escrow recover "$B" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "does not open" "$W/err" || fail "B's slot opened by an answer made for A: exit $rc, $(cat "$W/err")"
[ "$(key_status "$IDB")" = Absent ] || fail "B's key is $(key_status "$IDB")"
[ "$(unlock_rc "$B" "$PWB")" = 0 ] || fail "B's passphrase changed"
ctl lock "$B" >/dev/null
ok "an answer for user $A does not open $B's slot (latchkeyd refuses, exit 5; $B untouched)"

# --- another machine ----------------------------------------------------------------
sed "s/ machine=$MID / machine=$OTHER /" "$W/reqB" | answer >"$W/ans-other" 2>/dev/null || fail "answer (other machine)"
rc=0; printf '%s\nx\n' "$(cat "$W/ans-other")" | ctl escrow recover "$B" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "another machine" "$W/err" || fail "answer for another machine: exit $rc, $(cat "$W/err")"
sed "s/ machine=$OTHER / machine=$MID /" "$W/ans-other" >"$W/ans-other-fixed"
rc=0; printf '%s\nx\n' "$(cat "$W/ans-other-fixed")" | ctl escrow recover "$B" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "does not open" "$W/err" || fail "other machine's W opened B's slot: exit $rc, $(cat "$W/err")"
# A genuine answer, carried to another machine (test-build override of the id).
answer <"$W/reqB" >"$W/ansB" 2>/dev/null || fail "answer for $B"
rc=0; printf '%s\nx\n' "$(cat "$W/ansB")" | LATCHKEY_TEST_MACHINE_ID=$OTHER ctl escrow recover "$B" --config-dir "$W/etc" \
  >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "another machine" "$W/err" || fail "answer used on another machine: exit $rc, $(cat "$W/err")"
[ "$(unlock_rc "$B" "$PWB")" = 0 ] || fail "B's passphrase changed"
ctl lock "$B" >/dev/null
ok "answers made for another machine id are refused (by latchkeyctl, and by latchkeyd's W)"

# --- rotation: an old protector copy plus the used answer ---------------------------
cp "$W/state/protectors/$UB" "$W/old-protector"
getfattr --only-values -n "trusted.latchkey.key.$UB" "$MNT/home/$B" >"$W/old-xattr" 2>/dev/null || fail "getfattr"
W_B=$(sed 's/.*W=//' "$W/ansB")
"$PY" "$LK_SRC/tests/root/old-copy-attack.py" "$W/old-protector" "$UB" "$B" "$MID" "$W_B" "$W/old-xattr" >/dev/null ||
  fail "control: the answer and the old copy do not open the old wrapped key"
NEWPWB="recovered $RANDOM"
printf '%s\n%s\n' "$(cat "$W/ansB")" "$NEWPWB" | ctl escrow recover "$B" --config-dir "$W/etc" >"$W/out" 2>&1 ||
  fail "recover: $(cat "$W/out")"
grep -q "1 wrapped key(s) resealed" "$W/out" || fail "no rotation reported: $(cat "$W/out")"
getfattr --only-values -n "trusted.latchkey.key.$UB" "$MNT/home/$B" >"$W/new-xattr" 2>/dev/null || fail "getfattr"
cmp -s "$W/old-xattr" "$W/new-xattr" && fail "the wrapped key was not resealed"
rc=0; out=$("$PY" "$LK_SRC/tests/root/old-copy-attack.py" "$W/old-protector" "$UB" "$B" "$MID" "$W_B" "$W/new-xattr") || rc=$?
[ $rc = 1 ] && [ "$out" = refused ] || fail "old protector + used answer on the current wrapped key: $out (exit $rc)"
getfattr -d -m "trusted.latchkey" "$MNT/home/$B" 2>/dev/null | grep -q rotating && fail "a pending xattr was left"
ls "$W/state" | grep -q rotating && fail "a rotation marker was left"
[ "$(unlock_rc "$B" "$NEWPWB")" = 0 ] || fail "the new passphrase does not unlock after the rotation"
[[ "$(key_status "$IDB")" == Present* ]] || fail "xfs_io: $(key_status "$IDB")"
ctl lock "$B" >/dev/null
ok "after recover (rotation) the old protector copy + used answer open nothing on disk; the new passphrase unlocks"
echo PASS
