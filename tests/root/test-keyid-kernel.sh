#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Cross-check lk_fscrypt_key_identifier against the kernel: add a random
# 64-byte key to a fresh ext4 (encrypt feature) and compare the identifier
# FS_IOC_ADD_ENCRYPTION_KEY reports with lk-keyid's. Root only (77 = skip).
set -euo pipefail

LK_KEYID=${1:?usage: $0 path/to/lk-keyid}

if [ "$(id -u)" -ne 0 ]; then
	echo "not root: skipping" >&2
	exit 77
fi
for tool in mkfs.ext4 xfs_io mount umount losetup; do
	command -v "$tool" >/dev/null || { echo "$tool missing: skipping" >&2; exit 77; }
done

tmp=$(mktemp -d /tmp/lk-keyid-kernel.XXXXXX)
mnt=$tmp/mnt
mounted=0
kid=

cleanup() {
	if [ -n "$kid" ] && [ "$mounted" = 1 ]; then
		xfs_io -c "rm_enckey -a $kid" "$mnt" >/dev/null 2>&1 || true
	fi
	if [ "$mounted" = 1 ]; then
		# umount -d also detaches the loop device mount(8) set up.
		umount -d "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	fi
	# A loop device left behind (e.g. umount failed half-way) is detached here.
	for dev in $(losetup -j "$tmp/img" -O NAME -n 2>/dev/null); do
		losetup -d "$dev" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$mnt"
truncate -s 32M "$tmp/img"
mkfs.ext4 -q -O encrypt "$tmp/img"
if ! mount -o loop "$tmp/img" "$mnt"; then
	echo "cannot loop-mount (no loop devices in this container?): skipping" >&2
	exit 77
fi
mounted=1

head -c 64 /dev/urandom >"$tmp/key"
out=$(xfs_io -c add_enckey "$mnt" <"$tmp/key")
# "Added encryption key with identifier 0123...."
kid=$(printf '%s\n' "$out" | sed -n 's/.*identifier \([0-9a-f]\{32\}\).*/\1/p')
if [ -z "$kid" ]; then
	echo "could not parse xfs_io output: $out" >&2
	exit 1
fi
ours=$("$LK_KEYID" <"$tmp/key")

if [ "$ours" != "$kid" ]; then
	echo "MISMATCH: kernel $kid, lk-keyid $ours" >&2
	exit 1
fi
echo "identifier matches kernel: $kid"
exit 0
