#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lib.sh's clean-up kills the root-owned helpers a test started: a test that
# fails with a login held open (lib-cleanup-child.sh) must end at once, not
# keep its output pipe open (meson waits for that pipe until the test's
# 300 s timeout). The child's output goes through a pipe, as under meson;
# its reader gives up after 60 s.
. "$(dirname "$0")/lib.sh"

CHILD=$(dirname "$0")/lib-cleanup-child.sh
OUT=$W/child.out
LEAK_PID= LEAK_USER=

# With a broken clean-up the child's login outlives it: kill that login (it
# is pam-login, re-parented away from us) and delete its user, so this test
# too leaves the machine as it found it.
selftest_cleanup() {
  local rc=$?
  set +e
  if [ -n "$LEAK_PID" ] && [ "$(readlink "/proc/$LEAK_PID/exe")" = "$(readlink -f "$PAM_LOGIN")" ]; then
    kill -KILL "$LEAK_PID"
    for _ in $(seq 100); do kill -0 "$LEAK_PID" 2>/dev/null || break; sleep 0.05; done
  fi
  [ -n "$LEAK_USER" ] && id "$LEAK_USER" >/dev/null 2>&1 && { pkill -KILL -u "$LEAK_USER"; userdel "$LEAK_USER"; }
  (exit $rc)
  lk_cleanup
}
trap selftest_cleanup EXIT

set +e
{ "$CHILD" 2>&1; echo "CHILD_RC=$?"; } | timeout 60 cat >"$OUT"
set -e
EOF_AT=$(date +%s%N)
sed 's/^/  child: /' "$OUT"
eval "$(grep -o '^LOGIN_PID=[0-9]* USER=[a-z0-9]*' "$OUT" | sed 's/LOGIN_PID=/LEAK_PID=/; s/USER=/LEAK_USER=/')"
[ -n "$LEAK_PID" ] || fail "the child did not get as far as its held login"
grep -qx "CHILD_RC=1" "$OUT" || fail "the child did not fail with status 1"
grep -q "FAIL: deliberate failure with a login held open" "$OUT" || fail "the child failed elsewhere"
FAILING_AT=$(sed -n 's/^FAILING_AT=//p' "$OUT")
[ -n "$FAILING_AT" ] || fail "the child failed before its login was unlocked"
ms=$(( (EOF_AT - FAILING_AT) / 1000000 ))
kill -0 "$LEAK_PID" 2>/dev/null && fail "the held login (pid $LEAK_PID) outlived the failed test"
[ "$ms" -lt 10000 ] || fail "the failed test's output stayed open $ms ms after the failure"
id "$LEAK_USER" >/dev/null 2>&1 && fail "the failed test left its user $LEAK_USER"
ok "a test failing with a held login: its pipe closed $ms ms after the failure, login and user gone"
echo PASS
