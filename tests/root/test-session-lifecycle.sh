#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Session tracking on the real kernel: two sessions keep the home unlocked
# until the last ends; a session whose login process is SIGKILLed (no
# close_session) still locks; a file held open at logout is reported as
# incompletely locked and the retry completes the lock once it is closed;
# so does one held past several retries, which the back-off spaces out.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkts

# Two sessions: the first logout leaves the home unlocked, the second locks.
login_held "$W/hold1"; P1=$!
wait_status Present
login_held "$W/hold2"; P2=$!
wait_log "session 2 of uid $(id -u "$U") opened"
touch "$W/hold1"; wait $P1
wait_log "session of uid $(id -u "$U") ended, 1 left"
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

# A file held open past several retries. The daemon retries 0.5 s after the
# logout's attempt and doubles the delay each time (up to 30 s): attempts at
# 0, 0.5, 1.5, 3.5, 7.5 s. Wait for the fourth busy attempt (3.5 s), close
# the file: the next retry, 4 s later, completes the lock. A retry that is
# never re-armed after its first run stops at two attempts.
busy_attempts() { grep -cF "$H incompletely locked: files are still in use; will retry" "$W/daemon.log" || true; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
exec 9<"$H/f"
n0=$(busy_attempts)
t0=$(date +%s%N)  # before the logout: the attempts can only seem later
touch "$W/hold1"; wait $P1
for _ in $(seq 200); do [ "$(busy_attempts)" -ge $((n0 + 4)) ] && break; sleep 0.05; done
[ "$(busy_attempts)" -ge $((n0 + 4)) ] \
  || fail "$(( $(busy_attempts) - n0 )) lock attempts in $(ms_since "$t0") ms after logout; the retry should have made 4 by 3.5 s"
ms=$(ms_since "$t0")
[ "$ms" -ge 3000 ] || fail "4 lock attempts within $ms ms of logout: the retry does not back off (0.5 s, doubling)"
[[ "$(key_status "$ID")" == "Incompletely removed"* ]] || fail "not incompletely locked while the file is open"
exec 9<&-
t1=$(date +%s%N)
for _ in $(seq 200); do [ "$(key_status "$ID")" = Absent ] && break; sleep 0.05; done
[ "$(key_status "$ID")" = Absent ] \
  || fail "still $(key_status "$ID") $(ms_since "$t1") ms after the file was closed (the next retry is due within 4 s)"
ok "busy file held past 4 attempts ($ms ms): locked $(ms_since "$t1") ms after it was closed"
echo PASS
