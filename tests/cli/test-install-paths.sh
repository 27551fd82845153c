#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's install recipe ("Using it on a real system"), run exactly as
# written into a DESTDIR from a copy of the source, must put every file
# where the system looks for it, and the daemon's compiled-in directories
# must be those that tmpfiles.d creates, the units name and latchkeyctl
# falls back to.
#
# Where the system looks is asked of the system, not restated here: libpam's
# module directory is that of the installed pam_unix.so, pam-auth-update's
# profile directory is read from the script itself, systemd's from
# pkg-config and from systemctl/systemd-tmpfiles --root, man's from manpath.
#
# usage: test-install-paths.sh SOURCE_DIR
set -u
SRC=$(realpath "$1")
T=$(mktemp -d /tmp/lk-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/dest
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# same_dir LIVE_PATH LIVE_PATH: one directory on this machine (/lib is /usr/lib
# on a merged-/usr system).
same_dir() { [ "$(realpath -m "$1")" = "$(realpath -m "$2")" ]; }

# --- the commands, from the README ---
# Every sh block of the section (the package recipe, then the one by hand).
awk '/^## Using it on a real system/ { s = 1; next }
     s && /^## / { exit }
     s && /^```sh/ { b = 1; next }
     b && /^```/ { b = 0; next }
     b' "$SRC/README.md" >"$T/recipe"
grep '^meson ' "$T/recipe" >"$T/commands"
[ -s "$T/commands" ] || { echo "FAIL: no meson command in README.md's \"Using it on a real system\""; exit 1; }
echo "README install commands:"; sed 's/^/    /' "$T/commands"

# A copy of the source, so that the README's relative "build" is a fresh one.
mkdir "$T/src"
(cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$T/src"
if ! (cd "$T/src" && DESTDIR=$D sh -e "$T/commands") >"$T/install.log" 2>&1; then
	echo "FAIL: the README's install commands failed:"; tail -n 40 "$T/install.log"; exit 1
fi

# --- where this system looks ---
pam_unix=$(dpkg-query -S '/*/security/pam_unix.so' 2>/dev/null | sed -n '1s/^.*: //p')
[ -n "$pam_unix" ] || pam_unix=$(find /lib /usr/lib /lib64 /usr/lib64 -maxdepth 3 -path '*/security/pam_unix.so' \
	2>/dev/null | head -n 1)
[ -n "$pam_unix" ] || { echo "FAIL: no pam_unix.so on this system to tell libpam's module directory"; exit 1; }
want_pam=$(dirname "$pam_unix")
want_profiles=/usr/share/pam-configs
pau=$(command -v pam-auth-update || echo /usr/sbin/pam-auth-update)
[ -f "$pau" ] && want_profiles=$(sed -n "s/^my \$inputdir = '\(.*\)';.*/\1/p" "$pau")
want_units=$(pkg-config --variable=systemdsystemunitdir systemd)
want_tmpfiles=$(pkg-config --variable=tmpfilesdir systemd)
[ -n "$want_units" ] && [ -n "$want_tmpfiles" ] || { echo "FAIL: pkg-config systemd gives no directories"; exit 1; }
want_catalog=$(pkg-config --variable=catalogdir systemd)
[ -n "$want_catalog" ] || want_catalog=/usr/lib/systemd/catalog
want_completions=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null || true)
[ -n "$want_completions" ] || want_completions=/usr/share/bash-completion/completions
echo "libpam: $want_pam; pam-auth-update: $want_profiles; units: $want_units; tmpfiles.d: $want_tmpfiles;" \
	"catalog: $want_catalog; completion: $want_completions"
# Debian's root PATH (login.defs ENV_SUPATH) and man's search path.
root_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
man_path=$(manpath -g 2>/dev/null || echo /usr/local/share/man:/usr/share/man)
on_path() { # DIR LIST
	local IFS=: d
	for d in $2; do same_dir "$1" "$d" && return 0; done
	return 1
}

# --- every installed file, against where it is looked for ---
declare -A seen=()
while IFS= read -r f; do
	p=${f#"$D"}
	dir=$(dirname "$p")
	case $p in
	*/pam_latchkey.so) kind=pam; same_dir "$dir" "$want_pam" || bad "$p: libpam loads modules from $want_pam" ;;
	*/pam-configs/*) kind=profile
		same_dir "$dir" "$want_profiles" || bad "$p: pam-auth-update reads only $want_profiles" ;;
	*.service | *.socket) kind=${p##*.}
		same_dir "$dir" "$want_units" || bad "$p: not in systemd's systemdsystemunitdir $want_units" ;;
	*/tmpfiles.d/*) kind=tmpfiles; same_dir "$dir" "$want_tmpfiles" || bad "$p: not in tmpfilesdir $want_tmpfiles" ;;
	*/systemd/catalog/*) kind=catalog; same_dir "$dir" "$want_catalog" || bad "$p: journalctl reads catalogs from $want_catalog" ;;
	*/bash-completion/completions/*) kind=completion
		same_dir "$dir" "$want_completions" || bad "$p: bash-completion looks in $want_completions" ;;
	*/man[1-8]/*) kind=man; on_path "$(dirname "$dir")" "$man_path" || bad "$p: not on man's path $man_path" ;;
	*/latchkeyd) kind=daemon; daemon=$p; on_path "$dir" "$root_path" || bad "$p: not on root's PATH" ;;
	*/latchkeyctl) kind=ctl; ctl=$p; on_path "$dir" "$root_path" || bad "$p: not on root's PATH" ;;
	*) kind=unexpected; bad "$p: installed, but nothing here knows what looks for it" ;;
	esac
	seen[$kind]=$((${seen[$kind]:-0} + 1))
	echo "    $p ($kind)"
