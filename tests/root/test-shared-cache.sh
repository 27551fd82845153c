#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared cache: two real users share <mnt>/browser under a
# per-user policy. Their logins provision <root>/<user> (owned by the user,
# 0700, v2 policy); each reads and writes only their own; after alice logs
# out root sees no-key names and gets ENOKEY while bob's stays readable; a
# second login of alice reuses her directory (same inode) and unlocks it; a
# RELOAD with a new policy provisions at once for the logged-in user only; a
# bad configuration is refused by RELOAD with "file:line: message", and at
# start it is logged and the defaults used.
. "$(dirname "$0")/lib.sh"

lk_make_fs 128M
A=lksa$RANDOM; B=lksb$RANDOM; PWA="pw a $RANDOM"; PWB="pw b $RANDOM"
lk_add_user "$A" "$PWA"
lk_add_user "$B" "$PWB"
C=$MNT/browser
mkdir -m 0755 "$C"
lk_policy browser "$C"
lk_start_daemon
lk_write_pam_service
for u in "$A:$PWA" "$B:$PWB"; do
  printf '%s\n' "${u#*:}" | ctl enroll "${u%%:*}" --passphrase-stdin --kdf-time 1 >/dev/null
done

as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"; }
key_id_of() { xfs_io -c get_encpolicy "$1" 2>/dev/null | awk '/Master key identifier/ {print $4}'; }
wait_for() {  # wait_for WHAT COMMAND...: poll up to 10 s
  local what=$1; shift
  for _ in $(seq 200); do "$@" 2>/dev/null && return 0; sleep 0.05; done
  fail "timed out waiting for: $what"
}
is_status() { [[ "$(key_status "$1")" == $2* ]]; }
login_as_held() {  # login_as_held USER PASSWORD HOLDFILE COMMAND...: a session open until HOLDFILE exists
  local u=$1 pw=$2 hold=$3; shift 3
  printf '%s\n' "$pw" | "$PAM_LOGIN" --hold "$hold" "$SERVICE" "$u" -- "$@" &
  lk_track $!
}

# Both log in; each session writes a file into the user's own cache.
login_as_held "$A" "$PWA" "$W/holdA" sh -c \
  "echo secret-$A > $C/$A/f; head -c 65536 /dev/urandom > $C/$A/old; touch -d '2 days ago' $C/$A/old"; PA=$!
login_as_held "$B" "$PWB" "$W/holdB" sh -c "echo secret-$B > $C/$B/f"; PB=$!
wait_for "alice's cache file" test -s "$C/$A/f"
wait_for "bob's cache file" test -s "$C/$B/f"
for u in "$A" "$B"; do
  [ "$(stat -c '%U %G %a %F' "$C/$u")" = "$u $(id -gn "$u") 700 directory" ] \
    || fail "$C/$u: $(stat -c '%U %G %a %F' "$C/$u")"
  xfs_io -c get_encpolicy "$C/$u" | grep -q 'Policy version: 2' || fail "$C/$u has no v2 policy"
  ctl status "$u" | grep -qF "$C/$u" || fail "latchkeyctl status does not list $C/$u"
done
KA=$(key_id_of "$C/$A"); KB=$(key_id_of "$C/$B")
[ -n "$KA" ] && [ -n "$KB" ] && [ "$KA" != "$KB" ] || fail "expected two different keys, got '$KA' '$KB'"
grep -q "policy browser: created $C/$A for uid $(id -u "$A")" "$W/daemon.log" || fail "no provisioning log line for alice"
ok "both logins provisioned $C/<user>: owner, group, 0700, v2 policy, own keys, in the index"

[ "$(as_user "$A" cat "$C/$A/f")" = "secret-$A" ] || fail "alice cannot read her own cache"
[ "$(as_user "$B" cat "$C/$B/f")" = "secret-$B" ] || fail "bob cannot read his own cache"
as_user "$A" sh -c "echo more >> $C/$A/f" || fail "alice cannot write her own cache"
for pair in "$A $B" "$B $A"; do
  set -- $pair
  out=$(as_user "$1" cat "$C/$2/f" 2>&1) && fail "$1 read $2's cache: $out"
  [[ "$out" == *"Permission denied"* ]] || fail "$1 reading $2's cache: expected EACCES, got: $out"
  out=$(as_user "$1" ls "$C/$2" 2>&1) && fail "$1 listed $2's cache: $out"
  [[ "$out" == *"Permission denied"* ]] || fail "$1 listing $2's cache: expected EACCES, got: $out"
  out=$(as_user "$1" sh -c "echo x > $C/$2/g" 2>&1) && fail "$1 wrote into $2's cache"
  [[ "$out" == *"Permission denied"* ]] || fail "$1 writing $2's cache: expected EACCES, got: $out"
done
ok "each user reads and writes their own cache; the other's gives EACCES"

# Alice logs out: her cache key is removed; root sees ciphertext only.
touch "$W/holdA"; wait $PA
wait_for "alice's cache key absent" is_status "$KA" Absent
names=$(ls "$C/$A")
[ "$(printf '%s\n' "$names" | wc -l)" = 2 ] || fail "expected two entries in $C/$A, root sees: $names"
printf '%s\n' "$names" | grep -qx 'f\|old' && fail "root sees a plaintext name in alice's locked cache: $names"
out=$(cat "$C/$A/$(printf '%s\n' "$names" | head -1)" 2>&1) && fail "root read alice's locked cache file"
[[ "$out" == *"Required key not available"* ]] || fail "reading alice's locked file: expected ENOKEY, got: $out"
is_status "$KB" Present || fail "bob's cache was locked by alice's logout: $(key_status "$KB")"
[ "$(cat "$C/$B/f")" = "secret-$B" ] || fail "bob's cache is no longer readable"
ctl status "$A" | grep -F "$C/$A" | grep -q ' locked ' || fail "latchkeyctl does not say alice's cache is locked"
ok "alice logged out: no-key names, ENOKEY for root, xfs_io Absent; bob's stays readable"

