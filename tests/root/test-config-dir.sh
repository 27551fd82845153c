#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl reads and writes the configuration where the running latchkeyd
# reads it (the CONFIG_DIR request), not where latchkeyctl was built to
# guess; with no daemon it says which compiled-in directories it uses.
. "$(dirname "$0")/lib.sh"

mkdir -p "$W/etc/policy.d" "$W/vendor/policy.d"
mkdir -m 0755 "$W/mine" "$W/vend"
printf '[policy mine]\nroot = %s\nper_user = yes\n' "$W/mine" >"$W/etc/policy.d/mine.conf"
printf '[policy vend]\nroot = %s\nper_user = yes\n' "$W/vend" >"$W/vendor/policy.d/vend.conf"
lk_start_daemon

# policy list without --config-dir/--vendor-dir: the daemon's directories.
ctl --json policy list >"$W/out" 2>"$W/err" || fail "policy list: $(cat "$W/err")"
[ -s "$W/err" ] && fail "policy list complained with a daemon running: $(cat "$W/err")"
python3 - "$W/out" "$W" <<'PY' || fail "policy list did not read the daemon's directories: $(cat "$W/out")"
import json, sys
w = sys.argv[2]
got = {p["name"]: p["source"] for p in json.load(open(sys.argv[1]))["policies"]}
assert got == {"mine": w + "/etc/policy.d/mine.conf", "vend": w + "/vendor/policy.d/vend.conf"}, got
PY
ok "policy list reads latchkeyd's --config-dir and --vendor-config-dir"

# The request itself, from an unprivileged user: paths are no secret.
cat >"$W/ask.py" <<'PY'
import sys
import latchkey_wire as wire
def ask(flags):
    m = wire.request(sys.argv[1], wire.REQ_CONFIG_DIR, {} if flags is None else {wire.T_FLAGS: wire.u32(flags)},
                     seq=7, timeout=30)[0]
    return m.type, m.fields
t, f = ask(None); assert t == wire.REP_OK and f[wire.T_PATH].decode() == sys.argv[2] + "/etc", (t, f)
t, f = ask(wire.CD_VENDOR); assert t == wire.REP_OK and f[wire.T_PATH].decode() == sys.argv[2] + "/vendor", (t, f)
t, f = ask(2); assert t == wire.REP_ERROR and wire.get_u32(f, wire.T_STATUS) == wire.E_INVALID, (t, f)
print("ok")
PY
chmod 0755 "$W/run"; chmod 0644 "$W/ask.py"; lk_copy_wire "$W"
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$W/ask.py" "$SOCK" "$W" >"$W/out" 2>&1 ||
	fail "CONFIG_DIR as nobody: $(cat "$W/out")"
ok "CONFIG_DIR answers any user with the daemon's directories; unknown flags refused"

# No daemon: the compiled-in directories, said on stderr.
lk_stop_daemon
ctl --json policy list >"$W/out" 2>"$W/err" || fail "policy list without a daemon: $(cat "$W/err")"
defaults=$("$LATCHKEYD" --print-paths)
etc=$(sed -n 's/^config_dir=//p' <<<"$defaults") vendor=$(sed -n 's/^vendor_config_dir=//p' <<<"$defaults")
grep -qF "cannot ask latchkeyd at $SOCK where it reads its configuration" "$W/err" &&
	grep -qF "using $etc and $vendor" "$W/err" || fail "no clear fallback note: $(cat "$W/err")"
ok "without a daemon: latchkeyd's compiled-in $etc and $vendor, said so"
