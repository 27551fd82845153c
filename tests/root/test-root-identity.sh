#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A encrypted root is known by its filesystem and file handle, not its path:
#  1. a home renamed while unlocked still locks at logout (xfs_io: Absent),
#     and the next login unlocks it where it is now and records the path;
#  2. the same for a per-user cache directory that root moved away;
#  3. a version 1 index is upgraded, and then renames lock too;
#  4. of two roots, one deleted: status says gone, the daemon log says so
#     once, the other still unlocks and locks without "partly done", a
#     root deleted while unlocked still locks, and forget drops it.
. "$(dirname "$0")/lib.sh"

index_of() { cat "$W/state/index/$(id -u "$1")"; }

lk_make_fs 128M
mkdir -p "$MNT/cache" "$MNT/moved"
chmod 0755 "$MNT/cache"
lk_policy cache "$MNT/cache" subdir=%u
PW="pw $RANDOM"
U=lkid$RANDOM
lk_add_user "$U" "$PW"
H=$MNT/home/$U
lk_start_daemon
lk_write_pam_service
ID=$(lk_encrypted_home "$U" "$PW")
[ -n "$ID" ] || fail "no v2 policy on $H"
grep -q "^latchkey-index 2$" "$W/state/index/$(id -u "$U")" || fail "index not version 2: $(index_of "$U")"
"$PAM_LOGIN" --no-auth "$SERVICE" "$U" -- sh -c 'echo data > "$HOME/f"'
ctl lock "$U" >/dev/null
wait_status Absent

# --- 1. home renamed while unlocked --------------------------------------
login_held "$W/hold1"; P1=$!
wait_status Present
C=$MNT/cache/$U
for _ in $(seq 100); do [ -d "$C" ] && break; sleep 0.05; done
CID=$(xfs_io -c get_encpolicy "$C" | awk '/Master key identifier/ {print $4}')
[ -n "$CID" ] || fail "no cache directory provisioned at $C"
[[ "$(key_status "$CID")" == Present* ]] || fail "cache not unlocked: $(key_status "$CID")"
mv "$H" "$H.renamed"
mv "$C" "$MNT/moved/$U"        # root moves the cache directory away
touch "$W/hold1"; wait $P1
wait_status Absent
[ "$(key_status "$CID")" = Absent ] || fail "moved cache directory not locked at logout: $(key_status "$CID")"
ok "renamed home and moved cache directory: both Absent after logout"

out=$(printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$U" -- sh -c \
  "cat '$H.renamed/f'; cat '$MNT/moved/$U/.probe' 2>/dev/null; ls '$MNT/moved/$U' >/dev/null && echo listed") \
  || fail "login after the rename failed"
echo "$out" | grep -qx data || fail "renamed home not readable in the next session: $out"
echo "$out" | grep -qx listed || fail "moved cache directory not reachable: $out"
index_of "$U" | grep -q " $H.renamed$" || fail "index lacks the new home path: $(index_of "$U")"
index_of "$U" | grep -q " $MNT/moved/$U$" || fail "index lacks the moved cache path: $(index_of "$U")"
index_of "$U" | grep -q " $H$" && fail "index still names the old home path: $(index_of "$U")"
grep -q "moved to $H.renamed" "$W/daemon.log" || fail "the daemon did not log the move"
wait_status Absent
ok "next login: unlocked where they are now; the index shows the new paths"
mv "$H.renamed" "$H"

# --- an index from before (version 1: key and path only) ------------------
# is read, given the root's identity from its path, and written back as
# version 2, after which a rename while unlocked locks at logout as above.
lk_stop_daemon
printf 'latchkey-index 1\n%s %s\n' "$ID" "$H" >"$W/state/index/$(id -u "$U")"
lk_start_daemon
ctl status "$U" >/dev/null
index_of "$U" | grep -q "^latchkey-index 2$" || fail "v1 index not upgraded: $(index_of "$U")"
index_of "$U" | grep -q "^account $U$" || fail "upgraded index does not record the account: $(index_of "$U")"
index_of "$U" | grep -Eq "^$ID [0-9a-f-]+ [0-9]+:[0-9]+ [0-9]+ [0-9a-f]+ ok $H$" \
  || fail "upgraded entry has no handle: $(index_of "$U")"
login_held "$W/hold2"; P2=$!
wait_status Present
mv "$H" "$H.renamed"
touch "$W/hold2"; wait $P2
wait_status Absent
mv "$H.renamed" "$H"
ok "a version 1 index is upgraded (identity from the path, account recorded), and then renames lock too"

# --- RENAME_EXCHANGE, as a migration swaps a new encrypted home into place:
# the root keeps its inode, so its handle finds it under the old name.
mkdir "$H.plain"
mv "$H" "$H.new"
python3 - "$H.new" "$H.plain" <<'PY' || fail "renameat2(RENAME_EXCHANGE) failed"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, sys.argv[1].encode(), AT_FDCWD, sys.argv[2].encode(), RENAME_EXCHANGE) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))
PY
# $H.new is now the plain directory, $H.plain the encrypted root.
ctl status "$U" | grep -q "$H.plain .* locked" || fail "status does not find the exchanged root: $(ctl status "$U")"
index_of "$U" | grep -q " $H.plain$" || fail "index not refreshed after RENAME_EXCHANGE: $(index_of "$U")"
rmdir "$H.new"; mv "$H.plain" "$H"
ctl status "$U" >/dev/null
ok "after RENAME_EXCHANGE the root is found by its handle at its new name"

