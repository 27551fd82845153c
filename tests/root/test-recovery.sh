#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Recovery code and escrow recovery with the real daemon, kernel and libpam.
#  - recovery create (with the passphrase; then from a live session's key),
#    reset with the code -> the new passphrase unlocks (latchkeyctl unlock,
#    and a real login after passwd), the old one does not; a replaced code
#    is refused; one recovery slot at a time (protector file size).
#  - escrow keygen/enable/add, enrolment with escrow.pub -> request/answer/
#    recover -> the new passphrase unlocks through a login, the old does
#    not; the used answer no longer works, a fresh request's answer does.
# Key state is read with xfs_io, file contents as the user.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkrc
UID_U=$(id -u "$U")
CODE_RE='^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}$'
PROT=$W/state/protectors

# slots USER: how many slots the protector file holds (16-byte header, 112-byte slots).
slots() { echo $(( ($(stat -c %s "$PROT/$(id -u "$1")") - 16) / 112 )); }
# unlock_rc USER PASSPHRASE: latchkeyctl unlock's exit status.
unlock_rc() { local rc=0; printf '%s\n' "$2" | ctl unlock "$1" --passphrase-stdin >/dev/null 2>&1 || rc=$?; echo $rc; }
# login_reads USER PASSWORD ID: a real login as USER; f must read "data"
# inside the session and the key must be gone after it.
login_reads() {
  local out
  out=$(printf '%s\n' "$2" | "$PAM_LOGIN" "$SERVICE" "$1" -- sh -c \
    "cat \"\$HOME/f\"; xfs_io -c 'enckey_status $3' '$MNT'") || fail "login of $1 failed"
  echo "$out" | grep -qx data || fail "$1's file unreadable in the session: $out"
  echo "$out" | grep -q '^Present' || fail "xfs_io does not report Present in $1's session: $out"
  for _ in $(seq 50); do [ "$(key_status "$3")" = Absent ] && return 0; sleep 0.1; done
  fail "still $(key_status "$3") after $1's logout"
}

# --- recovery code ------------------------------------------------------------
[ "$(slots "$U")" = 1 ] || fail "expected one slot after enrolment"
printf '%s\n' "$PW" | ctl recovery create "$U" --passphrase-stdin >"$W/code1" 2>"$W/err" || fail "recovery create: $(cat "$W/err")"
grep -Eq "$CODE_RE" "$W/code1" && [ "$(wc -l <"$W/code1")" = 1 ] || fail "not one code line: $(cat "$W/code1")"
grep -q "passphrase is needed" "$W/err" || fail "no-session create did not ask for the passphrase"
printf '%s\n' "$PW" | ctl recovery create "$U" --passphrase-stdin >"$W/code2" 2>/dev/null || fail "second recovery create"
[ "$(slots "$U")" = 2 ] || fail "expected login + one recovery slot, got $(slots "$U")"
ok "recovery create: one code line on stdout; a second code replaced the first (2 slots)"

NEWPW="new pw $RANDOM"
rc=0; printf '%s\n%s\n' "$(cat "$W/code1")" "$NEWPW" | ctl recovery reset "$U" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] || fail "reset with the replaced code: exit $rc, want 5"
grep -q "wrong recovery code" "$W/err" || fail "unclear message: $(cat "$W/err")"
[ "$(unlock_rc "$U" "$PW")" = 0 ] || fail "a refused reset broke the old passphrase"
ctl lock "$U" >/dev/null
ok "a replaced code is refused (exit 5) and changes nothing"

printf '%s\n%s\n' "$(cat "$W/code2" | tr 'A-Z-' 'a-z ')" "$NEWPW" | ctl recovery reset "$U" >"$W/out" 2>&1 ||
  fail "reset with the code: $(cat "$W/out")"
