#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shipped latchkeyd.service must keep its sandbox: systemd-analyze's
# exposure score at or below 2.5 (our gate; logind scores 2.8).
set -euo pipefail
unit_in=$1
command -v systemd-analyze >/dev/null || { echo "FAIL: systemd-analyze missing"; exit 1; }
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
sed 's|@sbindir@|/usr/sbin|' "$unit_in" > "$d/latchkeyd.service"
cd "$d"
out=$(systemd-analyze security --offline=yes --threshold=25 ./latchkeyd.service 2>&1) || {
  echo "$out" | tail -30; echo "FAIL: exposure above 2.5"; exit 1; }
echo "$out" | tail -1
