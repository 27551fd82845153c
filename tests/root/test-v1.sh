#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Legacy v1 policies on the real kernel: `encrypt --v1` sets a v1 policy
# whose key is a logon key fscrypt:<descriptor> in the user's keyring (@u);
# lock takes it out and evicts the cached inodes; a login through real
# libpam puts it back, logout locks again; a file held open at logout is
# reported as incompletely locked until it is closed. The same user has a v2
# directory too, which must lock and unlock alongside.
. "$(dirname "$0")/lib.sh"

for tool in keyctl setpriv; do
  command -v "$tool" >/dev/null || fail "$tool missing (run scripts/test, which installs it)"
done

# v1 keys live in the user keyring, which the kernel keeps per uid after the
# account is gone (and a later test user may get the same uid): empty it
# before lib.sh's clean-up deletes the user.
U=lktv$RANDOM
G=
v1_cleanup() {
  local rc=$?
  set +e  # under set -e a failing step here would skip lk_cleanup
  [ -n "$G" ] && setpriv --reuid="$U" --regid="$G" --clear-groups -- keyctl clear @u 2>/dev/null
  (exit $rc)  # lk_cleanup takes the test's status from $?
  lk_cleanup
}
trap v1_cleanup EXIT

lk_make_fs
PW="v1 pw $RANDOM"
lk_add_user "$U" "$PW"
G=$(id -g "$U")
H=$MNT/home/$U
V2=$MNT/v2-$U
lk_start_daemon
lk_write_pam_service
# How the user's processes find @u: the kernel's v1 lookup searches only the
# keyrings of the process that opens a file (thread, process, session), and
# our key is in the user keyring. pam_keyinit, first in the session stack as
# in Debian's login and sshd, gives the login a new session keyring owned by
# the user and links @u into it; the session's processes inherit it. Without
# it they would keep pam-login's (root's) session keyring and never see the
# key.
sed -i '0,/^session/s//session  optional  pam_keyinit.so force revoke\nsession/' "/etc/pam.d/$SERVICE"
grep -q '^session  optional  pam_keyinit.so' "/etc/pam.d/$SERVICE" || fail "could not add pam_keyinit"

# A process of the user outside any login, seeing keys as a login would: a
# fresh session keyring (keyctl session -) with @u linked into it, which is
# what pam_keyinit does. It opens no latchkey session, so the daemon's state
# is not changed by it.
as_user() {
  setpriv --reuid="$U" --regid="$G" --clear-groups -- \
    keyctl session - sh -c 'keyctl link @u @s >/dev/null && exec "$@"' sh "$@" 2>/dev/null
}
# The user's keyring, seen by the user (KEY_SPEC_USER_KEYRING follows the real uid).
key_in_u() { setpriv --reuid="$U" --regid="$G" --clear-groups -- keyctl show @u 2>/dev/null | grep -c "logon: fscrypt:$DESC$"; }
state_of() {
  ctl status "$U" --json | python3 -c 'import json, sys
print(*[p["state"] for p in json.load(sys.stdin)["policies"] if p["path"] == sys.argv[1]])' "$1"
}

printf '%s\n' "$PW" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null
out=$(printf '%s\n' "$PW" | ctl encrypt "$H" --user "$U" --v1 --passphrase-stdin --json) || fail "encrypt --v1 failed: $out"
DESC=$(sed -n 's/.*"descriptor":"\([0-9a-f]\{16\}\)".*/\1/p' <<<"$out")
[ ${#DESC} = 16 ] || fail "no descriptor in: $out"
grep -q "\"key_id\":\"${DESC}0000000000000000\"" <<<"$out" || fail "v1 key id is not descriptor + zeros: $out"

# The policy, independently: xfs_io reads it back without the key.
pol=$(xfs_io -c get_encpolicy "$H")
grep -qE "Policy version: 0( \(v1\))?$" <<<"$pol" || fail "not a v1 policy: $pol"
grep -q "Master key descriptor: $DESC" <<<"$pol" || fail "descriptor differs from $DESC: $pol"
grep -q "Contents encryption mode: 1 (AES-256-XTS)" <<<"$pol" || fail "contents mode: $pol"
grep -q "Filenames encryption mode: 4 (AES-256-CTS)" <<<"$pol" || fail "filenames mode: $pol"
grep -q "Flags: 0x03" <<<"$pol" || fail "flags (PAD_32): $pol"
[ "$(stat -c '%U %a' "$H")" = "$U 700" ] || fail "home not owned by $U with mode 700"
[ "$(key_in_u)" = 1 ] || fail "no logon key fscrypt:$DESC in $U's keyring after encrypt"
ok "encrypt --v1: v1 policy with descriptor $DESC, logon key in @u"

# The same user's v2 directory beside it.
mkdir "$V2"
ID2=$(ctl encrypt "$V2" --user "$U" --json | sed -n 's/.*"key_id":"\([0-9a-f]\{32\}\)".*/\1/p')
[ -n "$ID2" ] || fail "v2 encrypt for the same user failed"
[[ "$(key_status "$ID2")" == Present* ]] || fail "v2 key not present"

# Write as the user while unlocked.
as_user sh -c "echo 'v1 secret' > '$H/notes.txt' && mkdir '$H/dir' && echo v2 > '$V2/f'" \
  || fail "$U cannot write to the unlocked v1 home"
[ "$(as_user cat "$H/notes.txt")" = "v1 secret" ] || fail "$U cannot read back"
[ "$(state_of "$H")" = unlocked ] || fail "status of $H: $(ctl status "$U" --json)"
[ "$(state_of "$V2")" = unlocked ] || fail "status of $V2: $(ctl status "$U" --json)"
ok "unlocked: $U reads and writes; latchkeyctl says unlocked for both policies"

assert_v1_locked() {  # assert_v1_locked WHEN
  [ "$(key_in_u)" = 0 ] || fail "$1: fscrypt:$DESC still in $U's keyring"
  ls "$H" | grep -qx notes.txt && fail "$1: plaintext name visible"
  [ "$(ls "$H" | wc -l)" = 2 ] || fail "$1: expected two no-key names, got: $(ls "$H")"
  local name err
  name=$(find "$H" -mindepth 1 -maxdepth 1 -type f -printf "%f\n" | head -1)
  err=$(cat "$H/$name" 2>&1 >/dev/null) && fail "$1: root read a locked file"
  case "$err" in *"Required key not available"*) ;; *) fail "$1: expected ENOKEY, got: $err" ;; esac
  as_user cat "$H/$name" >/dev/null && fail "$1: $U read a locked file"
  [ "$(state_of "$H")" = locked ] || fail "$1: status of $H: $(ctl status "$U" --json)"
  return 0
}

