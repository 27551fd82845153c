#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# build-deb.sh SRC OUT: build the Debian package from the source tree SRC
# (its tracked and untracked, not ignored, files) with dpkg-buildpackage in a
# scratch copy below OUT; leaves OUT/latchkey_*.deb and the .changes file.
set -euo pipefail
src=$1 out=$2
mkdir -p "$out/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z -co --exclude-standard) | (cd "$src" && xargs -0 cp -a --parents -t "$out/src")
else
  tar -C "$src" --exclude='./build*' -c . | tar -C "$out/src" -x
fi
cd "$out/src"
dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
ls "$out"/latchkey_*.deb >/dev/null
