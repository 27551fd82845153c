#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl prune on a shared cache root: two real users, alice locked and
# bob unlocked, each with an fscrypt v2 directory under a root-owned
# $MNT/browser. prune must free space from alice's oldest files without any
# key, leave bob alone unless told otherwise, follow no symlink, and never
# make alice's files readable.
#
# The per-user directories are built by hand with xfs_io (add_enckey with a
# random key, set_encpolicy, chown): the daemon's own provisioning of shared
# caches is written in parallel and tested elsewhere; prune needs only what
# provisioning leaves behind.
. "$(dirname "$0")/lib.sh"

lk_make_fs 128M
ALICE=lka$RANDOM
BOB=lkb$RANDOM
lk_add_user "$ALICE" "pw-$RANDOM"
lk_add_user "$BOB" "pw-$RANDOM"
SHARED=$MNT/browser
mkdir -m 0755 "$SHARED"
NOW=$(date +%s)
D=86400

# new_key NAME: a random 64-byte key in $W/NAME.key, added; prints its id.
new_key() {
  head -c 64 /dev/urandom >"$W/$1.key"
  xfs_io -c add_enckey "$MNT" <"$W/$1.key" | awk '/identifier/ {print $NF}'
}
unlock() { xfs_io -c add_enckey "$MNT" <"$W/$1.key" >/dev/null; }
lock() {
  xfs_io -c "rm_enckey $2" "$MNT" >/dev/null
  [ "$(key_status "$2")" = Absent ] || fail "could not lock $1"
}
# encrypted_dir PATH KEYID OWNER: an empty 0700 directory under KEYID.
encrypted_dir() {
  mkdir "$1"
  xfs_io -c "set_encpolicy $2" "$1"
  chown "$3:" "$1"
  chmod 0700 "$1"
}
# mkfile PATH KIB MTIME
mkfile() {
  head -c $(($2 * 1024)) /dev/urandom >"$1"
  touch -d "@$3" "$1"
}

AKEY=$(new_key alice)
BKEY=$(new_key bob)
VKEY=$(new_key victim)
[ "${#AKEY}" = 32 ] && [ "${#BKEY}" = 32 ] && [ "${#VKEY}" = 32 ] || fail "add_enckey gave no identifiers"
encrypted_dir "$SHARED/$ALICE" "$AKEY" "$ALICE"
encrypted_dir "$SHARED/$BOB" "$BKEY" "$BOB"

# Bait outside DIR, older than anything inside: a plain directory, and a
# locked encrypted tree of alice's that prune would happily empty if it
# followed a symlink to it.
mkdir "$W/outside"
echo "target of a planted symlink" >"$W/outside/target"
touch -d "@$((NOW - 40 * D))" "$W/outside/target"
encrypted_dir "$MNT/victim" "$VKEY" "$ALICE"
mkfile "$MNT/victim/old" 8 $((NOW - 40 * D))
chown "$ALICE:" "$MNT/victim/old"
lock victim "$VKEY"
victim_list() { find "$MNT/victim" -printf '%y %Ts %b\n' | sort; }
VICTIM_BEFORE=$(victim_list)

# Entries of DIR that are not per-user trees: skipped, never entered.
mkdir -m 0755 "$SHARED/rootdir"
mkfile "$SHARED/rootdir/f" 4 $((NOW - 30 * D))
mkfile "$SHARED/plainfile" 4 $((NOW - 30 * D))
ln -s "$MNT/victim" "$SHARED/link"
mkdir "$SHARED/unenc"
mkfile "$SHARED/unenc/f" 4 $((NOW - 30 * D))
chown -R "$ALICE:" "$SHARED/unenc"
junk_list() {
  (cd "$SHARED" && find rootdir plainfile link unenc -printf '%y %p %Ts %s\n' | sort &&
    md5sum rootdir/f plainfile unenc/f "$W/outside/target")
}
JUNK_BEFORE=$(junk_list)

