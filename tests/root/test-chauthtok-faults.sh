#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Password changes under faults: the protector file's filesystem full
# (ENOSPC), each step of its atomic replace failing (EIO from the test
# hooks), and latchkeyd killed (SIGKILL) just before each step. After every
# fault the old or the new password opens the login slot (never neither),
# the protector file parses, and no temporary file is left once the daemon
# has restarted. Needs a build with -Dtest_hooks=true (scripts/test makes one).
. "$(dirname "$0")/lib.sh"

# The state directory lives on the test filesystem, so it can be filled.
LK_STATE=$MNT/state
lk_locked_home_setup lkpf
lk_add_password_stack
SLOT=$LK_STATE/protectors/$(id -u "$U")
ERR=$W/pam-login.err
CUR=$PW   # the password latchkey's login slot holds
n=0

# opens PW: does the login slot open with PW? (latchkeyctl unlock, then lock)
opens() {
  local rc=0
  printf '%s\n' "$1" | ctl unlock "$U" --passphrase-stdin >/dev/null 2>&1 || rc=$?
  ctl lock "$U" >/dev/null 2>&1
  wait_status Absent
  [ $rc = 0 ] && return 0
  [ $rc = 5 ] || fail "latchkeyctl unlock: expected 0 or 5, got $rc"
  return 1
}
no_temp_files() {
  local t; t=$(find "$LK_STATE/protectors" -name '*.tmp-*' | wc -l)
  [ "$t" = 0 ] || fail "$t temporary file(s) left in the state directory"
}
# change: the user changes their password from CUR to a new one through
# pam_unix and pam_latchkey. Sets NEW. pam_unix's change always succeeds.
change() {
  n=$((n + 1)); NEW="Fault-$n-Kettle-$RANDOM-x"
  echo "$U:$CUR" | chpasswd
  "$PAM_LOGIN" --chauthtok "$CUR" "$NEW" "$SERVICE" "$U" 2>"$ERR" || fail "passwd failed: $(cat "$ERR")"
}
# settle WHAT: exactly one of CUR and NEW must open the slot; CUR becomes it,
# and GOT says which ("old" or "new").
settle() {
  local old_ok=0 new_ok=0
  opens "$CUR" && old_ok=1
  opens "$NEW" && new_ok=1
  [ $((old_ok + new_ok)) = 1 ] || fail "$1: old opens=$old_ok, new opens=$new_ok (want exactly one)"
  GOT=old
  if [ $new_ok = 1 ]; then CUR=$NEW; GOT=new; fi
}
# A daemon started with a fault hook in its environment.
start_with() {
  [ -n "$DAEMON_PID" ] && { kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=; }
  rm -f "$SOCK"
  env "$@" "$LATCHKEYD" --socket "$SOCK" --state-dir "$LK_STATE" --config-dir "$W/etc" \
    --vendor-config-dir "$W/vendor" --debug >>"$W/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
  fail "latchkeyd did not start"
}

# 1. ENOSPC: fill the filesystem that holds the state directory.
cp "$SLOT" "$W/slot.before"
mkdir "$MNT/fill"
dd if=/dev/zero of="$MNT/fill/big" bs=1M status=none 2>/dev/null || true
# ext4 keeps a few blocks back; small files take them until none is left.
for i in $(seq 10000); do printf x 2>/dev/null >"$MNT/fill/$i" && sync -f "$MNT" 2>/dev/null || break; done
printf x 2>/dev/null >"$MNT/fill/probe" && sync "$MNT/fill/probe" 2>/dev/null && fail "could not fill the filesystem"
change
grep -q "no space left\|No space left" "$W/daemon.log" || fail "no ENOSPC in the daemon log"
grep -q "latchkey:" "$ERR" || fail "the user was not told the files kept the old password: $(cat "$ERR")"
cmp -s "$W/slot.before" "$SLOT" || fail "the protector file changed although the write failed"
rm -rf "$MNT/fill"; sync
settle ENOSPC
[ "$GOT" = old ] || fail "ENOSPC: expected the old password to stay"
no_temp_files
ok "ENOSPC: the change failed cleanly, the old password still opens the slot, the file is unchanged"

# 2. Each step of the atomic replace fails (EIO from the hooks), or latchkeyd
#    is killed (SIGKILL) just before it and restarted (which sweeps the
#    temporary file). Before the rename the old password stays; after it
#    (the directory's fsync) the new one.
for fault in FAIL CRASH; do
  for step in write fsync rename dirsync; do
    start_with LATCHKEY_TEST_${fault}_AT=$step
    change
    if [ $fault = CRASH ]; then
      for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$DAEMON_PID" 2>/dev/null && fail "latchkeyd did not crash at $step"
      wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
      start_with
    fi
    settle "$fault at $step"
    want=old; [ $step = dirsync ] && want=new
    [ "$GOT" = $want ] || fail "$fault at $step: the $GOT password opens the slot, expected the $want one"
    no_temp_files
    ok "$fault at $step: the $GOT password opens the slot, nothing left behind"
  done
done

# Last, a clean change after all that: the slot follows, and a login unlocks.
start_with
change
settle clean
[ "$GOT" = new ] || fail "a clean change after the faults did not rewrap"
echo "$U:$CUR" | chpasswd
out=$(printf '%s\n' "$CUR" | "$PAM_LOGIN" "$SERVICE" "$U" -- cat "$H/f" 2>"$ERR") || true
[ "$out" = data ] || fail "login with the final password did not unlock: $(cat "$ERR")"
grep -q "$PW" "$W/daemon.log" && fail "a password reached the daemon log"
echo PASS
