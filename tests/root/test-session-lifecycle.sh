#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Session tracking on the real kernel: two sessions keep the home unlocked
# until the last ends; a session whose login process is SIGKILLed (no
# close_session) still locks; a file held open at logout is reported as
# incompletely locked and the retry completes the lock once it is closed.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkts

# Two sessions: the first logout leaves the home unlocked, the second locks.
login_held "$W/hold1"; P1=$!
wait_status Present
login_held "$W/hold2"; P2=$!
# The second session must be open before the first ends (a fixed sleep lost
# this race on a loaded machine).
for _ in $(seq 200); do ctl status "$U" --json | grep -q '"sessions": *2' && break; sleep 0.05; done
ctl status "$U" --json | grep -q '"sessions": *2' || fail "the second session did not open: $(ctl status "$U" --json)"
touch "$W/hold1"; wait $P1
sleep 0.3
[[ "$(key_status "$ID")" == Present* ]] || fail "locked after the first of two sessions ended"
cat "$H/f" >/dev/null || fail "home unreadable while the second session is live"
touch "$W/hold2"; wait $P2
wait_status Absent
ok "two sessions: unlocked until the last one ended, then locked"

# A login that brings no password (ssh public key, fingerprint) uses the keys
# of a live session of the same user, and unlocks nothing on its own.
"$PAM_LOGIN" --no-auth "$SERVICE" "$U" -- cat "$H/f" >/dev/null 2>&1 \
  && fail "a password-less login with no other session could read the home"
[ "$(key_status "$ID")" = Absent ] || fail "a password-less login unlocked the home"
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
"$PAM_LOGIN" --no-auth "$SERVICE" "$U" -- cat "$H/f" >/dev/null \
  || fail "a password-less login could not read the home while a password session is live"
[[ "$(key_status "$ID")" == Present* ]] || fail "the password-less logout locked the live session's home"
touch "$W/hold1"; wait $P1
wait_status Absent
ok "password-less login: unlocked only while another session of the user is live"

# A login process killed with SIGKILL never runs close_session: still locks.
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
kill -KILL $P1; wait $P1 2>/dev/null || true
wait_status Absent
ok "SIGKILLed session: the daemon saw end-of-file and locked"

# A file held open at logout: incompletely locked, then locked by the retry
# once the file is closed, with no further login or logout.
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
exec 9<"$H/f"
touch "$W/hold1"; wait $P1
wait_status "Incompletely removed"
ctl status "$U" --json | grep -q '"state": *"incompletely-locked"' \
  || fail "latchkeyctl does not report incompletely locked: $(ctl status "$U" --json)"
exec 9<&-
wait_status Absent
ok "busy file: reported incompletely locked, then the retry completed the lock"
echo PASS
