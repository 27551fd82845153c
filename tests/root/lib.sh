# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared set-up for the root tests: a loop-mounted ext4 with -O encrypt,
# throw-away users, a PAM service file and a latchkeyd of our own on a
# private socket and state directory. Everything is undone by the EXIT trap,
# so the machine is left as it was found (CI runs right after on it).
set -euo pipefail

: "${LK_BUILD:?LK_BUILD must point at the meson build directory}"
LATCHKEYD=$LK_BUILD/daemon/latchkeyd
LATCHKEYCTL=$LK_BUILD/tools/latchkeyctl
PAM_MODULE=$LK_BUILD/pam_module/pam_latchkey.so
PAM_LOGIN=$LK_BUILD/tests/root/pam-login

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (loop devices, fscrypt ioctls, useradd)"
  exit 77
fi
for tool in mkfs.ext4 xfs_io useradd chpasswd losetup; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (run scripts/test, which installs it)"; exit 1; }
done

W=$(mktemp -d /tmp/latchkey-test.XXXXXX)
MNT=$W/mnt
SOCK=$W/run/socket
SERVICE=latchkey-test-$$-$RANDOM
USERS=()
DAEMON_PID=
# Background helpers run as root (pam-login --hold): killed by lk_cleanup,
# since pkill -u of the test users does not reach them.
LK_PIDS=()
# Users must be able to reach their homes on the test fs below $W.
chmod 0755 "$W"
mkdir -p "$MNT" "$W/run" "$W/etc"
# Test users run latchkeyctl too; from a checkout in a 0700 directory (a
# clone in /root) the build tree is out of their reach, so everyone runs a
# copy in $W.
install -D -m 0755 "$LK_BUILD/tools/latchkeyctl" "$W/bin/latchkeyctl"
LATCHKEYCTL=$W/bin/latchkeyctl
# The tests' one copy of the wire protocol (tests/lib/latchkey_wire.py),
# for the inline Python that root runs. A script a test user runs gets
# copies beside it (lk_copy_wire), for the same reason as latchkeyctl's.
LK_WIRE_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
export PYTHONPATH=$LK_WIRE_LIB${PYTHONPATH:+:$PYTHONPATH}
# lk_copy_wire DIR: latchkey_wire.py and the protocol.h it reads, in DIR.
lk_copy_wire() {
  install -m 0644 "$LK_WIRE_LIB/latchkey_wire.py" "$LK_WIRE_LIB/../../include/latchkey/protocol.h" "$1/"
}

lk_cleanup() {
  local rc=$?
  set +e
  lk_kill_tracked
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  # Logins held open in the background (login_held) must not outlive a
  # failed test: they would keep meson waiting on their output.
  pkill -TERM -P $$ 2>/dev/null
  for u in "${USERS[@]}"; do
    pkill -KILL -u "$u" 2>/dev/null
    pkill -KILL -U "$u" 2>/dev/null  # setuid hosts a test user started
    for _ in $(seq 100); do pgrep -U "$u" >/dev/null || break; sleep 0.05; done  # userdel refuses a live user
    userdel "$u" 2>/dev/null
  done
  rm -f "/etc/pam.d/$SERVICE"
  if mountpoint -q "$MNT"; then
    umount "$MNT" 2>/dev/null || { sleep 0.5; umount "$MNT" 2>/dev/null; } || umount -l "$MNT"
  fi
  [ -n "${LOOPDEV:-}" ] && losetup -d "$LOOPDEV" 2>/dev/null
  if [ $rc -ne 0 ] && [ -f "$W/daemon.log" ]; then
    echo "--- latchkeyd log ---"; cat "$W/daemon.log"
  fi
  rm -rf "$W"
  exit $rc
}
trap lk_cleanup EXIT

# lk_track PID...: a background helper of this shell, killed at exit. A
# failing test must not leave a root-owned login holding meson's pipe open
# (the test would then end only at its timeout).
lk_track() { LK_PIDS+=("$@"); }

