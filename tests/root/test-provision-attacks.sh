#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Provisioning under attack (a hostile user in a shared cache): whatever sits at
# <root>/<user> before the login -- a symlink to a directory outside, a
# FIFO, a socket, a file, a directory of another user, an unencrypted
# directory, one encrypted with an attacker's key (also with the user's
# real wrapped key copied onto it), one with the wrong mode, a symlink to
# the user's own real directory moved elsewhere -- is refused with a log
# line and left exactly as it was (and locked); so is a root that a user can
# write or that is a symlink. A racer swapping <root>/<user> between a
# directory and a symlink to an outside directory while the daemon
# provisions over and over never gets the outside directory changed.
# Then lock_on_logout=no (per policy, per user) and lock_delay (with a new
# session cancelling the delayed lock), observed with xfs_io.
. "$(dirname "$0")/lib.sh"

lk_make_fs 128M
U=lkpu$RANDOM; E=lkpe$RANDOM; PW="pw $RANDOM"
lk_add_user "$U" "$PW"
lk_add_user "$E" "pw $RANDOM"
UID_U=$(id -u "$U")
R=$MNT/cache; OUT=$MNT/outside
mkdir -m 0755 "$R" "$OUT"
lk_policy cache "$R"
lk_start_daemon
lk_write_pam_service
ID_HOME=$(lk_encrypted_home "$U" "$PW")
ctl lock "$U" >/dev/null

key_id_of() { xfs_io -c get_encpolicy "$1" 2>/dev/null | awk '/Master key identifier/ {print $4}'; }
is_status() { [[ "$(key_status "$1")" == $2* ]]; }
wait_for() {  # wait_for WHAT COMMAND...: poll up to 10 s
  local what=$1; shift
  for _ in $(seq 200); do "$@" 2>/dev/null && return 0; sleep 0.05; done
  fail "timed out waiting for: $what"
}
login() { printf '%s\n' "$PW" | timeout 20 "$PAM_LOGIN" "$SERVICE" "$U" -- true; }
log_count() { grep -cF -- "$1" "$W/daemon.log" || true; }
log_grew() { [ "$(log_count "$1")" -gt "$2" ]; }  # log_grew LINE COUNT_BEFORE

