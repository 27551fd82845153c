#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: latchkey's login overhead beyond Argon2id and pam_unix, and
# logout-to-locked latency, on a loop-mounted ext4. Root only.
#   LK_BUILD=build bench/login-overhead.sh [ITERATIONS]
. "$(dirname "$0")/../tests/root/lib.sh"
N=${1:-200}
lk_make_fs
PW="bench-$RANDOM"
U=lkbench$RANDOM
lk_add_user "$U" "$PW"
lk_start_daemon
lk_encrypted_home "$U" "$PW" >/dev/null
echo "hello" > "$MNT/home/$U/file"
ctl lock "$U" >/dev/null
# The daemon logs at debug level in tests; the benchmark wants it quiet.
lk_stop_daemon
"$LATCHKEYD" --socket "$SOCK" --state-dir "$W/state" --config-dir "$W/etc" >>"$W/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
printf '%s\n' "$PW" | "$LK_BUILD/bench/bench-login" "$SOCK" "$(id -u "$U")" "$MNT/home/$U" "$N"
