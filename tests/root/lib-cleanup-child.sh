#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Not a test of its own: test-lib-cleanup.sh runs it. A root test that fails
# part-way with a login held open (a root-owned pam-login --hold), as a real
# failing test would. Prints the login's pid and user, and the time of the
# failure (ns), for the caller to check what lk_cleanup did.
. "$(dirname "$0")/lib.sh"

lk_locked_home_setup lkcl
login_held "$W/hold"
echo "LOGIN_PID=$! USER=$U"
wait_status Present
echo "FAILING_AT=$(date +%s%N)"
fail "deliberate failure with a login held open"