# Bob (unlocked throughout) owns the oldest files of all: a prune that
# ignored the lock state would take his first.
mkfile "$SHARED/$BOB/b1" 8 $((NOW - 20 * D))
mkfile "$SHARED/$BOB/b2" 4 $((NOW - 15 * D))
mkdir "$SHARED/$BOB/sub"
mkfile "$SHARED/$BOB/sub/b3" 12 $((NOW - 3600))
chown -R "$BOB:" "$SHARED/$BOB"
bob_list() { (cd "$SHARED/$BOB" && find . -printf '%y %p %Ts %b\n' | sort && find . -type f -exec md5sum {} + | sort); }
BOB_BEFORE=$(bob_list)
B1BYTES=$(($(stat -c %b "$SHARED/$BOB/b1") * 512))

# Alice's tree, rebuilt (unlocked, then locked again) before each phase:
# distinct mtimes from 10 days to 1 hour old, a subdirectory that the
# oldest-first order empties, and two planted symlinks.
populate_alice() {
  unlock alice
  find "$SHARED/$ALICE" -mindepth 1 -delete
  local a=$SHARED/$ALICE
  mkfile "$a/a1" 8 $((NOW - 10 * D))
  mkfile "$a/a2" 16 $((NOW - 9 * D))
  mkfile "$a/a3" 4 $((NOW - 8 * D))
  mkdir "$a/sub"
  mkfile "$a/sub/a4" 12 $((NOW - 7 * D))
  mkfile "$a/sub/a5" 8 $((NOW - 6 * D))
  mkfile "$a/a6" 20 $((NOW - 2 * D))
  mkfile "$a/a7" 4 $((NOW - 3600))
  ln -s "$W/outside/target" "$a/evil"
  ln -s "$MNT/victim" "$a/evildir"
  chown -R -h "$ALICE:" "$a"
  lock alice "$AKEY"
}
# Alice's files as "mtime blocks", oldest first: stat works on no-key names.
alice_list() { find "$SHARED/$ALICE" -type f -printf '%Ts %b\n' | sort -n; }
# The first N lines of alice_list removed.
without_oldest() { printf '%s\n' "$1" | tail -n +$(($2 + 1)); }
# How many of the oldest files (and their bytes) reach X bytes: "N BYTES".
oldest_for() { printf '%s\n' "$1" | awk -v x="$2" '{ n++; b += $2 * 512; if (b >= x) { print n, b; exit } }'; }

# prune ARGS...: run on $SHARED; stdout in $W/out, stderr in $W/err, exit in $RC.
prune() {
  set +e
  "$LATCHKEYCTL" prune "$SHARED" "$@" >"$W/out" 2>"$W/err"
  RC=$?
  set -e
}
# jcheck KEY=VALUE...: assertions on the JSON in $W/out. KEY is a top-level
# key or USER.KEY for the entry of that user; VALUE is compared as JSON.
jcheck() {
  python3 - "$W/out" "$@" <<'PY' || fail "JSON check failed: $(cat "$W/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"dry_run", "mode", "target", "users", "files", "bytes", "satisfied"}, sorted(d)
for u in d["users"]:
    assert set(u) == {"user", "uid", "dir", "state", "files", "bytes"}, sorted(u)
users = {u["user"]: u for u in d["users"]}
for arg in sys.argv[2:]:
    key, want = arg.split("=", 1)
    if "." in key:
        name, field = key.split(".", 1)
        got = users[name][field]
    else:
        got = d[key]
    if got != json.loads(want):
        sys.exit(f"{key}: got {got!r}, want {want}")
PY
}
# Things that must hold after every prune.
invariants() {
  [ "$(bob_list)" = "$BOB_BEFORE" ] || fail "$1: bob's files changed"
  [ "$(junk_list)" = "$JUNK_BEFORE" ] || fail "$1: a skipped entry of DIR (or a symlink target) changed"
  [ "$(victim_list)" = "$VICTIM_BEFORE" ] || fail "$1: a tree reached through a symlink was pruned"
  [ "$(find "$SHARED/$ALICE" -type l | wc -l)" = 2 ] || fail "$1: alice's symlinks were touched"
  [ -d "$SHARED/$ALICE" ] && [ -d "$SHARED/$BOB" ] || fail "$1: a per-user top directory went"
  [ "$(key_status "$AKEY")" = Absent ] || fail "$1: alice's key is in the kernel"
}
first_alice_file() { find "$SHARED/$ALICE" -maxdepth 1 -type f | head -1; }
assert_unreadable() {
  local f err
  f=$(first_alice_file)
  [ -n "$f" ] || fail "no file of alice's left to try reading"
  if err=$(cat "$f" 2>&1); then fail "root read alice's file $1"; fi
  case "$err" in *"Required key not available"*) ;; *) fail "reading alice's file $1: $err" ;; esac
}