done < <(find "$D" \( -type f -o -type l \) | sort)
for k in pam profile service socket tmpfiles catalog completion daemon ctl; do
	[ "${seen[$k]:-0}" = 1 ] || bad "expected one installed $k file, found ${seen[$k]:-0}"
done
[ "${seen[man]:-0}" = 4 ] || bad "expected 4 man pages, found ${seen[man]:-0}"
[ "$fail" = 0 ] || exit 1

# --- the system's own tools find them in the DESTDIR ---
units=$(systemctl --root="$D" list-unit-files latchkeyd.socket latchkeyd.service 2>&1)
for u in latchkeyd.socket latchkeyd.service; do
	grep -q "^$u " <<<"$units" || { bad "systemctl --root does not find $u:"; echo "$units"; }
done
# The README's next step, "systemctl enable --now ...", offline in the DESTDIR.
enable=$(grep -m1 '^systemctl enable ' "$T/recipe" | sed 's/#.*//; s/ --now//; s/^systemctl /systemctl --root="$D" /')
[ -n "$enable" ] || bad "no 'systemctl enable' in the README's recipe"
if [ -n "$enable" ] && D=$D sh -c "$enable" >"$T/enable.log" 2>&1; then
	wants=$(find "$D/etc/systemd/system" -name 'latchkeyd.*' -type l 2>/dev/null)
	[ -n "$wants" ] || { bad "'$enable' enabled nothing:"; cat "$T/enable.log"; }
	echo "    $enable: ${wants#"$D"}"
else
	bad "the README's '$enable' failed:"; cat "$T/enable.log"
fi
systemd-tmpfiles --root="$D" --cat-config 2>/dev/null | grep -qx "# $D$want_tmpfiles/latchkey.conf" ||
	bad "systemd-tmpfiles --root --cat-config does not read latchkey.conf"

