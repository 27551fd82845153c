#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian package on a booted Debian 12: debootstrap a root (cached below
# /var/cache/latchkey-boot-test, keyed by the package list and mirror), boot
# it with systemd-nspawn with a loop-mounted ext4 (-O encrypt) as /home,
# install the .deb built from this tree, and log in for real: login on a
# pseudo-terminal, su, sshd (password and keyboard-interactive), with the
# PAM stacks pam-auth-update wrote and the real logind. Each login unlocks
# the home and each logout locks it (checked from outside the container with
# xfs_io); the first login socket-activates latchkeyd; a restart during a
# session keeps it unlocked and the later logout still locks. Then removal
# takes the PAM lines out and purge keeps the protector records.
set -euo pipefail
: "${LK_SRC:?LK_SRC must point at the source tree}"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: needs root (debootstrap, systemd-nspawn, loop devices)"
  exit 77
fi
for tool in debootstrap systemd-nspawn dpkg-buildpackage nsenter mkfs.ext4 xfs_io losetup python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (run scripts/test, which installs it)"; exit 1; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$SECONDS
W=$(mktemp -d /var/tmp/latchkey-boot.XXXXXX)
MNT=$W/home
MACHINE=lkboot$$
NSPAWN_PID= INIT_PID= LOOPDEV= DEB_PID=
mkdir -p "$MNT" "$W/deb"

