#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Password changes through real libpam, pam_unix and latchkeyd: the user's own
# change rewraps (the new password unlocks, the old one does not); root's
# reset without a live session leaves the files on the previous password, and
# the next login asks for it once and rewraps (a wrong answer, or a host that
# cannot ask, leaves the home locked; a login pam_unix refuses never asks);
# root's reset during a live session rewraps from the session's key.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkpw
lk_add_password_stack
NEW1="Blue-Kettle-$RANDOM-north"
NEW2="Quiet-Lantern-$RANDOM-west"
NEW3="Amber-Orchard-$RANDOM-east"
ERR=$W/pam-login.err

# login PW [pam-login options...]: a login running `cat $H/f`; its stderr
# (prompts and messages) in $ERR; prints the file if the home was readable.
login() {
  local pw=$1; shift
  printf '%s\n' "$pw" | "$PAM_LOGIN" "$@" "$SERVICE" "$U" -- cat "$H/f" 2>"$ERR"
}
# unlocks PW: does latchkey itself (not pam_unix) accept PW? Locks again after.
unlocks() {
  local rc=0
  printf '%s\n' "$1" | ctl unlock "$U" --passphrase-stdin >/dev/null 2>&1 || rc=$?
  ctl lock "$U" >/dev/null
  wait_status Absent
  [ $rc = 0 ] && return 0
  [ $rc = 5 ] || fail "latchkeyctl unlock: expected 0 or 5 (wrong passphrase), got $rc"
  return 1
}
slot_file() { echo "$W/state/protectors/$(id -u "$U")"; }

# 1. The user changes their own password (passwd run by the user: pam_unix
#    asks for the current one). The change succeeds and the slot follows it.
before=$(slot_file); [ -f "$before" ] || fail "no protector file at $before"
cp "$before" "$W/slot.before"
"$PAM_LOGIN" --chauthtok "$PW" "$NEW1" "$SERVICE" "$U" 2>"$ERR" || fail "passwd by the user failed: $(cat "$ERR")"
grep -q "prompt: Current password" "$ERR" || fail "pam_unix did not ask for the current password: $(cat "$ERR")"
grep -q "latchkey:" "$ERR" && fail "a clean change should say nothing: $(cat "$ERR")"
cmp -s "$W/slot.before" "$(slot_file)" && fail "the protector file did not change"
grep -q "login slot rewrapped" "$W/daemon.log" || fail "the daemon logged no rewrap"
unlocks "$PW" && fail "the old password still opens the login slot"
unlocks "$NEW1" || fail "the new password does not open the login slot"
[ "$(login "$NEW1")" = data ] || fail "login with the new password did not unlock: $(cat "$ERR")"
grep -q "Previous password" "$ERR" && fail "a login in sync was asked for the previous password"
wait_status Absent
ok "own change: new password unlocks at login, the old one no longer opens the slot"

# 2. root resets it (passwd USER: no old password) with no session live: the
#    change goes through, root is told, the slot keeps NEW1.
"$PAM_LOGIN" --chauthtok - "$NEW2" "$SERVICE" "$U" 2>"$ERR" || fail "passwd by root failed: $(cat "$ERR")"
grep -q "prompt: Current password" "$ERR" && fail "pam_unix asked root for the current password"
grep -q "latchkey: the encrypted files of $U still use the previous password; the next login will ask for it once." "$ERR" \
  || fail "root was not told: $(cat "$ERR")"
unlocks "$NEW1" || fail "the admin reset lost the previous password's slot"
unlocks "$NEW2" && fail "the admin reset without a session rewrapped anyway"
ok "admin reset without a session: change done, root told, files still on the previous password"

# 3. A login pam_unix refuses never reaches the prompt, whatever it would answer.
rc=0; login "wrong $NEW2" --previous "$NEW1" >/dev/null || rc=$?
[ $rc = 10 ] || fail "wrong password: expected 10, got $rc"
grep -q "Previous password" "$ERR" && fail "a refused login was asked for the previous password"
unlocks "$NEW2" && fail "a refused login rewrapped the slot"
ok "refused login: no previous-password prompt, no rewrap"

# 4. Hosts that cannot ask: a failing conversation, or one (sshd password
#    authentication) that answers with the login password. The login goes
#    on, the home stays locked.
out=$(login "$NEW2" --previous -) && fail "home readable without the previous password: $out"
grep -q "prompt: Previous password (to unlock your encrypted files): " "$ERR" || fail "no prompt: $(cat "$ERR")"
grep -q "latchkey: your encrypted files now use" "$ERR" && fail "claimed a rewrap"
out=$(login "$NEW2") && fail "home readable with the login password given as the previous one: $out"
grep -q "prompt: Previous password" "$ERR" || fail "no prompt the second time: $(cat "$ERR")"
wait_status Absent
ok "no usable answer: login proceeds, home stays locked"

# 5. A wrong previous password: told, locked, nothing rewrapped.
out=$(login "$NEW2" --previous "not $NEW1") && fail "home readable with a wrong previous password: $out"
grep -q "latchkey: that password does not unlock your encrypted files either; they stay locked." "$ERR" \
  || fail "not told that the previous password was wrong: $(cat "$ERR")"
unlocks "$NEW1" || fail "a wrong previous password changed the slot"
ok "wrong previous password: told, home locked"

# 6. The right previous password: the session unlocks and the slot moves to NEW2.
[ "$(login "$NEW2" --previous "$NEW1")" = data ] || fail "the previous password did not unlock: $(cat "$ERR")"
grep -q "latchkey: your encrypted files now use your new password." "$ERR" || fail "not told: $(cat "$ERR")"
wait_status Absent
[ "$(login "$NEW2")" = data ] || fail "the next login with the new password did not unlock: $(cat "$ERR")"
grep -q "Previous password" "$ERR" && fail "asked again after the rewrap"
wait_status Absent
unlocks "$NEW1" && fail "the previous password still opens the slot after the rewrap"
ok "previous password at login: unlocked, rewrapped, the next login needs only the new one"

# 7. root resets it while the user is logged in: rewrapped from the session's key.
rm -f "$W/hold"
printf '%s\n' "$NEW2" | "$PAM_LOGIN" --hold "$W/hold" "$SERVICE" "$U" -- true 2>/dev/null & P=$!; lk_track $P
wait_status Present
"$PAM_LOGIN" --chauthtok - "$NEW3" "$SERVICE" "$U" 2>"$ERR" || fail "passwd by root failed: $(cat "$ERR")"
grep -q "latchkey:" "$ERR" && fail "an admin reset during a session should say nothing: $(cat "$ERR")"
touch "$W/hold"; wait $P
wait_status Absent
[ "$(login "$NEW3")" = data ] || fail "login after the reset did not unlock: $(cat "$ERR")"
grep -q "Previous password" "$ERR" && fail "asked for the previous password after a reset during a session"
wait_status Absent
unlocks "$NEW2" && fail "the password before the reset still opens the slot"
ok "admin reset during a session: rewrapped from the live key, the new password unlocks"

# Nothing secret in the daemon's log.
for p in "$PW" "$NEW1" "$NEW2" "$NEW3"; do
  grep -F -- "$p" "$W/daemon.log" && fail "a password reached the daemon log"
done
echo PASS
