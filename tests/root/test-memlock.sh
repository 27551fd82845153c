#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyd refuses secret pages it cannot lock. Under a tiny RLIMIT_MEMLOCK
# (prlimit; CAP_IPC_LOCK dropped from the bounding set, as in the unit, or
# root would ignore the limit), users are unlocked one after the other until
# the budget is used up; then an unlock fails cleanly: an error naming the
# memlock budget, the user's key stays absent (xfs_io), one log line, the
# daemon keeps serving, and once other users are locked (their pages freed)
# the same unlock succeeds. The old code used the pages unlocked and never
# failed.
. "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null && command -v setpriv >/dev/null || fail "prlimit/setpriv missing (util-linux)"

lk_make_fs
lk_start_daemon
N=8
NAMES=(); PWS=(); IDS=()
for i in $(seq 0 $((N - 1))); do
  name=lkml$RANDOM$i; pw="pw $i $RANDOM"
  lk_add_user "$name" "$pw"
  IDS+=("$(lk_encrypted_home "$name" "$pw")")
  ctl lock "$name" >/dev/null
  NAMES+=("$name"); PWS+=("$pw")
done
lk_stop_daemon

# 12 pages: the 4 message buffers and room for a few users' keys.
: >"$W/daemon.log"
prlimit --memlock=49152:49152 setpriv --bounding-set=-ipc_lock -- "$LATCHKEYD" --socket "$SOCK" \
  --state-dir "$W/state" --config-dir "$W/etc" --vendor-config-dir "$W/vendor" --debug >>"$W/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "latchkeyd did not start under the small budget: $(cat "$W/daemon.log")"

ok_n=0; failed=
for i in $(seq 0 $((N - 1))); do
  rc=0; printf '%s\n' "${PWS[$i]}" | ctl unlock "${NAMES[$i]}" --passphrase-stdin >"$W/out" 2>"$W/err" || rc=$?
  if [ $rc = 0 ]; then
    [[ "$(key_status "${IDS[$i]}")" == Present* ]] || fail "unlock of ${NAMES[$i]} reported success, xfs_io: $(key_status "${IDS[$i]}")"
    ok_n=$((ok_n + 1))
  else
    failed=$i; break
  fi
done
[ $ok_n -ge 1 ] || fail "not even one user unlocked under the budget: $(cat "$W/err")"
[ -n "$failed" ] || fail "all $N users unlocked in 48 KiB of locked memory: pages were used unlocked"
F=${NAMES[$failed]}
grep -q "memlock budget" "$W/err" || fail "unclear error for $F: $(cat "$W/err")"
[ "$(key_status "${IDS[$failed]}")" = Absent ] || fail "$F's key is $(key_status "${IDS[$failed]}") after the refusal"
kill -0 "$DAEMON_PID" || fail "latchkeyd died"
ctl status >/dev/null || fail "latchkeyd does not answer after the refusal"
# A second refused request within the minute adds no log line.
printf '%s\n' "${PWS[$failed]}" | ctl unlock "$F" --passphrase-stdin >/dev/null 2>&1 && fail "the second try succeeded"
[ "$(grep -c "secret page(s) that could not be locked" "$W/daemon.log")" = 1 ] ||
  fail "expected one log line about refused pages: $(grep -c "could not be locked" "$W/daemon.log")"
grep -q "wrong passphrase for uid $(id -u "$F")" "$W/daemon.log" && fail "a refusal was logged as a wrong passphrase"
grep -q "memlock budget: 48 KiB" "$W/daemon.log" || fail "budget not logged at start"
ok "$ok_n user(s) unlocked, then ${NAMES[$failed]}'s unlock refused cleanly (key absent, one log line, daemon serving)"

for i in $(seq 0 $((ok_n - 1))); do ctl lock "${NAMES[$i]}" >/dev/null; done
printf '%s\n' "${PWS[$failed]}" | ctl unlock "$F" --passphrase-stdin >/dev/null 2>"$W/err" || fail "unlock after freeing pages: $(cat "$W/err")"
[[ "$(key_status "${IDS[$failed]}")" == Present* ]] || fail "xfs_io: $(key_status "${IDS[$failed]}")"
ctl lock "$F" >/dev/null
ok "after the others locked, the same unlock succeeds"
echo PASS
