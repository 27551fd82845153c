#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A pending credential (auth without a session: a user's own sudo-like
# setuid host, run here as that user) is wiped by a timer at its expiry,
# with no further request: the protector key P, derived independently
# (secret-scan.py), is in latchkeyd's memory while pending (the control)
# and gone from every readable mapping of it after the expiry. The daemon's
# expiry is shortened to 2 s by a test hook.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SCAN=$(dirname "$0")/secret-scan.py
"$PY" -c 'import argon2, cryptography' 2>/dev/null || fail "python3-argon2/python3-cryptography missing (scripts/test installs them)"

export LATCHKEY_TEST_PENDING_TTL_MS=2000
lk_locked_home_setup lkpe
unset LATCHKEY_TEST_PENDING_TTL_MS
derived=$(printf '%s\n' "$PW" | "$PY" "$SCAN" derive "$SOCK" "$(id -u "$U")" "$W/state" "$H" "$W/secrets") \
  || fail "cannot derive the secrets independently"
[ "$derived" = "$ID" ] || fail "independently derived key identifier $derived, the directory has $ID"

mkdir -m 0750 "$W/suid"; chgrp "$(id -gn "$U")" "$W/suid"
install -m 4755 "$PAM_LOGIN" "$W/suid/pam-login"
printf '%s\n' "$PW" | setpriv --reuid "$U" --regid "$(id -g "$U")" --init-groups -- \
  "$W/suid/pam-login" --auth-only "$SERVICE" "$U" || fail "auth as $U failed"
t0=$(date +%s%N)
grep -q "pending credential stored for uid $(id -u "$U")" "$W/daemon.log" || fail "no pending credential stored"
"$PY" "$SCAN" scan "$W/secrets" --present P "pid:$DAEMON_PID" >/dev/null \
  || fail "control: P is not in latchkeyd's memory while pending"
ok "pending: P is in latchkeyd's memory (the control)"

# No request is sent from here on: only the timer can wipe it.
gone=
for _ in $(seq 40); do
  sleep 0.25
  if "$PY" "$SCAN" scan "$W/secrets" --absent P "pid:$DAEMON_PID" >/dev/null 2>&1; then gone=1; break; fi
done
elapsed=$((($(date +%s%N) - t0) / 1000000))
[ -n "$gone" ] || fail "P still in latchkeyd's memory $elapsed ms after auth (expiry 2000 ms)"
[ "$elapsed" -ge 1500 ] || fail "P gone after $elapsed ms, before the expiry: was it ever pending?"
echo "figure: P wiped from latchkeyd's memory $elapsed ms after auth (expiry 2000 ms)"
grep -q "pending credential of uid $(id -u "$U") expired: wiped" "$W/daemon.log" || fail "no expiry line in the log"
ok "the pending credential was wiped by its timer, with no request"
[ "$(key_status "$ID")" = Absent ] || fail "the home was unlocked by an auth without a session"
echo PASS