# --- 4. one of two roots deleted -----------------------------------------
D=$MNT/data-$U
mkdir "$D"
printf '%s\n' "$PW" | ctl encrypt "$D" --user "$U" --passphrase-stdin >/dev/null
DID=$(xfs_io -c get_encpolicy "$D" | awk '/Master key identifier/ {print $4}')
echo x > "$D/file"
ctl lock "$U" >/dev/null
[ "$(key_status "$DID")" = Absent ] || fail "second root not locked"
rm -rf "$D"
st=$(ctl status "$U") || fail "status failed after a root was deleted: $st"
echo "$st" | grep -q "$D .* gone" || fail "status does not say gone: $st"
echo "$st" | grep -qF "latchkeyctl forget $D" || fail "status does not name the fix: $st"
for _ in 1 2; do
  out=$(printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin 2>&1) || fail "unlock with a gone root failed: $out"
  [[ "$(key_status "$ID")" == Present* ]] || fail "home not unlocked beside a gone root"
  out=$(ctl lock "$U" 2>&1) || fail "lock with a gone root failed: $out"
  [ "$(key_status "$ID")" = Absent ] || fail "home not locked beside a gone root"
done
[ "$(grep -c "$D (key $DID) of uid .* no longer exists" "$W/daemon.log")" = 1 ] \
  || fail "the gone root was not reported exactly once: $(grep -c 'no longer exists' "$W/daemon.log")"
ok "deleted root: status says gone, reported once, the home still unlocks and locks"

ctl forget "$D" >/dev/null || fail "forget failed"
index_of "$U" | grep -q "$DID" && fail "forget left the root in the index: $(index_of "$U")"
ctl status "$U" | grep -q gone && fail "status still lists the gone root"
ok "forget: dropped from the index and status"

# Deleted while unlocked: its key is still in the kernel, and lock removes it.
mkdir "$D"
printf '%s\n' "$PW" | ctl encrypt "$D" --user "$U" --passphrase-stdin >/dev/null
DID=$(xfs_io -c get_encpolicy "$D" | awk '/Master key identifier/ {print $4}')
[[ "$(key_status "$DID")" == Present* ]] || fail "new root not unlocked"
rm -rf "$D"
ctl lock "$U" >/dev/null || fail "lock failed with a root deleted while unlocked"
[ "$(key_status "$DID")" = Absent ] || fail "key of a root deleted while unlocked still $(key_status "$DID")"
ok "a root deleted while unlocked still locks"
grep -F -- "$PW" "$W/daemon.log" && fail "the password reached the daemon log"
echo "PASS"
