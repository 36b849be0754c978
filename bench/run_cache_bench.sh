#!/usr/bin/env bash
# Start-to-serving time and memory of 1 and 4 servers on one machine, with
# and without --cache_dir (issue 13): each server's time from launch to its
# "serving on" line, and its memory from /proc/PID/smaps_rollup: RSS, the
# private part (pages only this process maps) and PSS (shared pages divided
# among the processes mapping them). The cache is written by a first start
# that is not counted.
#   bench/run_cache_bench.sh [DATA_DIR] [USER_REGEX]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
REGEX=${2:-'A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'}
BIN=${BUILD_DIR:-build}/bin
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
FLAGS=(--data="$DATA" --user_regex="$REGEX" --stats_interval_s=0 --port=0)

now_ms() { date +%s%3N; }
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$2/smaps_rollup"; }

run() {  # run MODE N
  local mode=$1 n=$2 extra=() pids=() starts=()
  [[ $mode == cache ]] && extra=(--cache_dir="$WORK/cache")
  for i in $(seq 1 "$n"); do
    : >"$WORK/$mode.$i.log"
    starts+=("$(now_ms)")
    "$BIN/tripletstream-server" "${FLAGS[@]}" "${extra[@]}" >"$WORK/$mode.$i.log" 2>&1 &
    pids+=($!)
  done
  local times=() i
  for i in $(seq 1 "$n"); do
    until grep -q "serving on" "$WORK/$mode.$i.log"; do
      kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { cat "$WORK/$mode.$i.log" >&2; exit 1; }
      sleep 0.005
    done
    times+=($(( $(now_ms) - ${starts[$((i - 1))]} )))
  done
  local rss=0 private=0 pss=0 p
  for p in "${pids[@]}"; do
    rss=$((rss + $(kb Rss "$p")))
    private=$((private + $(kb Private_Clean "$p") + $(kb Private_Dirty "$p")))
    pss=$((pss + $(kb Pss "$p")))
  done
  printf '| %-8s | %d | %s | %d | %d | %d |\n' "$mode" "$n" "$(IFS=/; echo "${times[*]}")" \
    $((rss / 1024)) $((private / 1024)) $((pss / 1024))
  kill -TERM "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true
}

# Write the cache once (not counted).
"$BIN/tripletstream-server" "${FLAGS[@]}" --cache_dir="$WORK/cache" --dry_run >"$WORK/warm.log" 2>&1
grep -h "dataset cache: wrote" "$WORK/warm.log" | sed 's/^[^]]*] /# /'
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); data $DATA"
echo "| mode | servers | start to serving, ms (each) | RSS MB (sum) | private MB (sum) | PSS MB (sum) |"
echo "|---|---|---|---|---|---|"
for n in 1 4; do
  run parse "$n"
  run cache "$n"
done