populate_alice
[ "$(key_status "$AKEY")" = Absent ] || fail "set-up: alice is not locked"
case "$(key_status "$BKEY")" in Present*) ;; *) fail "set-up: bob is not unlocked" ;; esac
assert_unreadable "before pruning"
ok "alice locked (her files unreadable to root: ENOKEY), bob unlocked"
A0=$(alice_list)
[ "$(printf '%s\n' "$A0" | wc -l)" = 7 ] || fail "expected 7 files of alice's, got: $A0"

# --- refusals ---------------------------------------------------------
set +e
runuser -u "$BOB" -- "$LATCHKEYCTL" prune "$SHARED" --free 1K >"$W/out" 2>&1
RC=$?
set -e
[ $RC = 4 ] || fail "prune as a user: exit $RC, want 4: $(cat "$W/out")"
grep -q "root" "$W/out" || fail "prune as a user does not say it needs root"
ln -s "$SHARED" "$W/browser-link"
set +e
"$LATCHKEYCTL" prune "$W/browser-link" --free 1K >"$W/out" 2>&1
RC=$?
"$LATCHKEYCTL" prune "$W/browser-link/" --max-size 0 >>"$W/out" 2>&1
RC2=$?
set -e
[ $RC = 2 ] && [ $RC2 = 2 ] || fail "DIR as a symlink: exit $RC/$RC2, want 2: $(cat "$W/out")"
grep -q "symbolic link" "$W/out" || fail "DIR as a symlink: no explanation: $(cat "$W/out")"
set +e
"$LATCHKEYCTL" prune "$SHARED/$ALICE" --max-size 0 >"$W/out" 2>&1
RC=$?
set -e
[ $RC = 2 ] || fail "DIR inside a per-user tree: exit $RC, want 2: $(cat "$W/out")"
grep -q "itself encrypted" "$W/out" || fail "DIR inside a per-user tree: no explanation: $(cat "$W/out")"
[ "$(alice_list)" = "$A0" ] || fail "a refused prune deleted files"
invariants "refusals"
ok "refused for a non-root user (exit 4), for DIR given as a symlink and for an encrypted DIR (exit 2), nothing deleted"

# --- --free: alice's oldest first ---------------------------------------
X=20480
read -r N BYTES <<<"$(oldest_for "$A0" $X)"
[ "$N" = 2 ] || fail "test set-up: expected the 2 oldest files to reach $X bytes, got $N"
prune --free 20K --dry-run
[ $RC = 0 ] || fail "dry run: exit $RC: $(cat "$W/err")"
grep -q "Dry run: nothing was deleted" "$W/out" || fail "dry run does not say so: $(cat "$W/out")"
grep -q "^$ALICE .*locked .* $N .* $BYTES $ALICE\$" "$W/out" || fail "dry run table: $(cat "$W/out")"
[ "$(alice_list)" = "$A0" ] || fail "--dry-run deleted files"
prune --free 20K --dry-run --json
[ $RC = 0 ] || fail "dry run --json: exit $RC"
jcheck dry_run=true 'mode="free"' target=$X files=$N bytes=$BYTES satisfied=true \
  "$ALICE.files=$N" "$ALICE.bytes=$BYTES" "$ALICE.state=\"locked\"" "$ALICE.uid=$(id -u "$ALICE")" \
  "$ALICE.dir=\"$ALICE\"" "$BOB.files=0" "$BOB.bytes=0" "$BOB.state=\"unlocked\""
[ "$(alice_list)" = "$A0" ] || fail "--dry-run --json deleted files"
invariants "dry run"
ok "--dry-run (text and JSON) reports $N files / $BYTES bytes of alice's and deletes nothing"