grep -q "passwd $U" "$W/out" || fail "no passwd reminder: $(cat "$W/out")"
[ "$(unlock_rc "$U" "$PW")" = 5 ] || fail "the old passphrase still unlocks after the reset"
[ "$(key_status "$ID")" = Absent ] || fail "a refused unlock changed the key status"
[ "$(unlock_rc "$U" "$NEWPW")" = 0 ] || fail "the new passphrase does not unlock"
[[ "$(key_status "$ID")" == Present* ]] || fail "xfs_io: $(key_status "$ID") after unlocking with the new passphrase"
ctl lock "$U" >/dev/null
[ "$(key_status "$ID")" = Absent ] || fail "not locked"
echo "$U:$NEWPW" | chpasswd
login_reads "$U" "$NEWPW" "$ID"
ok "reset with the code: the new passphrase unlocks (latchkeyctl and a real login), the old one does not"

# The reset rotated the protector key and retired the used code; a code
# made from a live session's key (no passphrase asked) is the next one.
PW3=$NEWPW
rc=0; printf '%s\nx y z\n' "$(cat "$W/code2")" | ctl recovery reset "$U" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 1 ] && grep -q "no recovery code" "$W/err" || fail "the used code resets a second time (exit $rc): $(cat "$W/err")"
[ "$(slots "$U")" = 1 ] || fail "the used code's slot is still there ($(slots "$U") slots)"
touch_free=$W/hold1
printf '%s\n' "$PW3" | "$PAM_LOGIN" --hold "$touch_free" "$SERVICE" "$U" -- true &
HOLDER=$!; lk_track $HOLDER
wait_status Present
ctl recovery create "$U" </dev/null >"$W/code3" 2>"$W/err" || fail "create from a live session: $(cat "$W/err")"
grep -q "passphrase is needed" "$W/err" && fail "a passphrase was asked although the daemon holds the key"
grep -Eq "$CODE_RE" "$W/code3" || fail "no code from the live-session create"
grep -q "recovery slot rewrapped (from the held key" "$W/daemon.log" || fail "daemon did not rewrap from the held key"
touch "$touch_free"; wait "$HOLDER" || fail "held login failed"
wait_status Absent
rc=0; printf '%s\nx y z\n' "$(cat "$W/code2")" | ctl recovery reset "$U" >/dev/null 2>&1 || rc=$?
[ $rc = 5 ] || fail "the replaced code still resets (exit $rc)"
[ "$(slots "$U")" = 2 ] || fail "expected 2 slots, got $(slots "$U")"
ok "a used code is retired by the reset; create from a live session asks nothing"

# --- escrow -------------------------------------------------------------------------
mkdir -m 0700 "$W/offline"
"$LATCHKEYCTL" escrow keygen --out "$W/offline/escrow.key" >"$W/escrow.pub.pem" 2>/dev/null || fail "keygen"
ctl escrow enable "$W/escrow.pub.pem" --config-dir "$W/etc" >/dev/null || fail "escrow enable"
[ "$(stat -c '%a %U' "$W/etc/escrow.pub")" = "644 root" ] || fail "escrow.pub: $(stat -c '%a %U' "$W/etc/escrow.pub")"

# An existing user: escrow add (no session: their passphrase).
printf '%s\n' "$PW3" | ctl escrow add "$U" --passphrase-stdin --config-dir "$W/etc" >/dev/null || fail "escrow add"
[ "$(slots "$U")" = 3 ] || fail "expected login + recovery + escrow slots, got $(slots "$U")"
MID=$(cat /etc/machine-id)
ctl escrow request "$U" | grep -Eq "^latchkey-escrow-request 2 uid=$UID_U user=$U machine=$MID E=[0-9a-f]{64}$" ||
  fail "request for $U"

# A user enrolled after enable gets the slot at enrolment.
PWV="vee pw $RANDOM"
V=lkte$RANDOM
lk_add_user "$V" "$PWV"
printf '%s\n' "$PWV" | ctl enroll "$V" --passphrase-stdin --kdf-time 1 --config-dir "$W/etc" >"$W/out" || fail "enroll $V"
grep -q "Added an escrow slot" "$W/out" || fail "enroll did not add the escrow slot: $(cat "$W/out")"
[ "$(slots "$V")" = 2 ] || fail "expected login + escrow slots for $V, got $(slots "$V")"
printf '%s\n' "$PWV" | ctl encrypt "$MNT/home/$V" --user "$V" --passphrase-stdin >/dev/null
IDV=$(xfs_io -c get_encpolicy "$MNT/home/$V" | awk '/Master key identifier/ {print $4}')
"$PAM_LOGIN" --no-auth "$SERVICE" "$V" -- sh -c 'echo data > "$HOME/f"'
ctl lock "$V" >/dev/null
[ "$(key_status "$IDV")" = Absent ] || fail "$V not locked"

