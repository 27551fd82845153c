#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The module exports exactly the six pam_sm_* entry points (pam_latchkey.sym)
# and does not link libcrypto.
set -eu
nm=$1
module=$2
expected='pam_sm_acct_mgmt
pam_sm_authenticate
pam_sm_chauthtok
pam_sm_close_session
pam_sm_open_session
pam_sm_setcred'
actual=$("$nm" -D --defined-only "$module" | awk '{print $NF}' | sort)
if [ "$actual" != "$expected" ]; then
	echo "unexpected exports of $module:" >&2
	echo "$actual" >&2
	exit 1
fi
echo "exports ok"

# libcrypto.so.3 is NODELETE: once the module loaded it, 1.4 MiB of it would
# stay in every login process after pam_end. The module needs none of it.
if readelf -d "$module" | grep -q 'Shared library: \[libcrypto'; then
	echo "$module links libcrypto" >&2
	exit 1
fi
echo "no libcrypto"