# --- one set of directories: the daemon's defaults, the units, tmpfiles.d ---
"$D$daemon" --print-paths >"$T/paths" 2>&1 || { bad "latchkeyd --print-paths:"; cat "$T/paths"; exit 1; }
path_of() { sed -n "s/^$1=//p" "$T/paths"; }
state=$(path_of state_dir) config=$(path_of config_dir) vendor=$(path_of vendor_config_dir)
runtime=$(path_of runtime_dir) socket=$(path_of socket)
echo "latchkeyd defaults: state $state, config $config, vendor $vendor, runtime $runtime, socket $socket"
service=$D$want_units/latchkeyd.service
unit_socket=$(sed -n 's/^ListenSequentialPacket=//p' "$D$want_units/latchkeyd.socket")
[ "$socket" = "$unit_socket" ] || bad "latchkeyd's socket $socket, latchkeyd.socket's $unit_socket"
[ "$runtime" = "$(dirname "$unit_socket")" ] || bad "latchkeyd's runtime directory $runtime is not the socket's"
[ "$state" = "/var/lib/$(sed -n 's/^StateDirectory=//p' "$service")" ] ||
	bad "latchkeyd's state directory $state, the unit's StateDirectory= /var/lib/$(sed -n 's/^StateDirectory=//p' "$service")"
[ "$config" = "/etc/$(sed -n 's/^ConfigurationDirectory=//p' "$service")" ] ||
	bad "latchkeyd's configuration directory $config, the unit's ConfigurationDirectory= names another"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$service")
[ "$exec_start" = "$daemon" ] || bad "the unit starts $exec_start, latchkeyd is installed as $daemon"
# What tmpfiles.d creates is those directories (and what lies below them).
awk '$1 == "d" { print $2 }' "$D$want_tmpfiles/latchkey.conf" >"$T/tmpfiles-dirs"
grep -qx "$state" "$T/tmpfiles-dirs" || bad "tmpfiles.d does not create the state directory $state"
grep -qx "$config" "$T/tmpfiles-dirs" || bad "tmpfiles.d does not create the configuration directory $config"
while read -r dir; do
	case $dir in "$state" | "$state"/* | "$config" | "$config"/*) ;; *) bad "tmpfiles.d creates $dir, which latchkeyd never uses" ;; esac
done <"$T/tmpfiles-dirs"
if [ "$(id -u)" = 0 ]; then
	systemd-tmpfiles --root="$D" --create latchkey.conf || bad "systemd-tmpfiles --root --create latchkey.conf"
	[ "$(stat -c '%U %a' "$D$state" 2>&1)" = "root 700" ] || bad "tmpfiles.d made $state: $(stat -c '%U %a' "$D$state" 2>&1)"
	[ -d "$D$config" ] || bad "tmpfiles.d did not make $config"
else
	echo "not root: systemd-tmpfiles --create not run (it would chown to root)"
fi
# latchkeyctl, with no daemon to ask, falls back to the same directories.
"$D$ctl" --socket "$T/no-daemon" --json policy list >/dev/null 2>"$T/ctl.err" ||
	{ bad "latchkeyctl policy list without a daemon:"; cat "$T/ctl.err"; }
grep -qF "using $config and $vendor" "$T/ctl.err" ||
	{ bad "latchkeyctl's fallback is not latchkeyd's $config and $vendor:"; cat "$T/ctl.err"; }
# The man pages say the same, and nothing depends on the prefix.
man_dir=$(dirname "$(dirname "$(find "$D" -name latchkeyd.8)")")
for v in "$state" "$config" "$vendor" "$socket"; do
	grep -qF "${v//-/\\-}" "$man_dir/man8/latchkeyd.8" || bad "latchkeyd(8) does not mention $v"
done
# (The one /usr/local a page may name is the admin's own copy of the
# USERDEL_CMD example script, which no install puts anywhere.)
grep -E '/usr/local|/var/local' "$man_dir"/man*/* "$D$want_tmpfiles/latchkey.conf" "$T/paths" |
	grep -v 'latchkey\\\?-userdel' &&
	bad "the lines above name a prefix-dependent path"

# --- meson says so loudly when the PAM module would go where nothing looks ---
meson setup "$T/elsewhere" "$T/src" -Dtests=false -Dpamlibdir=/opt/nowhere/security >"$T/warn.log" 2>&1 ||
	{ bad "meson setup -Dpamlibdir=/opt/nowhere/security failed"; cat "$T/warn.log"; }
grep -q "WARNING:.*/opt/nowhere/security" "$T/warn.log" ||
	{ bad "no meson warning for a PAM module directory libpam does not load from"; cat "$T/warn.log"; }

[ "$fail" = 0 ] && echo "all installed paths are where the system looks"
exit $fail
