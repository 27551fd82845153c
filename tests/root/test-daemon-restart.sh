#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash-only latchkeyd: after kill -9 and a restart it rebuilds its state
# from the session records, the live login processes and the kernel's key
# status. A session that outlives the crash still locks at its logout; one
# that ended while the daemon was down is locked at the restart; keys with
# no session at all are removed.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lktr
crash_and_restart() {
  kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
  echo "--- kill -9, restart ---" >>"$W/daemon.log"
  lk_start_daemon
}
records() { find "$W/run/sessions" -type f | wc -l; }

# 1. Live session across a crash: adopted, still unlocked, and its logout locks.
login_held "$W/hold1"; P1=$!
wait_status Present
[ "$(records)" = 1 ] || fail "expected one session record, found $(records)"
crash_and_restart
grep -q "adopted session of uid $(id -u "$U")" "$W/daemon.log" || fail "restarted daemon did not adopt the session"
sleep 0.3
[[ "$(key_status "$ID")" == Present* ]] || fail "restart locked a live session's home"
cat "$H/f" >/dev/null || fail "home unreadable after the restart while the session is live"
ctl status "$U" --json | grep -q '"sessions": *1' || fail "status after restart: $(ctl status "$U" --json)"
touch "$W/hold1"; wait $P1
wait_status Absent
[ "$(records)" = 0 ] || fail "session record left after logout"
ok "kill -9 mid-session: the session was adopted, the logout after the restart locked"

# 2. The session ends while the daemon is down: the restart locks.
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
touch "$W/hold1"; wait $P1
[[ "$(key_status "$ID")" == Present* ]] || fail "nobody should have locked while the daemon was down"
lk_start_daemon
wait_status Absent
grep -q "ended while latchkeyd was down" "$W/daemon.log" || fail "no log line for the session that ended while down"
[ "$(records)" = 0 ] || fail "stale session record kept"
ok "session ended while the daemon was down: locked at the restart"

# 3. Keys in the kernel with no session at all (an explicit unlock): removed at restart.
printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null
wait_status Present
crash_and_restart
wait_status Absent
grep -q "keys loaded but no live session: locking" "$W/daemon.log" || fail "no log line for the lock at restart"
ok "keys without a session: removed at the restart"

# 4. A clean stop (SIGTERM) keeps sessions for the next start, like a crash.
rm -f "$W/hold1"
login_held "$W/hold1"; P1=$!
wait_status Present
lk_stop_daemon
lk_start_daemon
sleep 0.3
[[ "$(key_status "$ID")" == Present* ]] || fail "a restart by SIGTERM locked a live session"
touch "$W/hold1"; wait $P1
wait_status Absent
ok "restart by SIGTERM: the session was kept and its logout locked"
echo PASS
