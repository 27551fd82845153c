# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced after lib.sh: see what pam_syslog writes, without touching the
# host. This machine has no syslog daemon (no /dev/log), and creating the
# real /dev/log would change the host for everyone. So lk_devlog_run runs a
# command in a private mount namespace whose /dev is a copy of the host's
# (bind mounts of its sub-mounts) plus a log socket served by a listener of
# ours, which appends every message to $DEVLOG_OUT.
DEVLOG_SOCK=$W/devlog.sock
DEVLOG_OUT=$W/syslog.txt
DEVLOG_PID=

# Start the listener (once); stop it with lk_devlog_stop, from the EXIT trap.
lk_devlog_start() {
  : >"$DEVLOG_OUT"
  python3 - "$DEVLOG_SOCK" "$DEVLOG_OUT" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\0\n") + b"\n")
PY
  DEVLOG_PID=$!
  for _ in $(seq 100); do
    [ -S "$DEVLOG_SOCK" ] && chmod 0666 "$DEVLOG_SOCK" && return 0
    sleep 0.05
  done
  fail "the syslog listener did not create its socket"
}

lk_devlog_stop() {
  [ -n "$DEVLOG_PID" ] && kill "$DEVLOG_PID" 2>/dev/null && wait "$DEVLOG_PID" 2>/dev/null
  DEVLOG_PID=
}

# lk_devlog_exec COMMAND...: replaces the calling shell with COMMAND, in a
# new private mount namespace whose /dev/log is our listener. Call it in the
# background (then $! is COMMAND's pid) or in a subshell. The namespace dies
# with the last process in it; nothing leaks to the host.
lk_devlog_exec() {
  mkdir -p "$W/devroot"
  exec unshare --mount --propagation private -- bash -c '
    set -e
    d=$1 sock=$2; shift 2
    mount -t tmpfs -o mode=0755 lk-devlog "$d"
    subs=$(findmnt -rno TARGET -R /dev | grep -v "^/dev$" | sort -u)
    files=()
    for e in /dev/* /dev/.[!.]*; do
      # Never the /dev/log of the host: another test may have put a link there.
      [ "$e" != /dev/log ] && { [ -e "$e" ] || [ -L "$e" ]; } || continue
      grep -qxF -- "$e" <<<"$subs" || files+=("$e")
    done
    cp -a "${files[@]}" "$d/"
    for e in $subs; do
      [ "${e%/*}" = /dev ] || continue
      mkdir -p "$d/${e#/dev/}"; mount --rbind "$e" "$d/${e#/dev/}"
    done
    : >"$d/log"; mount --bind "$sock" "$d/log"
    mount --move "$d" /dev
    exec "$@"' lk-devlog "$W/devroot" "$DEVLOG_SOCK" "$@"
}
