#!/usr/bin/env bash
# Server CPU per delivered GB, build against build: measures each step of a
# change in one run. For every build directory given (e.g. worktrees of
# older commits: git worktree add /tmp/wt_X X && cmake -S /tmp/wt_X -B
# /tmp/wt_X/build -DTRIPLETSTREAM_BUILD_TESTS=OFF && cmake --build
# /tmp/wt_X/build --target tripletstream-server tripletstream-probe), starts
# that build's server on DATA and pulls EPOCHS epochs with that build's
# probe, REPS times per batch size, the builds taking turns within each
# repetition so drift hits them alike. Prints the median MB/s and server
# CPU-s per GB (from /proc/PID/stat) per build and batch size.
#   [DATA=...] [EPOCHS=20] [REPS=3] [BATCHES="64 256"] bench/compare_builds.sh BUILD_DIR...
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: $0 BUILD_DIR..." >&2; exit 2; }
DATA=${DATA:-../shared/data/motionsense}
EPOCHS=${EPOCHS:-20}
REPS=${REPS:-3}
BATCHES=${BATCHES:-64 256}
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
TICKS=$(getconf CLK_TCK)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cpu_s() { awk -v t="$TICKS" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }
declare -a PIDS PORTS
DIRS=("$@")
for i in "${!DIRS[@]}"; do
  dir=${DIRS[$i]}
  for bin in tripletstream-server tripletstream-probe; do
    [[ -x "$dir/bin/$bin" ]] || { echo "$dir/bin/$bin: not built" >&2; exit 2; }
  done
  log="$WORK/server$i.log"
  "$dir/bin/tripletstream-server" --port=0 --data="$DATA" --rotate=false --user_regex="$REGEX" \
    --stats_interval_s=0 ${SERVER_FLAGS:-} >"$log" 2>&1 &
  PIDS[$i]=$!
  for _ in $(seq 1 300); do
    PORTS[$i]=$(sed -n 's/.*serving on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [[ -n "${PORTS[$i]}" ]] && break
    sleep 0.1
  done
  [[ -n "${PORTS[$i]}" ]] || { echo "server of $dir did not start:" >&2; cat "$log" >&2; exit 1; }
done
echo "# $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $EPOCHS epochs x $REPS reps; server flags: ${SERVER_FLAGS:-none}"
echo "| build | batch | MB/s (median) | server CPU-s per GB (median) | all runs (CPU-s/GB) |"
echo "|---|---|---|---|---|"
for b in $BATCHES; do
  for i in "${!PIDS[@]}"; do  # Warm each once.
    dir=${DIRS[$i]}
    "$dir/bin/tripletstream-probe" --servers="127.0.0.1:${PORTS[$i]}" --batch_size="$b" \
      --info=false --epochs=2 >/dev/null
  done
  for r in $(seq 1 "$REPS"); do
    for i in "${!PIDS[@]}"; do
      dir=${DIRS[$i]}
      before=$(cpu_s "${PIDS[$i]}")
      line=$("$dir/bin/tripletstream-probe" --servers="127.0.0.1:${PORTS[$i]}" \
               --batch_size="$b" --info=false --epochs="$EPOCHS" | tail -1)
      after=$(cpu_s "${PIDS[$i]}")
      mbps=$(sed -n 's/.* mb_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
      secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
      awk -v m="$mbps" -v s="$secs" -v b="$before" -v a="$after" \
        'BEGIN { printf "%.0f %.3f\n", m, (a - b) / (m * s / 1000) }' >>"$WORK/r_${i}_$b"
    done
  done
  for i in "${!PIDS[@]}"; do
    dir=${DIRS[$i]}
    mb=$(cut -d' ' -f1 "$WORK/r_${i}_$b" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    cpu=$(cut -d' ' -f2 "$WORK/r_${i}_$b" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    all=$(cut -d' ' -f2 "$WORK/r_${i}_$b" | paste -sd' ')
    echo "| $dir | $b | $mb | $cpu | $all |"
  done
done
kill -TERM "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null || true
