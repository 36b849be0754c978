#!/usr/bin/env bash
# Training throughput of the C++ trainer fed by a server against the seed
# design's in-process Python pipeline (bench/seed_trainer.py, Debian's
# python3-torch: the same LibTorch 1.13), same TCN (5 levels x 64 channels,
# kernel 3, dropout 0.1, embedding 128), triplet margin loss, AdamW, batch 64,
# at equal LibTorch thread counts, in one run. Runs alternate; medians and
# the C++ / Python ratio are printed per thread count.
#   [REPS=3] [STEPS=60] [THREADS="1 2"] bench/run_trainer_throughput.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
REPS=${REPS:-3}
STEPS=${STEPS:-60}
WARMUP=5
BIN=${BUILD_DIR:-build}/bin
PYTHON=${PYTHON:-/usr/bin/python3}
source scripts/lib_server.sh
source bench/lib_bench.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT


echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "blas: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
start_server "$WORK/server.log" --data="$DATA" --rotate=false --stats_interval_s=0 \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
for threads in ${THREADS:-1 2}; do
  : >"$WORK/cpp.$threads" ; : >"$WORK/py.$threads"
  for rep in $(seq 1 "$REPS"); do
    # Both time STEPS steps after WARMUP steps, by the wall clock: Python
    # itself, the C++ trainer through its per-interval rates (--log_every =
    # WARMUP, so every interval after the first is steady state).
    rm -f "$WORK/metrics.jsonl"
    line=$("$BIN/tripletstream-trainer" train --servers=127.0.0.1:$SERVER_PORT --device=cpu \
      --steps=$((STEPS + WARMUP)) --batch_size=64 --eval=false --log_every=$WARMUP \
      --metrics="$WORK/metrics.jsonl" --torch_threads="$threads" 2>"$WORK/trainer.log" | tail -1)
    echo "threads=$threads rep=$rep cpp: $line" >>"$WORK/all.log"
    steady_rate "$WORK/metrics.jsonl" "$WARMUP" 64 \
      >>"$WORK/cpp.$threads"
    pyline=$("$PYTHON" bench/seed_trainer.py --data="$DATA" --workers=1 --steps="$STEPS" \
      --warmup="$WARMUP" --torch_threads="$threads" 2>/dev/null | tail -1)
    echo "threads=$threads rep=$rep py: $pyline" >>"$WORK/all.log"
    echo "$pyline" | field triplets_per_s >>"$WORK/py.$threads"
  done
  cpp=$(median <"$WORK/cpp.$threads")
  py=$(median <"$WORK/py.$threads")
  echo "threads=$threads cpp_triplets_per_s=$cpp python_triplets_per_s=$py" \
    "ratio=$(awk -v a="$cpp" -v b="$py" 'BEGIN {printf "%.2f", a / b}')" \
    "cpp_runs=$(paste -sd/ "$WORK/cpp.$threads") python_runs=$(paste -sd/ "$WORK/py.$threads")"
done
stop_server || true
cat "$WORK/all.log"
