#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TPM2 slots with swtpm (one per "machine", on a unix socket with its own
# state directory): bind refuses without a recovery code; a login opens the
# TPM2 slot (tpm = required: no password-only slot is left, so only the TPM
# opens it); on another TPM the slot does not open; after PCR 7 is extended
# the slot refuses and a tpm = preferred user falls back to the password
# slot with one log line; with the TPM gone logins go on through the
# password slot, one log line; TSS2_LOG/TSS2_LOGFILE chosen by a user
# running a setuid login host, or set in latchkeyd's environment, make no
# file; a password change reseals; tpm reseal --predict opens before and
# after a predicted PCR change; wrong passphrases reach the TPM's
# lockout, and then bob falls back with a log line saying how long it lasts
# and how to clear it, while carol (no TPM2 slot) logs in as usual.
. "$(dirname "$0")/lib.sh"

if ! grep -q '#define HAVE_TPM2 1' "$LK_BUILD/config.h"; then
  # Built without libtss2-esys: no TPM2 slot kind, and latchkeyctl says so.
  U=lktpn$RANDOM; lk_add_user "$U" "pw $U"
  lk_start_daemon
  printf '%s\n' "pw $U" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null
  rc=0; printf '%s\n' "pw $U" | ctl tpm bind "$U" --passphrase-stdin 2>"$W/err" || rc=$?
  [ $rc = 1 ] && grep -q "built without TPM2 support" "$W/err" || fail "tpm bind without TPM2 support: rc $rc: $(cat "$W/err")"
  echo "PASS (built without TPM2 support: tpm bind says so)"
  exit 0
fi
for tool in swtpm tpm2_pcrextend tpm2_pcrread; do
  command -v "$tool" >/dev/null || fail "$tool missing (run scripts/test, which installs swtpm and tpm2-tools)"
done

# lk_swtpm NAME: a fresh TPM ("machine") on $W/NAME.sock; sets SWTPM_PID.
lk_swtpm() {
  mkdir -p "$W/$1"
  swtpm socket --tpm2 --tpmstate dir="$W/$1" --server type=unixio,path="$W/$1.sock" \
    --ctrl type=unixio,path="$W/$1.sock.ctrl" --flags not-need-init,startup-clear >>"$W/$1.log" 2>&1 &
  SWTPM_PID=$!
  lk_track "$SWTPM_PID"
  for _ in $(seq 100); do [ -S "$W/$1.sock" ] && [ -S "$W/$1.sock.ctrl" ] && return 0; sleep 0.05; done
  fail "swtpm $1 did not start: $(cat "$W/$1.log")"
}
lk_conf() { # MODE TPM_NAME
  printf '[latchkey]\ntpm = %s\ntpm_tcti = swtpm:path=%s\n' "$1" "$W/$2.sock" >"$W/etc/latchkey.conf"
}
login_in_session() { # USER PW ID: prints xfs_io's status of ID seen inside the session
  printf '%s\n' "$2" | "$PAM_LOGIN" "$SERVICE" "$1" -- sh -c "xfs_io -c 'enckey_status $3' '$MNT' | head -1"
}
# bob_opens_through_tpm WHEN: lock bob, log in: unlocked, and no TPM fallback logged.
bob_opens_through_tpm() {
  local lines0 out
  ctl lock "$BOB" >/dev/null
  lines0=$(wc -l <"$W/daemon.log")
  out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login $1 failed"
  [[ "$out" == Present* ]] || fail "bob not unlocked $1: $out"
  grep -q "not opened" <<<"$(tail -n +"$((lines0 + 1))" "$W/daemon.log")" && fail "the TPM2 slot did not open $1"
  return 0
}

lk_make_fs
PW_A="tpm alice $RANDOM"; PW_B="tpm bob $RANDOM"
ALICE=lktpa$RANDOM; BOB=lktpb$RANDOM
lk_add_user "$ALICE" "$PW_A"; lk_add_user "$BOB" "$PW_B"
lk_swtpm tpm1; SWTPM1=$SWTPM_PID
export TPM2TOOLS_TCTI="swtpm:path=$W/tpm1.sock"
lk_conf required tpm1
lk_start_daemon
lk_write_pam_service

# The PAM module never loads the TSS (a setuid login host's environment is the user's).
ldd "$PAM_MODULE" | grep -q tss2 && fail "pam_latchkey.so links the TSS: $(ldd "$PAM_MODULE" | grep tss2)"

