#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl migrate killed (SIGKILL, from the test hook) at each phase:
# mid-file copy, verification, just before and just after the exchange,
# during removal of the original. At each kill the original is intact
# unless a verified copy is in place; a rerun finishes, and the result
# compares equal to the snapshot taken before (nothing lost, nothing
# duplicated); writes to the original between a verified copy and its
# swap are copied by the rerun, deletions too. Also: too little space is refused before any change, with
# the figures; ENOSPC in the middle of a resumed copy names the file,
# removes nothing, and the next run finishes.
. "$(dirname "$0")/lib.sh"
SNAP="$(dirname "$0")/tree-snapshot.py"

lk_make_fs 512M
PW="crash pw $RANDOM"
U=lktc$RANDOM
lk_add_user "$U" "$PW"
lk_start_daemon
printf '%s\n' "$PW" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null
OWNER="$(id -u "$U"):$(id -g "$U")"

migrate() { printf '%s\n' "$PW" | ctl migrate "$1" --user "$U" --passphrase-stdin --quiet "${@:2}"; }
encrypted() { xfs_io -c get_encpolicy "$1" 2>/dev/null | grep -q "Master key identifier"; }
same() { python3 "$SNAP" snap "$1" >"$W/now"; diff "$W/before.$2" "$W/now" >"$W/diff" || fail "$3: $(head -6 "$W/diff")"; }
leftovers() { ls -A "$MNT" | grep latchkey-migrate || true; }

# The hooks exist only in a -Dtest_hooks=true build.
python3 "$SNAP" make "$MNT/probe" "$OWNER"
rc=0; LATCHKEY_TEST_MIGRATE_KILL=copy migrate "$MNT/probe" 2>/dev/null || rc=$?
[ $rc = 137 ] || { echo "SKIP: latchkeyctl built without -Dtest_hooks=true (rc $rc)"; exit 77; }
migrate "$MNT/probe" 2>/dev/null || fail "probe rerun"

i=0
for phase in copy verify before-exchange after-exchange remove; do
  i=$((i + 1)); D=$MNT/data$i; SIB=$MNT/.data$i.latchkey-migrate
  python3 "$SNAP" make "$D" "$OWNER"
  python3 "$SNAP" snap "$D" >"$W/before.$i"
  rc=0; LATCHKEY_TEST_MIGRATE_KILL=$phase migrate "$D" 2>"$W/err" || rc=$?
  [ $rc = 137 ] || fail "$phase: expected SIGKILL (137), got $rc: $(cat "$W/err")"
  [ -f "$MNT/.data$i.latchkey-migrate.journal" ] || fail "$phase: no journal after the kill"
  case $phase in
    copy|verify|before-exchange)
      encrypted "$D" && fail "$phase: $D swapped before the exchange phase"
      same "$D" $i "$phase: the original changed before a verified copy existed" ;;
    after-exchange)
      encrypted "$D" || fail "$phase: $D is not the encrypted copy"
      same "$SIB" $i "$phase: the original (now at the sibling) changed" ;;
    remove)
      encrypted "$D" || fail "$phase: $D is not the encrypted copy"
      same "$D" $i "$phase: the copy in place differs"
      [ -d "$SIB" ] || fail "$phase: removal should have been under way" ;;
  esac
  if [ $phase = copy ]; then
    # A restart locks the unfinished copy; then the disk fills up.
    lk_stop_daemon; lk_start_daemon
    # root may use the reserved blocks too: dd fills those as well
    free=$(df -B1 --output=avail "$MNT" | tail -1)
    fallocate -l $((free - 8 * 1024 * 1024)) "$MNT/filler"
    dd if=/dev/zero of="$MNT/filler2" bs=64k 2>/dev/null || true
    rc=0; migrate "$D" 2>"$W/err" || rc=$?
    [ $rc = 1 ] || fail "ENOSPC: expected failure 1, got $rc: $(cat "$W/err")"
    grep -q "No space left on device" "$W/err" && grep -q "Nothing was removed" "$W/err" \
      && grep -qF "$D/" "$W/err" || fail "ENOSPC message does not name the file: $(cat "$W/err")"
    same "$D" $i "ENOSPC: the original changed"
    rm "$MNT/filler" "$MNT/filler2"
    ok "ENOSPC mid-copy: $(grep -F "$D/" "$W/err" | head -1)"
  fi
  if [ $phase = before-exchange ]; then
    # Verified but not swapped: a write to the original now must survive.
    echo "written between the runs" >>"$D/docs/notes.txt"
    mkdir "$D/docs/new-dir"
    rm "$D/links/rel"
    python3 "$SNAP" snap "$D" >"$W/before.$i"
  fi
  migrate "$D" 2>"$W/err" >"$W/out" || fail "$phase: the rerun failed: $(cat "$W/err"; ls -la "$D" "$D/docs"  "$SIB" "$SIB/docs")"
  grep -q "Continuing the migrate of" "$W/err" || fail "$phase: the rerun did not resume"
  encrypted "$D" || fail "$phase: $D not encrypted after the rerun"
  grep -q "Locked: it unlocks" "$W/out" || fail "$phase: the finished migrate did not lock"
  printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null
  same "$D" $i "$phase: after the rerun the tree differs"
  [ -z "$(leftovers)" ] || fail "$phase: left behind: $(leftovers)"
  ctl status "$U" --json | grep -q "\"path\": *\"$D\"" || fail "$phase: status does not list $D"
  ok "killed at $phase: original intact, rerun finished, tree equal"
done

# Locked after a lock, unlocked again: RELOCATE put every path in the index.
ctl lock "$U" >/dev/null
for d in "$MNT"/data*; do ls "$d" | grep -qx docs && fail "$d not locked"; done
printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null
for d in "$MNT"/data*; do [ -f "$d/docs/notes.txt" ] || fail "$d not unlocked"; done
ok "lock and unlock cover every migrated directory"

# Too little space: refused before any change, with the figures.
mkdir "$MNT/big"; chown "$OWNER" "$MNT/big"
free=$(df -B1 --output=avail "$MNT" | tail -1)
fallocate -l $((free * 6 / 10)) "$MNT/big/file"
python3 "$SNAP" snap "$MNT/big" >"$W/before.big"
rc=0; migrate "$MNT/big" 2>"$W/err" || rc=$?
[ $rc = 1 ] || fail "too little space: expected 1, got $rc"
grep -q "not enough free space" "$W/err" && grep -Eq "[0-9]+ bytes allocated" "$W/err" \
  && grep -q "Nothing was changed" "$W/err" || fail "no figures: $(cat "$W/err")"
same "$MNT/big" big "too little space: the directory changed"
[ -z "$(leftovers)" ] || fail "too little space: left behind: $(leftovers)"
ok "too little space refused: $(head -2 "$W/err" | tr '\n' ' ')"
echo PASS
