#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# close_session returns only after the lock: the moment the login process
# has closed the session, every root of the user is already Absent (xfs_io),
# with no polling; and a logout that leaves files in use (a process of the
# user, as the user, keeps one open) tells the user so at the prompt.
. "$(dirname "$0")/lib.sh"
LOGIN=
logout_cleanup() {  # a login left holding on failure is root's, not the user's: end it by its pid
  local rc=$?
  set +e  # under set -e a failing step here would skip lk_cleanup
  [ -n "$LOGIN" ] && kill "$LOGIN" 2>/dev/null
  (exit $rc)
  lk_cleanup
}
trap logout_cleanup EXIT

lk_locked_home_setup lkls
# More roots make the removal take longer than the reply.
IDS=("$ID")
for i in 1 2 3 4 5; do
  mkdir "$MNT/extra$i-$U"
  id=$(printf '%s\n' "$PW" | ctl encrypt "$MNT/extra$i-$U" --user "$U" --passphrase-stdin --json \
    | sed -n 's/.*"key_id":"\([0-9a-f]\{32\}\)".*/\1/p')
  [ -n "$id" ] || fail "encrypt of extra$i failed"
  IDS+=("$id")
done
ctl lock "$U" >/dev/null

for n in $(seq 8); do
  printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$U" -- sh -c \
    'cat "$HOME/f" >/dev/null; for d in '"$MNT"'/extra*-$USER; do echo x > "$d/g$RANDOM"; cat "$d"/g* >/dev/null; done' \
    || fail "login $n failed"
  for id in "${IDS[@]}"; do
    st=$(key_status "$id")
    [ "$st" = Absent ] || fail "logout $n returned while key $id was: $st"
  done
done
ok "8 logouts: all six roots Absent the moment each login process returned"

# Files in use at logout: the user is told.
rm -f "$W/hold"
"$PAM_LOGIN" --hold "$W/hold" "$SERVICE" "$U" -- sh -c \
  'sleep 600 < "$HOME/f" >/dev/null 2>&1 & echo $!' <<<"$PW" >"$W/holder.pid" 2>"$W/login.err" &
LOGIN=$!
for _ in $(seq 100); do [ -s "$W/holder.pid" ] && break; sleep 0.05; done
HOLDER=$(cat "$W/holder.pid")
for _ in $(seq 100); do [[ "$(readlink "/proc/$HOLDER/fd/0")" == */f ]] && break; sleep 0.05; done
touch "$W/hold"
wait $LOGIN || fail "the busy login failed"
LOGIN=
grep -q "files still in use keep your encrypted directories readable" "$W/login.err" \
  || fail "the busy logout did not tell the user: $(cat "$W/login.err")"
[[ "$(key_status "$ID")" == "Incompletely removed"* ]] || fail "busy logout: $(key_status "$ID")"
kill "$HOLDER"
wait_status Absent
ok "a logout with files in use told the user, and the retry locked once they were closed"
echo PASS