ID_A=$(lk_encrypted_home "$ALICE" "$PW_A")
ctl lock "$ALICE" >/dev/null

# Never the only slot: refused until a recovery code exists, saying why.
rc=0; printf '%s\n' "$PW_A" | ctl tpm bind "$ALICE" --passphrase-stdin >/dev/null 2>"$W/err" || rc=$?
[ $rc != 0 ] || fail "tpm bind without a recovery code or escrow slot succeeded"
grep -q "recovery create" "$W/err" || fail "bind's refusal does not name the fix: $(cat "$W/err")"
printf '%s\n' "$PW_A" | ctl recovery create "$ALICE" --passphrase-stdin >"$W/code_a" 2>/dev/null || fail "recovery create"
rc=0; printf 'wrong\n' | ctl tpm bind "$ALICE" --passphrase-stdin >/dev/null 2>&1 || rc=$?
[ $rc = 5 ] || fail "tpm bind with a wrong passphrase: expected exit 5, got $rc"
printf '%s\n' "$PW_A" | ctl tpm bind "$ALICE" --passphrase-stdin >/dev/null 2>"$W/err" || fail "tpm bind: $(cat "$W/err")"
ls "$W/state/tpm/" | grep -qx "$(id -u "$ALICE")-[0-9]*" || fail "no sealed object file in state/tpm: $(ls -la "$W/state/tpm")"
ok "bind refused without a recovery code, then sealed to tpm1 (tpm = required)"

# enroll --tpm: refused without escrow (the TPM2 slot would be the only
# way in), and with escrow the new user gets login, escrow and TPM2 slots.
DAVE=lktpd$RANDOM; PW_D="tpm dave $RANDOM"; lk_add_user "$DAVE" "$PW_D"
rc=0; printf '%s\n' "$PW_D" | ctl enroll "$DAVE" --tpm --passphrase-stdin --kdf-time 1 >/dev/null 2>"$W/err" || rc=$?
[ $rc = 2 ] && grep -q "needs escrow" "$W/err" || fail "enroll --tpm without escrow: rc $rc: $(cat "$W/err")"
mkdir -p "$W/offline"
"$LATCHKEYCTL" escrow keygen --out "$W/offline/escrow.key" >"$W/escrow.pub.pem" 2>/dev/null || fail "escrow keygen"
ctl escrow enable "$W/escrow.pub.pem" --config-dir "$W/etc" >/dev/null || fail "escrow enable"
printf '%s\n' "$PW_D" | ctl enroll "$DAVE" --tpm --passphrase-stdin --kdf-time 1 >/dev/null 2>"$W/err" ||
  fail "enroll --tpm with escrow: $(cat "$W/err")"
kinds=$(ctl status "$DAVE" --json | python3 -c 'import json,sys; print(" ".join(sorted(s["kind"] for u in json.load(sys.stdin)["users"] for s in u["slots"])))')
[ "$kinds" = "escrow tpm2" ] || fail "enroll --tpm (tpm = required): expected escrow and tpm2 slots, got '$kinds'"
ls "$W/state/tpm/" | grep -qx "$(id -u "$DAVE")-[0-9]*" || fail "enroll --tpm: no sealed object for dave"
ok "enroll --tpm: refused without escrow; with it, escrow and TPM2 slots (the password-only slot removed: required)"

# tpm = required: the password-only slot is gone, yet the login unlocks: the TPM opened it.
out=$(login_in_session "$ALICE" "$PW_A" "$ID_A") || fail "alice's login failed"
[[ "$out" == Present* ]] || fail "alice's TPM-bound home not unlocked at login: $out"
grep -q "TPM2 slot of uid" "$W/daemon.log" && fail "unexpected TPM fallback: $(grep 'TPM2 slot of uid' "$W/daemon.log")"
ok "login through the TPM2 slot: xfs_io Present in the session"

# Bob keeps his password slot (tpm = preferred).
lk_conf preferred tpm1
lk_stop_daemon; lk_start_daemon
ID_B=$(lk_encrypted_home "$BOB" "$PW_B")
ctl lock "$BOB" >/dev/null
printf '%s\n' "$PW_B" | ctl recovery create "$BOB" --passphrase-stdin >/dev/null 2>&1 || fail "recovery create bob"
printf '%s\n' "$PW_B" | ctl tpm bind "$BOB" --passphrase-stdin >/dev/null 2>"$W/err" || fail "tpm bind bob: $(cat "$W/err")"
out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login failed"
[[ "$out" == Present* ]] || fail "bob not unlocked: $out"
grep -q "TPM2 slot of uid" "$W/daemon.log" && fail "unexpected TPM fallback for bob"
ok "tpm = preferred: bob bound and unlocked through the TPM"

