#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Black-box tests of latchkeyctl that need no daemon: help texts, usage
# errors (exit 2), an unreachable daemon (exit 3, fast).
set -u
CTL=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NOSOCK="$TMP/no-such-socket"
fail=0

# expect CODE DESCRIPTION -- command...; output goes to $TMP/out
expect() {
	want=$1; what=$2; shift 3
	timeout 10 "$@" >"$TMP/out" 2>&1 </dev/null
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $what: exit $got, want $want"; sed 's/^/    /' "$TMP/out"; fail=1
	fi
}
mentions() {
	for word in "$@"; do
		grep -q -e "$word" "$TMP/out" || { echo "FAIL help does not mention $word"; fail=1; }
	done
}

expect 0 "--help" -- "$CTL" --help;  mentions --socket --json --version enroll encrypt status lock unlock prune migrate decrypt "Exit status"
expect 0 "-h" -- "$CTL" -h
expect 0 "--version" -- "$CTL" --version; mentions "latchkeyctl [0-9]"
expect 0 "enroll --help" -- "$CTL" enroll --help;   mentions --kdf-time --passphrase-stdin --json
expect 0 "encrypt --help" -- "$CTL" encrypt --help; mentions --user --passphrase-stdin --json
expect 0 "status --help" -- "$CTL" status --help;   mentions --json USER DIR
expect 0 "lock --help" -- "$CTL" lock --help;       mentions --json USER
expect 0 "unlock --help" -- "$CTL" unlock --help;   mentions --passphrase-stdin --json
expect 0 "migrate --help" -- "$CTL" migrate --help; mentions --user --dry-run --force --passphrase-stdin --json
expect 0 "decrypt --help" -- "$CTL" decrypt --help; mentions --user --dry-run --force --json
expect 2 "migrate without DIR" -- "$CTL" migrate --user nobody
expect 2 "migrate without --user" -- "$CTL" migrate /tmp
expect 2 "migrate with a relative DIR" -- "$CTL" migrate tmp --user nobody
expect 2 "decrypt with two DIRs" -- "$CTL" decrypt /a /b
expect 0 "prune --help" -- "$CTL" prune --help
mentions --free --max-size --max-age --include-unlocked --dry-run --jobs --json KiB "Exit status"

# Usage errors: exit 2 and a hint.
expect 2 "no command" -- "$CTL"; mentions "--help"
expect 2 "unknown command" -- "$CTL" frobnicate
expect 2 "unknown global option" -- "$CTL" --frobnicate status
expect 2 "relative socket" -- "$CTL" --socket relative status
expect 2 "missing --socket arg" -- "$CTL" --socket
expect 2 "enroll without user" -- "$CTL" enroll
expect 2 "enroll two users" -- "$CTL" enroll a b
expect 2 "enroll --kdf-time 0" -- "$CTL" enroll --kdf-time 0 root
expect 2 "enroll --kdf-time junk" -- "$CTL" enroll --kdf-time 12ms root
expect 2 "enroll --kdf-time -5" -- "$CTL" enroll --kdf-time -5 root
expect 2 "encrypt without --user" -- "$CTL" encrypt /tmp
expect 2 "encrypt relative" -- "$CTL" encrypt tmp --user root
expect 2 "encrypt no dir" -- "$CTL" encrypt --user root
expect 2 "status two args" -- "$CTL" status a b
expect 2 "status bad option" -- "$CTL" status --bogus
expect 2 "lock without user" -- "$CTL" lock
expect 2 "unlock bad option" -- "$CTL" unlock root --bogus
expect 2 "invalid user name" -- "$CTL" --socket "$NOSOCK" lock '../etc'
expect 2 "lock --all with a USER" -- "$CTL" --socket "$NOSOCK" lock --all root
expect 2 "forget without DIR" -- "$CTL" --socket "$NOSOCK" forget
expect 2 "forget relative DIR" -- "$CTL" --socket "$NOSOCK" forget some/dir
expect 2 "unenroll without USER" -- "$CTL" --socket "$NOSOCK" unenroll
expect 2 "unenroll with USER and --uid" -- "$CTL" --socket "$NOSOCK" unenroll root --uid 5
expect 2 "unenroll --uid 0" -- "$CTL" --socket "$NOSOCK" unenroll --uid 0
# prune checks its arguments before it looks at DIR (or at who runs it).
expect 2 "prune without DIR" -- "$CTL" prune --free 1M
expect 2 "prune two DIRs" -- "$CTL" prune "$TMP" "$TMP" --free 1M
expect 2 "prune without target" -- "$CTL" prune "$TMP"; mentions "--free"
expect 2 "prune two targets" -- "$CTL" prune "$TMP" --free 1M --max-age 1d; mentions "only one"
expect 2 "prune --free 1MB" -- "$CTL" prune "$TMP" --free 1MB; mentions "invalid size"
expect 2 "prune --max-size -1" -- "$CTL" prune "$TMP" --max-size -1
expect 2 "prune --max-age 1y" -- "$CTL" prune "$TMP" --max-age 1y; mentions "invalid age"
expect 2 "prune --jobs 0" -- "$CTL" prune "$TMP" --free 1M --jobs 0
expect 2 "prune --jobs 17" -- "$CTL" prune "$TMP" --free 1M --jobs 17
expect 2 "prune bad option" -- "$CTL" prune "$TMP" --free 1M --bogus

