#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Canary test (secrets leave no residue in memory, core dumps or swap). A user whose password is
# CANARY-<random> logs in through real libpam. The secrets are computed
# independently (secret-scan.py: Argon2id from python3-argon2 with the
# parameters of the daemon's KDF_PARAMS reply, then the protector slot and
# the wrapped key opened with python3-cryptography, K checked against the
# kernel's key identifier). Then, while the session is live and after it
# ended, cores (gcore) and the whole readable memory (/proc/PID/mem) of
# latchkeyd and of the login process after pam_end are searched for the
# password, W, P, K and the two HKDF-derived KEKs; so are the daemon's log,
# the PAM module's syslog output and the login's stderr. Finally a SIGSEGV
# to a throwaway latchkeyd leaves no core (non-dumpable).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/devlog.sh"

PY=/usr/bin/python3 # Debian's, for its python3-argon2 and python3-cryptography
SCAN=$(dirname "$0")/secret-scan.py
ALL=password,W,slot-KEK,P,policy-KEK,K
export DEBUGINFOD_URLS= # gcore must not look for debug info on the network
command -v gcore >/dev/null || fail "gcore (gdb) missing"
"$PY" -c 'import argon2, cryptography' || fail "python3-argon2 or python3-cryptography missing"

LOGIN_PID= THROWAWAY_PID=
residue_cleanup() {
  local rc=$?
  set +e
  for p in $LOGIN_PID $THROWAWAY_PID; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  lk_devlog_stop
  (exit $rc)
  lk_cleanup
}
trap residue_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scan() { "$PY" "$SCAN" scan "$W/secrets" "$@" || fail "secret residue (see above)"; }
# core NAME PID: a core of PID as gdb writes it (it leaves out MADV_DONTDUMP memory, as the kernel does).
core() {
  rm -f "$W/core.$1".*
  gcore -o "$W/core.$1" "$2" >"$W/gcore.log" 2>&1 || { cat "$W/gcore.log"; fail "gcore of $1 ($2) failed"; }
  echo "$W/core.$1.$2"
}

CANARY=CANARY-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
lk_locked_home_setup lksr "$CANARY"

derived=$(printf '%s\n' "$CANARY" | "$PY" "$SCAN" derive "$SOCK" "$(id -u "$U")" "$W/state" "$H" "$W/secrets" \
  2>"$W/kdf") || fail "cannot derive the secrets independently: $(cat "$W/kdf")"
[ "$derived" = "$ID" ] || fail "independently derived key identifier $derived, the directory has $ID"
# The login derives through libsodium (one lane, 16-byte salt: lib/kdf.h), whose
# Argon2 memory is neither MADV_DONTDUMP nor wiped: the scans below cover it.
grep -q "^kdf t=[0-9]* m=[0-9]* p=1 salt=16\$" "$W/kdf" || fail "the login slot is not the libsodium kind: $(cat "$W/kdf")"
# Controls: strings each process surely holds (in its argv), to show a core is searchable.
printf 'daemon-marker %s\nlogin-marker %s\n' "$(printf %s "$SOCK" | od -An -tx1 | tr -d ' \n')" \
  "$(printf %s "$SERVICE" | od -An -tx1 | tr -d ' \n')" >>"$W/secrets"
ok "W, P and K derived independently; K's identifier is the directory's ($ID)"

# A login held open, then held again after pam_end; its syslog goes to our listener.
lk_devlog_start
lk_devlog_exec "$PAM_LOGIN" --hold "$W/hold" --hold-after-end "$W/ended" "$SERVICE" "$U" -- cat "$H/f" \
  <<<"$CANARY" >"$W/login.out" 2>&1 &
LOGIN_PID=$!
wait_status Present
for _ in $(seq 100); do grep -qx data "$W/login.out" && break; sleep 0.05; done
grep -qx data "$W/login.out" || fail "the session could not read the home: $(cat "$W/login.out")"

