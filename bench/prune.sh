#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: `latchkeyctl prune` against `rm -r` on identical trees of FILES
# one-block files in a locked per-user encrypted directory, on a
# loop-mounted ext4 -O encrypt. Each run builds both trees afresh under one
# random key (xfs_io add_enckey + set_encpolicy while unlocked), locks them
# (rm_enckey), then times prune --free <everything> on one and rm -r on the
# other (and prune --jobs 1 on a third), rotating which goes first. Prints
# the median rates and their ratios (the target: prune >= 90 % of
# rm -r). Root only.
#   LK_BUILD=build bench/prune.sh [FILES] [RUNS]
. "$(dirname "$0")/../tests/root/lib.sh"
N=${1:-10000}
RUNS=${2:-7}
case "$N$RUNS" in *[!0-9]*) fail "usage: bench/prune.sh [FILES] [RUNS]";; esac

# Enough inodes for two trees at the default 16 KiB per inode.
lk_make_fs 1G
# A uid nobody has: the tree's owner only has to be a non-root uid.
OWNER=
for u in $(seq 61000 61999); do
  getent passwd "$u" >/dev/null || { OWNER=$u; break; }
done
[ -n "$OWNER" ] || fail "no free uid in 61000-61999"
head -c 64 /dev/urandom >"$W/key"
mkdir -m 0755 "$MNT/prune" "$MNT/rm"

# fill DIR: an encrypted, OWNER-owned 0700 directory of N one-byte files.
fill() {
  mkdir "$1"
  xfs_io -c "set_encpolicy $KEY" "$1"
  (cd "$1" && for ((i = 0; i < N; i++)); do printf x >"f$i"; done)
  chown -R "$OWNER" "$1"
  chmod 0700 "$1"
}

now_ns() { date +%s%N; }

# time_one KIND: wall time in ns of deleting tree KIND, into $T.
time_one() {
  local t0 t1
  case $1 in
    prune | prune1)
      local jobs=()
      [ "$1" = prune1 ] && jobs=(--jobs 1)
      t0=$(now_ns)
      "$LATCHKEYCTL" prune "$MNT/$1" --free $((N * 4096)) "${jobs[@]}" --json >"$W/$1.json" ||
        fail "prune failed: $(cat "$W/$1.json")"
      t1=$(now_ns)
      ;;
    rm)
      t0=$(now_ns)
      rm -r "$MNT/rm/u"
      t1=$(now_ns)
      ;;
  esac
  T=$((t1 - t0))
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
KINDS=(prune prune1 rm)
mkdir -m 0755 "$MNT/prune1"
declare -A TIMES
for run in $(seq "$RUNS"); do
  KEY=$(xfs_io -c add_enckey "$MNT" <"$W/key" | awk '{print $NF}')
  for k in "${KINDS[@]}"; do fill "$MNT/$k/u"; done
  xfs_io -c "rm_enckey $KEY" "$MNT" >/dev/null
  [ "$(key_status "$KEY")" = Absent ] || fail "the trees did not lock"
  sync

  # Each kind goes first, second and third equally often.
  line="run $run:"
  for i in 0 1 2; do
    k=${KINDS[$(((run + i) % 3))]}
    time_one "$k"
    TIMES[$k]+="$T "
    line+=" $k $(awk -v t="$T" 'BEGIN { printf "%.3f", t / 1e9 }') s;"
  done
  echo "$line"

  for k in prune prune1; do
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$W/$k.json")
    [ "$got" = "$N" ] || fail "$k deleted $got files, not $N"
    [ -z "$(ls -A "$MNT/$k/u")" ] || fail "$k left files behind"
    rmdir "$MNT/$k/u"
  done
  [ ! -e "$MNT/rm/u" ] || fail "rm -r left the tree behind"
done

median() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
rate() { awk -v n="$N" -v t="$(median "${TIMES[$1]}")" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }
echo "files per tree: $N, runs: $RUNS, CPUs: $(nproc), load average at start: $LOAD0, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rm -r:                   median $(rate rm) files/s"
echo "prune (default --jobs):  median $(rate prune) files/s, $(awk -v a="$(rate prune)" -v b="$(rate rm)" 'BEGIN { printf "%.2f", a / b }') x rm -r"
echo "prune --jobs 1:          median $(rate prune1) files/s, $(awk -v a="$(rate prune1)" -v b="$(rate rm)" 'BEGIN { printf "%.2f", a / b }') x rm -r"
echo "(target: prune >= 0.90 x rm -r)"
