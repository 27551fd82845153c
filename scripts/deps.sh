# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian 12 packages latchkey needs; sourced by scripts/demo and scripts/test.
LK_BUILD_DEPS=(meson ninja-build pkg-config gcc libc6-dev
  libpam0g-dev libkeyutils-dev libargon2-dev libsystemd-dev libssl-dev libinih-dev
  libsodium-dev libjson-c-dev)
LK_TEST_DEPS=(libcmocka-dev libpamtest0-dev libpam-wrapper pamtester attr
  xfsprogs e2fsprogs util-linux mount passwd procps keyutils python3 systemd openssl
  openssh-server openssh-client sshpass gdb python3-argon2 python3-cryptography
  acl python3-jsonschema
  dpkg-dev debhelper fakeroot lintian debootstrap systemd-container mandoc)
# strace: test-durability.sh traces the daemon's fsync and rename calls.
LK_TEST_DEPS+=(strace)
# valgrind: .ci/run runs the PAM tier under memcheck.
LK_TEST_DEPS+=(valgrind)
# TPM2 slots: libtss2-esys (optional at build: meson -Dtpm2=auto); swtpm
# simulates one TPM per test, tpm2-tools checks and extends its PCRs.
LK_BUILD_DEPS+=(libtss2-dev)
LK_TEST_DEPS+=(swtpm swtpm-tools tpm2-tools)

# Install whatever is missing, quietly; apt-get update only when needed.
lk_install_deps() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    return 1
  fi
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