ctl lock "$U" >/dev/null || fail "lock failed"
assert_v1_locked "lock"
[ "$(key_status "$ID2")" = Absent ] || fail "v2 key $(key_status "$ID2") after lock"
[ "$(state_of "$V2")" = locked ] || fail "status of $V2 after lock"
ok "locked: key gone from @u, no-key names, ENOKEY for root and $U; the v2 policy locked too"

# Login with the password: the key is back in @u and the session reads both.
out=$(printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$U" -- sh -c \
  "cat \"\$HOME/notes.txt\"; cat '$V2/f'; keyctl show @u | grep -c 'logon: fscrypt:$DESC\$'") \
  || fail "login failed: $out"
[ "$out" = "$(printf 'v1 secret\nv2\n1')" ] || fail "session did not see both policies unlocked: $out"
ok "login: key in @u, home readable inside the session, v2 directory too"

# Logout (pam-login closed the session): locked again. The daemon takes the
# key out before it drops the caches, and drops them at most once in 5 s
# (the lock above did), so wait for the retry that completes the lock.
for _ in $(seq 150); do
  [ "$(state_of "$H")" = locked ] && ! ls "$H" | grep -qx notes.txt && break; sleep 0.1
done
assert_v1_locked "logout"
[ "$(key_status "$ID2")" = Absent ] || fail "v2 key $(key_status "$ID2") after logout"
ok "logout: locked again"

# A process of the user keeps a file open past logout: it pins the home's
# inodes, with their keys, so the lock is reported incomplete (names still
# plaintext) and retried; once the process is gone the retry evicts them.
# The login is held open until the holder has the file open: pam_keyinit
# revokes the session keyring at logout, and a holder that came to open()
# only then would (rightly) find the home locked.
printf '%s\n' "$PW" | "$PAM_LOGIN" --hold "$W/hold" "$SERVICE" "$U" -- sh -c \
  'sleep 600 < "$HOME/notes.txt" >/dev/null 2>&1 & echo $!' >"$W/holder.pid" &
LOGIN=$!; lk_track $LOGIN
for _ in $(seq 100); do [ -s "$W/holder.pid" ] && break; sleep 0.05; done
HOLDER=$(cat "$W/holder.pid")
[[ "$HOLDER" =~ ^[0-9]+$ ]] || fail "no holder process: $HOLDER"
for _ in $(seq 100); do [[ "$(readlink "/proc/$HOLDER/fd/0")" == */notes.txt ]] && break; sleep 0.05; done
[[ "$(readlink "/proc/$HOLDER/fd/0")" == */notes.txt ]] || fail "the holder did not open notes.txt"
touch "$W/hold"
wait $LOGIN || fail "the holder's login failed"
for _ in $(seq 50); do [ "$(state_of "$H")" = incompletely-locked ] && break; sleep 0.1; done
[ "$(state_of "$H")" = incompletely-locked ] || fail "busy logout: status $(state_of "$H")"
[ "$(key_in_u)" = 0 ] || fail "busy logout: key still in @u"
ls "$H" | grep -qx notes.txt || fail "busy logout: expected the pinned plaintext names (the v1 caveat)"
kill "$HOLDER"
for _ in $(seq 150); do [ "$(state_of "$H")" = locked ] && break; sleep 0.1; done
assert_v1_locked "after the busy file was closed"
ok "busy file: incompletely locked while open, locked by the retry once closed"

grep -F -- "$PW" "$W/daemon.log" && fail "the password reached the daemon log"
echo PASS