# Another machine: the state directory copied, a different TPM. Alice's slot does not open there.
lk_stop_daemon
cp -a "$W/state" "$W/state2"
lk_swtpm tpm2
lk_conf preferred tpm2
LK_STATE=$W/state2 lk_start_daemon
: >"$W/daemon.log.mark"; lines0=$(wc -l <"$W/daemon.log")
out=$(login_in_session "$ALICE" "$PW_A" "$ID_A" 2>/dev/null) || true
[[ "$out" == Absent* ]] || fail "alice's home unlocked on another TPM: $out"
tail -n +"$((lines0 + 1))" "$W/daemon.log" | grep -q "TPM2 slot of uid $(id -u "$ALICE") not opened: PCR values differ.*or another TPM" ||
  fail "no log line for the TPM refusing: $(tail -n +"$((lines0 + 1))" "$W/daemon.log")"
rc=0; printf '%s\n' "$PW_A" | ctl unlock "$ALICE" --passphrase-stdin >/dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "the right passphrase unlocked alice's protector without her TPM"
[ "$(key_status "$ID_A")" = Absent ] || fail "alice's key is in the kernel: $(key_status "$ID_A")"
ok "another TPM: alice's TPM2 slot does not open, not even with the right passphrase"
lk_stop_daemon

# Back on machine 1: extend PCR 7 (a boot change). The TPM refuses; bob falls back to his password slot.
lk_conf preferred tpm1
lk_start_daemon
before=$(tpm2_pcrread sha256:7 | tail -1)
tpm2_pcrextend 7:sha256=$(printf '%064x' 1) || fail "tpm2_pcrextend"
[ "$(tpm2_pcrread sha256:7 | tail -1)" != "$before" ] || fail "PCR 7 did not change"
lines0=$(wc -l <"$W/daemon.log")
out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login failed after the PCR change"
[[ "$out" == Present* ]] || fail "bob not unlocked through the password slot after the PCR change: $out"
new=$(tail -n +"$((lines0 + 1))" "$W/daemon.log")
[ "$(grep -c "TPM2 slot of uid $(id -u "$BOB") not opened: PCR values differ" <<<"$new")" = 1 ] ||
  fail "expected one log line for the PCR mismatch: $new"
out=$(login_in_session "$ALICE" "$PW_A" "$ID_A" 2>/dev/null) || true
[[ "$out" == Absent* ]] || fail "alice (tpm = required) unlocked after the PCR change: $out"
ok "PCR 7 extended: the TPM2 slot refuses, bob (preferred) falls back with one log line, alice (required) stays locked"
# That login resealed bob's slot to the new PCR 7: the next login opens it through the TPM, no fallback.
grep -q "TPM2 slot of uid $(id -u "$BOB") resealed" <<<"$new" || fail "bob's TPM2 slot was not resealed: $new"
bob_opens_through_tpm "after the reseal"
ok "the next login resealed bob's slot to the new PCR 7; the login after opens it through the TPM"

# No TPM at all (the socket gone): bob's logins go on within the usual deadline, one log line.
kill -KILL "$SWTPM1"; wait "$SWTPM1" 2>/dev/null || true
rm -f "$W/tpm1.sock" "$W/tpm1.sock.ctrl"
ctl lock "$BOB" >/dev/null
lines0=$(wc -l <"$W/daemon.log")
for i in 1 2; do
  start=$(date +%s)
  out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login $i failed without a TPM"
  [[ "$out" == Present* ]] || fail "bob not unlocked without a TPM: $out"
  [ $(($(date +%s) - start)) -lt 10 ] || fail "login without a TPM took more than 10 s"
done
new=$(tail -n +"$((lines0 + 1))" "$W/daemon.log")
[ "$(grep -c "not opened: no TPM reachable" <<<"$new")" = 1 ] || fail "expected one 'no TPM' log line for two logins: $new"
ok "no TPM: two logins unlock through the password slot, one log line"

