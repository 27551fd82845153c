#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl doctor against a table of broken setups: each case fabricates
# a root (--root: etc/pam.d, the units, the state directory), and the
# filesystem cases use real loop-mounted ext4s with and without -O encrypt.
# Each case names the finding doctor must report (check, level, text) and
# the fix it must print.
. "$(dirname "$0")/lib.sh"

DEB_AUTH='auth [success=1 default=ignore] pam_unix.so nullok
auth requisite pam_deny.so
auth required pam_permit.so'
DEB_SESSION='session [default=1] pam_permit.so
session requisite pam_deny.so
session required pam_permit.so
session required pam_unix.so'
DEB_PASSWORD='password [success=1 default=ignore] pam_unix.so obscure yescrypt
password requisite pam_deny.so
password required pam_permit.so'

# good_root DIR: what the Debian package and pam-auth-update leave behind.
good_root() {
  local r=$1
  mkdir -p "$r/etc/pam.d" "$r/lib/x86_64-linux-gnu/security" "$r/lib/systemd/system" \
    "$r/etc/systemd/system/sockets.target.wants" "$r/var/lib/latchkey/protectors" "$r/var/lib/latchkey/index"
  printf '%s\nauth optional pam_latchkey.so\n' "$DEB_AUTH" >"$r/etc/pam.d/common-auth"
  printf '%s\nsession optional pam_latchkey.so\n' "$DEB_SESSION" >"$r/etc/pam.d/common-session"
  printf '%s\npassword optional pam_latchkey.so\n' "$DEB_PASSWORD" >"$r/etc/pam.d/common-password"
  : >"$r/lib/x86_64-linux-gnu/security/pam_latchkey.so"
  : >"$r/lib/systemd/system/latchkeyd.service"
  : >"$r/lib/systemd/system/latchkeyd.socket"
  ln -s /lib/systemd/system/latchkeyd.socket "$r/etc/systemd/system/sockets.target.wants/latchkeyd.socket"
  chmod 0700 "$r/var/lib/latchkey" "$r/var/lib/latchkey/protectors" "$r/var/lib/latchkey/index"
  install -m 0600 /dev/null "$r/var/lib/latchkey/protectors/1000"
}

# expect NAME CHECK LEVEL MESSAGE-PART FIX-PART [doctor options...]: doctor's
# --json output has a finding with that check and level whose message and
# fix contain those parts ("-" for a finding without a fix).
expect() {
  local name=$1 check=$2 level=$3 msg=$4 fix=$5; shift 5
  local out rc=0
  out=$(ctl doctor --json "$@") || rc=$?
  python3 - "$out" "$check" "$level" "$msg" "$fix" "$rc" <<'PY' || fail "$name: doctor said: $out"
import json, sys
out, check, level, msg, fix, rc = sys.argv[1:]
doc = json.loads(out)
hits = [f for f in doc["findings"] if f["check"] == check and f["level"] == level and msg in f["message"]
        and (f["fix"] is None if fix == "-" else fix in (f["fix"] or ""))]
fails = any(f["level"] == "fail" for f in doc["findings"])
assert doc["ok"] == (not fails), "ok does not match the findings"
assert (rc == "1") == fails, f"exit status {rc} with fails={fails}"
sys.exit(0 if hits else 1)
PY
  ok "$name"
}

R=$W/root
# The package's state directory (a build with another prefix has another default).
D=(--root "$R" --state-dir "$R/var/lib/latchkey")
reset_root() { rm -rf "$R"; good_root "$R"; }

lk_make_fs
lk_start_daemon

reset_root
for t in auth session password; do
  expect "good: common-$t" pam ok "common-$t: pam_latchkey.so on line" - "${D[@]}"
done
expect "good: state directory" state ok "root's alone" - "${D[@]}"
expect "good: units" units ok "latchkeyd.socket enabled" - "${D[@]}"
expect "good: daemon answers" daemon ok "latchkeyd answers at $SOCK" - "${D[@]}"
expect "good: encrypt-enabled ext4" filesystem ok "$MNT ($LOOPDEV, ext4): encryption enabled" - "${D[@]}"
expect "good: kernel" kernel ok "fscrypt v2 key ioctls supported" - "${D[@]}"

# A second ext4, without the encrypt feature: the fix names its device.
truncate -s 32M "$W/plain.img"
mkfs.ext4 -q "$W/plain.img"
PLAIN_LOOP=$(losetup --find --show "$W/plain.img")
mkdir -p "$W/plain"
mount "$PLAIN_LOOP" "$W/plain"
# lk_cleanup reads the test's exit status from $?: hand it on.
trap 'rc=$?; umount "$W/plain"; losetup -d "$PLAIN_LOOP"; (exit $rc); lk_cleanup' EXIT
expect "ext4 without -O encrypt" filesystem warning "$W/plain ($PLAIN_LOOP, ext4): the encrypt feature is off" \
  "tune2fs -O encrypt $PLAIN_LOOP" "${D[@]}"

reset_root
sed -i '/pam_latchkey/d' "$R/etc/pam.d/common-auth"
expect "missing from common-auth" pam fail "common-auth: pam_latchkey.so is missing" \
  "pam-auth-update --enable latchkey" "${D[@]}"

reset_root
printf 'auth optional pam_latchkey.so\n%s\n' "$DEB_AUTH" >"$R/etc/pam.d/common-auth"
expect "before pam_unix" pam fail "comes before pam_unix.so" "after pam_unix.so" "${D[@]}"