# Live session: P is in the daemon's locked memory (the control), nowhere else.
scan --absent "$ALL" --present daemon-marker "$(core daemon-live "$DAEMON_PID")"
scan --absent password,W,slot-KEK,policy-KEK,K --present P "pid:$DAEMON_PID"
scan --absent W,slot-KEK,P,policy-KEK,K --present password "pid:$LOGIN_PID"
ok "live session: no password, W, KEK or K in latchkeyd (P only in its non-dumped memory), no key in the login"

# The login after pam_end: nothing at all, neither in its core nor in its memory.
touch "$W/hold"
for _ in $(seq 100); do grep -q "pam_end done" "$W/login.out" && break; sleep 0.05; done
grep -q "pam_end done" "$W/login.out" || fail "the login did not reach pam_end: $(cat "$W/login.out")"
wait_status Absent
scan --absent "$ALL" --present login-marker "$(core login-ended "$LOGIN_PID")"
scan --absent "$ALL" "pid:$LOGIN_PID"
touch "$W/ended"
wait "$LOGIN_PID" || fail "the login exited with $?"
LOGIN_PID=
ok "login process after pam_end: no password, W, P, KEK or K in its core or memory"

scan --absent "$ALL" --present daemon-marker "$(core daemon-ended "$DAEMON_PID")"
scan --absent "$ALL" "pid:$DAEMON_PID"
ok "after logout: no password, W, P, KEK or K in latchkeyd's core or memory"

# Logs at debug level: the daemon's, the module's syslog, the login's stderr.
grep -q "credential of $U accepted" "$DEVLOG_OUT" || fail "no module line in the captured syslog: $(cat "$DEVLOG_OUT")"
scan --absent "$ALL" "log:$W/daemon.log" "log:$DEVLOG_OUT" "log:$W/login.out"
ok "no secret (raw, hex or base64) in the daemon log, the module's syslog or the login's stderr"

# Non-dumpable: SIGSEGV to a throwaway latchkeyd leaves no core in its
# working directory, where a dumpable process (the control) leaves one.
# core_pattern is read, never changed.
pattern=$(cat /proc/sys/kernel/core_pattern)
if [[ "$pattern" == /* || "$pattern" == \|* ]]; then
  echo "note: core_pattern is '$pattern' (not relative): non-dumpable check skipped, it would need a global change"
else
  mkdir "$W/dump-control" "$W/dump"
  (cd "$W/dump-control" && ulimit -c unlimited && exec sleep 30) &
  THROWAWAY_PID=$!
  for _ in $(seq 100); do [ "$(cat /proc/$THROWAWAY_PID/comm 2>/dev/null)" = sleep ] && break; sleep 0.02; done
  kill -SEGV $THROWAWAY_PID; wait $THROWAWAY_PID 2>/dev/null || true; THROWAWAY_PID=
  if [ -z "$(ls "$W/dump-control")" ]; then
    echo "note: a dumpable control process left no core here (core_pattern '$pattern'): non-dumpable check skipped"
  else
    (cd "$W/dump" && ulimit -c unlimited && exec "$LATCHKEYD" --socket "$W/dump/socket" \
      --state-dir "$W/dump/state" --config-dir "$W/etc" >"$W/dump.log" 2>&1) &
    THROWAWAY_PID=$!
    for _ in $(seq 100); do [ -S "$W/dump/socket" ] && break; sleep 0.05; done
    [ -S "$W/dump/socket" ] || fail "the throwaway latchkeyd did not start: $(cat "$W/dump.log")"
    kill -SEGV $THROWAWAY_PID; wait $THROWAWAY_PID 2>/dev/null || true; THROWAWAY_PID=
    leftovers=$(ls "$W/dump" | grep -v -x -e socket -e state -e sessions || true)
    [ -z "$leftovers" ] || fail "SIGSEGV of latchkeyd left: $leftovers"
    ok "non-dumpable: SIGSEGV leaves no core from latchkeyd (the dumpable control left $(ls "$W/dump-control"))"
  fi
fi
echo PASS
