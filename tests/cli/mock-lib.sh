# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the shell tests that drive latchkeyctl against mock-latchkeyd.py.
# The caller sets MOCK, SOCK, TMP, MOCK_PID= and fail=0 first.

# start_mock SCENARIO: (re)start the mock with an empty $TMP/log.
start_mock() {
	[ -n "$MOCK_PID" ] && { kill "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null; }
	rm -f "$SOCK" "$TMP/log"; : >"$TMP/log"; : >"$TMP/ready"
	python3 "$MOCK" "$SOCK" "$TMP/log" "$1" >"$TMP/ready" &
	MOCK_PID=$!
	# wait (bounded) for "ready", printed once it listens (the socket file
	# exists from bind(), a moment before)
	i=0; while ! grep -q ready "$TMP/ready" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
# run CODE WHAT -- command...: stdout to $TMP/out, stderr to $TMP/err.
run() {
	want=$1; what=$2; shift 3
	timeout 60 "$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $what: exit $got, want $want"; sed 's/^/    /' "$TMP/out" "$TMP/err"; fail=1
	fi
}
# has FILE PATTERN: $TMP/FILE must match the basic regular expression.
has() { grep -q -e "$2" "$TMP/$1" || { echo "FAIL: $1 lacks [$2]"; sed 's/^/    /' "$TMP/$1"; fail=1; }; }