reset_root
printf 'auth [success=2 default=ignore] pam_unix.so nullok\nauth optional pam_latchkey.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n' \
  >"$R/etc/pam.d/common-auth"
expect "jumped over by success=2" pam fail "pam_unix.so's success=2 jumps over pam_latchkey.so (line 2)" \
  "pam-auth-update --force" "${D[@]}"

reset_root
sed -i 's/^session optional pam_latchkey.so/session required pam_latchkey.so/' "$R/etc/pam.d/common-session"
expect "required, not optional" pam warning "pam_latchkey.so is 'required'" "optional" "${D[@]}"

reset_root
echo "session optional pam_fscrypt.so" >>"$R/etc/pam.d/common-session"
expect "pam_fscrypt stacked too" pam warning "pam_fscrypt.so is stacked too" "pam-auth-update --disable fscrypt" \
  "${D[@]}"

reset_root
sed -i 's|^password optional pam_latchkey.so|password optional /opt/nowhere/pam_latchkey.so|' \
  "$R/etc/pam.d/common-password"
expect "module file missing" pam fail "/opt/nowhere/pam_latchkey.so is not installed" "--reinstall latchkey" \
  "${D[@]}"

reset_root
rm "$R/lib/x86_64-linux-gnu/security/pam_latchkey.so"
expect "module not in any PAM directory" pam fail "pam_latchkey.so is not installed" "--reinstall" "${D[@]}"

reset_root
rm -f "$R/etc/pam.d/common-auth"
expect "no common-auth" pam warning "common-auth: No such file" "by hand" "${D[@]}"

reset_root
chmod 0755 "$R/var/lib/latchkey"
expect "state directory 0755" state fail "$R/var/lib/latchkey is owned by uid 0 with mode 0755" \
  "chmod 0700 $R/var/lib/latchkey" "${D[@]}"

reset_root
chmod 0644 "$R/var/lib/latchkey/protectors/1000"
expect "protector record 0644" state fail "protectors/1000 is owned by uid 0 with mode 0644" "chmod 0600" "${D[@]}"

reset_root
chown nobody "$R/var/lib/latchkey/index"
expect "index owned by nobody" state fail "index is owned by uid $(id -u nobody)" "chown root:root" "${D[@]}"

reset_root
rm -rf "$R/var/lib/latchkey"
expect "no state directory" state warning "does not exist: nobody is enrolled yet" "systemd-tmpfiles --create" \
  "${D[@]}"
expect "--state-dir elsewhere" state ok "$W/state: root's alone" - "${D[@]}" --state-dir "$W/state"

reset_root
rm "$R/etc/systemd/system/sockets.target.wants/latchkeyd.socket"
expect "socket not enabled" units fail "latchkeyd.socket is not enabled" "systemctl enable --now latchkeyd.socket" \
  "${D[@]}"

reset_root
ln -s /dev/null "$R/etc/systemd/system/latchkeyd.service"
expect "service masked" units fail "latchkeyd.service is masked" "systemctl unmask latchkeyd.service" "${D[@]}"

reset_root
rm "$R/lib/systemd/system/latchkeyd.socket"
expect "units not installed" units fail "latchkeyd.socket is not installed" "install latchkey" "${D[@]}"

reset_root
out=$("$LATCHKEYCTL" --socket "$W/no-such-socket" doctor --json "${D[@]}") && fail "doctor passed without a daemon"
SOCK=$W/no-such-socket expect "daemon unreachable" daemon fail "cannot reach latchkeyd at $W/no-such-socket" \
  "systemctl enable --now latchkeyd.socket" "${D[@]}"

# Text output: every non-ok finding is followed by its fix.
reset_root
chmod 0755 "$R/var/lib/latchkey"
text=$(ctl doctor "${D[@]}") && fail "doctor exited 0 with a failed check"
grep -A1 "^fail    state" <<<"$text" | grep -q "fix: chown root:root $R/var/lib/latchkey && chmod 0700" ||
  fail "text output lacks the fix: $text"
ok "text output: finding, then its fix"

# TPM2 slots: what this build has, what latchkey.conf asks for, and whether
# the TPM device it names exists (below --root, as the other files are).
tpm_conf() { mkdir -p "$R/etc/latchkey"; printf '[latchkey]\n%s\n' "$1" >"$R/etc/latchkey/latchkey.conf"; }
reset_root
expect "tpm off by default" tpm ok "TPM2 slots are off" - "${D[@]}"
reset_root
tpm_conf "tpm = bogus"
expect "latchkey.conf that does not load" tpm fail "the configuration does not load: $R/etc/latchkey/latchkey.conf:2" \
  "fix the file named" "${D[@]}"
if grep -q '#define HAVE_TPM2 1' "$LK_BUILD/config.h"; then
  reset_root
  tpm_conf "tpm = required"
  expect "tpm required, no TPM device" tpm warning "tpm = required, but there is no TPM at /dev/tpmrm0" \
    "load the TPM driver" "${D[@]}"
  reset_root
  tpm_conf "tpm = preferred"
  mkdir -p "$R/dev"; mknod "$R/dev/tpmrm0" c 1 3
  expect "tpm preferred, TPM present" tpm ok "tpm = preferred; TPM at /dev/tpmrm0" - "${D[@]}"
else
  reset_root
  tpm_conf "tpm = required"
  expect "tpm required in a build without TPM2" tpm warning "this build has no TPM2 support" "libtss2-dev" "${D[@]}"
fi
