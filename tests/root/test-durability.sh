#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Durability of the metadata writes that enrolment and password changes
# make: the real daemon runs under strace (the kernel's view of its system
# calls), and every atomic replace must go write, fsync of the temporary,
# rename, fsync of the directory. The fault hooks make a step fail; this
# checks that each step happens, in that order.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || fail "strace missing (run scripts/test, which installs it)"
CHECK=$(dirname "$0")/check-durable-writes.py

lk_make_fs
U=lkdu$RANDOM; PW="pw $RANDOM"; NEW="new pw $RANDOM x9"
lk_add_user "$U" "$PW"
UID_U=$(id -u "$U")
lk_write_pam_service
lk_add_password_stack

# traced_daemon PHASE: our daemon, every process of it traced into
# $W/trace-PHASE.PID. DAEMON_PID is the daemon itself (strace's child).
# "?": rename and renameat do not exist on every architecture.
STRACE_PID=
traced_daemon() {
  # In a sanitizer build: LeakSanitizer cannot run in a traced process (the
  # other root tests check the daemon's leaks).
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -ff -qq -y -e signal=none -o "$W/trace-$1" \
    -e trace=fsync,fdatasync,?rename,?renameat,renameat2,write,pwrite64 \
    "$LATCHKEYD" --socket "$SOCK" --state-dir "$W/state" --config-dir "$W/etc" \
    --vendor-config-dir "$W/vendor" --debug >>"$W/daemon.log" 2>&1 &
  STRACE_PID=$!; lk_track $STRACE_PID
  for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
  [ -S "$SOCK" ] || fail "latchkeyd under strace did not create its socket"
  DAEMON_PID=$(pgrep -P "$STRACE_PID" -x latchkeyd) || fail "no latchkeyd below strace"
}
# Stop it; strace exits with it, its trace complete.
stop_traced_daemon() {
  kill "$DAEMON_PID"; DAEMON_PID=
  wait "$STRACE_PID" || true
  rm -f "$SOCK"
}

traced_daemon enrol
lk_encrypted_home "$U" "$PW" >/dev/null
stop_traced_daemon
python3 "$CHECK" "$W/trace-enrol" "$W/state" "protectors/$UID_U" kdf-target "index/$UID_U" \
  || fail "enrolment and encrypt: a metadata write is not durable"
ok "enrol and encrypt: protectors/$UID_U, kdf-target, index/$UID_U each fsynced, renamed, directory fsynced"

traced_daemon passwd
"$PAM_LOGIN" --chauthtok "$PW" "$NEW" "$SERVICE" "$U" 2>"$W/err" || fail "passwd failed: $(cat "$W/err")"
stop_traced_daemon
grep -q "uid $UID_U: login slot rewrapped" "$W/daemon.log" || fail "the password change rewrapped nothing"
python3 "$CHECK" "$W/trace-passwd" "$W/state" "protectors/$UID_U" \
  || fail "password change: the rewrapped slot's write is not durable"
ok "password change: protectors/$UID_U fsynced, renamed, directory fsynced"
echo PASS
