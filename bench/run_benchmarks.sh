#!/usr/bin/env bash
# Measures the data server against the Python DataLoader yardstick in one run
# on this machine and prints key=value lines (copied into docs/benchmarks.md).
#
#   bench/run_benchmarks.sh [DATA_DIR]     (default ../shared/data/motionsense)
#
# Needs the build (scripts/build.sh) and, for the yardstick, Debian's
# python3-torch and python3-pandas (scripts/install_deps.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
BIN=${BUILD_DIR:-build}/bin
REPS=${REPS:-3}
EPOCHS=${EPOCHS:-10}
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
AUGMENT=(--jitter=0.03 --scale=0.1 --shift=8)
source scripts/lib_server.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo)," \
     "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "data: $DATA"

# --- ingest: startup of a --dry_run server, ingest line -------------------
for i in $(seq 1 "$REPS"); do
  "$BIN/tripletstream-server" --data="$DATA" --rotate=false --user_regex="$REGEX" --dry_run \
    --ingest_threads=2 2>&1 | sed -n 's/.*ingest: \(.*\)/ingest_run: \1/p'
done

# --- delivery: one server (--threads=1), probe on the same host ------------
deliver() {  # deliver LABEL SERVER_FLAGS...
  local label=$1
  shift
  start_server "$WORK/$label.log" --data="$DATA" --rotate=false --user_regex="$REGEX" --threads=1 \
    --stats_interval_s=0 "$@"
  for i in $(seq 1 "$REPS"); do
    line=$("$BIN/tripletstream-probe" --servers=127.0.0.1:$SERVER_PORT --batch_size=64 \
             --info=false --epochs="$EPOCHS" | tail -1)
    echo "config=server_$label run=$i $line"
  done
  echo "config=server_$label $(grep VmHWM /proc/$SERVER_PID/status | tr -s ' \t' ' ')"
  stop_server
}
deliver plain
deliver augmented "${AUGMENT[@]}"

# --- memory under a slow client: sample RSS while the probe sleeps per batch
start_server "$WORK/slow.log" --data="$DATA" --rotate=false --user_regex="$REGEX" --threads=4 \
  --stats_interval_s=0
base_rss=$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status)
"$BIN/tripletstream-probe" --servers=127.0.0.1:$SERVER_PORT --batch_size=64 --info=false \
  --batches=150 --read_delay_ms=20 >"$WORK/slow_probe.txt" &
PROBE=$!
max_rss=0
while kill -0 $PROBE 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$SERVER_PID/status)
  (( rss > max_rss )) && max_rss=$rss
  sleep 0.1
done
wait $PROBE
echo "config=slow_client threads=4 rss_before_kb=$base_rss max_rss_kb=$max_rss" \
     "$(tail -1 "$WORK/slow_probe.txt")"
stop_server
# Float32 size of the normalized series: rows x channels x 4 bytes.
rows=$(sed -n 's/.*rows kept \([0-9]*\).*/\1/p' "$WORK/plain.log" | head -1)
echo "config=series_size rows=$rows float32_mb=$(( rows * 12 * 4 / 1000000 ))"

# --- the yardstick ------------------------------------------------------
if /usr/bin/python3 -c 'import torch, pandas' 2>/dev/null; then
  /usr/bin/python3 bench/seed_pipeline.py --data="$DATA" --workers=0,1,2 --augment=0,1 \
    | grep '^config='
else
  echo "yardstick skipped: /usr/bin/python3 lacks torch/pandas (scripts/install_deps.sh --bench)"
fi

# --- one producer thread in-process (Google Benchmark) ---------------------
if [[ -x "$BIN/batch_builder_bench" ]]; then
  "$BIN/batch_builder_bench" --benchmark_min_time=1 2>/dev/null | grep BM_
fi
