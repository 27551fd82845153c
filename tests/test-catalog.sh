#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The journal message catalog: one entry for every MESSAGE_ID latchkeyd
# logs (daemon/log_event.h) and none more; each with Subject, Defined-By and
# Documentation; the warnings and errors with a "Fix:"; and journalctl
# compiles it (journalctl --root with a scratch root).
#   test-catalog.sh LOG_EVENT_H CATALOG
set -euo pipefail
header=$1 catalog=$2
rc=0
fail() { echo "FAIL: $*"; rc=1; }
ids=$(sed -n 's/^#define LK_MSG_[A-Z_]* *"\([0-9a-f]\{32\}\)"$/\1/p' "$header" | sort)
entries=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog" | sort)
[ -n "$ids" ] || fail "no MESSAGE_IDs in $header"
[ "$ids" = "$entries" ] || fail "MESSAGE_IDs and catalog entries differ: $(diff <(echo "$ids") <(echo "$entries") | grep '^[<>]' | tr '\n' ' ')"
[ "$(uniq -d <<<"$ids")" = "" ] || fail "a MESSAGE_ID is used twice"
for id in $entries; do
  entry=$(awk -v id="-- $id" '$0 == id {on = 1; next} /^-- / {on = 0} on' "$catalog")
  for field in Subject Defined-By Documentation; do
    grep -q "^$field: " <<<"$entry" || fail "entry $id has no $field"
  done
done
for name in LOCK_INCOMPLETE PASSPHRASE_WRONG CACHE_REFUSED CONFIG_REFUSED; do
  id=$(sed -n "s/^#define LK_MSG_$name *\"\\([0-9a-f]*\\)\"$/\\1/p" "$header")
  awk -v id="-- $id" '$0 == id {on = 1; next} /^-- / {on = 0} on' "$catalog" | grep -q "^Fix: " ||
    fail "entry $name ($id) gives no fix"
done
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -p "$T/usr/lib/systemd/catalog"
cp "$catalog" "$T/usr/lib/systemd/catalog/"
journalctl --root="$T" --update-catalog || fail "journalctl cannot compile the catalog"
n=$(journalctl --root="$T" --list-catalog | grep -c ' latchkey: ' || true)
[ "$n" = "$(wc -l <<<"$ids")" ] || fail "journalctl lists $n latchkey entries, expected $(wc -l <<<"$ids")"
[ $rc = 0 ] && echo "ok: $n catalog entries, one per MESSAGE_ID, compiled by journalctl"
exit $rc