# TSS2_LOG / TSS2_LOGFILE: set by a user for a setuid login host, and in latchkeyd's own environment.
lk_swtpm tpm3
lk_conf preferred tpm3
lk_stop_daemon
TSS2_LOG=all+TRACE TSS2_LOGFILE="$W/daemon-tss.log" lk_start_daemon
printf '%s\n' "$PW_B" | ctl tpm unbind "$BOB" --passphrase-stdin >/dev/null 2>"$W/err" || fail "tpm unbind: $(cat "$W/err")"
printf '%s\n' "$PW_B" | ctl tpm bind "$BOB" --passphrase-stdin >/dev/null 2>"$W/err" || fail "rebind on tpm3: $(cat "$W/err")"
cp "$PAM_LOGIN" "$W/pam-login-suid"; chmod 4755 "$W/pam-login-suid"
mkdir -m 0777 "$W/userdir"
ctl lock "$BOB" >/dev/null
lines0=$(wc -l <"$W/daemon.log")
printf '%s\n' "$PW_B" | setpriv --reuid="$BOB" --regid="$(id -g "$BOB")" --clear-groups \
  env TSS2_LOG=all+TRACE TSS2_LOGFILE="$W/userdir/tss.log" "$W/pam-login-suid" "$SERVICE" "$BOB" -- true \
  >/dev/null 2>"$W/suid.err" || true
[ "$(key_status "$ID_B")" = Absent ] || true # the session has ended; what matters is below
[ ! -e "$W/userdir/tss.log" ] || fail "the setuid login host wrote the user's TSS2_LOGFILE"
[ ! -e "$W/daemon-tss.log" ] || fail "latchkeyd wrote TSS2_LOGFILE from its environment"
grep -E "^[A-Z]+:(esys|tcti|sys|mu|marshal)" "$W/suid.err" "$W/daemon.log" && fail "TSS log lines appeared"
out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login on tpm3 failed"
[[ "$out" == Present* ]] || fail "bob not unlocked on tpm3: $out"
grep -q "TPM2 slot of uid" <<<"$(tail -n +"$((lines0 + 1))" "$W/daemon.log")" && fail "fallback on tpm3"
ok "TSS2_LOG/TSS2_LOGFILE from a user (setuid host) or latchkeyd's environment: no file, no TSS log"

# A password change (passwd as the user) reseals the TPM2 slot to the new
# login key: the next login opens it through the TPM, no fallback, no
# wrong auth value counted.
lk_add_password_stack
NEW_B="Tpm-Kettle-$RANDOM-north"
lines0=$(wc -l <"$W/daemon.log")
"$PAM_LOGIN" --chauthtok "$PW_B" "$NEW_B" "$SERVICE" "$BOB" 2>"$W/err" || fail "passwd by bob failed: $(cat "$W/err")"
tail -n +"$((lines0 + 1))" "$W/daemon.log" | grep -q "TPM2 slot of uid $(id -u "$BOB") resealed.*login key" || fail "the TPM2 slot was not resealed at the password change"
PW_B=$NEW_B
bob_opens_through_tpm "after the password change"
ok "password change: the TPM2 slot was resealed to the new login key and opens at the next login"

# A planned update: tpm reseal --predict seals to the current PCR 7 OR its
# value after one more extend (predicted here as the TPM computes it); the
# slot opens before and after that change, with no fallback. A file for
# other PCRs than tpm_pcrs is refused.
export TPM2TOOLS_TCTI="swtpm:path=$W/tpm3.sock"
X=$(printf '%064x' 2)
cur=$(tpm2_pcrread sha256:7 | awk '/7 *:/ {print $3}'); cur=${cur#0x}
pred=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1]) + bytes.fromhex(sys.argv[2])).hexdigest())' "$cur" "$X")
printf 'sha256:0=%s\n' "$pred" >"$W/predict-other"
rc=0; printf '%s\n' "$PW_B" | ctl tpm reseal "$BOB" --predict "$W/predict-other" --passphrase-stdin >/dev/null 2>"$W/err" || rc=$?
[ $rc != 0 ] && grep -q "not for the PCRs of tpm_pcrs" "$W/err" || fail "reseal --predict for PCR 0 (tpm_pcrs is 7): rc $rc: $(cat "$W/err")"
printf '# as tpm2_pcrread prints it\n  sha256:\n    7 : 0x%s\n' "$pred" >"$W/predict"
printf '%s\n' "$PW_B" | ctl tpm reseal "$BOB" --predict "$W/predict" --passphrase-stdin >/dev/null 2>"$W/err" ||
  fail "tpm reseal --predict: $(cat "$W/err")"
