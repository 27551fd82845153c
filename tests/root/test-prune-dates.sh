#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# prune's order and --max-age use times a user cannot set: a user who dates
# their cache files in 2099 (touch -d, as themselves) is pruned by the
# files' real age, not last, and --max-age ages those files out too.
. "$(dirname "$0")/lib.sh"

lk_make_fs 64M
A=lkpa$RANDOM; V=lkpv$RANDOM
lk_add_user "$A" "pw-$RANDOM"; lk_add_user "$V" "pw-$RANDOM"
SHARED=$MNT/cache
mkdir -m 0755 "$SHARED"
new_key() { head -c 64 /dev/urandom >"$W/$1.key"; xfs_io -c add_enckey "$MNT" <"$W/$1.key" | awk '/identifier/ {print $NF}'; }
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- "$@"; }
AKEY=$(new_key a); VKEY=$(new_key v)
for u in "$A:$AKEY" "$V:$VKEY"; do
  mkdir "$SHARED/${u%%:*}"; xfs_io -c "set_encpolicy ${u#*:}" "$SHARED/${u%%:*}"
  chown "${u%%:*}:" "$SHARED/${u%%:*}"; chmod 0700 "$SHARED/${u%%:*}"
done

# The attacker's files first, dated 2099 by the attacker; the victim's a
# moment later, with honest times.
as "$A" sh -c 'for i in 1 2; do head -c 256K /dev/urandom > "$0/a$i"; touch -d 2099-01-01 "$0/a$i"; done' "$SHARED/$A"
sleep 1.1
as "$V" sh -c 'for i in 1 2; do head -c 256K /dev/urandom > "$0/v$i"; done' "$SHARED/$V"
xfs_io -c "rm_enckey $AKEY" "$MNT" >/dev/null; xfs_io -c "rm_enckey $VKEY" "$MNT" >/dev/null
[ "$(key_status "$AKEY")" = Absent ] && [ "$(key_status "$VKEY")" = Absent ] || fail "could not lock both trees"

# Free room for two files: the two oldest by real age are the attacker's.
"$LATCHKEYCTL" prune "$SHARED" --free 512K >/dev/null 2>"$W/err" || fail "prune --free: $(cat "$W/err")"
na=$(find "$SHARED/$A" -type f | wc -l); nv=$(find "$SHARED/$V" -type f | wc -l)
[ "$na" = 0 ] && [ "$nv" = 2 ] || fail "prune --free deleted by the faked dates: attacker has $na files left, victim $nv"
ok "--free: the files dated 2099 went first (the attacker's, really the oldest), the victim's stayed"

# --max-age: a file dated 2099 ages from its real time too.
xfs_io -c add_enckey "$MNT" <"$W/a.key" >/dev/null
as "$A" sh -c 'head -c 64K /dev/urandom > "$0/a3"; touch -d 2099-01-01 "$0/a3"' "$SHARED/$A"
xfs_io -c "rm_enckey $AKEY" "$MNT" >/dev/null
sleep 3.2  # whole seconds: 3 s after the change is surely more than 2 s
"$LATCHKEYCTL" prune "$SHARED" --max-age 2s >/dev/null 2>"$W/err" || fail "prune --max-age: $(cat "$W/err")"
[ "$(find "$SHARED/$A" -type f | wc -l)" = 0 ] || fail "--max-age 2s kept a 2 s old file dated 2099"
ok "--max-age: a file dated 2099 is aged by its real time"
echo PASS
