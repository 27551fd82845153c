#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# userdel, then useradd reusing the uid: the new account sees and unlocks
# nothing of the old one's state (checked as the new user, and with xfs_io),
# is told why enrol is refused, the daemon logs the mismatch once, and after
# `unenroll` of the old state the new account can enrol.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkold
OLD=$U
OLD_UID=$(id -u "$OLD")
B_PW="new pw $RANDOM"
userdel "$OLD"
NEW=lknew$RANDOM
useradd -M -u "$OLD_UID" -d "$MNT/home/$NEW" -s /bin/sh "$NEW"
USERS+=("$NEW")
echo "$NEW:$B_PW" | chpasswd
mkdir -p "$MNT/home/$NEW" && chown "$NEW:" "$MNT/home/$NEW"
[ "$(id -u "$NEW")" = "$OLD_UID" ] || fail "useradd did not reuse uid $OLD_UID"

# As the new user: status lists nothing of the old account's.
as_new() { setpriv --reuid="$OLD_UID" --regid="$(id -g "$NEW")" --clear-groups "$@"; }
out=$(as_new "$LATCHKEYCTL" --socket "$SOCK" status --json) || fail "status as the new user failed: $out"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["policies"] == [] and d["users"] == [], d' "$out" \
  || fail "the new account sees the old account's state: $out"
out=$(as_new "$LATCHKEYCTL" --socket "$SOCK" status)
echo "$out" | grep -q "$H" && fail "the new account's status shows $H: $out"
ok "the new account's status shows nothing of the old"

# A login of the new account unlocks nothing of the old.
printf '%s\n' "$B_PW" | "$PAM_LOGIN" "$SERVICE" "$NEW" -- true || fail "login of the new account failed"
[ "$(key_status "$ID")" = Absent ] || fail "the new account's login unlocked the old home: $(key_status "$ID")"
rc=0; printf '%s\n' "$PW" | as_new "$LATCHKEYCTL" --socket "$SOCK" unlock "$NEW" --passphrase-stdin >"$W/out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "the new account unlocked with the old password: $(cat "$W/out")"
[ "$(key_status "$ID")" = Absent ] || fail "the old home got unlocked: $(key_status "$ID")"
ok "the new account's login and unlock (even with the old password) unlock nothing"

# Root sees the old state as the former account's; enrol says why it refuses.
ctl status | grep -q "$OLD (former account of uid $OLD_UID)" || fail "root's status does not name the former account: $(ctl status)"
rc=0; printf '%s\n' "$B_PW" | ctl enroll "$NEW" --passphrase-stdin --kdf-time 1 >"$W/out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "enrol of the new account accepted over the old state"
grep -q "former account $OLD" "$W/out" && grep -q "unenroll --uid $OLD_UID" "$W/out" \
  || fail "enrol refusal does not explain: $(cat "$W/out")"
[ "$(grep -c "uid $OLD_UID is now account $NEW, but its latchkey state belongs to the former account $OLD" "$W/daemon.log")" = 1 ] \
  || fail "the mismatch was not logged exactly once: $(grep -c 'former account' "$W/daemon.log")"
ok "enrol refused with the reason and the fix; mismatch logged once"

# unenroll by the old account's name (gone from passwd): found by the state.
ctl unenroll "$OLD" --yes >"$W/out" 2>&1 || fail "unenroll of the former account failed: $(cat "$W/out")"
[ ! -e "$W/state/protectors/$OLD_UID" ] && [ ! -e "$W/state/index/$OLD_UID" ] \
  || fail "unenroll left state behind: $(ls "$W/state/protectors" "$W/state/index")"
[ "$(key_status "$ID")" = Absent ] || fail "old home not locked after unenroll"
printf '%s\n' "$B_PW" | ctl enroll "$NEW" --passphrase-stdin --kdf-time 1 >/dev/null || fail "enrol after unenroll failed"
grep -q "^account $NEW$" "$W/state/index/$OLD_UID" || fail "the new enrolment does not record $NEW"
ok "after unenroll the new account enrols"

# unenroll asks unless --yes, and refuses without a terminal to ask on.
rc=0; ctl unenroll "$NEW" </dev/null >"$W/out" 2>&1 || rc=$?
[ $rc = 2 ] || fail "unenroll without --yes and without a terminal: exit $rc, want 2"
[ -e "$W/state/protectors/$OLD_UID" ] || fail "unconfirmed unenroll removed the state"
ok "unenroll without --yes and no terminal: refused, nothing removed"
# The USERDEL_CMD example: run by userdel before the account goes.
LATCHKEYCTL="$LATCHKEYCTL" LATCHKEY_SOCKET="$SOCK" "$LK_SRC/contrib/userdel/latchkey-userdel" "$NEW" >"$W/out" 2>&1 \
  || fail "latchkey-userdel failed: $(cat "$W/out")"
[ ! -e "$W/state/protectors/$OLD_UID" ] || fail "latchkey-userdel left the protector: $(cat "$W/out")"
LATCHKEYCTL="$LATCHKEYCTL" LATCHKEY_SOCKET="$SOCK" "$LK_SRC/contrib/userdel/latchkey-userdel" "$NEW" >"$W/out" 2>&1 \
  || fail "latchkey-userdel of a user without state failed"
[ ! -s "$W/out" ] || fail "latchkey-userdel of a user without state says: $(cat "$W/out")"
ok "contrib/userdel/latchkey-userdel unenrolls, and is quiet for a user without state"
echo "PASS"
