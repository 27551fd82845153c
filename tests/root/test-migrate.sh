#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl migrate on a home full of every kind of entry: the snapshot
# taken before (an independent Python walk) equals the one after; after
# logout the names are no-key names and reads fail with ENOKEY; the next
# login unlocks it. Then latchkeyctl decrypt turns it back, equal again.
. "$(dirname "$0")/lib.sh"
SNAP="$(dirname "$0")/tree-snapshot.py"
command -v setfacl >/dev/null || fail "setfacl missing (package acl; run scripts/test)"

lk_make_fs 256M
PW="migrate pw $RANDOM"
U=lktm$RANDOM
lk_add_user "$U" "$PW"
H=$MNT/home/$U
lk_start_daemon
lk_write_pam_service
printf '%s\n' "$PW" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null

rmdir "$H"
python3 "$SNAP" make "$H" "$(id -u "$U"):$(id -g "$U")" --big
setfacl -m "u:nobody:r" "$H/docs/notes.txt"
setfacl -d -m "u:nobody:rx" "$H/links"
setfacl -m "u:nobody:rx" "$H/links"
touch -h -d @1500000000.987654321 "$H/docs/notes.txt" "$H/links"
python3 "$SNAP" snap "$H" >"$W/before"
grep -q 'system.posix_acl_default' "$W/before" || fail "the tree has no default ACL: the test proves nothing"
[ "$(grep -c "d199/bottom" "$W/before")" = 1 ] || fail "no 200-level nesting in the tree"
ok "tree built: $(wc -l <"$W/before") entries"

# --dry-run changes nothing and prints the plan.
ctl migrate "$H" --user "$U" --dry-run >"$W/plan"
grep -q "Nothing was changed" "$W/plan" || fail "no plan: $(cat "$W/plan")"
ls -A "$MNT/home" | grep -q latchkey-migrate && fail "--dry-run left something behind"
python3 "$SNAP" snap "$H" >"$W/dry"; diff "$W/before" "$W/dry" >"$W/diff" || fail "--dry-run changed the tree: $(head -5 "$W/diff")"
ok "--dry-run: plan printed, nothing changed"

# A process of the user holds it: refused without --force.
setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups sleep 300 &
SLEEPER=$!
for _ in $(seq 100); do [ "$(stat -c %u /proc/$SLEEPER 2>/dev/null)" = "$(id -u "$U")" ] && break; sleep 0.05; done
rc=0; printf '%s\n' "$PW" | ctl migrate "$H" --user "$U" --passphrase-stdin 2>"$W/err" || rc=$?
kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null || true
[ $rc = 1 ] && grep -q "in use" "$W/err" || fail "migrate with a live user process: rc $rc, $(cat "$W/err")"
ok "refused while the user has a process: $(head -1 "$W/err")"

out=$(printf '%s\n' "$PW" | ctl migrate "$H" --user "$U" --passphrase-stdin --json 2>"$W/err") \
  || fail "migrate failed: $(cat "$W/err")"
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["original_removed"] and d["locked"] and d["dirs"] > 200 and d["files"] > 20, d' \
  || fail "bad --json summary: $out"
grep -q "free blocks" "$W/err" || fail "no warning about plaintext in free blocks"
ID=$(xfs_io -c get_encpolicy "$H" | awk '/Master key identifier/ {print $4}')
[ -n "$ID" ] && echo "$out" | grep -q "\"key_id\":\"$ID\"" || fail "$H has no policy with the reported key: $ID / $out"
ls -A "$MNT/home" | grep -q latchkey-migrate && fail "sibling or journal left behind: $(ls -A "$MNT/home")"
ctl status "$U" --json | grep -q "\"path\": *\"$H\"" || fail "status does not show $H: $(ctl status "$U" --json)"

# migrate locked it (the user is logged out): no-key names, ENOKEY.
[ "$(key_status "$ID")" = Absent ] || fail "not locked after migrate: $(key_status "$ID")"
ls "$H" | grep -qx docs && fail "plaintext name visible after migrate"
name=$(find "$H" -mindepth 1 -maxdepth 1 -type f | head -1)
err=$(cat "$name" 2>&1 >/dev/null) && fail "read of a locked file succeeded"
case "$err" in *"Required key not available"*) ;; *) fail "expected ENOKEY, got: $err" ;; esac
ok "migrated and locked: no-key names, ENOKEY; key $ID"

printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null
python3 "$SNAP" snap "$H" >"$W/after"
diff "$W/before" "$W/after" >"$W/diff" || fail "snapshot differs after migrate: $(head -20 "$W/diff")"
blocks=$(stat -c %b "$H/sparse")
[ "$blocks" -lt 2048 ] || fail "the 1 GiB sparse file now allocates $blocks blocks"
ok "unlocked: snapshot equal ($(wc -l <"$W/after") entries), sparse file $blocks blocks"
ctl lock "$U" >/dev/null
[ "$(key_status "$ID")" = Absent ] || fail "not locked: $(key_status "$ID")"

out=$(printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$U" -- cat "$H/docs/notes.txt") || fail "login failed"
[ "$out" = "top secret notes" ] || fail "not readable in the session: $out"
wait_status Absent
ok "login unlocks the migrated home, logout locks it"

# decrypt turns it back (unlocked by latchkeyctl unlock), snapshot equal again.
# (the cat above moved notes.txt's atime: compare with a fresh snapshot)
printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null
python3 "$SNAP" snap "$H" >"$W/before"
ctl decrypt "$H" --quiet 2>"$W/err" >/dev/null || fail "decrypt failed: $(cat "$W/err")"
xfs_io -c get_encpolicy "$H" 2>&1 | grep -q "Master key identifier" && fail "$H still encrypted"
python3 "$SNAP" snap "$H" >"$W/plain"
diff "$W/before" "$W/plain" >"$W/diff" || fail "snapshot differs after decrypt: $(head -20 "$W/diff")"
[ "$(key_status "$ID")" = Absent ] || fail "decrypt left the key in the kernel: $(key_status "$ID")"
ctl status "$U" --json | grep -q "\"path\": *\"$H\"" && fail "status still lists $H after decrypt"
ok "decrypt: plain again, snapshot equal, key gone, index entry gone"
echo PASS