# Everything provisioning could change about $1, without following it:
# type, owner, mode, inode, times, link target, xattrs (trusted.* too),
# entries, and the encryption policy.
snap() {
  python3 - "$1" <<'PY'
import os, stat, sys
p = sys.argv[1]; st = os.lstat(p)
print(stat.filemode(st.st_mode), st.st_uid, st.st_gid, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
if stat.S_ISLNK(st.st_mode): print("->", os.readlink(p))
for n in sorted(os.listxattr(p, follow_symlinks=False)):
    print(n, os.getxattr(p, n, follow_symlinks=False).hex())
if stat.S_ISDIR(st.st_mode): print(sorted(os.listdir(p)))
PY
  if [ -d "$1" ] && [ ! -L "$1" ]; then xfs_io -c get_encpolicy "$1" 2>&1 | grep -v '^Encryption policy for' || true; fi
}
OUT_SNAP=$(snap "$OUT")

# refusals REASON: how many refusals of $R/$U for uid U name REASON.
refusals() { grep -F "policy cache: refusing $R/$U for uid $UID_U: " "$W/daemon.log" | grep -cF -- "$1" || true; }

# expect_refused CASE REASON: log in with whatever is at $R/$U; the login
# works, provisioning logs one refusal with REASON, nothing changes.
expect_refused() {
  local what=$1 reason=$2 before n0
  before=$(snap "$R/$U")
  n0=$(refusals "$reason")
  login || fail "$what: the login itself failed"
  [ "$(snap "$R/$U")" = "$before" ] || fail "$what: $R/$U changed: $(snap "$R/$U")"
  [ "$(snap "$OUT")" = "$OUT_SNAP" ] || fail "$what: $OUT changed"
  [ "$(refusals "$reason")" -gt "$n0" ] || fail "$what: no refusal '$reason' in the log"
  ls -A "$R" | grep -q latchkey-new && fail "$what: a temporary directory was left in $R"
  ok "$what: refused ('$reason'), untouched"
  rm -rf "$R/$U"
}

ln -s "$OUT" "$R/$U"
expect_refused "symlink to a directory outside" "it is a symbolic link"
mkfifo -m 0600 "$R/$U"; chown "$U:" "$R/$U"
expect_refused "FIFO" "it is a FIFO"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$R/$U"; chown "$U:" "$R/$U"
expect_refused "socket" "it is a socket"
echo data >"$R/$U"; chown "$U:" "$R/$U"; chmod 0600 "$R/$U"
expect_refused "regular file" "it is a regular file"
mkdir -m 0700 "$R/$U"; chown "$E:" "$R/$U"
expect_refused "directory of another user" "it is owned by uid $(id -u "$E")"
mkdir -m 0700 "$R/$U"; echo planted >"$R/$U/f"; chown -R "$U:" "$R/$U"
expect_refused "non-empty unencrypted directory" "it is not encrypted (and has files in it)"
mkdir -m 0700 "$R/$U"; chown "$U:" "$R/$U"
expect_refused "empty unencrypted directory" "it is not encrypted (empty)"

# The attacker's own key (CVE-2011-1835 analogue).
attacker_dir() {
  local id
  mkdir -m 0700 "$R/$U"
  id=$(head -c 64 /dev/urandom | xfs_io -c add_enckey "$MNT" | awk '{print $NF}')
  xfs_io -c "set_encpolicy $id" "$R/$U"
  echo attacker >"$R/$U/planted"
  chown -R "$U:" "$R/$U"
}
attacker_dir
expect_refused "directory encrypted with an attacker's key" "has no usable wrapped key for uid $UID_U"

# A real one, then tampered: the user's real wrapped key copied onto an
# attacker-encrypted directory, and a mode the policy does not name.
login || fail "login failed"
REAL=$(key_id_of "$R/$U")
[ -n "$REAL" ] && [ "$(stat -c '%U %a' "$R/$U")" = "$U 700" ] || fail "no real cache directory after a clean login"
XATTR=trusted.latchkey.key.$UID_U
BLOB=$(python3 -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).hex())' "$R/$U" "$XATTR")
mv "$R/$U" "$R/real"
attacker_dir
python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]))' "$R/$U" "$XATTR" "$BLOB"
expect_refused "attacker-encrypted directory with the user's real wrapped key" "not the key its wrapped copy names"
mv "$R/real" "$R/$U"
chmod 0755 "$R/$U"
before=$(snap "$R/$U")
n0=$(refusals "its mode is 0755")
login || fail "login failed"
[ "$(snap "$R/$U")" = "$before" ] || fail "mode 0755: $R/$U changed"
[ "$(refusals "its mode is 0755")" -gt "$n0" ] || fail "mode 0755: not refused"
ok "our directory with mode 0755 instead of 0700: refused, untouched"
chmod 0700 "$R/$U"
login || fail "login failed"
[ "$(key_id_of "$R/$U")" = "$REAL" ] || fail "the real directory was not kept"
grep -qF "policy cache: $R/$U of uid $UID_U is ours" "$W/daemon.log" || fail "the real directory was not accepted"
ok "the same directory with mode 0700 again: accepted as ours"

# A symlink to a directory that passes every other check: the user's own
# real directory (their owner, the policy's mode, a v2 policy with the key
# its wrapped copy names), moved elsewhere on the same filesystem. Followed,
# it would be unlocked as the cache; it is refused, and stays locked. The
# index would find the moved directory by its file handle and unlock it as
# the user's own root, so it is first dropped from the index (`forget`, which
# leaves the directory as it is): then only the symlink leads to it.
is_status "$REAL" Absent || fail "the cache was not locked at the last logout: $(key_status "$REAL")"
mkdir -m 0755 "$MNT/moved"
mv "$R/$U" "$MNT/moved/$U"
ctl forget "$MNT/moved/$U" >/dev/null || fail "latchkeyctl forget of the moved directory failed"
ln -s "$MNT/moved/$U" "$R/$U"
moved_before=$(snap "$MNT/moved/$U"); link_before=$(snap "$R/$U")
n0=$(refusals "it is a symbolic link"); m0=$(log_count "policy cache: $R/$U of uid $UID_U is ours")
provisioned() { [ "$(refusals "it is a symbolic link")" -gt "$n0" ] || log_grew "policy cache: $R/$U of uid $UID_U is ours" "$m0"; }
login_held "$W/hold-link"; PL=$!
wait_for "the session's home unlocked" is_status "$ID_HOME" Present
wait_for "provisioning of $R/$U" provisioned
is_status "$REAL" Absent || fail "the user's directory behind the symlink was unlocked: $(key_status "$REAL")"
[ "$(refusals "it is a symbolic link")" -gt "$n0" ] || fail "the symlink to the user's own directory was not refused"
touch "$W/hold-link"; wait $PL
[ "$(snap "$R/$U")" = "$link_before" ] || fail "the symlink changed: $(snap "$R/$U")"
[ "$(snap "$MNT/moved/$U")" = "$moved_before" ] || fail "the directory behind the symlink changed"
ok "symlink to the user's own directory (right owner, mode, policy, key): refused, not unlocked, untouched"
rm "$R/$U"; rm -rf "$MNT/moved"