ctl escrow request "$V" >"$W/request" 2>/dev/null || fail "request for $V"
"$LATCHKEYCTL" escrow answer --yes --private-key "$W/offline/escrow.key" <"$W/request" >"$W/answer" 2>/dev/null || fail "answer"
grep -Eq "^latchkey-escrow-answer 2 uid=$(id -u "$V") user=$V machine=$MID E=[0-9a-f]{64} W=[0-9a-f]{64}$" "$W/answer" || fail "answer: $(cat "$W/answer")"
NEWPWV="recovered pw $RANDOM"
printf '%s\n%s\n' "$(cat "$W/answer")" "$NEWPWV" | ctl escrow recover "$V" --config-dir "$W/etc" >"$W/out" 2>&1 ||
  fail "escrow recover: $(cat "$W/out")"
[ "$(unlock_rc "$V" "$PWV")" = 5 ] || fail "the old passphrase of $V still unlocks"
[ "$(key_status "$IDV")" = Absent ] || fail "a refused unlock changed $V's key status"
echo "$V:$NEWPWV" | chpasswd
login_reads "$V" "$NEWPWV" "$IDV"
[ "$(slots "$V")" = 2 ] || fail "expected 2 slots for $V after recover, got $(slots "$V")"
ok "escrow: request, offline answer, recover -> the new passphrase logs in and unlocks, the old does not"

# The used answer opens nothing now: refused as stale, and, aimed at the
# resealed slot, refused by the daemon.
rc=0; printf '%s\nz\n' "$(cat "$W/answer")" | ctl escrow recover "$V" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "no longer has" "$W/err" || fail "used answer: exit $rc, $(cat "$W/err")"
ctl escrow request "$V" >"$W/request2" 2>/dev/null || fail "second request"
cmp -s "$W/request" "$W/request2" && fail "the escrow slot was not resealed (same E)"
E2=$(sed 's/.*E=//' "$W/request2")
OLDW=$(sed 's/.*W=//' "$W/answer")
rc=0; printf 'latchkey-escrow-answer 2 uid=%s user=%s machine=%s E=%s W=%s\nz\n' "$(id -u "$V")" "$V" "$MID" "$E2" "$OLDW" |
  ctl escrow recover "$V" --config-dir "$W/etc" >/dev/null 2>"$W/err" || rc=$?
[ $rc = 5 ] && grep -q "does not open" "$W/err" || fail "old W on the new slot: exit $rc, $(cat "$W/err")"
[ "$(unlock_rc "$V" "$NEWPWV")" = 0 ] || fail "a refused recover changed $V's passphrase"
ctl lock "$V" >/dev/null
ok "the used answer no longer works (stale E refused; old W refused by latchkeyd)"

"$LATCHKEYCTL" escrow answer --yes --private-key "$W/offline/escrow.key" <"$W/request2" >"$W/answer2" 2>/dev/null || fail "answer 2"
PWV2="again pw $RANDOM"
printf '%s\n%s\n' "$(cat "$W/answer2")" "$PWV2" | ctl escrow recover "$V" --config-dir "$W/etc" >/dev/null 2>&1 ||
  fail "recover with a fresh answer"
[ "$(unlock_rc "$V" "$PWV2")" = 0 ] || fail "the passphrase from the second recovery does not unlock"
[[ "$(key_status "$IDV")" == Present* ]] || fail "xfs_io: $(key_status "$IDV")"
ctl lock "$V" >/dev/null
ok "a fresh request's answer works"

for s in "$PW" "$NEWPW" "$PW3" "$PWV" "$NEWPWV" "$PWV2" "$(cat "$W/code2")" "$OLDW"; do
  grep -qF -- "$s" "$W/daemon.log" && fail "a secret reached the daemon log"
done
echo "PASS"
