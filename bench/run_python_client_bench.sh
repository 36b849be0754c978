#!/usr/bin/env bash
# The Python client against the C++ one, in one run against the same server
# (--threads=1, loopback): probe delivery in MB/s with digests verified on
# both sides (batch 64 and 256), then training throughput and data stall of
# examples/pytorch_train.py fed by the server against the seed design's
# in-process DataLoader pipeline (bench/seed_trainer.py, one worker), at equal
# LibTorch thread counts. Runs alternate; medians and ratios are printed.
#   [REPS=5] [EPOCHS=3] [STEPS=60] [THREADS="1 2"] \
#     bench/run_python_client_bench.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
REPS=${REPS:-5}
EPOCHS=${EPOCHS:-3}
STEPS=${STEPS:-60}
BIN=${BUILD_DIR:-build}/bin
PY=/usr/bin/python3
export PYTHONPATH=${BUILD_DIR:-build}/python
source scripts/lib_server.sh
source bench/lib_bench.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
start_server "$WORK/server.log" --data="$DATA" --rotate=false --stats_interval_s=0 --threads=1 \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
for batch in 64 256; do
  : >"$WORK/cpp"; : >"$WORK/py"; : >"$WORK/digests"
  for rep in $(seq 1 "$REPS"); do
    line=$("$BIN/tripletstream-probe" --servers=127.0.0.1:$SERVER_PORT --batch_size=$batch \
             --info=false --epochs="$EPOCHS" | tail -1)
    echo "probe batch=$batch rep=$rep cpp: $line"
    echo "$line" | field mb_per_s >>"$WORK/cpp"; echo "$line" | field digest >>"$WORK/digests"
    line=$($PY -m tripletstream.probe --servers=127.0.0.1:$SERVER_PORT --batch_size=$batch \
             --epochs="$EPOCHS" | tail -1)
    echo "probe batch=$batch rep=$rep python: $line"
    echo "$line" | field mb_per_s >>"$WORK/py"; echo "$line" | field digest >>"$WORK/digests"
  done
  c=$(median <"$WORK/cpp"); p=$(median <"$WORK/py")
  echo "RESULT probe batch=$batch cpp_mb_per_s=$c python_mb_per_s=$p ratio=$(ratio "$c" "$p")" \
       "cpp_runs=$(paste -sd/ "$WORK/cpp") python_runs=$(paste -sd/ "$WORK/py")" \
       "distinct_digests=$(sort -u "$WORK/digests" | wc -l)"
done
for threads in ${THREADS:-1 2}; do
  : >"$WORK/ex"; : >"$WORK/seed"; : >"$WORK/ex_stall"; : >"$WORK/seed_stall"
  for rep in $(seq 1 "$REPS"); do
    line=$($PY examples/pytorch_train.py --servers=127.0.0.1:$SERVER_PORT --steps=$((STEPS + 5)) \
             --warmup=5 --eval=0 --log_every=0 --torch_threads="$threads" | tail -1)
    echo "train threads=$threads rep=$rep example: $line"
    echo "$line" | field triplets_per_s >>"$WORK/ex"; echo "$line" | field data_stall_pct >>"$WORK/ex_stall"
    line=$($PY bench/seed_trainer.py --data="$DATA" --workers=1 --steps="$STEPS" --warmup=5 \
             --torch_threads="$threads" 2>/dev/null | tail -1)
    echo "train threads=$threads rep=$rep seed: $line"
    echo "$line" | field triplets_per_s >>"$WORK/seed"; echo "$line" | field data_stall_pct >>"$WORK/seed_stall"
  done
  s=$(median <"$WORK/seed"); e=$(median <"$WORK/ex")
  echo "RESULT train threads=$threads seed_triplets_per_s=$s example_triplets_per_s=$e" \
       "ratio=$(ratio "$s" "$e") seed_stall_pct=$(median <"$WORK/seed_stall")" \
       "example_stall_pct=$(median <"$WORK/ex_stall") seed_runs=$(paste -sd/ "$WORK/seed")" \
       "example_runs=$(paste -sd/ "$WORK/ex")"
done
stop_server || true