# policy: help and the usage errors that need neither root nor a daemon.
expect 0 "--help lists policy" -- "$CTL" --help; mentions policy
expect 0 "policy --help" -- "$CTL" policy --help; mentions assign list remove latchkey.conf
expect 0 "policy assign --help" -- "$CTL" policy assign --help
mentions --per-user --name --subdir --mode --contents --filenames --padding --iv-ino-lblk-64 --json --config-dir
expect 0 "policy list --help" -- "$CTL" policy list --help; mentions --json --config-dir --vendor-dir
expect 0 "policy remove --help" -- "$CTL" policy remove --help; mentions --config-dir "never touched"
expect 2 "policy alone" -- "$CTL" policy; mentions "assign, list or remove"
expect 2 "policy unknown" -- "$CTL" policy frob
expect 2 "policy assign no DIR" -- "$CTL" policy assign --per-user
expect 2 "policy assign relative" -- "$CTL" policy assign srv/x --per-user; mentions "absolute path"
expect 2 "policy assign no --per-user" -- "$CTL" policy assign /srv/x; mentions "--per-user is required"
expect 2 "policy assign bad contents" -- "$CTL" policy assign /srv/x --per-user --contents AES-512
mentions 'unknown contents mode "AES-512"; use AES-256-XTS or Adiantum'
expect 2 "policy assign bad pair" -- "$CTL" policy assign /srv/x --per-user --filenames Adiantum
mentions "set contents = Adiantum"
expect 2 "policy assign bad padding" -- "$CTL" policy assign /srv/x --per-user --padding 12
expect 2 "policy assign bad name" -- "$CTL" policy assign /srv/x --per-user --name .x
expect 2 "policy assign bad subdir" -- "$CTL" policy assign /srv/x --per-user --subdir %u/x
expect 2 "policy assign dotdot" -- "$CTL" policy assign /srv/../x --per-user; mentions '".." component'
expect 2 "policy remove relative" -- "$CTL" policy remove srv/x
expect 2 "policy list extra" -- "$CTL" policy list x
expect 0 "policy list, no config" -- "$CTL" policy list --config-dir "$TMP/none" --vendor-dir "$TMP/none"
mentions "No per-user directory policies"
expect 0 "policy list --json, no config" -- "$CTL" --json policy list --config-dir "$TMP/none" --vendor-dir "$TMP/none"
mentions '^{"policies":\[\]}$'
if [ "$(id -u)" != 0 ]; then
	expect 4 "policy assign as non-root" -- "$CTL" policy assign /srv/x --per-user
	expect 4 "policy remove as non-root" -- "$CTL" policy remove /srv/x
fi

# Daemon unreachable: exit 3 with the advice, in well under the timeout.
start=$(date +%s)
expect 3 "status, no daemon" -- "$CTL" --socket "$NOSOCK" status; mentions "cannot reach latchkeyd" "$NOSOCK"
expect 3 "status --json, no daemon" -- "$CTL" --socket "$NOSOCK" status --json
expect 3 "lock, no daemon" -- "$CTL" --socket "$NOSOCK" lock root
expect 3 "unlock, no daemon" -- "$CTL" --socket "$NOSOCK" unlock root --passphrase-stdin
# A path that exists but is no socket, and a stale socket file.
expect 3 "not a socket" -- "$CTL" --socket "$TMP/out" status
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' \
	"$TMP/stale" 2>/dev/null && expect 3 "stale socket" -- "$CTL" --socket "$TMP/stale" status
if [ "$(id -u)" = 0 ]; then
	expect 3 "enroll, no daemon" -- "$CTL" --socket "$NOSOCK" enroll root --passphrase-stdin
	# symlinked DIR: refused with the real path, before the daemon is asked
	mkdir "$TMP/real"; ln -s "$TMP/real" "$TMP/link"
	expect 2 "encrypt via symlink" -- "$CTL" --socket "$NOSOCK" encrypt "$TMP/link" --user root
	mentions "$TMP/real"
	expect 3 "encrypt, no daemon" -- "$CTL" --socket "$NOSOCK" encrypt "$TMP/real/" --user root
else
	expect 4 "enroll as non-root" -- "$CTL" --socket "$NOSOCK" enroll root --passphrase-stdin
	expect 4 "encrypt as non-root" -- "$CTL" --socket "$NOSOCK" encrypt /tmp --user root
fi
end=$(date +%s)
[ $((end - start)) -le 5 ] || { echo "FAIL unreachable daemon took $((end - start)) s"; fail=1; }

exit $fail
