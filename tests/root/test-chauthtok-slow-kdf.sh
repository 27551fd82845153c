#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A password change whose Argon2id runs outlast the daemon's idle limit of a
# connection (a 1 s KDF target, twice, on a loaded machine, against 5 s):
# the user's own change (passwd as the user) still rewraps, and the new
# password unlocks at the next login. A test hook shortens the daemon's
# idle limit to 50 ms, well under the floor KDF's time.
. "$(dirname "$0")/lib.sh"

export LATCHKEY_TEST_IDLE_MS=50
lk_locked_home_setup lkpk
unset LATCHKEY_TEST_IDLE_MS
lk_add_password_stack
NEW="Slow-Kettle-$RANDOM-north"
ERR=$W/pam-login.err

"$PAM_LOGIN" --chauthtok "$PW" "$NEW" "$SERVICE" "$U" 2>"$ERR" || fail "passwd by the user failed: $(cat "$ERR")"
grep -q "dropping idle connection" "$W/daemon.log" || fail "control: the daemon never dropped an idle connection"
grep -q "login slot rewrapped" "$W/daemon.log" || fail "the rewrap was lost: $(cat "$ERR")"
grep -q "latchkey:" "$ERR" && fail "a change that went through should say nothing: $(cat "$ERR")"
out=$(printf '%s\n' "$NEW" | "$PAM_LOGIN" "$SERVICE" "$U" -- cat "$H/f" 2>"$ERR") || true
[ "$out" = data ] || fail "login with the new password did not unlock: $(cat "$ERR")"
grep -q "Previous password" "$ERR" && fail "the login after the change asked for the previous password"
wait_status Absent
ok "password change across the daemon's idle limit: rewrapped, the new password unlocks"

echo PASS
