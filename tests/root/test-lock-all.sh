#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `latchkeyctl lock --all` with two users logged in (one with an upper-case
# name): both homes Absent
# (xfs_io); a second lock says "already locked"; status lists both users
# with their slots and sessions, and every --json document validates
# against contrib/schema/latchkeyctl.schema.json (python3-jsonschema).
. "$(dirname "$0")/lib.sh"

SCHEMA=$LK_SRC/contrib/schema/latchkeyctl.schema.json
validate() {
  local py
  for py in python3 /usr/bin/python3; do
    if "$py" -c 'import jsonschema' 2>/dev/null; then
      "$py" "$LK_SRC/tests/validate-json.py" "$SCHEMA" "$@" >/dev/null || fail "$("$py" "$LK_SRC/tests/validate-json.py" "$SCHEMA" "$@")"
      return 0
    fi
  done
  fail "python3-jsonschema missing (scripts/test installs it)"
}

lk_make_fs
lk_start_daemon
lk_write_pam_service
# A has an upper-case name, as Debian's useradd allows: enrolled by
# latchkeyctl and unlocked by the PAM module like anybody else.
A=LkLa$RANDOM; B=lklb$RANDOM; PA="pa $RANDOM"; PB="pb $RANDOM"
lk_add_user "$A" "$PA"; lk_add_user "$B" "$PB"
IA=$(lk_encrypted_home "$A" "$PA"); IB=$(lk_encrypted_home "$B" "$PB")
ctl lock "$A" >/dev/null; ctl lock "$B" >/dev/null

# On any failure, end the held logins before lib.sh cleans up.
PIDA= PIDB=
trap 'rc=$?; touch "$W/ha" "$W/hb"; [ -n "$PIDA$PIDB" ] && wait $PIDA $PIDB 2>/dev/null; (exit $rc); lk_cleanup' EXIT
printf '%s\n' "$PA" | "$PAM_LOGIN" --hold "$W/ha" "$SERVICE" "$A" -- true & PIDA=$!
printf '%s\n' "$PB" | "$PAM_LOGIN" --hold "$W/hb" "$SERVICE" "$B" -- true & PIDB=$!
ID=$IA wait_status Present
ID=$IB wait_status Present
ok "two users logged in, both homes unlocked"

ctl status --json >"$W/status.json" || fail "status --json failed"
validate "$W/status.json"
python3 - "$W/status.json" "$A" "$B" <<'PY' || fail "status --json lacks users, slots or sessions: $(cat "$W/status.json")"
import json, sys
d = json.load(open(sys.argv[1])); users = {u["user"]: u for u in d["users"]}
for name in sys.argv[2:]:
    u = users[name]
    assert u["sessions"] == 1 and u["enrolled"] and u["key_held"], u
    assert [s["kind"] for s in u["slots"]] == ["login"] and u["slots"][0]["kdf"]["t_cost"] >= 3, u
    assert [x["state"] for x in u["directories"]] == ["unlocked"], u
PY
ctl status | grep -q "^$A .* login(argon2id t=" || fail "text status lacks $A's slot: $(ctl status)"
ok "status lists both users with slots, sessions and directories; the JSON validates"

ctl --json lock --all >"$W/lockall.json" || fail "lock --all failed: $(cat "$W/lockall.json")"
validate "$W/lockall.json"
[ "$(key_status "$IA")" = Absent ] || fail "$A not locked by lock --all: $(key_status "$IA")"
[ "$(key_status "$IB")" = Absent ] || fail "$B not locked by lock --all: $(key_status "$IB")"
ok "lock --all: both Absent"

out=$(ctl lock "$A") || fail "second lock failed: $out"
[ "$out" = "$A was already locked." ] || fail "lock of a locked user says: $out"
ctl lock --all | grep -q "$B was already locked." || fail "lock --all does not say $B was locked already"
ok "locking a locked user says so"

# A failure in --json mode prints an error object that validates.
rc=0; "$LATCHKEYCTL" --socket "$W/nothing" status --json >"$W/error.json" || rc=$?
[ $rc = 3 ] || fail "status without a daemon: exit $rc, want 3"
validate "$W/error.json"
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$LATCHKEYCTL" --socket "$SOCK" --json lock --all >"$W/error2.json" || rc=$?
[ $rc = 4 ] || fail "lock --all as nobody: exit $rc, want 4"
validate "$W/error2.json"
ok "error objects validate"

touch "$W/ha" "$W/hb"; wait $PIDA $PIDB
echo "PASS"
