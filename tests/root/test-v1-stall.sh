#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A v1 user who stops (SIGSTOP) the keyring child that runs as them delays
# only their own unlock. User A's child is held in pause() (test-build hook,
# so that it is there to be caught) and A stops it with pkill, as A; while
# A's unlock waits, B's real login (v1 home) completes in its normal time,
# B reads the file, and A's unlock is still pending when B is done; A's
# child is killed at its 2 s deadline and A's unlock fails, A's key absent.
# The old code waited for the child inside the event loop, so B's login
# took the rest of those 2 s. Then A stops the in-place child of their own
# LOCK: B's login during it, and during A's next LOCK and STATUS (which run
# no child for a while), takes its normal time. The old code waited for
# each such child until its 2 s deadline, stopped or not.
. "$(dirname "$0")/lib.sh"
for tool in keyctl setpriv pkill; do command -v "$tool" >/dev/null || fail "$tool missing"; done

A=lkva$RANDOM; B=lkvb$RANDOM; PWA="a pw $RANDOM"; PWB="b pw $RANDOM"
v1_cleanup() {
  local rc=$?
  set +e
  for u in "$A" "$B"; do
    id "$u" >/dev/null 2>&1 && setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- keyctl clear @u 2>/dev/null
  done
  (exit $rc)
  lk_cleanup
}
trap v1_cleanup EXIT

lk_make_fs
lk_add_user "$A" "$PWA"
lk_add_user "$B" "$PWB"
UA=$(id -u "$A")
lk_start_daemon
lk_write_pam_service
sed -i '0,/^session/s//session  optional  pam_keyinit.so force revoke\nsession/' "/etc/pam.d/$SERVICE"
for u in "$A:$PWA" "$B:$PWB"; do
  printf '%s\n' "${u#*:}" | ctl enroll "${u%%:*}" --passphrase-stdin --kdf-time 1 >/dev/null
  printf '%s\n' "${u#*:}" | ctl encrypt "$MNT/home/${u%%:*}" --user "${u%%:*}" --v1 --passphrase-stdin >/dev/null ||
    fail "encrypt --v1 for ${u%%:*}"
done
"$PAM_LOGIN" --no-auth "$SERVICE" "$B" -- sh -c 'echo data > "$HOME/f"' || fail "B cannot write"
# B's logout just dropped the machine's caches, which latchkeyd does at most
# once in 5 s: A's lock takes A's key out of the keyring (what this test
# needs) and is reported incomplete until a retry drops the caches.
ctl lock "$A" >/dev/null || true
ctl lock "$B" >/dev/null
lk_stop_daemon
export LATCHKEY_TEST_V1_CHILD_PAUSE=$UA; lk_start_daemon; unset LATCHKEY_TEST_V1_CHILD_PAUSE

login_b() {
  local t0 t1
  t0=$(date +%s%N)
  out=$(printf '%s\n' "$PWB" | "$PAM_LOGIN" "$SERVICE" "$B" -- cat "$MNT/home/$B/f") || fail "B's login failed: $out"
  t1=$(date +%s%N)
  [ "$out" = data ] || fail "B cannot read the file in the session: $out"
  echo $(( (t1 - t0) / 1000000 ))
}
NORMAL=$(login_b)

# A's unlock starts a child that becomes A and waits; A stops it.
printf '%s\n' "$PWA" | ctl unlock "$A" --passphrase-stdin >"$W/a.out" 2>&1 &
A_UNLOCK=$!
child=
for _ in $(seq 100); do child=$(pgrep -U "$UA" -x latchkeyd || true); [ -n "$child" ] && break; sleep 0.02; done
[ -n "$child" ] || fail "no keyring child of $A"
setpriv --reuid="$UA" --regid="$(id -g "$A")" --clear-groups -- pkill -STOP -U "$UA" -x latchkeyd || fail "A could not stop the child"
for _ in $(seq 50); do [ "$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null)" = T ] && break; sleep 0.02; done
[ "$(awk '{print $3}' "/proc/$child/stat")" = T ] || fail "the child is not stopped"

ATTACKED=$(login_b)
kill -0 "$A_UNLOCK" 2>/dev/null || fail "A's unlock finished before B's login did: the daemon was not waiting for A's child"
[ "$ATTACKED" -lt $((NORMAL + 800)) ] && [ "$ATTACKED" -lt 1900 ] ||
  fail "B's login took $ATTACKED ms while A's child was stopped (normally $NORMAL ms)"
ok "B's login took $ATTACKED ms with A's keyring child stopped (normally $NORMAL ms); A's unlock still waiting"

rc=0; wait "$A_UNLOCK" || rc=$?
[ $rc != 0 ] || fail "A's unlock succeeded with a stopped child"
for _ in $(seq 50); do [ -e "/proc/$child" ] || break; sleep 0.05; done
[ -e "/proc/$child" ] && fail "the stopped child was not killed"
setpriv --reuid="$UA" --regid="$(id -g "$A")" --clear-groups -- keyctl show @u 2>/dev/null | grep -q "logon: fscrypt:" &&
  fail "A's key is in A's keyring"
grep -q "cannot add v1 key .* to uid $UA's keyring: Connection timed out" "$W/daemon.log" ||
  grep -q "cannot add v1 key .* to uid $UA's keyring" "$W/daemon.log" || fail "A's failure not logged"
ok "A's stopped child was killed at its deadline; only A's unlock failed"

# The children of LOCK and STATUS are waited for in place. One that A
# stops is seen stopped and killed at once, and A's next in-place requests
# run no child for a while: B's login takes its normal time during each.
# A starts a request for themselves; if a keyring child of A's turns up
# (held in pause() by the hook), A stops it.
a_request_and_stop() {
  ctl "$@" >"$W/a-req.out" 2>&1 &
  A_REQ=$!
  child=
  for _ in $(seq 100); do
    child=$(pgrep -U "$UA" -x latchkeyd || true)
    [ -n "$child" ] && break
    kill -0 "$A_REQ" 2>/dev/null || break
    sleep 0.02
  done
  [ -z "$child" ] ||
    setpriv --reuid="$UA" --regid="$(id -g "$A")" --clear-groups -- pkill -STOP -U "$UA" -x latchkeyd ||
    fail "A could not stop the child"
}
n=0
for req in lock lock status; do
  n=$((n + 1))
  a_request_and_stop "$req" "$A"
  ATTACKED=$(login_b)
  wait "$A_REQ" || true
  [ "$ATTACKED" -lt $((NORMAL + 800)) ] && [ "$ATTACKED" -lt 1900 ] ||
    fail "B's login took $ATTACKED ms during A's $req number $n (normally $NORMAL ms)"
  if [ $n = 1 ]; then
    [ -n "$child" ] || fail "A's first lock ran no keyring child"
    grep -q "cannot remove v1 key .* from uid $UA's keyring.*No child processes" "$W/daemon.log" ||
      fail "A's lock did not fail for the stopped child"
    ok "A's lock with a stopped child failed; B's login took $ATTACKED ms (normally $NORMAL ms)"
  else
    [ -z "$child" ] || fail "A's $req after a stopped child started another keyring child"
    ok "A's $req after the stopped child ran no child; B's login took $ATTACKED ms (normally $NORMAL ms)"
  fi
done
echo PASS