# Roots a user could write, or reached through a symlink: refused, nothing made.
chmod 0777 "$R"
n0=$(log_count "refusing $R for uid $UID_U: the root must be owned by root and not writable")
login || fail "login failed"
[ -z "$(ls -A "$R")" ] || fail "something was created in a world-writable root: $(ls -A "$R")"
[ "$(log_count "refusing $R for uid $UID_U: the root must be owned by root and not writable")" -gt "$n0" ] \
  || fail "world-writable root not refused"
chmod 0755 "$R"; chown "$U" "$R"
login || fail "login failed"
[ -z "$(ls -A "$R")" ] || fail "something was created in a root owned by the user"
grep -qF "refusing $R for uid $UID_U: the root must be owned by root and not writable by group or others (found uid $UID_U" \
  "$W/daemon.log" || fail "user-owned root not refused"
chown root "$R"
ok "a world-writable root and a user-owned root: refused, nothing created"
mkdir -m 0755 "$MNT/real-root"; ln -s "$MNT/real-root" "$MNT/link-root"
mkdir -m 0755 "$MNT/dir"; ln -s "$MNT/dir" "$MNT/link-dir"; mkdir -m 0755 "$MNT/dir/root"
lk_policy cache "$MNT/link-root"
lk_policy cache2 "$MNT/link-dir/root"
[ "$(lk_reload)" = OK ] || fail "RELOAD failed"
login || fail "login failed"
[ -z "$(ls -A "$MNT/real-root")$(ls -A "$MNT/dir/root")" ] || fail "something was created through a symlinked root"
for p in "cache: refusing $MNT/link-root for uid $UID_U: the root is, or goes through, a symbolic link" \
  "cache2: refusing $MNT/link-dir/root for uid $UID_U: the root is, or goes through, a symbolic link"; do
  grep -qF "policy $p" "$W/daemon.log" || fail "no log line: $p"
done
ok "a root that is a symlink, and one below a symlink: refused, nothing created"
rm "$W/etc/policy.d/cache2.conf"
lk_policy cache "$R"
[ "$(lk_reload)" = OK ] || fail "RELOAD failed"

# The race: a root-run loop swaps $R/$U between a directory, nothing, and a
# symlink to $OUT while the daemon provisions again and again (each RELOAD
# provisions for the live session).
login_held "$W/hold-race"; PR=$!
wait_for "the race session's directory" test -d "$R/$U"
N=300
python3 - "$SOCK" "$R/$U" "$OUT" "$N" <<'PY' || fail "race driver failed"
import os, random, sys, time
import latchkey_wire as wire
sock, entry, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
racer = os.fork()
if racer == 0:
    ops = (lambda: os.mkdir(entry, 0o700), lambda: os.rmdir(entry),
           lambda: os.symlink(out, entry), lambda: os.unlink(entry))
    while True:
        for op in ops:
            try: op()
            except OSError: pass
            if random.random() < 0.3: time.sleep(random.random() / 2000)
bad = 0
for i in range(n):
    if wire.request(sock, wire.REQ_RELOAD, seq=i, timeout=30)[0].type != wire.REP_OK: bad += 1
os.kill(racer, 9); os.waitpid(racer, 0)
sys.exit(1 if bad else 0)
PY
touch "$W/hold-race"; wait $PR
[ "$(snap "$OUT")" = "$OUT_SNAP" ] || fail "the race changed $OUT: $(snap "$OUT")"
ls -A "$R" | grep -q latchkey-new && fail "the race left a temporary directory in $R"
links=$(refusals "it is a symbolic link")
[ "$links" -ge 1 ] || fail "the race never met the symlink"
echo "race: $N provisionings; refused as symlink $links, as appeared-meanwhile" \
  "$(log_count "$R/$U appeared while it was being created"), created $(log_count "policy cache: created $R/$U")"
