#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A shared cache root below a directory that a user owns (or may write
# without the sticky bit) could be renamed away by that user, and its
# users' keys would escape the lock at logout. Such a root is refused, with
# a message naming the ancestor, by `policy assign`, by RELOAD, and by the
# provisioning at login when the ancestor became writable after the policy
# was loaded; the user who owns the ancestor really can rename the root
# (shown as that user), so the refusal is not theoretical.
. "$(dirname "$0")/lib.sh"

lk_make_fs 64M
A=lkaa$RANDOM; V=lkav$RANDOM; PWV="pw v $RANDOM"
lk_add_user "$A" "pw a $RANDOM"
lk_add_user "$V" "$PWV"
as() { local u=$1; shift; setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups -- "$@"; }
lk_start_daemon
lk_write_pam_service
printf '%s\n' "$PWV" | ctl enroll "$V" --passphrase-stdin --kdf-time 1 >/dev/null

# 1. policy assign: a root in a directory the attacker owns.
mkdir -m 0755 "$MNT/att"; chown "$A:" "$MNT/att"
mkdir -m 0755 "$MNT/att/cache"
as "$A" mv "$MNT/att/cache" "$MNT/att/moved" && as "$A" mv "$MNT/att/moved" "$MNT/att/cache" \
  || fail "control: the attacker cannot rename the root in their own directory"
out=$(ctl policy assign "$MNT/att/cache" --per-user --config-dir "$W/etc" 2>&1) \
  && fail "policy assign accepted a root below $A's directory: $out"
grep -q "$MNT/att, an ancestor of $MNT/att/cache, is owned by uid $(id -u "$A")" <<<"$out" \
  || fail "policy assign's message does not name the ancestor: $out"
[ ! -e "$W/etc/policy.d/cache.conf" ] || fail "policy assign wrote the drop-in anyway"
ok "policy assign refused: $out"

# World-writable without the sticky bit is refused too; with it (like /tmp) not.
mkdir -m 0777 "$MNT/open"; chmod 0777 "$MNT/open"; mkdir -m 0755 "$MNT/open/cache"
out=$(ctl policy assign "$MNT/open/cache" --per-user --config-dir "$W/etc" 2>&1) \
  && fail "policy assign accepted a root below a world-writable directory: $out"
grep -q "$MNT/open, an ancestor of $MNT/open/cache, is writable by group or others (mode 0777)" <<<"$out" \
  || fail "policy assign's message: $out"
chmod 1777 "$MNT/open"
as "$A" mv "$MNT/open/cache" "$MNT/open/moved" 2>/dev/null && fail "control: the sticky bit did not stop the rename"
ctl policy assign "$MNT/open/cache" --per-user --name open --config-dir "$W/etc" >/dev/null 2>"$W/err" \
  || fail "policy assign refused a root below a sticky directory: $(cat "$W/err")"
ok "below a world-writable directory: refused without the sticky bit, accepted with it"

# 2. RELOAD of a hand-written drop-in with the bad root.
lk_policy att "$MNT/att/cache"
out=$(lk_reload) && fail "RELOAD accepted a root below $A's directory"
grep -q "att.conf:1: policy att: $MNT/att, an ancestor of $MNT/att/cache, is owned by uid" <<<"$out" \
  || fail "RELOAD's message: $out"
rm "$W/etc/policy.d/att.conf"
ok "RELOAD refused: ${out#ERROR }"

# 3. Provisioning: the ancestor was root's at load and is the attacker's at login.
mkdir -m 0755 "$MNT/later"; mkdir -m 0755 "$MNT/later/cache"
lk_policy later "$MNT/later/cache"
[ "$(lk_reload)" = OK ] || fail "RELOAD refused a good root"
chown "$A:" "$MNT/later"
printf '%s\n' "$PWV" | "$PAM_LOGIN" "$SERVICE" "$V" -- true >/dev/null 2>&1 || fail "login of $V failed"
[ ! -e "$MNT/later/cache/$V" ] || fail "provisioning made $V's directory below $A's directory"
grep -q "policy later: refusing $MNT/later/cache for uid $(id -u "$V"): $MNT/later, an ancestor" "$W/daemon.log" \
  || fail "provisioning did not log the ancestor: $(grep later "$W/daemon.log")"
[ -d "$MNT/open/cache/$V" ] || fail "the good policy below the sticky directory was not provisioned"
ok "provisioning refused the root whose ancestor became $A's, and provisioned the good one"
echo PASS
