#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# contrib/bash-completion/latchkeyctl: commands, options, users and the
# directories latchkeyd reports; and hostile directory names (command
# substitution, backquotes, globs) complete as themselves and run nothing
# (the fscrypt completion ran them: CVE-2022-25328).
# Every command and option latchkeyctl's own --help lists is offered, so a
# new command cannot be forgotten here.
#   test-completion.sh COMPLETION-FILE LATCHKEYCTL
set -uo pipefail
completion=$1
latchkeyctl_bin=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
rc=0
fail() { echo "FAIL: $*"; rc=1; }

# A latchkeyctl that reports hostile paths, as a compromised or confused
# daemon might (paths are any bytes a user could create).
mkdir "$W/bin"
cat >"$W/bin/latchkeyctl" <<EOF2
#!/bin/sh
cat <<'JSON'
{"policies":[{"user":"a","uid":1,"path":"/srv/enc/\$(touch $W/pwned1)","key_id":"00","state":"locked","sessions":0},
{"user":"a","uid":1,"path":"/srv/enc/\`touch $W/pwned2\`","key_id":"00","state":"locked","sessions":0},
{"user":"a","uid":1,"path":"/srv/enc/*","key_id":"00","state":"locked","sessions":0},
{"user":"a","uid":1,"path":"/srv/enc/plain","key_id":"00","state":"locked","sessions":0},
{"user":"a","uid":1,"path":"/srv/enc/quote\\"d","key_id":"00","state":"locked","sessions":0},
{"user":"a","uid":1,"path":"/home/alice","key_id":"00","state":"unlocked","sessions":1}]}
JSON
EOF2
chmod +x "$W/bin/latchkeyctl"
export PATH="$W/bin:$PATH"
# shellcheck source=/dev/null
. "$completion"

# complete LINE: COMPREPLY for the last word of LINE (a trailing space
# starts an empty word), one per line, sorted.
complete_line() {
  local line=$1
  read -ra COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _latchkeyctl
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() {
  local line=$1 want got
  want=$(printf '%s\n' "${@:2}" | sort)
  got=$(complete_line "$line")
  [ "$got" = "$want" ] || fail "'$line': got [$(echo $got)], want [$(echo $want)]"
}
expect_has() {
  local got; got=$(complete_line "$1")
  grep -qxF -- "$2" <<<"$got" || fail "'$1': no '$2' in [$(echo $got)]"
}

expect "latchkeyctl " enroll encrypt status lock unlock recovery escrow rotate policy prune migrate decrypt \
  forget unenroll tpm doctor
expect "latchkeyctl st" status
expect "latchkeyctl --" --socket --json --help --version
expect "latchkeyctl --socket /run/x st" status
expect "latchkeyctl recovery " create reset
expect "latchkeyctl escrow re" request recover
expect "latchkeyctl policy " assign list remove
expect "latchkeyctl doctor --" --help --json --root --pam-dir --state-dir
expect_has "latchkeyctl prune /var/cache/x --d" --dry-run
expect_has "latchkeyctl enroll ro" root
expect_has "latchkeyctl encrypt /home/new --user ro" root
expect_has "latchkeyctl recovery create ro" root
expect "latchkeyctl lock root " # one USER only
expect "latchkeyctl policy assign /x --filenames AES" AES-256-CTS AES-256-HCTR2
expect "latchkeyctl status /home" /home/alice
expect "latchkeyctl forget /home" /home/alice
expect "latchkeyctl tpm " bind unbind reseal
expect "latchkeyctl tpm reseal root --" --help --passphrase-stdin --predict
expect "latchkeyctl tpm bind root --" --help --passphrase-stdin
expect_has "latchkeyctl tpm bind ro" root
expect_has "latchkeyctl migrate /srv/x --user ro" root
expect "latchkeyctl lock --" --help --json --all

# What latchkeyctl --help and each COMMAND --help list (a subcommand's
# for recovery, escrow, policy, tpm) is offered.
help_options() { grep -E '^\s+(-[a-zA-Z], )?--' | grep -oE -- '--[a-z0-9-]+' | sort -u; }
commands=$("$latchkeyctl_bin" --help | awk '/^Commands:/ { f = 1; next } /^$/ { f = 0 } f { print $1 }')
[ -n "$commands" ] || fail "no commands parsed from latchkeyctl --help"
offered=$(complete_line "latchkeyctl ")
for c in $commands; do
  grep -qxF -- "$c" <<<"$offered" || fail "command '$c' (latchkeyctl --help) is not completed"
  case $c in
  recovery) line="$c create" ;; escrow) line="$c keygen" ;; policy) line="$c assign" ;; tpm) line="$c reseal" ;;
  *) line=$c ;;
  esac
  # shellcheck disable=SC2086
  for o in $("$latchkeyctl_bin" $line --help 2>/dev/null | help_options); do
    expect_has "latchkeyctl $line --" "$o"
  done
done
mkdir -p "$W/tree/sub"
expect_has "latchkeyctl encrypt $W/tree/s" "$W/tree/sub"

# The hostile paths come back literally and nothing ran.
got=$(complete_line "latchkeyctl status /srv/enc/")
for p in "/srv/enc/\$(touch $W/pwned1)" "/srv/enc/\`touch $W/pwned2\`" "/srv/enc/*" /srv/enc/plain; do
  grep -qxF -- "$p" <<<"$got" || fail "status /srv/enc/: '$p' missing or altered in [$got]"
done
grep -q quote <<<"$got" && fail "a path with a JSON escape was decoded instead of left out"
[ ! -e "$W/pwned1" ] && [ ! -e "$W/pwned2" ] || fail "completing ran a command from a directory name"
[ $rc = 0 ] && echo "ok: completion of commands, options, users, directories; hostile names inert"
exit $rc
