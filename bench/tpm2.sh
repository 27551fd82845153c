#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: what a TPM2 slot costs a login and a password change, against a
# password-only slot, side by side in one daemon on a loop-mounted ext4.
# Root only; built with libtss2-esys; the TPM is swtpm on a unix socket.
#   LK_BUILD=build bench/tpm2.sh [ITERATIONS]
# Two users with the same Argon2id parameters: T's only login slot is sealed
# to the TPM (tpm = required), P has the plain password slot. bench-login
# times the daemon's side of each (W is derived once, outside the clock):
# the login difference is the unseal (a primary recreated from its template,
# a salted, encrypted policy session, PCR policy, unseal); the password-change
# difference is the seal. swtpm answers in microseconds of CPU; a hardware
# TPM takes tens to hundreds of milliseconds per command, so on a real
# machine these figures are a lower bound.
. "$(dirname "$0")/../tests/root/lib.sh"
N=${1:-30}
grep -q '#define HAVE_TPM2 1' "$LK_BUILD/config.h" || fail "built without TPM2 support (libtss2-dev)"
command -v swtpm >/dev/null || fail "swtpm missing (apt-get install swtpm)"

mkdir -p "$W/tpm"
swtpm socket --tpm2 --tpmstate dir="$W/tpm" --server type=unixio,path="$W/tpm.sock" \
  --ctrl type=unixio,path="$W/tpm.sock.ctrl" --flags not-need-init,startup-clear >>"$W/tpm.log" 2>&1 &
lk_track $!
for _ in $(seq 100); do [ -S "$W/tpm.sock" ] && break; sleep 0.05; done
printf '[latchkey]\ntpm = required\ntpm_tcti = swtpm:path=%s\n' "$W/tpm.sock" >"$W/etc/latchkey.conf"

lk_make_fs
lk_start_daemon
T=lkbtt$RANDOM; P=lkbtp$RANDOM; PW_T="bench-t-$RANDOM"; PW_P="bench-p-$RANDOM"
lk_add_user "$T" "$PW_T"; lk_add_user "$P" "$PW_P"
lk_encrypted_home "$T" "$PW_T" >/dev/null
lk_encrypted_home "$P" "$PW_P" >/dev/null
printf '%s\n' "$PW_T" | ctl recovery create "$T" --passphrase-stdin >/dev/null 2>&1 || fail "recovery create"
printf '%s\n' "$PW_T" | ctl tpm bind "$T" --passphrase-stdin >/dev/null 2>"$W/err" || fail "tpm bind: $(cat "$W/err")"
for u in "$T" "$P"; do echo hello >"$MNT/home/$u/file"; ctl lock "$u" >/dev/null; done
# Quiet daemon: the benchmark times the daemon, not its debug log.
lk_stop_daemon
"$LATCHKEYD" --socket "$SOCK" --state-dir "$W/state" --config-dir "$W/etc" >>"$W/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

run() { printf '%s\n' "$2" | "$LK_BUILD/bench/bench-login" "$SOCK" "$(id -u "$1")" "$MNT/home/$1" "$N"; }
# One run each: bench-login's password changes leave the slot under a salt
# the passphrase no longer derives, so a second run would be refused.
{ run "$P" "$PW_P"; run "$T" "$PW_T"; } >"$W/out" 2>&1 || { cat "$W/out"; fail "bench-login"; }
# Every login of T must have gone through the TPM (no fallback logged).
if grep -q "not opened" "$W/daemon.log"; then grep "not opened" "$W/daemon.log" | head -3; fail "the TPM2 slot did not open"; fi
python3 - "$W/out" <<'PY'
import re, sys
runs, cur = [], None
for line in open(sys.argv[1]):
    if line.startswith("Argon2id t="):
        cur = {}; runs.append(cur)
    m = re.match(r"(.+?)\s+median\s+([\d.]+) ms", line)
    if m and cur is not None:
        cur[m.group(1).strip()] = float(m.group(2))
if len(runs) != 2:
    sys.exit("unexpected bench-login output")
plain, tpm = runs
print(f"{'median per row (ms)':34} {'password slot':>14} {'TPM2 slot':>10} {'difference':>11}")
for key in runs[0]:
    a, b = plain[key], tpm.get(key, float("nan"))
    print(f"{key:34} {a:14.3f} {b:10.3f} {b - a:11.3f}")
print("(swtpm; a hardware TPM is slower)")
PY