# Root frees space without any key: prune takes alice's oldest file (locked
# user first), bob's cache (unlocked) is not touched.
bob_before=$(ls -l --time-style=+%s "$C/$B"; cat "$C/$B/f")
json=$(ctl prune "$C" --free 60K --json) || fail "prune failed: $json"
python3 - "$json" "$A" "$B" <<'PY' || fail "prune report: $json"
import json, sys
r = json.loads(sys.argv[1]); by = {u["user"]: u for u in r["users"]}
a, b = by[sys.argv[2]], by[sys.argv[3]]
assert r["satisfied"] and r["files"] == 1 and r["bytes"] >= 60 * 1024, r
assert a["state"] == "locked" and a["files"] == 1 and b["files"] == 0, r
PY
left=$(ls "$C/$A")
[ "$(printf '%s\n' "$left" | wc -l)" = 1 ] || fail "expected one file of alice's left, root sees: $left"
[ "$(ls -l --time-style=+%s "$C/$B"; cat "$C/$B/f")" = "$bob_before" ] || fail "prune changed bob's cache"
is_status "$KA" Absent || fail "prune unlocked alice's cache"
ok "prune freed 64 KiB from alice's locked cache (her oldest file), bob's untouched, no key used"

# Alice's second login reuses the same directory and unlocks it.
INO=$(stat -c %i "$C/$A")
login_as_held "$A" "$PWA" "$W/holdA2" true; PA=$!
wait_for "alice's cache key present again" is_status "$KA" Present
[ "$(stat -c %i "$C/$A")" = "$INO" ] || fail "alice's cache directory was replaced"
[ "$(key_id_of "$C/$A")" = "$KA" ] || fail "alice's cache has another key now"
[ "$(as_user "$A" cat "$C/$A/f")" = "$(printf 'secret-%s\nmore' "$A")" ] || fail "alice's data is gone"
as_user "$A" test -e "$C/$A/old" && fail "the file prune deleted is back"
ok "second login of alice: same inode, same key, unlocked, data intact"
touch "$W/holdA2"; wait $PA
wait_for "alice locked again" is_status "$KA" Absent

# A new policy by RELOAD: provisioned at once for bob (logged in), not for
# alice (logged out), and for alice at her next login.
M=$MNT/media
mkdir -m 0755 "$M"
lk_policy media "$M" subdir=m-%U mode=0750
[ "$(lk_reload)" = OK ] || fail "RELOAD refused a good configuration"
MB=$M/m-$(id -u "$B"); MA=$M/m-$(id -u "$A")
[ "$(stat -c '%U %a' "$MB" 2>&1)" = "$B 750" ] || fail "RELOAD did not provision $MB: $(stat -c '%U %a' "$MB" 2>&1)"
is_status "$(key_id_of "$MB")" Present || fail "$MB is not unlocked"
[ ! -e "$MA" ] || fail "RELOAD provisioned for alice, who has no session"
ok "RELOAD with a new policy provisioned bob's (live session) directory at once, not alice's"

# A bad configuration: RELOAD says file:line: message and the old one stays.
printf '[policy bad]\nroot = relative/path\nper_user = yes\n' >"$W/etc/policy.d/zz-bad.conf"
out=$(lk_reload) && fail "RELOAD accepted a bad configuration"
[[ "$out" == "ERROR $W/etc/policy.d/zz-bad.conf:"[0-9]*": "* ]] || fail "RELOAD error is not file:line: message: $out"
rm "$W/etc/policy.d/zz-bad.conf"
login_as_held "$A" "$PWA" "$W/holdA3" true; PA=$!
wait_for "alice's media directory (old config kept)" test -d "$MA"
touch "$W/holdA3"; wait $PA
ok "bad configuration refused ($out); the old one kept working"

touch "$W/holdB"; wait $PB
wait_for "bob locked" is_status "$KB" Absent

# A bad configuration at start: logged as file:line: message, the daemon
# runs with the defaults (no cache policies) and logins still work.
lk_stop_daemon
printf '[policy bad]\nroot = %s\nper_user = yes\nmode = 0777\n' "$M" >"$W/etc/policy.d/zz-bad.conf"
lk_start_daemon
grep -q "bad configuration, starting with the defaults and no cache policies: $W/etc/policy.d/zz-bad.conf:4: " \
  "$W/daemon.log" || fail "no file:line log line for a bad configuration at start"
n0=$(grep -c "session 1 of uid $(id -u "$B") opened" "$W/daemon.log")
printf '%s\n' "$PWB" | "$PAM_LOGIN" "$SERVICE" "$B" -- true || fail "login failed with a bad configuration"
[ "$(grep -c "session 1 of uid $(id -u "$B") opened" "$W/daemon.log")" -gt "$n0" ] \
  || fail "the daemon did not serve the login"
ok "bad configuration at start: logged with file:line, defaults used, logins work"
echo PASS