ok "race between directory and symlink: $OUT never chowned, chmodded, encrypted or given an xattr"
rm -rf "$R/$U"

# lock_on_logout=no for the cache policy: the cache stays unlocked after
# logout, the home (global default: yes) is locked.
lk_policy cache "$R" lock_on_logout=no
[ "$(lk_reload)" = OK ] || fail "RELOAD failed"
login || fail "login failed"
ID_C=$(key_id_of "$R/$U")
wait_for "the home locked at logout" is_status "$ID_HOME" Absent
wait_for "the 'keeping' line for the cache" \
  grep -qF "keeping $R/$U of uid $UID_U unlocked after logout (lock_on_logout=no, policy cache)" "$W/daemon.log"
is_status "$ID_C" Present || fail "policy lock_on_logout=no: the cache was locked: $(key_status "$ID_C")"
ok "policy lock_on_logout=no: the cache key stays after logout, the home is locked"

# [user] lock_on_logout=no: everything of the user stays, across a daemon
# crash too; LOCK still locks.
lk_policy cache "$R"
printf '[user %s]\nlock_on_logout = no\n' "$U" >"$W/etc/latchkey.conf"
[ "$(lk_reload)" = OK ] || fail "RELOAD failed"
n0=$(log_count "keeping $MNT/home/$U of uid $UID_U unlocked after logout")
login || fail "login failed"
wait_for "the 'keeping' line for the home" log_grew "keeping $MNT/home/$U of uid $UID_U unlocked after logout" "$n0"
is_status "$ID_HOME" Present || fail "user lock_on_logout=no: the home was locked"
is_status "$ID_C" Present || fail "user lock_on_logout=no: the cache was locked"
# A crash and restart is not a reason to lock what the setting keeps.
n0=$(log_count "has keys loaded but no live session: locking")
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
lk_start_daemon
wait_for "the restarted daemon's rebuild" log_grew "has keys loaded but no live session: locking" "$n0"
is_status "$ID_HOME" Present && is_status "$ID_C" Present || fail "user lock_on_logout=no: locked at a restart"
ctl lock "$U" >/dev/null
is_status "$ID_HOME" Absent && is_status "$ID_C" Absent || fail "latchkeyctl lock did not lock a kept user"
ok "user lock_on_logout=no: home and cache stay unlocked after logout and a daemon restart; latchkeyctl lock locks both"

# lock_delay: the lock waits, and a new session within the delay cancels it.
printf '[latchkey]\nlock_delay = 2s\n' >"$W/etc/latchkey.conf"
[ "$(lk_reload)" = OK ] || fail "RELOAD failed"
n0=$(log_count "uid $UID_U will be locked in 2000 ms")
login || fail "login failed"
t0=$(date +%s%N)
wait_for "the delayed-lock log line" log_grew "uid $UID_U will be locked in 2000 ms" "$n0"
is_status "$ID_HOME" Present && is_status "$ID_C" Present || fail "lock_delay: locked at once"
wait_for "the delayed lock" is_status "$ID_HOME" Absent
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is_status "$ID_C" Absent || fail "lock_delay: the cache was not locked with the home"
[ "$ms" -ge 1800 ] || fail "lock_delay=2s but locked after $ms ms"
ok "lock_delay=2s: still unlocked right after logout, locked after $ms ms"

n0=$(log_count "uid $UID_U will be locked in 2000 ms")
login || fail "login failed"
wait_for "the delayed-lock log line" log_grew "uid $UID_U will be locked in 2000 ms" "$n0"
login_held "$W/hold-delay"; PD=$!
wait_for "the cancel" grep -qF "new session of uid $UID_U: delayed lock cancelled" "$W/daemon.log"
sleep 2.2  # the cancelled lock would have fired by now
is_status "$ID_HOME" Present || fail "a session opened within lock_delay did not cancel the lock"
touch "$W/hold-delay"; wait $PD
wait_for "the lock after the second logout" is_status "$ID_HOME" Absent
ok "a new session within lock_delay cancels the delayed lock; its own logout locks later"
echo PASS
