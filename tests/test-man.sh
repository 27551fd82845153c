#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The manual pages: mandoc -Tlint clean but for style; one header (date,
# "latchkey VERSION") on every page, VERSION the project's; every command
# and long option that latchkeyctl and latchkeyd print in --help is in
# their page, and so is every exit status.
#   test-man.sh VERSION LATCHKEYCTL LATCHKEYD PAGE...
set -euo pipefail
version=$1 ctl=$2 daemon=$3; shift 3
command -v mandoc >/dev/null || { echo "FAIL: mandoc missing (run scripts/test, which installs it)"; exit 1; }
rc=0
fail() { echo "FAIL: $*"; rc=1; }

lint=$(mandoc -Tlint -W warning "$@" 2>&1) || fail "mandoc -Tlint: $lint"

headers=$(for p in "$@"; do sed -n 's/^\.TH [^ ]* [0-9] \("[^"]*" "[^"]*"\).*/\1/p' "$p"; done | sort -u)
[ "$(wc -l <<<"$headers")" = 1 ] || fail "the pages' headers differ: $headers"
[[ "$headers" == *"\"latchkey $version\"" ]] || fail "header $headers does not name latchkey $version"
[[ "$headers" =~ ^\"[0-9]{4}-[0-9]{2}-[0-9]{2}\" ]] || fail "header $headers has no date"

ctl_page= daemon_page=
for p in "$@"; do
  case $(basename "$p") in latchkeyctl.8) ctl_page=$p ;; latchkeyd.8) daemon_page=$p ;; esac
done
# Roff writes a hyphen in an option as \-.
in_page() { grep -qF -- "$(sed 's/-/\\-/g' <<<"$2")" "$1"; }

commands=$("$ctl" --help | awk '/^Commands:/ {on = 1; next} on && /^$/ {exit} on {print $1}')
[ -n "$commands" ] || fail "no commands in latchkeyctl --help"
# Each command's entry: a tagged paragraph in COMMANDS, not text of another section.
section=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$ctl_page")
for c in $commands; do
  grep -A1 '^\.TP' <<<"$section" | grep -Eq "^\.(B|BI|BR) \"?$c( |\"|$)" ||
    fail "latchkeyctl.8 has no entry for the command $c in COMMANDS"
  for o in $("$ctl" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
    in_page "$ctl_page" "$o" || fail "latchkeyctl.8 lacks $o (latchkeyctl $c --help)"
  done
done
for o in $("$ctl" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  in_page "$ctl_page" "$o" || fail "latchkeyctl.8 lacks $o (latchkeyctl --help)"
done
for s in $("$ctl" --help | sed -n '/^Exit status:/,$p' | grep -oE '\b[0-9]\b' | sort -u); do
  sed -n '/^\.SH "EXIT STATUS"/,/^\.SH /p' "$ctl_page" | grep -qE "^\.(B|IP|TP)? ?$s\b|^$s\b" ||
    fail "latchkeyctl.8's EXIT STATUS lacks $s"
done
for o in $("$daemon" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
  in_page "$daemon_page" "$o" || fail "latchkeyd.8 lacks $o (latchkeyd --help)"
done
[ $rc = 0 ] && echo "ok: $# pages: lint, one header ($headers), commands, options and exit statuses"
exit $rc
