#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sshd end to end: a real OpenSSH server (our own config, host key and port
# on 127.0.0.1) whose PAM service "sshd" is Debian's stack plus pam_latchkey.
#  a) password authentication: the home is readable in the session, xfs_io
#     says Present there, and Absent after the client exits;
#  b) keyboard-interactive: sshd runs PAM auth in a child process, so the
#     credential reaches the session through the daemon (pending credential);
#  c) public key alone: the home stays locked, and the module says so in the
#     log; public key while a password session is live: readable;
#  d) wrong password: rejected, the home stays locked.
# /etc/pam.d/sshd is restored byte for byte by the EXIT trap (checked with
# cmp); /run/sshd is removed only if we created it. sshd runs in a private
# mount namespace whose /dev/log is our listener (devlog.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/devlog.sh"

SSHD=/usr/sbin/sshd
PAMD=/etc/pam.d/sshd
for tool in "$SSHD" ssh ssh-keygen sshpass; do
  command -v "$tool" >/dev/null || fail "$tool missing (openssh-server, openssh-client, sshpass)"
done

S=$W/ssh
SSHD_PID= SSHD_NS= HOLD_PID= PAMD_SAVED= MADE_RUN_SSHD=
stop_sshd() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
  SSHD_PID=
  # Connection children and sessions live on in sshd's namespace: end them too.
  if [ -n "$SSHD_NS" ]; then
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$SSHD_NS" ] && kill -KILL "${p#/proc/}" 2>/dev/null
    done
  fi
  SSHD_NS=
}
ssh_cleanup() {
  local rc=$?
  set +e
  [ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null && wait "$HOLD_PID" 2>/dev/null
  stop_sshd
  if [ -n "$PAMD_SAVED" ]; then
    cp -p "$W/pam.d-sshd.orig" "$PAMD"
    if ! cmp -s "$W/pam.d-sshd.orig" "$PAMD"; then
      echo "FAIL: $PAMD differs from its backup (kept in $W.pam.d-sshd.orig)" >&2
      cp -p "$W/pam.d-sshd.orig" "$W.pam.d-sshd.orig"
      rc=1
    fi
  fi
  [ -n "$MADE_RUN_SSHD" ] && rmdir /run/sshd
  lk_devlog_stop
  if [ $rc -ne 0 ] && [ -f "$S/sshd.log" ]; then
    echo "--- sshd log ---"; cat "$S/sshd.log"
    echo "--- syslog ---"; cat "$DEVLOG_OUT"
  fi
  (exit $rc)
  lk_cleanup
}
trap ssh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_sshd [sshd -o options]: our sshd in the foreground (-D), at a free port.
start_sshd() {
  stop_sshd
  for _ in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 40000))
    : >"$S/sshd.log"
    lk_devlog_exec "${LK_HOST_ENV[@]}" "$SSHD" -D -e -f "$S/sshd_config" -p "$PORT" "$@" 2>>"$S/sshd.log" &
    SSHD_PID=$!
    for _ in $(seq 200); do
      if grep -q "Server listening on 127.0.0.1 port $PORT" "$S/sshd.log"; then
        SSHD_NS=$(readlink "/proc/$SSHD_PID/ns/mnt")
        return 0
      fi
      kill -0 "$SSHD_PID" 2>/dev/null || break
      sleep 0.05
    done
    stop_sshd
  done
  fail "sshd did not start: $(cat "$S/sshd.log")"
}

