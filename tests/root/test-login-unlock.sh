#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Core path on the real kernel: enrol, encrypt a home, lock; a login through
# real libpam with the right password unlocks it (checked as the user and
# with xfs_io), a wrong one leaves it locked, logout locks again, and files
# are ciphertext with no-key names while locked.
. "$(dirname "$0")/lib.sh"

lk_make_fs
PW="correct horse $RANDOM"
ALICE=lkta$RANDOM
lk_add_user "$ALICE" "$PW"
HOME_A=$MNT/home/$ALICE
lk_start_daemon
lk_write_pam_service

ID=$(lk_encrypted_home "$ALICE" "$PW")
[ -n "$ID" ] || fail "no v2 policy on $HOME_A"
[ "$(stat -c '%U %a' "$HOME_A")" = "$ALICE 700" ] || fail "home not owned by $ALICE with mode 700"
[[ "$(key_status "$ID")" == Present* ]] || fail "key not present after encrypt: $(key_status "$ID")"
ok "encrypted $HOME_A with key $ID, left unlocked"

# Write as alice while unlocked.
"$PAM_LOGIN" --no-auth "$SERVICE" "$ALICE" -- sh -c 'echo "top secret" > "$HOME/notes.txt" && mkdir "$HOME/dir"' \
  || fail "alice cannot write to her unlocked home"

ctl lock "$ALICE"
[ "$(key_status "$ID")" = "Absent" ] || fail "xfs_io says $(key_status "$ID") after lock"
ls "$HOME_A" | grep -qx notes.txt && fail "plaintext name visible after lock"
[ "$(ls "$HOME_A" | wc -l)" = 2 ] || fail "expected two no-key names, got: $(ls "$HOME_A")"
name=$(find "$HOME_A" -mindepth 1 -maxdepth 1 -type f -printf "%f\n" | head -1)
err=$(cat "$HOME_A/$name" 2>&1 >/dev/null) && fail "read of a locked file succeeded"
case "$err" in *"Required key not available"*) ;; *) fail "expected ENOKEY, got: $err" ;; esac
ok "locked: no-key names, ENOKEY on read, xfs_io Absent"

# On the raw device the contents and the name are ciphertext, while the same
# test string written in plain beside the home is found (so the grep can fail).
echo "top secret" > "$MNT/plain-control.txt"
sync
grep -qa "top secret" "$W/fs.img" || fail "control plaintext not found on the image: the grep proves nothing"
[ "$(grep -oa "top secret" "$W/fs.img" | wc -l)" = 1 ] || fail "the encrypted file's plaintext is on the raw image"
grep -qa "notes.txt" "$W/fs.img" && fail "the plaintext file name is on the raw image"
ok "raw image: only the unencrypted control copy of the text is visible; the name is not"

# The daemon agrees with xfs_io.
ctl status "$ALICE" --json | grep -q '"state": *"locked"' || fail "latchkeyctl status does not say locked: $(ctl status "$ALICE" --json)"

# Wrong password: pam_unix refuses, and the home stays locked.
rc=0
printf 'wrong %s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$ALICE" -- true || rc=$?
[ $rc = 10 ] || fail "wrong password: expected authentication failure (10), got $rc"
[ "$(key_status "$ID")" = "Absent" ] || fail "wrong password changed the key status: $(key_status "$ID")"
ok "wrong password: login refused by pam_unix, home still locked"

# Right password: readable inside the session, as alice, and both tools agree.
out=$(printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$ALICE" -- sh -c \
  "cat \"\$HOME/notes.txt\"; xfs_io -c 'enckey_status $ID' '$MNT'; '$LATCHKEYCTL' --socket '$SOCK' status --json") \
  || fail "login with the right password failed"
echo "$out" | grep -qx "top secret" || fail "home not readable in the session: $out"
echo "$out" | grep -q "^Present" || fail "xfs_io does not report Present in the session: $out"
echo "$out" | grep -q '"state": *"unlocked"' || fail "latchkeyctl status does not say unlocked: $out"
ok "right password: notes readable in the session; xfs_io and latchkeyctl say unlocked"

# The session ended when pam-login closed it: locked again.
for _ in $(seq 50); do [ "$(key_status "$ID")" = "Absent" ] && break; sleep 0.1; done
[ "$(key_status "$ID")" = "Absent" ] || fail "still $(key_status "$ID") after logout"
ls "$HOME_A" | grep -qx notes.txt && fail "plaintext name visible after logout"
ok "logout: locked again"

# Nothing secret in the daemon's log.
grep -F -- "$PW" "$W/daemon.log" && fail "the password reached the daemon log"
echo "PASS"
