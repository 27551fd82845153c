#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# latchkeyctl policy assign/list/remove against the scripted latchkeyd, on a
# loop-mounted ext4 with encryption (the shared roots must be on one: the
# settings are tried on the kernel). Checks the drop-in files themselves,
# the RELOAD requests, the refusals (each leaves policy.d unchanged and
# sends nothing), and the rollback when latchkeyd refuses.
# Root only (loop devices, chown, the client's root-server check): exit 77.
set -u
CTL=$1
MOCK=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop device, chown)"; exit 77; }
for tool in python3 mkfs.ext4 losetup xfs_io; do
	command -v $tool >/dev/null || { echo "FAIL: $tool missing"; exit 1; }
done

T=$(mktemp -d /tmp/latchkey-policy.XXXXXX)
chmod 0755 "$T"
MNT=$T/mnt ETC=$T/etc VENDOR=$T/usr SOCK=$T/sock
MOCK_PID= LOOP=
cleanup() {
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	if mountpoint -q "$MNT"; then umount "$MNT" || umount -l "$MNT"; fi
	[ -n "$LOOP" ] && losetup -d "$LOOP"
	rm -rf "$T"
}
trap cleanup EXIT
fail=0

mkdir -p "$MNT" "$ETC" "$VENDOR/policy.d"
truncate -s 32M "$T/fs.img"
mkfs.ext4 -q -O encrypt "$T/fs.img"
LOOP=$(losetup --find --show "$T/fs.img")
mount "$LOOP" "$MNT"