for e in rootdir plainfile link unenc; do
  grep -q "skipping $e: " "$W/err" || fail "no warning for the skipped entry $e: $(cat "$W/err")"
done
grep -q "skipping link: a symbolic link" "$W/err" || fail "the symlink in DIR is not called one"
grep -q "skipping unenc: not encrypted" "$W/err" || fail "the unencrypted dir is not called so"
ok "entries of DIR that are not per-user trees are skipped with a warning"

prune --free 20K --json
[ $RC = 0 ] || fail "--free 20K: exit $RC: $(cat "$W/err")"
jcheck dry_run=false files=$N bytes=$BYTES satisfied=true "$ALICE.files=$N" "$BOB.files=0"
[ "$BYTES" -ge $X ] || fail "freed $BYTES < $X"
[ "$(alice_list)" = "$(without_oldest "$A0" "$N")" ] ||
  fail "not exactly alice's $N oldest files went: before $A0 / after $(alice_list)"
# Names are no-key names now, so directories are counted, not named.
[ "$(find "$SHARED/$ALICE" -mindepth 1 -type d | wc -l)" = 1 ] || fail "--free 20K removed sub/, still in use"
invariants "--free"
ok "--free 20K deleted exactly alice's $N oldest files ($BYTES bytes >= $X), bob's intact"
assert_unreadable "after pruning"
ok "root still cannot read alice's remaining files (ENOKEY): prune never had the key"

# Everything of alice's is not enough for 1 GiB: not met without bob.
prune --free 1G --json
[ $RC = 1 ] || fail "--free 1G: exit $RC, want 1 (target not met)"
jcheck satisfied=false files=5 "$ALICE.files=5" "$BOB.files=0" "$BOB.bytes=0"
[ -z "$(alice_list)" ] || fail "--free 1G left files of alice's: $(alice_list)"
[ "$(find "$SHARED/$ALICE" -mindepth 1 -type d)" = "" ] || fail "the emptied sub/ was not removed"
invariants "--free 1G"
ok "--free 1G: all of alice's files go, the emptied subdirectory too, bob's stay; target not met (exit 1)"

# --- --max-age ---------------------------------------------------------
populate_alice
A0=$(alice_list)
prune --max-age 5d --json
[ $RC = 0 ] || fail "--max-age 5d: exit $RC: $(cat "$W/err")"
jcheck 'mode="max-age"' target=432000 satisfied=true files=5 "$ALICE.files=5" "$BOB.files=0"
[ "$(alice_list)" = "$(without_oldest "$A0" 5)" ] || fail "--max-age 5d: wrong files left: $(alice_list)"
[ "$(find "$SHARED/$ALICE" -mindepth 1 -type d | wc -l)" = 0 ] || fail "--max-age: the emptied sub/ is still there"
invariants "--max-age"
assert_unreadable "after --max-age"
ok "--max-age 5d deleted alice's 5 files older than 5 days (and the emptied sub/), none of bob's (20 and 15 days old)"

# --- --max-size ----------------------------------------------------------
populate_alice
A0=$(alice_list)
trees_total() { find "$SHARED/$ALICE" "$SHARED/$BOB" -type f -printf '%b\n' | awk '{ b += $1 * 512 } END { print b + 0 }'; }
T0=$(trees_total)
S=$((T0 - 30 * 1024))
read -r N BYTES <<<"$(oldest_for "$A0" $((30 * 1024)))"
prune --max-size $S --json
[ $RC = 0 ] || fail "--max-size $S: exit $RC: $(cat "$W/err")"
jcheck 'mode="max-size"' target=$S satisfied=true files=$N bytes=$BYTES "$BOB.files=0"
T1=$(trees_total)
[ "$T1" -le "$S" ] || fail "--max-size $S: the trees still total $T1"
[ "$(alice_list)" = "$(without_oldest "$A0" "$N")" ] || fail "--max-size: wrong files left: $(alice_list)"
invariants "--max-size"
ok "--max-size: $T0 -> $T1 bytes (<= $S) by alice's $N oldest files, bob's intact"