cleanup() {
  local rc=${1:-$?}
  set +e
  # LK_BOOT_PAUSE=SECONDS: on failure, leave the container up that long to
  # look inside (nsenter -t PID -a).
  if [ $rc -ne 0 ] && [ -n "${LK_BOOT_PAUSE:-}" ] && [ -n "$INIT_PID" ]; then
    echo "paused: nsenter -t $INIT_PID -a"; sleep "$LK_BOOT_PAUSE"
  fi
  [ -n "$DEB_PID" ] && kill "$DEB_PID" 2>/dev/null && wait "$DEB_PID" 2>/dev/null
  # Killing the container's init ends every process in it; nspawn then
  # exits and undoes its own mounts.
  [ -n "$INIT_PID" ] && kill -KILL "$INIT_PID" 2>/dev/null
  if [ -n "$NSPAWN_PID" ]; then
    kill -TERM "$NSPAWN_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NSPAWN_PID" 2>/dev/null
    wait "$NSPAWN_PID" 2>/dev/null
  fi
  if mountpoint -q "$MNT"; then umount "$MNT" 2>/dev/null || umount -l "$MNT"; fi
  [ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
  if [ $rc -ne 0 ]; then
    [ -f "$W/journal.txt" ] && { echo "--- journal (latchkeyd, logind, sshd) ---"; tail -60 "$W/journal.txt"; }
    [ -f "$W/console.log" ] && { echo "--- console ---"; tail -20 "$W/console.log"; }
  fi
  rm -rf "$W"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { printf 'ok: %s (%ds)\n' "$*" $((SECONDS - T0)); }

# The package, built in the background while the root is made.
"$HERE/build-deb.sh" "$LK_SRC" "$W/deb" >"$W/deb.log" 2>&1 &
DEB_PID=$!

# --- the Debian 12 root, from the host's own mirror ---
SUITE=bookworm
MIRROR=$(python3 - "$SUITE" <<'PY'
import glob, re, sys
suite = sys.argv[1]
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try: lines = open(path).read().splitlines()
    except OSError: continue
    for l in lines:
        w = re.sub(r"\[[^]]*\]", "", l).split()
        if len(w) >= 3 and w[0] == "deb" and w[2] == suite:
            print(w[1]); sys.exit()
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        f = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if suite in f.get("Suites", "").split() and "main" in f.get("Components", "").split():
            print(f["URIs"].split()[0]); sys.exit()
print("http://deb.debian.org/debian")
PY
)
PKGS=(systemd systemd-sysv dbus libpam-systemd libpam-runtime openssh-server openssh-client sshpass login
  passwd xfsprogs e2fsprogs python3-minimal libargon2-1 libinih1 libkeyutils1 libssl3 libsystemd0 libsodium23)
CACHE=${LK_BOOT_CACHE:-/var/cache/latchkey-boot-test}
KEY=$(printf '%s\n' "$SUITE" "$MIRROR" "${PKGS[@]}" | sha256sum | cut -c1-16)
ROOT_SRC=$CACHE/$KEY/root
if [ ! -f "$CACHE/$KEY/complete" ]; then
  # A cache that cannot be written falls back to a root just for this run.
  if mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ]; then
    # Roots of other package lists unused for a week go (another run may be
    # copying a recent one right now).
    find "$CACHE" -mindepth 2 -maxdepth 2 -name complete -mtime +7 -printf '%h\0' | xargs -0r rm -rf
    rm -rf "$CACHE/$KEY"; mkdir -p "$CACHE/$KEY"
  else
    ROOT_SRC=$W/cached-root CACHE=$W KEY=.
  fi
  debootstrap --variant=minbase --include="$(IFS=,; echo "${PKGS[*]}")" "$SUITE" "$ROOT_SRC" "$MIRROR" \
    >"$W/debootstrap.log" 2>&1 || { tail -20 "$W/debootstrap.log"; fail "debootstrap from $MIRROR"; }
  touch "$CACHE/$KEY/complete"
  ok "debootstrapped $SUITE from $MIRROR"
else
  touch "$CACHE/$KEY/complete"
  ok "root from the cache ($CACHE/$KEY)"
fi
R=$W/root
cp -a "$ROOT_SRC" "$R"

# sshd on the container's own loopback, with both password methods.
cat >"$R/etc/ssh/sshd_config.d/latchkey-test.conf" <<'EOF'
ListenAddress 127.0.0.1
PasswordAuthentication yes
KbdInteractiveAuthentication yes
EOF
echo "$MACHINE" >"$R/etc/hostname"
mkdir -p "$R/var/tmp/lk"
cp "$HERE/pty-session.py" "$R/var/tmp/lk/"

# /home: a fresh ext4 with the encrypt feature, mounted on the host.
truncate -s 256M "$W/home.img"
mkfs.ext4 -q -O encrypt "$W/home.img"
LOOPDEV=$(losetup --find --show "$W/home.img")
mount "$LOOPDEV" "$MNT"

wait "$DEB_PID" || { cat "$W/deb.log"; DEB_PID=; fail "the package did not build"; }
DEB_PID=
DEB=$(ls "$W"/deb/latchkey_*.deb)
cp "$DEB" "$R/var/tmp/lk/latchkey.deb"
ok "built $(basename "$DEB")"
# A dependency the cached root lacks (the package's libraries changed) is
# fetched into it before the boot; the booted system has no network.
missing=()
for dep in $(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//' | xargs); do
  chroot "$R" dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" || missing+=("$dep")
done
if [ ${#missing[@]} -gt 0 ]; then
  chroot "$R" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$W/apt.log" 2>&1 ||
    { cat "$W/apt.log"; fail "cannot install ${missing[*]} into the root"; }
  ok "installed ${missing[*]} into the root (not in the cached package list)"
fi

# --- boot ---
# systemd-nspawn's container-wide seccomp allow-list leaves out mlock()
# (containers get no CAP_IPC_LOCK), and latchkeyd refuses to hold keys in
# pageable memory: allow @memlock in the container.
systemd-nspawn -b --register=no --keep-unit -M "$MACHINE" -D "$R" --private-network \
  --bind="$MNT:/home" --system-call-filter=@memlock --console=read-only \
  >"$W/console.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 200); do
  for p in $(pgrep -P "$NSPAWN_PID"); do
    # PID 1 of the new namespace, once it is systemd (not nspawn's child before the exec).
    [ "$(awk '/^NSpid/ {print $NF}' "/proc/$p/status" 2>/dev/null)" = 1 ] &&
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && INIT_PID=$p
  done
  [ -n "$INIT_PID" ] && break
  sleep 0.05
done
[ -n "$INIT_PID" ] || fail "systemd-nspawn did not start the container's init"
ct() { nsenter -t "$INIT_PID" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
# Until the container's systemd listens on its bus, systemctl cannot ask.
for _ in $(seq 600); do
  state=$(timeout 90 nsenter -t "$INIT_PID" -a systemctl is-system-running --wait 2>&1) || true
  [[ "$state" == *"connect to bus"* ]] || break
  sleep 0.1
done
[ "$state" = running ] || { ct systemctl --failed --no-pager || true; fail "booted system is '$state'"; }
ok "booted with systemd $(ct systemctl --version | awk 'NR==1 {print $2}')"

journal() { ct journalctl -q --no-pager -o cat "$@"; }
save_journal() { ct journalctl -q --no-pager -u latchkeyd -u systemd-logind -u ssh >"$W/journal.txt" 2>&1 || true; }
trap 'rc=$?; save_journal; cleanup $rc' EXIT

# --- install: pam-auth-update and the units ---
ct dpkg -i /var/tmp/lk/latchkey.deb >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log"; fail "dpkg -i"; }
for f in auth session password; do
  ct grep -Eq "^$f\s+optional\s+pam_latchkey.so" "/etc/pam.d/common-$f" || fail "no pam_latchkey.so in common-$f"
done
# In the "Additional" block: after pam_unix has decided.
ct awk '/pam_unix.so/ {u = NR} /pam_latchkey.so/ {l = NR} END {exit !(u && l > u)}' /etc/pam.d/common-auth ||
  fail "pam_latchkey.so is not after pam_unix.so in common-auth"
[ "$(ct systemctl is-enabled latchkeyd.socket)" = enabled ] || fail "latchkeyd.socket not enabled"
[ "$(ct systemctl is-active latchkeyd.socket)" = active ] || fail "latchkeyd.socket not listening"
[ "$(ct systemctl is-active latchkeyd.service)" = inactive ] || fail "latchkeyd.service started by the install"
unitdir=$(ct systemctl show -P FragmentPath latchkeyd.service)
[ "$unitdir" = "$(pkg-config --variable=systemdsystemunitdir systemd)/latchkeyd.service" ] ||
  fail "unit installed as $unitdir"
ok "installed: PAM profile in common-auth/-session/-password, socket enabled and listening, service idle"

# --- a user with an encrypted, locked home ---
U=alice PW="alice pw $RANDOM"
ct useradd -M -d /home/$U -s /bin/sh $U
ct useradd -M -d / -s /bin/sh lkrunner
printf '%s:%s\n' "$U" "$PW" | ct chpasswd
ct install -d -o $U -g $U -m 0700 /home/$U
printf '%s\n' "$PW" | ct latchkeyctl enroll $U --passphrase-stdin --kdf-time 50 >/dev/null
printf '%s\n' "$PW" | ct latchkeyctl encrypt /home/$U --user $U --passphrase-stdin >/dev/null
ct setpriv --reuid=$U --regid=$U --init-groups sh -c 'echo "home of alice" > /home/alice/f'
ID=$(xfs_io -c get_encpolicy "$MNT/$U" | awk '/Master key identifier/ {print $4}')
[ -n "$ID" ] || fail "no v2 policy on /home/$U"
ct latchkeyctl lock $U >/dev/null
key_status() { xfs_io -c "enckey_status $ID" "$MNT" | head -1; }
wait_status() {
  for _ in $(seq 200); do [[ "$(key_status)" == $1* ]] && return 0; sleep 0.05; done
  fail "$2: expected $1, xfs_io says $(key_status)"
}
wait_status Absent "after latchkeyctl lock"
# Back to the state after installation: the socket listens, no daemon runs.
ct systemctl stop latchkeyd.service
[ "$(ct systemctl is-active latchkeyd.service)" = inactive ] || fail "latchkeyd.service still running"
ok "alice enrolled, /home/alice encrypted (key $ID) and locked; latchkeyd stopped, its socket listening"

session_count() { ct loginctl list-sessions --no-legend | awk -v u=$U '$3 == u' | wc -l; }

# login_pty HOLD LOGIN-COMMAND...: a session on a pseudo-terminal, run by
# the container's systemd (so logind sees an ordinary login), in the
# background until HOLD exists inside the container.
login_pty() {
  local hold=$1 user=$2; shift 2
  ct systemd-run --quiet --wait --pipe --collect -p User="$user" \
    /usr/bin/python3 /var/tmp/lk/pty-session.py "$PW" --hold "$hold" -- "$@" >"$W/session.out" 2>&1 &
}
release() {
  ct touch "$1"
  wait "$2" || { cat "$W/session.out"; fail "the $3 session failed"; }
  grep -q "home of alice" "$W/session.out" || { cat "$W/session.out"; fail "$3: the session could not read ~/f"; }
}

# --- 1. login on a pseudo-terminal: the first login starts the daemon ---
login_pty /run/lk-release-1 root /bin/login $U
pid=$!
wait_status Present "login: session open"
[ "$(ct systemctl is-active latchkeyd.service)" = active ] || fail "latchkeyd not started by the login"
[ "$(ct systemctl show -P NRestarts latchkeyd.service)" = 0 ] || fail "latchkeyd restarted"
[ "$(session_count)" -ge 1 ] || fail "logind has no session of $U"
ok "login on a pty: home unlocked, latchkeyd socket-activated by the login, logind session $(ct loginctl list-sessions --no-legend | awk -v u=$U '$3 == u {print $1}')"
release /run/lk-release-1 $pid login
wait_status Absent "login: after logout"
ok "login: logout locked the home"

# --- 2. su from an unprivileged user ---
login_pty /run/lk-release-2 lkrunner /bin/su - $U
pid=$!
wait_status Present "su: session open"
release /run/lk-release-2 $pid su
wait_status Absent "su: after exit"
ok "su from lkrunner: unlocked in the session, locked at exit"

# --- 3, 4. sshd: password and keyboard-interactive ---
for method in password keyboard-interactive; do
  out=$(ct sshpass -p "$PW" ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -o PubkeyAuthentication=no -o PreferredAuthentications=$method -o NumberOfPasswordPrompts=1 \
    $U@127.0.0.1 'cat "$HOME/f"; xfs_io -c "enckey_status '"$ID"'" /home 2>/dev/null || true') ||
    fail "ssh ($method) login failed: $out"
  [[ "$out" == *"home of alice"* ]] || fail "ssh ($method): the session could not read ~/f: $out"
  wait_status Absent "ssh ($method): after logout"
  ok "ssh ($method): unlocked in the session, locked at logout"
done

# --- 5. restart during a session ---
login_pty /run/lk-release-3 root /bin/login $U
pid=$!
wait_status Present "restart: session open"
old=$(ct systemctl show -P MainPID latchkeyd.service)
ct systemctl restart latchkeyd.service
new=$(ct systemctl show -P MainPID latchkeyd.service)
[ "$new" != "$old" ] && [ "$new" != 0 ] || fail "latchkeyd did not restart ($old -> $new)"
[[ "$(key_status)" == Present* ]] || fail "restart during a session locked the home: $(key_status)"
journal -u latchkeyd | grep -q "adopted session of uid" || fail "the restarted daemon adopted no session"
release /run/lk-release-3 $pid "login (across a restart)"
wait_status Absent "restart: logout after the restart"
ok "systemctl restart latchkeyd during a session (pid $old -> $new): stayed unlocked, the later logout locked"

# --- latchkeyctl doctor on the installed system: nothing to fix ---
doctor=$(ct latchkeyctl doctor --json) || { echo "$doctor"; fail "latchkeyctl doctor found failures"; }
python3 - "$doctor" <<'PY' || fail "doctor: $doctor"
import json, sys
f = json.loads(sys.argv[1])["findings"]
ok = lambda check, text: any(x["check"] == check and x["level"] == "ok" and text in x["message"] for x in f)
for check, text in [("kernel", "supported"), ("filesystem", "/home"), ("pam", "common-auth"),
                    ("pam", "common-session"), ("pam", "common-password"), ("daemon", "answers"),
                    ("units", "enabled"), ("state", "/var/lib/latchkey")]:
    assert ok(check, text), (check, text)
PY
ok "latchkeyctl doctor: kernel, /home, the three PAM stacks, daemon, units and state all ok"

# --- the running unit's sandbox and its journal ---
exposure=$(ct systemd-analyze security --no-pager latchkeyd.service | tail -1)
echo "systemd-analyze security latchkeyd.service: $exposure"
events=$(journal -u latchkeyd)
for want in "unlocked /home/$U" "locked /home/$U" "session 1 of uid" "adopted session of uid"; do
  grep -q "$want" <<<"$events" || { echo "$events" | tail -30; fail "journalctl -u latchkeyd lacks '$want'"; }
done
ok "journalctl -u latchkeyd shows unlock, lock, session and adoption events"

# Structured fields and the catalog (installed; systemd's trigger compiled it).
for ev in "a95013cf81f64831914d79a891ee72ee unlocked" "f6cd0bb708af4d108aa434e9d5bc4e9d locked"; do
  set -- $ev
  entry=$(ct journalctl -u latchkeyd MESSAGE_ID=$1 -n 1 -o export --no-pager)
  for field in "USER_ID=$(ct id -u $U)" "LATCHKEY_KEY_ID=$ID" "LATCHKEY_DIRECTORY=/home/$U"; do
    grep -qxF "$field" <<<"$entry" || { echo "$entry"; fail "the $2 event has no $field"; }
  done
done
explained=$(ct journalctl -x -u latchkeyd --no-pager)
grep -qF "Subject: Encrypted directory /home/$U unlocked" <<<"$explained" ||
  fail "journalctl -x does not explain the unlock event (catalog not installed or not compiled)"
grep -qF "Subject: Encrypted directory /home/$U locked" <<<"$explained" || fail "journalctl -x: no lock explanation"
printf 'wrong password\n' | ct latchkeyctl unlock $U --passphrase-stdin >/dev/null 2>&1 && fail "a wrong password unlocked"
ct journalctl -x -u latchkeyd --no-pager | grep -qF "Fix: log in once more with the new password" ||
  fail "journalctl -x gives no fix for a wrong passphrase"
ok "journal: MESSAGE_ID, USER_ID, LATCHKEY_KEY_ID, LATCHKEY_DIRECTORY; journalctl -x explains with the fix"

# --- removal and purge ---
ct dpkg -r latchkey >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log"; fail "dpkg -r"; }
if ct grep -l pam_latchkey /etc/pam.d/common-auth /etc/pam.d/common-session /etc/pam.d/common-password; then
  fail "dpkg -r left pam_latchkey.so in the PAM stacks"
fi
[ "$(ct systemctl is-active latchkeyd.socket)" != active ] || fail "the socket listens after removal"
[ "$(ct systemctl is-active latchkeyd.service)" != active ] || fail "latchkeyd runs after removal"
ct dpkg -P latchkey >"$W/dpkg.log" 2>&1 || { cat "$W/dpkg.log"; fail "dpkg -P"; }
grep -q "kept /var/lib/latchkey" "$W/dpkg.log" || { cat "$W/dpkg.log"; fail "purge did not say what it keeps"; }
ct test -d /var/lib/latchkey/protectors || fail "purge removed /var/lib/latchkey"
[ -n "$(ct ls /var/lib/latchkey/protectors)" ] || fail "purge removed the protector records"
xfs_io -c get_encpolicy "$MNT/$U" | grep -q "$ID" || fail "the home lost its policy"
ok "dpkg -r took the PAM lines out; dpkg -P kept /var/lib/latchkey and said so"
echo "boot test: $((SECONDS - T0)) s"