start_mock() {
	[ -n "$MOCK_PID" ] && { kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null; MOCK_PID=; }
	rm -f "$SOCK"; : >"$T/log"
	[ "$1" = none ] && return
	python3 "$MOCK" "$SOCK" "$T/log" "$1" >/dev/null &
	MOCK_PID=$!
	i=0; while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
# run WANT DESCRIPTION -- command...: output in $T/out and $T/err (no
# timeout(1): the commands are shell functions; latchkeyctl bounds its waits)
run() {
	want=$1; what=$2; shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $what: exit $got, want $want"; sed 's/^/    /' "$T/out" "$T/err"; fail=1
	fi
}
has() { grep -q -e "$2" "$T/$1" || { echo "FAIL: $1 lacks [$2]"; sed 's/^/    /' "$T/$1"; fail=1; }; }
ctl() { "$CTL" --socket "$SOCK" "$@"; }
pol() { ctl policy "$@" --config-dir "$ETC" --vendor-dir "$VENDOR"; }
reloads() { grep -c '"type": "RELOAD"' "$T/log"; }
# A refusal changes nothing: same policy.d listing, no RELOAD sent.
snapshot() { ls -lA --time-style=+ "$ETC/policy.d" 2>/dev/null >"$T/before"; n_reloads=$(reloads); }
unchanged() {
	ls -lA --time-style=+ "$ETC/policy.d" 2>/dev/null | diff "$T/before" - >/dev/null ||
		{ echo "FAIL $1: policy.d changed"; ls -lA "$ETC/policy.d"; fail=1; }
	[ "$(reloads)" = "$n_reloads" ] || { echo "FAIL $1: RELOAD sent"; fail=1; }
}

start_mock normal
mkdir -m 0755 "$MNT/browser"

# --- assign: the drop-in, exactly ---
run 0 "assign" -- pol assign "$MNT/browser" --per-user
has out "Assigned policy browser"
has out "next login"
cat >"$T/want" <<EOF
# Written by latchkeyctl policy assign; see latchkey.conf(5).
[policy browser]
root = $MNT/browser
per_user = yes
subdir = %u
mode = 0700
contents = AES-256-XTS
filenames = AES-256-CTS
padding = 32
iv_ino_lblk_64 = no
EOF
diff -u "$T/want" "$ETC/policy.d/browser.conf" || { echo "FAIL: drop-in text"; fail=1; }
[ "$(stat -c '%U %a %F' "$ETC/policy.d/browser.conf")" = "root 644 regular file" ] ||
	{ echo "FAIL: drop-in owner/mode: $(stat -c '%U %a %F' "$ETC/policy.d/browser.conf")"; fail=1; }
[ "$(stat -c '%U %a' "$ETC/policy.d")" = "root 755" ] || { echo "FAIL: policy.d not root 0755"; fail=1; }
[ "$(reloads)" = 1 ] || { echo "FAIL: expected one RELOAD"; cat "$T/log"; fail=1; }
# The kernel probe left nothing behind in the root.
[ -z "$(ls -A "$MNT/browser")" ] || { echo "FAIL: probe left entries"; ls -lA "$MNT/browser"; fail=1; }
ls "$ETC/policy.d" | grep -q tmp && { echo "FAIL: temporary file left"; fail=1; }

mkdir -m 0755 "$MNT/cache2"
run 0 "assign with options" -- pol assign "$MNT/cache2" --per-user --name c2 --subdir 'c-%U' --mode 0750 \
	--padding 16 --contents AES-256-XTS --filenames AES-256-CTS --json
python3 - "$T/out" "$ETC" "$MNT" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
etc, mnt = sys.argv[2], sys.argv[3]
assert d["file"] == etc + "/policy.d/c2.conf" and d["daemon"] == "reloaded", d
assert d["policy"] == {"name": "c2", "root": mnt + "/cache2", "per_user": True, "subdir": "c-%U", "mode": "0750",
                       "contents": "AES-256-XTS", "filenames": "AES-256-CTS", "padding": 16,
                       "iv_ino_lblk_64": False, "lock_on_logout": None, "source": etc + "/policy.d/c2.conf",
                       "line": 2}, d
PY

# --- list, text and JSON, both placements of --json ---
run 0 "list" -- pol list
has out "NAME.*ROOT.*SUBDIR.*CONTENTS/FILENAMES.*PADDING.*SOURCE"
has out "^browser .*$MNT/browser .*%u .*AES-256-XTS/AES-256-CTS .*32 .*$ETC/policy.d/browser.conf:2"
has out "^c2 .*c-%U .*16 "
run 0 "list --json" -- pol list --json
cp "$T/out" "$T/list1"
run 0 "--json list" -- "$CTL" --json policy list --config-dir "$ETC" --vendor-dir "$VENDOR"
cmp -s "$T/out" "$T/list1" || { echo "FAIL: --json placements differ"; fail=1; }
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["policies"]
assert [x["name"] for x in p] == ["browser", "c2"], p
assert set(p[0]) == {"name", "root", "per_user", "subdir", "mode", "contents", "filenames", "padding",
                     "iv_ino_lblk_64", "lock_on_logout", "source", "line"}, p[0]
' "$T/out" || fail=1

# --- refusals: nothing written, nothing sent ---
snapshot
run 2 "relative DIR" -- pol assign mnt/x --per-user
has err "DIR must be an absolute path"
unchanged "relative DIR"
mkdir -m 0755 "$MNT/real"; ln -s "$MNT/real" "$MNT/link"
run 2 "symlinked DIR" -- pol assign "$MNT/link" --per-user
has err "is not a canonical path"; has err "$MNT/real"
unchanged "symlinked DIR"
run 2 "non-canonical DIR" -- pol assign "$MNT//real" --per-user
has err "contains \"//\"; write \"$MNT/real\""
mkdir -m 1777 "$MNT/tmpish"
run 1 "world-writable DIR" -- pol assign "$MNT/tmpish" --per-user
has err "is writable by group or others (mode 1777)"
unchanged "world-writable DIR"
mkdir -m 0755 "$MNT/theirs"; chown 4242:4242 "$MNT/theirs"
run 1 "user-owned DIR" -- pol assign "$MNT/theirs" --per-user
has err "is owned by uid 4242; a shared root must be owned by root"
unchanged "user-owned DIR"
run 1 "missing DIR" -- pol assign "$MNT/nope" --per-user
has err "does not exist"
run 1 "duplicate root" -- pol assign "$MNT/browser" --per-user --name other
has err "refused: $ETC/policy.d/other.conf:2: root \"$MNT/browser\" of policy \"other\" is also the root of policy \"browser\" ($ETC/policy.d/browser.conf:2); give each policy its own root"
unchanged "duplicate root"
mkdir -m 0755 "$MNT/browser/inner"
run 1 "nested root" -- pol assign "$MNT/browser/inner" --per-user
has err "root \"$MNT/browser/inner\" of policy \"inner\" is inside root \"$MNT/browser\" of policy \"browser\""
rmdir "$MNT/browser/inner"
run 1 "enclosing root" -- pol assign "$MNT" --per-user --name top
has err "is above root"
unchanged "nested root"
mkdir -m 0755 "$MNT/x"
run 1 "same name" -- pol assign "$MNT/x" --per-user --name browser
has err "policy \"browser\" is already defined at $ETC/policy.d/browser.conf:2"
run 2 "unknown contents mode" -- pol assign "$MNT/x" --per-user --contents AES-512
has err "unknown contents mode \"AES-512\"; use AES-256-XTS or Adiantum"
run 2 "unknown filenames mode" -- pol assign "$MNT/x" --per-user --filenames aes
has err "unknown filenames mode \"aes\"; use AES-256-CTS, AES-256-HCTR2 or Adiantum"
run 2 "bad pair" -- pol assign "$MNT/x" --per-user --contents Adiantum
has err "contents Adiantum cannot be combined with filenames AES-256-CTS; set filenames = Adiantum"
run 2 "bad mode" -- pol assign "$MNT/x" --per-user --mode 0777
has err "mode 0777 lets group or others write"
run 2 "bad subdir" -- pol assign "$MNT/x" --per-user --subdir shared
has err "contains neither %u nor %U"
run 1 "IV_INO_LBLK_64 without stable inodes" -- pol assign "$MNT/x" --per-user --iv-ino-lblk-64
has err "IV_INO_LBLK_64 needs stable inode numbers: tune2fs -O stable_inodes"
[ -z "$(ls -A "$MNT/x")" ] || { echo "FAIL: failed probe left entries"; ls -lA "$MNT/x"; fail=1; }
run 1 "not on ext4/f2fs" -- pol assign /dev/shm --per-user --name shm
has err "filesystem type not supported"
mkdir -m 0755 "$MNT/enc"
head -c 64 /dev/urandom >"$T/key"
keyid=$(xfs_io -c add_enckey "$MNT" <"$T/key" 2>/dev/null | awk '/identifier/ {print $NF}')
if [ -n "$keyid" ] && xfs_io -c "set_encpolicy $keyid" "$MNT/enc"; then
	run 1 "encrypted root" -- pol assign "$MNT/enc" --per-user
	has err "is itself encrypted"
	xfs_io -c "rm_enckey $keyid" "$MNT" >/dev/null
else
	echo "FAIL: could not make an encrypted directory with xfs_io"; fail=1
fi
unchanged "bad settings"
echo "# mine" >"$ETC/policy.d/mine.conf"
mkdir -m 0755 "$MNT/mine"
snapshot
run 1 "file exists" -- pol assign "$MNT/mine" --per-user
has err "$ETC/policy.d/mine.conf already exists"
unchanged "file exists"
cmp -s "$ETC/policy.d/mine.conf" <(echo "# mine") || { echo "FAIL: existing file overwritten"; fail=1; }
rm "$ETC/policy.d/mine.conf"
snapshot
echo "[policy v]" >"$VENDOR/policy.d/mine.conf"
run 1 "would hide vendor file" -- pol assign "$MNT/mine" --per-user
has err "the configuration is not valid: $VENDOR/policy.d/mine.conf:1: \[policy v\] has no root"
printf '[policy v]\nroot = /srv/v\nper_user = yes\n' >"$VENDOR/policy.d/mine.conf"
run 1 "would hide vendor file" -- pol assign "$MNT/mine" --per-user
has err "would hide the vendor drop-in $VENDOR/policy.d/mine.conf"
rm "$VENDOR/policy.d/mine.conf"
unchanged "vendor name clash"

# --- latchkeyd refuses: the drop-in goes again ---
start_mock reload-refused
run 1 "assign, daemon refuses" -- pol assign "$MNT/mine" --per-user
has err "latchkeyctl: policy assign: invalid argument: policy.d/x.conf:3: mock refuses this configuration"
has err "removed again"
[ -e "$ETC/policy.d/mine.conf" ] && { echo "FAIL: refused drop-in kept"; fail=1; }
[ "$(reloads)" = 1 ] || { echo "FAIL: no RELOAD sent"; fail=1; }

# --- no latchkeyd: the drop-in stays, with a warning ---
start_mock none
run 0 "assign, no daemon" -- pol assign "$MNT/mine" --per-user
has err "warning: latchkeyd is not running"
has out "applies from when latchkeyd starts"
[ -f "$ETC/policy.d/mine.conf" ] || { echo "FAIL: drop-in not kept"; fail=1; }

# --- remove ---
start_mock normal
mkdir -m 0700 "$MNT/browser/alice"; echo data >"$MNT/browser/alice/f"
run 0 "remove" -- pol remove "$MNT/browser"
has out "Removed policy browser"; has out "deleted"; has out "data are kept"
[ -e "$ETC/policy.d/browser.conf" ] && { echo "FAIL: drop-in not removed"; fail=1; }
[ "$(cat "$MNT/browser/alice/f" 2>/dev/null)" = data ] || { echo "FAIL: remove touched user data"; fail=1; }
[ "$(reloads)" = 1 ] || { echo "FAIL: remove sent no RELOAD"; fail=1; }
run 1 "remove again" -- pol remove "$MNT/browser"
has err "no policy has the root $MNT/browser"
run 2 "remove relative" -- pol remove mnt/browser
run 2 "remove non-canonical" -- pol remove "$MNT/browser/"
has err "ends with '/'"

# A vendor drop-in is masked, and stays masked.
printf '[policy v]\nroot = %s/v\nper_user = yes\n' "$MNT" >"$VENDOR/policy.d/v.conf"
run 0 "list with vendor" -- pol list
has out "^v .*$VENDOR/policy.d/v.conf:1"
run 0 "remove vendor policy" -- pol remove "$MNT/v" --json
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["action"] == "masked" and d["daemon"] == "reloaded" and d["policy"]["name"] == "v", d
' "$T/out" || fail=1
[ "$(readlink "$ETC/policy.d/v.conf")" = /dev/null ] || { echo "FAIL: no /dev/null mask"; fail=1; }
[ -f "$VENDOR/policy.d/v.conf" ] || { echo "FAIL: vendor file touched"; fail=1; }
run 0 "list after mask" -- pol list
grep -q "^v " "$T/out" && { echo "FAIL: masked policy still listed"; fail=1; }

# An etc file that overrides a vendor file is masked, not deleted (which
# would bring the vendor's policy back).
printf '[policy w]\nroot = %s/w-vendor\nper_user = yes\n' "$MNT" >"$VENDOR/policy.d/w.conf"
printf '[policy w]\nroot = %s/w\nper_user = yes\n' "$MNT" >"$ETC/policy.d/w.conf"
run 0 "remove overriding policy" -- pol remove "$MNT/w"
has out "now masks the vendor drop-in"
[ "$(readlink "$ETC/policy.d/w.conf")" = /dev/null ] || { echo "FAIL: override not masked"; fail=1; }
run 0 "list after override mask" -- pol list
grep -q "w-vendor" "$T/out" && { echo "FAIL: vendor policy came back"; fail=1; }

# A file with two policies is left alone.
printf '[policy p1]\nroot = %s/p1\nper_user = yes\n[policy p2]\nroot = %s/p2\nper_user = yes\n' "$MNT" "$MNT" \
	>"$ETC/policy.d/two.conf"
snapshot
run 1 "remove from shared file" -- pol remove "$MNT/p1"
has err "$ETC/policy.d/two.conf also defines p2; remove the section \[policy p1\] from it yourself"
unchanged "remove from shared file"
rm "$ETC/policy.d/two.conf"

# latchkeyd refuses: the file comes back byte for byte.
cp "$ETC/policy.d/mine.conf" "$T/mine.saved"
start_mock reload-refused
run 1 "remove, daemon refuses" -- pol remove "$MNT/mine"
has err "put back"
cmp -s "$ETC/policy.d/mine.conf" "$T/mine.saved" || { echo "FAIL: drop-in not restored"; fail=1; }
start_mock none
run 0 "remove, no daemon" -- pol remove "$MNT/mine"
has err "warning: latchkeyd is not running"
[ -e "$ETC/policy.d/mine.conf" ] && { echo "FAIL: drop-in not removed"; fail=1; }

# A broken configuration is named with file and line, and blocks assign.
printf '[policy bad]\nroot = %s/bad\nper_user = yes\nmdoe = 0700\n' "$MNT" >"$ETC/policy.d/bad.conf"
run 1 "list, broken config" -- pol list
has err "$ETC/policy.d/bad.conf:4: unknown key \"mdoe\" in \[policy bad\]; did you mean \"mode\"?"
run 1 "assign, broken config" -- pol assign "$MNT/x" --per-user
has err "the configuration is not valid"
[ -e "$ETC/policy.d/x.conf" ] && { echo "FAIL: assign wrote over a broken config"; fail=1; }

exit $fail