# Below bob's own size: impossible without --include-unlocked.
BOBSIZE=$(find "$SHARED/$BOB" -type f -printf '%b\n' | awk '{ b += $1 * 512 } END { print b }')
prune --max-size $((BOBSIZE - 1))
[ $RC = 1 ] || fail "--max-size below bob's size: exit $RC, want 1"
grep -q "target NOT met" "$W/out" || fail "unmet target not reported: $(cat "$W/out")"
[ -z "$(alice_list)" ] || fail "alice's files should all be gone"
invariants "--max-size below bob"
ok "--max-size below bob's share: alice emptied, bob untouched, target not met (exit 1)"

# --- --include-unlocked ----------------------------------------------------
prune --max-size $((BOBSIZE - 1)) --include-unlocked --json
[ $RC = 0 ] || fail "--include-unlocked: exit $RC: $(cat "$W/err")"
jcheck satisfied=true files=1 "$BOB.files=1" "$BOB.bytes=$B1BYTES" "$BOB.state=\"unlocked\""
[ ! -e "$SHARED/$BOB/b1" ] || fail "--include-unlocked did not take bob's oldest file"
[ -f "$SHARED/$BOB/b2" ] && [ -f "$SHARED/$BOB/sub/b3" ] || fail "--include-unlocked took more than bob's oldest"
ok "--include-unlocked: bob's oldest file goes only when asked for"

[ "$(key_status "$AKEY")" = Absent ] || fail "alice's key is present after pruning"
ok "alice's key was never added by prune"

# --- files swapped between the scan and the deletion -----------------------
# A user who is logged in can replace what prune scanned: the name must be
# re-checked (same inode, still a regular file) right before each unlink.
if ! grep -q "define LK_TEST_HOOKS 1" "$LK_BUILD/config.h"; then
  echo "SKIP: the race part needs a build with -Dtest_hooks=true"
  exit 77
fi
B=$SHARED/$BOB
as_bob() { runuser -u "$BOB" -- "$@"; }
as_bob sh -c "cd '$B' && head -c 4096 /dev/urandom >r1 && head -c 4096 /dev/urandom >r2 &&
  mkdir rsub && head -c 4096 /dev/urandom >rsub/r3"
touch -d "@$((NOW - 60 * D))" "$B/r1"
touch -d "@$((NOW - 59 * D))" "$B/r2"
touch -d "@$((NOW - 58 * D))" "$B/rsub/r3"
LATCHKEY_TEST_PRUNE_STOP=1 "$LATCHKEYCTL" prune "$SHARED" --include-unlocked --free 4K --json \
  >"$W/out" 2>"$W/err" &
PID=$!
for _ in $(seq 200); do
  [ "$(awk '{print $3}' "/proc/$PID/stat" 2>/dev/null)" = T ] && break
  sleep 0.05
done
[ "$(awk '{print $3}' "/proc/$PID/stat")" = T ] || fail "prune did not stop after its scan"
# r1 becomes a symlink to a file outside, r2 a new file (renamed over it, so
# surely another inode), rsub a symlink to alice's victim tree.
as_bob sh -c "cd '$B' && rm r1 && ln -s '$W/outside/target' r1 &&
  echo replacement >r2.new && mv r2.new r2 && mv rsub rsub.old && ln -s '$MNT/victim' rsub"
kill -CONT "$PID"
set +e
wait "$PID"
RC=$?
set -e
[ $RC = 0 ] || fail "prune after the swap: exit $RC: $(cat "$W/err")"
jcheck satisfied=true files=1 "$BOB.files=1"
[ -L "$B/r1" ] || fail "the symlink that replaced r1 was deleted"
[ "$(cat "$B/r2")" = replacement ] || fail "the file that replaced r2 was deleted"
[ ! -e "$B/rsub.old/r3" ] || fail "r3, still the scanned file, was not deleted"
[ -L "$B/rsub" ] || fail "the symlink that replaced rsub was touched"
[ "$(junk_list)" = "$JUNK_BEFORE" ] || fail "the target of the planted symlink changed"
[ "$(victim_list)" = "$VICTIM_BEFORE" ] || fail "the tree behind the swapped-in symlink was pruned"
ok "swapped between scan and delete: a symlink and a new file are left alone, the scanned file (in its moved directory) goes, nothing behind a symlink is touched"
