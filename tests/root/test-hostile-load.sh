#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile load: while an unprivileged user (their own processes, as
# themselves) runs in turn a connect flood, several hundred sessions of
# their own through a setuid PAM host, a flood of denied requests and a
# slow-drip client, another user's password logins unlock every time,
# root's `latchkeyctl status` answers in under 1 s, and the daemon's log
# grows by less than 1 MiB per flood. Prints the figures.
. "$(dirname "$0")/lib.sh"
# The attacker runs it: a copy in the test's 0755 directory, with the wire
# module it imports, since the checkout may be one test users cannot read
# (a clone in /root).
HOSTILE=$W/hostile-client.py
install -m 0755 "$(dirname "$0")/hostile-client.py" "$HOSTILE"
lk_copy_wire "$W"
PY=/usr/bin/python3   # the interpreter the test users can run

lk_locked_home_setup lkhv                      # the victim: U, PW, H, ID
A=lkha$RANDOM; APW="attacker $RANDOM"
lk_add_user "$A" "$APW"
lk_encrypted_home "$A" "$APW" >/dev/null       # enrolled: their sessions are real ones
ctl lock "$A" >/dev/null
AUID=$(id -u "$A"); VUID=$(id -u "$U")
SESSIONS=${LK_HOSTILE_SESSIONS:-560}           # more than the daemon's 512 connections

# A setuid PAM host that only the attacker may run (like su or login, but
# reading the password from stdin).
mkdir -m 0750 "$W/suid"; chgrp "$(id -gn "$A")" "$W/suid"
install -m 4755 "$PAM_LOGIN" "$W/suid/pam-login"
mkdir -m 0777 "$W/opened"

as_attacker() { setpriv --reuid "$A" --regid "$(id -g "$A")" --init-groups -- "$@"; }

TRIED=0 UNLOCKED=0 WORST_MS=0 WORST_STATUS_MS=0
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# victim_logins N PHASE: N password logins of the victim; each must read the
# file in the home (so it was unlocked) and leave it locked at logout.
victim_logins() {
  local t0 t1 out
  for _ in $(seq "$1"); do
    t0=$(now_ms)
    out=$(printf '%s\n' "$PW" | "$PAM_LOGIN" "$SERVICE" "$U" -- cat "$H/f" 2>"$W/login.err") || true
    t1=$(now_ms)
    TRIED=$((TRIED + 1))
    if [ "$out" = data ]; then UNLOCKED=$((UNLOCKED + 1)); else
      echo "login of $U during $2 did not unlock: $(grep -v prompt "$W/login.err" | head -3)"; fi
    [ $((t1 - t0)) -gt "$WORST_MS" ] && WORST_MS=$((t1 - t0))
  done
  t0=$(now_ms)
  ctl status >/dev/null || fail "root's latchkeyctl status failed during $2"
  t1=$(now_ms)
  [ $((t1 - t0)) -gt "$WORST_STATUS_MS" ] && WORST_STATUS_MS=$((t1 - t0))
  [ $((t1 - t0)) -lt 1000 ] || fail "root's latchkeyctl status took $((t1 - t0)) ms during $2"
}

LOG_BEFORE=0
log_mark() { LOG_BEFORE=$(stat -c %s "$W/daemon.log"); }
# log_growth PHASE: bytes the daemon logged since log_mark, at most 1 MiB.
log_growth() {
  local grown=$(($(stat -c %s "$W/daemon.log") - LOG_BEFORE))
  echo "figure: $1: daemon log grew by $grown bytes"
  [ "$grown" -lt 1048576 ] || fail "$1: the daemon log grew by $grown bytes"
}

# LK_HOSTILE_PHASES (default "1 2 3 4") runs some of the attacks only.
want() { [[ " ${LK_HOSTILE_PHASES:-1 2 3 4} " == *" $1 "* ]]; }

# 1. connect() flood: three processes connecting and closing as fast as they can.
if want 1; then
  log_mark
  FLOOD=()
  for _ in 1 2 3; do as_attacker "$PY" "$HOSTILE" connect-flood "$SOCK" 6 & FLOOD+=($!); done
  sleep 1
  victim_logins 5 "the connect flood"
  wait "${FLOOD[@]}"
  log_growth "connect flood"
fi

# 2. Sessions of the attacker's own through the setuid host: each one's
# peer is uid 0, but the daemon charges it to the attacker.
if want 2; then
  log_mark
  t0=$(now_ms)
  # In waves of 40, as a patient attacker would: a burst of hundreds at once
  # would mostly find the listen backlog full.
  as_attacker sh -c 'i=0; while [ $i -lt '"$SESSIONS"' ]; do i=$((i + 1));
    "$0" --no-auth --hold "$1/release" "$2" "$3" -- touch "$1/opened/$i" </dev/null >/dev/null 2>&1 &
    [ $((i % 40)) = 0 ] && sleep 0.2; done' "$W/suid/pam-login" "$W" "$SERVICE" "$A"
  for _ in $(seq 1200); do
    [ "$(find "$W/opened" -type f | wc -l)" -ge "$SESSIONS" ] && break; sleep 0.05
  done
  opened=$(find "$W/opened" -type f | wc -l)
  echo "figure: $opened of $SESSIONS attacker sessions through the setuid host started in $(($(now_ms) - t0)) ms"
  [ "$opened" -ge "$SESSIONS" ] || fail "only $opened attacker sessions started"
  victim_logins 5 "$SESSIONS attacker sessions"
  touch "$W/release"
  for _ in $(seq 600); do pgrep -U "$A" -f "$W/suid/pam-login" >/dev/null || break; sleep 0.05; done
  log_growth "$SESSIONS sessions"
fi

# 3. Denied requests (STATUS and UNLOCK of the victim) from two processes;
# another user's denied request meanwhile is a real event and is logged.
if want 3; then
  log_mark
  FLOOD=()
  for _ in 1 2; do as_attacker "$PY" "$HOSTILE" denied-flood "$SOCK" 5 "$VUID" & FLOOD+=($!); done
  sleep 2
  setpriv --reuid "$U" --regid "$(id -g "$U")" --init-groups -- "$PY" "$HOSTILE" denied-once "$SOCK" "$AUID"
  victim_logins 3 "the denied-request flood"
  wait "${FLOOD[@]}"
  sleep 0.2
  log_growth "denied-request flood"
  grep -q "uid $VUID asked to act on uid $AUID: denied" "$W/daemon.log" \
    || fail "the other user's denied request was not logged during the flood"
  ok "another user's denied request was logged during the flood"
fi

# 4. A slow-drip client: every connection it may hold, kept alive with a
# request each second, and more asked for all the time.
if want 4; then
  log_mark
  as_attacker "$PY" "$HOSTILE" slow-drip "$SOCK" 7 & DRIP=$!
  sleep 1.5
  victim_logins 5 "the slow-drip client"
  wait $DRIP
  log_growth "slow drip"
fi

echo "figure: victim logins tried $TRIED, unlocked $UNLOCKED, worst login $WORST_MS ms," \
  "worst root status $WORST_STATUS_MS ms"
[ "$UNLOCKED" = "$TRIED" ] || fail "only $UNLOCKED of $TRIED logins of $U unlocked the home"
# The rate limit summarised what it held back (written when a window ends).
want 3 && for _ in $(seq 240); do grep -q "uid $AUID: [0-9]* messages suppressed" "$W/daemon.log" && break; sleep 0.05; done
want 3 && { grep -q "uid $AUID: [0-9]* messages suppressed" "$W/daemon.log" || fail "no 'messages suppressed' summary"; }
ok "the victim's logins all unlocked under every attack"
echo PASS