bob_opens_through_tpm "after reseal --predict, before the change"
tpm2_pcrextend 7:sha256="$X" || fail "tpm2_pcrextend"
[ "$(tpm2_pcrread sha256:7 | awk '/7 *:/ {print $3}')" = "0x${pred^^}" ] || fail "the prediction is not what the TPM computed"
bob_opens_through_tpm "after the predicted PCR 7 change"
printf '%s\n' "$PW_B" | ctl tpm reseal "$BOB" --passphrase-stdin >/dev/null 2>"$W/err" || fail "tpm reseal: $(cat "$W/err")"
bob_opens_through_tpm "after tpm reseal to the new values"
ok "tpm reseal --predict: the slot opens before and after the predicted PCR 7 change; other PCRs refused"

# Dictionary-attack lockout: wrong passphrases are counted by the TPM; in
# lockout a right one for bob (preferred) falls back to his password slot,
# with a log line that says how an admin clears it.
CAROL=lktpc$RANDOM; PW_C="tpm carol $RANDOM"; lk_add_user "$CAROL" "$PW_C"
ID_C=$(lk_encrypted_home "$CAROL" "$PW_C"); ctl lock "$CAROL" >/dev/null
tpm2_dictionarylockout --setup-parameters --max-tries=2 --recovery-time=600 --lockout-recovery-time=600 \
  --tcti "swtpm:path=$W/tpm3.sock" || fail "tpm2_dictionarylockout"
lines0=$(wc -l <"$W/daemon.log")
for i in 1 2 3; do
  rc=0; printf 'wrong %s\n' "$PW_B" | ctl unlock "$BOB" --passphrase-stdin >/dev/null 2>&1 || rc=$?
  [ $rc = 5 ] || fail "wrong passphrase $i: expected exit 5, got $rc"
done
caps=$(tpm2_getcap properties-variable --tcti "swtpm:path=$W/tpm3.sock")
grep -qE "^TPM2_PT_LOCKOUT_COUNTER: 0x[2-9]" <<<"$caps" && grep -qE "inLockout: +1" <<<"$caps" ||
  fail "the TPM did not count the wrong passphrases into lockout: $(grep -iE "lockout" <<<"$caps")"
ctl lock "$BOB" >/dev/null
out=$(login_in_session "$BOB" "$PW_B" "$ID_B") || fail "bob's login in lockout failed"
[[ "$out" == Present* ]] || fail "bob (preferred) not unlocked through the password slot in lockout: $out"
[ "$(tail -n +"$((lines0 + 1))" "$W/daemon.log" | grep -c "not opened: the TPM is in dictionary-attack lockout.*clear-lockout")" = 1 ] ||
  fail "no lockout log line: $(tail -n +"$((lines0 + 1))" "$W/daemon.log")"
# The line says how long, from the TPM's own counters (2 tries allowed,
# one regained every 600 s).
tail -n +"$((lines0 + 1))" "$W/daemon.log" | grep -qE "lockout.*\([0-9]+ failed tries counted, 2 allowed: one try again within [0-9]+ s\)" ||
  fail "the lockout line does not say how long: $(tail -n +"$((lines0 + 1))" "$W/daemon.log" | grep lockout)"
ok "wrong passphrases counted by the TPM up to lockout; then bob falls back to his password slot, logged with the wait"

# The lockout is bob's TPM's, not the daemon's: carol (no TPM2 slot) logs
# in as usual, and root's status answers at once.
start=$(date +%s%N)
out=$(login_in_session "$CAROL" "$PW_C" "$ID_C") || fail "carol's login during the lockout failed"
[[ "$out" == Present* ]] || fail "carol not unlocked during the TPM's lockout: $out"
[ $((($(date +%s%N) - start) / 1000000)) -lt 5000 ] || fail "carol's login during the lockout took more than 5 s"
timeout 5 "$LATCHKEYCTL" --socket "$SOCK" status >/dev/null || fail "status did not answer during the lockout"
ok "during the TPM's lockout another user's login and root's status go on"

grep -F -e "$PW_A" -e "$PW_B" "$W/daemon.log" && fail "a password reached the daemon log"
echo "PASS"
