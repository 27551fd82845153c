#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: what per-user cache policies add to a login (target:
# <= 1 ms per policy). SESSION_OPEN with 0 and with 4 policies, at a first
# login (the four directories created) and at later logins (they exist and
# are just unlocked), on a loop-mounted ext4. Root only.
#   LK_BUILD=build bench/provision-overhead.sh [ITERATIONS]
. "$(dirname "$0")/../tests/root/lib.sh"
N=${1:-200}
P=4
lk_make_fs 256M
PW="bench-$RANDOM"
U=lkbprov$RANDOM
lk_add_user "$U" "$PW"
UID_U=$(id -u "$U")
lk_start_daemon
lk_encrypted_home "$U" "$PW" >/dev/null
echo "hello" >"$MNT/home/$U/file"
ctl lock "$U" >/dev/null
INDEX=$W/state/index/$UID_U
# The daemon logs at debug level in tests; the benchmark wants it quiet.
quiet_daemon() {
  lk_stop_daemon
  "$LATCHKEYD" --socket "$SOCK" --state-dir "$W/state" --config-dir "$W/etc" \
    --vendor-config-dir "$W/vendor" >>"$W/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
  fail "latchkeyd did not start"
}
# bench-login ends with password changes (fresh salts): the protector file
# is put back after each run so that the passphrase opens it again.
bench() {
  cp -p "$W/state/protectors/$UID_U" "$W/protector.saved"
  printf '%s\n' "$PW" | "$LK_BUILD/bench/bench-login" "$SOCK" "$UID_U" "$MNT/home/$U" "$N" "$@" \
    | grep -E 'session open|logout'
  cp -p "$W/protector.saved" "$W/state/protectors/$UID_U"
}
open_median() { awk '/session open/ {print $(NF-8)}'; }  # the median, in ms

quiet_daemon
echo "== 0 policies"
B0=$(bench); echo "$B0"
DIRS=()
for i in $(seq $P); do
  mkdir -m 0755 "$MNT/cache$i"
  lk_policy "cache$i" "$MNT/cache$i"
  DIRS+=("$MNT/cache$i/$U")
done
quiet_daemon
cp "$INDEX" "$W/index.saved"
echo "== $P policies, first login (directories created each time)"
BC=$(bench --reset "$INDEX" "${DIRS[@]}"); echo "$BC"
echo "== $P policies, later logins (directories exist)"
BE=$(bench); echo "$BE"
m0=$(echo "$B0" | open_median); mc=$(echo "$BC" | open_median); me=$(echo "$BE" | open_median)
awk -v a="$m0" -v c="$mc" -v e="$me" -v p=$P 'BEGIN {
  printf "per policy, first login: %.3f ms   later logins: %.3f ms   (target <= 1 ms)\n", (c - a) / p, (e - a) / p }'
