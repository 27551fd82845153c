#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian package: dpkg-buildpackage -us -uc -b from this tree, lintian
# without errors (its warnings are printed), and the files where Debian 12
# wants them: units where pkg-config systemd says, the PAM module in the
# multiarch security directory, the pam-auth-update profile, tmpfiles, man
# pages, docs and the example policy drop-in.
set -euo pipefail
: "${LK_SRC:?LK_SRC must point at the source tree}"
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the boot tier runs as root (CI)"
  exit 77
fi
for tool in dpkg-buildpackage dh lintian pkg-config; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (run scripts/test, which installs it)"; exit 1; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /var/tmp/latchkey-package.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$HERE/build-deb.sh" "$LK_SRC" "$W" || fail "dpkg-buildpackage -us -uc -b"
DEB=$(ls "$W"/latchkey_*.deb)
echo "ok: built $(basename "$DEB")"

dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$W/files"
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
tmpfilesdir=$(pkg-config --variable=tmpfilesdir systemd)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in "$unitdir/latchkeyd.service" "$unitdir/latchkeyd.socket" "$tmpfilesdir/latchkey.conf" \
  "/lib/$multiarch/security/pam_latchkey.so" /usr/share/pam-configs/latchkey \
  /usr/sbin/latchkeyd /usr/bin/latchkeyctl \
  /usr/share/man/man8/latchkeyd.8.gz /usr/share/man/man8/latchkeyctl.8.gz \
  /usr/share/man/man8/pam_latchkey.8.gz /usr/share/man/man5/latchkey.conf.5.gz \
  /usr/share/doc/latchkey/README.md /usr/share/doc/latchkey/examples/browser.conf.example \
  /usr/share/bash-completion/completions/latchkeyctl /usr/lib/systemd/catalog/latchkey.catalog; do
  # dh_compress gzips documents over 4 KiB.
  grep -qxF -e "$f" -e "$f.gz" "$W/files" || { cat "$W/files"; fail "$f is not in the package"; }
done
echo "ok: units in $unitdir, module in /lib/$multiarch/security, profile, tmpfiles, pages, docs, example, completion, catalog"

dpkg-deb -e "$DEB" "$W/control"
grep -q 'pam-auth-update --package$' "$W/control/postinst" || fail "postinst does not run pam-auth-update --package"
grep -q 'pam-auth-update --package --remove latchkey' "$W/control/prerm" || fail "prerm does not remove the PAM profile"
grep -q 'deb-systemd-helper.*latchkeyd.socket' "$W/control/postinst" || fail "postinst does not enable the socket"
if grep -Eq "deb-systemd-invoke (\\\$_dh_action|start|restart) '?latchkeyd.service" "$W/control/postinst"; then
  fail "postinst starts latchkeyd.service (it must start on its socket)"
fi
grep -Eq '^\s*rm -[rf]+ +/var/lib/latchkey' "$W/control/postrm" && fail "postrm deletes the protector records"
echo "ok: maintainer scripts: pam-auth-update, socket enabled, service started by activation"

lintian --tag-display-limit 0 "$W"/latchkey_*.changes >"$W/lintian.txt" 2>&1 || true
{ grep -v '^running with root privileges' "$W/lintian.txt" || true; } | sed 's/^/    /'
if grep -q '^E: ' "$W/lintian.txt"; then fail "lintian reports errors"; fi
echo "ok: lintian: no errors, $(grep -c '^W: ' "$W/lintian.txt" || true) warning(s)"