ssh_opts() {
  echo -F /dev/null -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=10
}
# ssh_pw METHOD PASSWORD COMMAND: log in as $U with password or keyboard-interactive.
ssh_pw() {
  sshpass -p "$2" ssh $(ssh_opts) -o PreferredAuthentications="$1" -o PubkeyAuthentication=no \
    -o NumberOfPasswordPrompts=1 "$U@127.0.0.1" "$3"
}
ssh_key() {
  ssh $(ssh_opts) -i "$S/client" -o IdentitiesOnly=yes -o PreferredAuthentications=publickey \
    -o BatchMode=yes "$U@127.0.0.1" "$1"
}
# ms_login: milliseconds of one password login that runs `true`.
ms_login() {
  local t0 t1
  t0=$(date +%s%N)
  ssh_pw password "$PW" true || fail "password login failed"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

lk_locked_home_setup lkss
UID_U=$(id -u "$U")
lk_devlog_start

# sshd: host key, client key, authorized keys outside the (encrypted) home.
mkdir -p "$S/ak"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$S/client"
install -m 0644 "$S/client.pub" "$S/ak/$U"
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $S/host_ed25519
PidFile $S/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication yes
# The home is encrypted, so keys live outside it; /tmp is world-writable,
# which StrictModes would refuse on the way up to the file.
AuthorizedKeysFile $S/ak/%u
StrictModes no
PermitRootLogin no
AllowUsers $U
LogLevel VERBOSE
PrintMotd no
UseDNS no
EOF
if [ ! -d /run/sshd ]; then
  mkdir -m 0755 /run/sshd
  MADE_RUN_SSHD=1
fi
"$SSHD" -t -f "$S/sshd_config" || fail "sshd rejects the test configuration"

# Debian's stack as installed, with latchkey after common-auth and common-session.
[ -f "$PAMD" ] || fail "$PAMD missing (openssh-server not installed?)"
cp -p "$PAMD" "$W/pam.d-sshd.orig"
PAMD_SAVED=1
awk -v m="$PAM_MODULE socket=$SOCK debug" '
  { print }
  /^@include[ \t]+common-auth([ \t]|$)/ { print "auth     optional  " m; a++ }
  /^@include[ \t]+common-session([ \t]|$)/ { print "session  optional  " m; s++ }
  END { exit !(a == 1 && s == 1) }' "$PAMD" >"$W/pam.d-sshd.latchkey" \
  || fail "$PAMD does not include common-auth and common-session once each"

# What latchkey adds to an ssh login (Debian's stack vs. with latchkey).
start_sshd
t_plain=$(median3 "$(ms_login)" "$(ms_login)" "$(ms_login)")
cat "$W/pam.d-sshd.latchkey" >"$PAMD"
t_lk=()
for _ in 1 2 3; do t_lk+=("$(ms_login)"); wait_status Absent; done
t_lk=$(median3 "${t_lk[@]}")
echo "measure: ssh password login running 'true', median of 3: ${t_plain} ms with Debian's stack, ${t_lk} ms with latchkey"

# a) password authentication.
out=$(ssh_pw password "$PW" "cat ~/f; $(command -v xfs_io) -c 'enckey_status $ID' '$MNT'") || fail "password login failed: $out"
echo "$out" | grep -qx data || fail "home not readable in the password session: $out"
echo "$out" | grep -q '^Present' || fail "xfs_io does not say Present in the session: $out"
grep -q "Accepted password for $U " "$S/sshd.log" || fail "sshd did not use password authentication"
wait_status Absent
grep -q "credential of $U accepted by latchkeyd" "$DEVLOG_OUT" || fail "no module line in syslog"
ok "password: home readable in the session, Present there, Absent after the client exited"

# b) keyboard-interactive only: PAM auth runs in a child of the monitor.
start_sshd -o PasswordAuthentication=no
ssh_pw password "$PW" true 2>/dev/null && fail "password authentication still accepted"
n_auth=$(grep -c "AUTH_SUBMIT from" "$W/daemon.log")
out=$(ssh_pw keyboard-interactive "$PW" "cat ~/f; $(command -v xfs_io) -c 'enckey_status $ID' '$MNT'") \
  || fail "keyboard-interactive login failed: $out"
echo "$out" | grep -qx data || fail "home not readable in the keyboard-interactive session: $out"
echo "$out" | grep -q '^Present' || fail "xfs_io does not say Present in the session: $out"
grep -q "Accepted keyboard-interactive/pam for $U " "$S/sshd.log" || fail "sshd did not use keyboard-interactive"
wait_status Absent
auth_pid=$(grep "AUTH_SUBMIT from" "$W/daemon.log" | sed -n "$((n_auth + 1))p" | sed 's/.*(pid \([0-9]*\)).*/\1/')
open_pid=$(grep "SESSION_OPEN from" "$W/daemon.log" | tail -1 | sed 's/.*(pid \([0-9]*\)).*/\1/')
[ -n "$auth_pid" ] && [ "$auth_pid" != "$open_pid" ] \
  || fail "auth (pid $auth_pid) and session (pid $open_pid) were expected in different processes"
ok "keyboard-interactive: auth in pid $auth_pid, session in pid $open_pid; readable, then Absent"

# c) public key alone: nothing to unwrap with, so the home stays locked.
start_sshd
out=$(ssh_key 'cat ~/f' 2>&1) && fail "public key login alone could read the home: $out"
echo "$out" | grep -qx data && fail "public key login alone printed the file"
grep -q "Accepted publickey for $U " "$S/sshd.log" || fail "public key login was not accepted: $out"
[ "$(key_status "$ID")" = Absent ] || fail "public key login unlocked: $(key_status "$ID")"
grep -q "session of $U opened without a credential: directories stay locked" "$DEVLOG_OUT" \
  || fail "no clear log line for the locked public key session: $(cat "$DEVLOG_OUT")"
ok "public key alone: home locked; syslog: $(grep -o "session of $U opened without.*" "$DEVLOG_OUT" | tail -1)"

# ... and while a password session is live, the same login reads the home.
mkdir "$W/sync"
chown "$U" "$W/sync"
ssh_pw password "$PW" "touch $W/sync/held; while [ ! -e $W/sync/release ]; do sleep 0.1; done" &
HOLD_PID=$!
for _ in $(seq 200); do [ -e "$W/sync/held" ] && break; sleep 0.05; done
[ -e "$W/sync/held" ] || fail "the held password session did not start"
wait_status Present
n_end=$(grep -c "session of uid $UID_U ended, 1 left" "$W/daemon.log" || true)
out=$(ssh_key 'cat ~/f') || fail "public key login failed while a password session is live: $out"
[ "$out" = data ] || fail "public key login next to a password session could not read the home: $out"
for _ in $(seq 100); do
  [ "$(grep -c "session of uid $UID_U ended, 1 left" "$W/daemon.log")" -gt "$n_end" ] && break
  sleep 0.05
done
[ "$(grep -c "session of uid $UID_U ended, 1 left" "$W/daemon.log")" -gt "$n_end" ] \
  || fail "the daemon did not see the public key session end"
[[ "$(key_status "$ID")" == Present* ]] || fail "the public key logout locked the live session's home"
touch "$W/sync/release"
wait "$HOLD_PID" || fail "the held password session failed"
HOLD_PID=
wait_status Absent
ok "public key next to a live password session: readable; locked after the last one ended"

# d) wrong password.
n_auth=$(grep -c "AUTH_SUBMIT from" "$W/daemon.log")
ssh_pw password "wrong $PW" 'cat ~/f' >/dev/null 2>&1 && fail "a wrong password was accepted"
grep -q "Failed password for $U " "$S/sshd.log" || fail "sshd did not log the failed password"
[ "$(grep -c "AUTH_SUBMIT from" "$W/daemon.log")" = "$n_auth" ] || fail "a wrong password reached latchkeyd"
[ "$(key_status "$ID")" = Absent ] || fail "a wrong password changed the key status: $(key_status "$ID")"
ok "wrong password: rejected by sshd, nothing sent to latchkeyd, home locked"

grep -F -- "$PW" "$W/daemon.log" "$DEVLOG_OUT" "$S/sshd.log" && fail "the password reached a log"
echo PASS
