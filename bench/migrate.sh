#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: the copy phase of `latchkeyctl migrate` against `cp -a` on the
# same tree, both into an encrypted directory on a loop-mounted ext4
# -O encrypt and both made durable (migrate ends its copy with syncfs; cp
# is followed by `sync -f`). Each run builds a fresh tree (FILES small files
# of 4-64 KiB in 50 directories, plus 8 files of 16 MiB), copies it with
# cp -a into a directory encrypted with xfs_io, then migrates it (its
# --json gives copy_ms and verify_ms), alternating which goes first.
# Prints the median rates, their ratio (the target: >= 0.8) and the
# verification's cost separately. Root only.
#   LK_BUILD=build bench/migrate.sh [FILES] [RUNS]
. "$(dirname "$0")/../tests/root/lib.sh"
N=${1:-4000}
RUNS=${2:-5}
case "$N$RUNS" in *[!0-9]*) fail "usage: bench/migrate.sh [FILES] [RUNS]";; esac

lk_make_fs 2G
PW="bench $RANDOM"
U=lkbm$RANDOM
lk_add_user "$U" "$PW"
lk_start_daemon
printf '%s\n' "$PW" | ctl enroll "$U" --passphrase-stdin --kdf-time 1 >/dev/null
head -c 64 /dev/urandom >"$W/key"
KEY=$(xfs_io -c add_enckey "$MNT" <"$W/key" | awk '{print $NF}')

make_tree() {
  python3 - "$1" "$N" "$(id -u "$U")" <<'PY'
import os, random, sys
top, n, uid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.mkdir(top)
for d in range(50):
    os.mkdir(os.path.join(top, "d%d" % d))
for i in range(n):
    with open(os.path.join(top, "d%d" % (i % 50), "f%d" % i), "wb") as f:
        f.write(os.urandom(random.randint(4096, 65536)))
for i in range(8):
    with open(os.path.join(top, "big%d" % i), "wb") as f:
        f.write(os.urandom(16 << 20))
for root, dirs, files in os.walk(top):
    for x in dirs + files:
        os.chown(os.path.join(root, x), uid, uid)
PY
  sync -f "$1"
}

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$W/cp"; : >"$W/mig"; : >"$W/ver"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 0; r < RUNS; r++)); do
  make_tree "$MNT/src$r"
  BYTES=$(du -sb --apparent-size "$MNT/src$r" | cut -f1)
  order="cp migrate"; [ $((r % 2)) = 1 ] && order="migrate cp"
  for what in $order; do
    if [ $what = cp ]; then
      mkdir "$MNT/cp$r"; xfs_io -c "set_encpolicy $KEY" "$MNT/cp$r"
      t0=$(now_ns); cp -a "$MNT/src$r/." "$MNT/cp$r/"; sync -f "$MNT/cp$r"; t1=$(now_ns)
      echo $((BYTES * 1000000000 / (t1 - t0))) >>"$W/cp"
    else
      printf '%s\n' "$PW" | ctl migrate "$MNT/src$r" --user "$U" --passphrase-stdin --quiet --force --json \
        >"$W/m.json" 2>/dev/null || fail "migrate failed"
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=int(sys.argv[2])
print(b * 1000 // max(d["copy_ms"], 1), file=open(sys.argv[3], "a"))
print(d["verify_ms"], file=open(sys.argv[4], "a"))' "$W/m.json" "$BYTES" "$W/mig" "$W/ver"
      # migrate locks what it made (the user is logged out); cp may read it next
      printf '%s\n' "$PW" | ctl unlock "$U" --passphrase-stdin >/dev/null 2>&1 || true  # earlier runs' roots are gone
    fi
  done
  rm -rf "$MNT/cp$r" "$MNT/src$r"
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

CP=$(median <"$W/cp"); MIG=$(median <"$W/mig"); VER=$(median <"$W/ver")
echo "tree: $N files of 4-64 KiB + 8 x 16 MiB ($((BYTES / 1048576)) MiB), $RUNS runs, into an encrypted directory"
echo "cp -a + sync:      $((CP / 1048576)) MiB/s (median)"
echo "migrate copy:      $((MIG / 1048576)) MiB/s (median, includes syncfs)"
echo "ratio migrate/cp:  $(python3 -c "print('%.2f' % ($MIG / $CP))")"
echo "verification:      ${VER} ms (median; $(python3 -c "print('%.0f' % ($BYTES / 1048576 / max($VER, 1) * 1000))") MiB/s of tree, reads both copies)"
echo "load average before/after: $LOAD0 / $LOAD1"
