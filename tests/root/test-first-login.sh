#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Enrolment and an encrypted home at the first login (enroll_at_login =
# group:NAME, create_home = yes), through real libpam (pam-login, pam_unix
# deciding): users made with useradd and a password, no home. A wrong first
# password enrols nothing; the right one makes an encrypted home with the
# skeleton, readable in the session, ciphertext after logout; the second
# login unlocks it; a user outside the rule is not enrolled and gets no
# home; an existing plaintext home is left alone and reported by status.
. "$(dirname "$0")/lib.sh"

lk_make_fs
G=lkfg$RANDOM
groupadd "$G"
trap 'groupdel "$G" 2>/dev/null; lk_cleanup' EXIT
IN=lkfi$RANDOM; OUT=lkfo$RANDOM; PLAIN=lkfp$RANDOM
PW_IN="first login $RANDOM"; PW_OUT="outsider $RANDOM"; PW_PLAIN="plain $RANDOM"
for u in "$IN" "$OUT" "$PLAIN"; do
  useradd -M -d "$MNT/home/$u" -s /bin/sh "$u"
  USERS+=("$u")
done
usermod -a -G "$G" "$IN"; usermod -a -G "$G" "$PLAIN"
echo "$IN:$PW_IN" | chpasswd; echo "$OUT:$PW_OUT" | chpasswd; echo "$PLAIN:$PW_PLAIN" | chpasswd
# PLAIN's home exists already, plaintext (as pam_mkhomedir or useradd -m make it).
mkdir -m 0700 "$MNT/home/$PLAIN"; echo old >"$MNT/home/$PLAIN/old"; chown -R "$PLAIN:" "$MNT/home/$PLAIN"

# A skeleton of our own: a file, a directory, a symlink that must stay one.
SKEL=$W/skel
mkdir -p "$SKEL/.config/app"
echo "skeleton profile $RANDOM" >"$SKEL/.profile"
echo "setting" >"$SKEL/.config/app/rc"
ln -s /etc/passwd "$SKEL/passwd-link"
cat >"$W/etc/latchkey.conf" <<CONF
[latchkey]
enroll_at_login = group:$G
create_home = yes
home_skel = $SKEL
CONF
lk_start_daemon
lk_write_pam_service
H=$MNT/home/$IN
enrolled() { [ -e "$W/state/protectors/$(id -u "$1")" ]; }

rc=0; printf 'wrong %s\n' "$PW_IN" | "$PAM_LOGIN" "$SERVICE" "$IN" -- true || rc=$?
[ $rc = 10 ] || fail "wrong password: expected 10, got $rc"
enrolled "$IN" && fail "a wrong first password enrolled $IN"
[ -e "$H" ] && fail "a wrong first password made a home"
ok "wrong first password: not enrolled, no home"

out=$(printf '%s\n' "$PW_IN" | "$PAM_LOGIN" "$SERVICE" "$IN" -- sh -c \
  'cat "$HOME/.profile" "$HOME/.config/app/rc"; echo written >"$HOME/new"
   [ -L "$HOME/passwd-link" ] && echo "symlink kept"; echo "rc owner $(stat -c %U "$HOME/.config/app/rc")"') \
  || fail "first login failed"
echo "$out" | grep -qx "$(cat "$SKEL/.profile")" && echo "$out" | grep -qx setting \
  || fail "skeleton not readable in the session: $out"
enrolled "$IN" || fail "$IN not enrolled after the first login"
ID=$(xfs_io -c get_encpolicy "$H" | awk '/Master key identifier/ {print $4}')
[ -n "$ID" ] || fail "$H is not encrypted"
[ "$(stat -c '%U %a' "$H")" = "$IN 700" ] || fail "home: $(stat -c '%U %a' "$H"), want $IN 700"
echo "$out" | grep -qx "symlink kept" || fail "the skeleton's symlink was not copied as a symlink: $out"
echo "$out" | grep -qx "rc owner $IN" || fail "skeleton not chowned to $IN: $out"
wait_status Absent
ls -A "$H" | grep -qx .profile && fail "plaintext name after logout"
name=$(find "$H" -mindepth 1 -maxdepth 1 -type f | head -1)
err=$(cat "$name" 2>&1 >/dev/null) && fail "read of a locked file succeeded"
case "$err" in *"Required key not available"*) ;; *) fail "expected ENOKEY, got: $err" ;; esac
ok "first login: enrolled, encrypted home $ID with the skeleton, readable in the session, locked after"

# The skeleton's text is not on the raw image (it went in encrypted).
sync
grep -qa "$(cat "$SKEL/.profile")" "$W/fs.img" && fail "the skeleton's plaintext is on the raw image"
ok "raw image: no skeleton plaintext"

out=$(printf '%s\n' "$PW_IN" | "$PAM_LOGIN" "$SERVICE" "$IN" -- cat "$H/new") || fail "second login failed"
[ "$out" = written ] || fail "second login: $out"
ok "second login unlocks it"

printf '%s\n' "$PW_OUT" | "$PAM_LOGIN" "$SERVICE" "$OUT" -- true || fail "outsider's login failed"
enrolled "$OUT" && fail "$OUT (outside the rule) was enrolled"
[ -e "$MNT/home/$OUT" ] && fail "$OUT got a home"
ok "a user outside enroll_at_login: not enrolled, no home"

printf '%s\n' "$PW_PLAIN" | "$PAM_LOGIN" "$SERVICE" "$PLAIN" -- true || fail "plain user's login failed"
enrolled "$PLAIN" || fail "$PLAIN not enrolled"
xfs_io -c get_encpolicy "$MNT/home/$PLAIN" 2>&1 | grep -q "Master key" && fail "existing home was encrypted"
[ "$(cat "$MNT/home/$PLAIN/old")" = old ] || fail "existing home changed"
ctl status "$PLAIN" | grep -q "not encrypted: run latchkeyctl migrate" \
  || fail "status does not report the plaintext home: $(ctl status "$PLAIN")"
ok "existing plaintext home left alone; status: $(ctl status "$PLAIN" | grep 'not encrypted')"
grep -F -- "$PW_IN" "$W/daemon.log" && fail "the password reached the daemon log"
echo PASS
