#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every v1 lock drops the whole machine's page cache. A user with a v1 root
# who unlocks and locks it in a loop (their own latchkeyctl, as themselves)
# must not get more than one drop per 5 s: the kernel's own counter
# (/proc/vmstat drop_pagecache) says how many there were. The lock still
# completes, by the retry.
. "$(dirname "$0")/lib.sh"
command -v keyctl >/dev/null || fail "keyctl missing (run scripts/test, which installs it)"
grep -q '^drop_pagecache ' /proc/vmstat || { echo "SKIP: no drop_pagecache counter in /proc/vmstat"; exit 77; }

U=lkvr$RANDOM
G=
v1_cleanup() {  # the user keyring outlives the account: empty it (see test-v1.sh)
  local rc=$?
  set +e
  [ -n "$G" ] && setpriv --reuid="$U" --regid="$G" --clear-groups -- keyctl clear @u 2>/dev/null
  (exit $rc)
  lk_cleanup
}
trap v1_cleanup EXIT

lk_make_fs
PW="v1 pw $RANDOM"
lk_add_user "$U" "$PW"
G=$(id -g "$U")
H=$MNT/home/$U
lk_start_daemon
printf '%s\n' "$PW" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null
printf '%s\n' "$PW" | ctl encrypt "$H" --user "$U" --v1 --passphrase-stdin >/dev/null || fail "encrypt --v1 failed"
setpriv --reuid="$U" --regid="$G" --clear-groups -- sh -c 'echo x > "$0/f"' "$H" || fail "$U cannot write"

as_user() { setpriv --reuid="$U" --regid="$G" --clear-groups -- "$@"; }
drops() { awk '/^drop_pagecache / {print $2}' /proc/vmstat; }

CYCLES=8
before=$(drops); t0=$(date +%s%N)
for _ in $(seq $CYCLES); do
  as_user "$LATCHKEYCTL" --socket "$SOCK" lock "$U" >/dev/null 2>&1 || true   # busy (deferred) exits non-zero
  printf '%s\n' "$PW" | as_user "$LATCHKEYCTL" --socket "$SOCK" unlock "$U" --passphrase-stdin >/dev/null \
    || fail "$U could not unlock their own v1 root"
done
as_user "$LATCHKEYCTL" --socket "$SOCK" lock "$U" >/dev/null 2>&1 || true
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
n=$(($(drops) - before))
allowed=$((elapsed_ms / 5000 + 1))
echo "figure: $((CYCLES + 1)) v1 locks by $U in $elapsed_ms ms: $n page-cache drops (allowed $allowed, +1 for other users of the machine)"
[ "$n" -le $((allowed + 1)) ] || fail "$n page-cache drops for $((CYCLES + 1)) locks in $elapsed_ms ms"
ok "v1 locks in a loop: at most one drop of the machine's caches per 5 s"

# The last lock, deferred or not, completes: no plaintext names, no key.
for _ in $(seq 200); do
  ! ls "$H" | grep -qx f && ctl status "$U" --json | grep -q '"state": *"locked"' && break; sleep 0.1
done
ls "$H" | grep -qx f && fail "plaintext names visible long after the lock"
ctl status "$U" --json | grep -q '"state": *"locked"' || fail "not locked: $(ctl status "$U" --json)"
ok "the deferred lock completed by the retry"
echo PASS