# SIGKILL each tracked helper that is still this shell's child (a PID that
# was reaped and reused belongs to someone else), and reap it.
lk_kill_tracked() {
  local p
  for p in "${LK_PIDS[@]}"; do
    [ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$$" ] || continue
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  LK_PIDS=()
}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# A fresh ext4 with the encrypt feature on a loop device.
lk_make_fs() {
  truncate -s "${1:-64M}" "$W/fs.img"
  mkfs.ext4 -q -O encrypt "$W/fs.img"
  LOOPDEV=$(losetup --find --show "$W/fs.img")
  mount "$LOOPDEV" "$MNT"
  mkdir -p "$MNT/home"
}

# lk_add_user NAME PASSWORD: a real account whose home is on the test fs.
lk_add_user() {
  local name=$1 pw=$2
  useradd -M -d "$MNT/home/$name" -s /bin/sh "$name"
  USERS+=("$name")
  echo "$name:$pw" | chpasswd
  mkdir -p "$MNT/home/$name"
}

# Ready is the daemon's own "ready" log line (logged where it tells systemd
# READY=1), not the socket file: a killed daemon leaves its socket behind.
lk_start_daemon() {
  # $SOCK is this test's own: a socket there now is one a killed (kill -9)
  # daemon left, and waiting for it would not wait for the new daemon.
  rm -f "$SOCK"
  local before
  before=$(grep -c "latchkeyd [^ ]* ready$" "$W/daemon.log" 2>/dev/null || true)
  "$LATCHKEYD" --socket "$SOCK" --state-dir "${LK_STATE:-$W/state}" --config-dir "$W/etc" \
    --vendor-config-dir "$W/vendor" --debug >>"$W/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 200); do
    [ "$(grep -c "latchkeyd [^ ]* ready$" "$W/daemon.log")" -gt "${before:-0}" ] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "latchkeyd exited at start"
    sleep 0.05
  done
  fail "latchkeyd did not get ready"
}

lk_stop_daemon() {
  kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
}

# A PAM service as a Debian admin would write it: pam_unix decides, latchkey
# rides along as optional.
lk_write_pam_service() {
  cat >"/etc/pam.d/$SERVICE" <<PAM
auth     required  pam_unix.so
auth     optional  $PAM_MODULE socket=$SOCK debug
account  required  pam_unix.so
session  required  pam_unix.so
session  optional  $PAM_MODULE socket=$SOCK debug
PAM
}

ctl() { "$LATCHKEYCTL" --socket "$SOCK" "$@"; }

# A system binary hosting pam_latchkey.so (sshd, su) is started as
# "${LK_HOST_ENV[@]}" BINARY...: in a sanitizer build the ASan-built module
# needs the runtime preloaded (LK_HOST_PRELOAD, tests/root/meson.build); the
# host's own leaks are not ours to report. Empty otherwise.
LK_HOST_ENV=()
if [ -n "${LK_HOST_PRELOAD:-}" ]; then
  LK_HOST_ENV=(env "LD_PRELOAD=$LK_HOST_PRELOAD" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")
fi

# lk_encrypted_home NAME PASSWORD: enrol NAME (Argon2id at its floor) and
# encrypt their empty home, which is left unlocked; prints the key id.
lk_encrypted_home() {
  printf '%s\n' "$2" | ctl enroll "$1" --passphrase-stdin --kdf-time 1 >/dev/null
  printf '%s\n' "$2" | ctl encrypt "$MNT/home/$1" --user "$1" --passphrase-stdin >/dev/null
  xfs_io -c get_encpolicy "$MNT/home/$1" | awk '/Master key identifier/ {print $4}'
}

# Independent check with xfs_io: prints Present/Absent/Incompletely removed.
key_status() { xfs_io -c "enckey_status $1" "$MNT" | head -1; }

# lk_policy NAME ROOT [KEY=VALUE...]: a per-user cache policy drop-in in the
# daemon's config dir (read at start, or at lk_reload).
lk_policy() {
  local name=$1 root=$2; shift 2
  mkdir -p "$W/etc/policy.d"
  { printf '[policy %s]\nroot = %s\nper_user = yes\n' "$name" "$root"
    for kv in "$@"; do printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"; done
  } >"$W/etc/policy.d/$name.conf"
}

# lk_reload: the RELOAD request; prints OK, or ERROR and the daemon's text
# (exit status 1).
lk_reload() {
  python3 - "$SOCK" <<'PY'
import sys
import latchkey_wire as wire
m = wire.request(sys.argv[1], wire.REQ_RELOAD, timeout=30)[0]
text = m.fields.get(wire.T_TEXT, b"").decode()
print("OK" if m.type == wire.REP_OK else "ERROR " + text); sys.exit(0 if m.type == wire.REP_OK else 1)
PY
}

# lk_locked_home_setup PREFIX [PASSWORD]: a test fs, our daemon, the PAM
# service and one user (PREFIX + a random number) whose encrypted home holds
# the file f and is locked. Sets U, PW, H and ID (the key identifier).
lk_locked_home_setup() {
  lk_make_fs
  PW=${2:-"pw $RANDOM"}
  U=$1$RANDOM
  lk_add_user "$U" "$PW"
  H=$MNT/home/$U
  lk_start_daemon
  lk_write_pam_service
  ID=$(lk_encrypted_home "$U" "$PW")
  [ -n "$ID" ] || fail "no v2 policy on $H"
  "$PAM_LOGIN" --no-auth "$SERVICE" "$U" -- sh -c 'echo data > "$HOME/f"'
  ctl lock "$U" >/dev/null
  [ "$(key_status "$ID")" = Absent ] || fail "not locked after setup"
}

# wait_status WANT: poll xfs_io's view of $ID for up to 5 s.
wait_status() {
  for _ in $(seq 100); do [[ "$(key_status "$ID")" == $1* ]] && return 0; sleep 0.05; done
  fail "expected $1, xfs_io says $(key_status "$ID")"
}

# wait_log TEXT [COUNT]: poll the daemon log (up to 30 s, a loaded machine is
# slow) until TEXT appears COUNT times (default 1); a test synchronises on
# what the daemon did, never on a sleep.
wait_log() {
  local n
  for _ in $(seq 600); do
    n=$(grep -cF -- "$1" "$W/daemon.log" 2>/dev/null || true)
    [ "${n:-0}" -ge "${2:-1}" ] && return 0
    sleep 0.05
  done
  fail "the daemon never logged '$1' (${2:-1} times)"
}

# login_held HOLDFILE: a login of $U (password $PW) whose session stays open
# until HOLDFILE exists; runs in the background.
login_held() {
  printf '%s\n' "$PW" | "$PAM_LOGIN" --hold "$1" "$SERVICE" "$U" -- true &
  lk_track $!
}

# lk_add_password_stack: Debian's common-password layout in the test's PAM
# service (pam_unix decides, latchkey rides along), for password changes.
lk_add_password_stack() {
  cat >>"/etc/pam.d/$SERVICE" <<PAM
password [success=1 default=ignore] pam_unix.so obscure yescrypt
password requisite pam_deny.so
password required  pam_permit.so
password optional  $PAM_MODULE socket=$SOCK debug
PAM
}
