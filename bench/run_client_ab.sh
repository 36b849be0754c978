#!/usr/bin/env bash
# A/B of two builds' clients against the same server, in one run: the probe's
# delivery (MB/s, digests verified, batch 64 and 256) and the trainer's
# steady-state triplets/s and data stall. Runs alternate A, B, A, B...;
# medians and B/A ratios are printed. Used to check that a client change
# costs nothing (docs/benchmarks.md, "Client library").
#   [REPS=5] [EPOCHS=3] [STEPS=60] [THREADS=2] \
#     bench/run_client_ab.sh OLD_BIN_DIR NEW_BIN_DIR [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1
B=$2
DATA=${3:-../shared/data/motionsense}
REPS=${REPS:-5}
EPOCHS=${EPOCHS:-3}
STEPS=${STEPS:-60}
THREADS=${THREADS:-2}
WARMUP=5
BIN=$B  # The server under test is B's.
source scripts/lib_server.sh
source bench/lib_bench.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "A=$A B=$B data=$DATA"
start_server "$WORK/server.log" --data="$DATA" --rotate=false --stats_interval_s=0 --threads=1 \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'

for batch in 64 256; do
  : >"$WORK/probe.A"; : >"$WORK/probe.B"
  for rep in $(seq 1 "$REPS"); do
    for side in A B; do
      dir=${!side}
      line=$("$dir/tripletstream-probe" --servers=127.0.0.1:$SERVER_PORT --batch_size=$batch \
               --info=false --epochs="$EPOCHS" | tail -1)
      echo "probe batch=$batch rep=$rep $side: $line"
      echo "$line" | field mb_per_s >>"$WORK/probe.$side"
      echo "$line" | field digest >>"$WORK/digest.$batch"
    done
  done
  a=$(median <"$WORK/probe.A"); b=$(median <"$WORK/probe.B")
  echo "RESULT probe batch=$batch A_mb_per_s=$a B_mb_per_s=$b ratio=$(ratio "$a" "$b")" \
       "A_runs=$(paste -sd/ "$WORK/probe.A") B_runs=$(paste -sd/ "$WORK/probe.B")" \
       "digests=$(sort -u "$WORK/digest.$batch" | wc -l)"
done

: >"$WORK/train.A"; : >"$WORK/train.B"; : >"$WORK/stall.A"; : >"$WORK/stall.B"
for rep in $(seq 1 "$REPS"); do
  for side in A B; do
    dir=${!side}
    rm -f "$WORK/metrics.jsonl"
    line=$("$dir/tripletstream-trainer" train --servers=127.0.0.1:$SERVER_PORT --device=cpu \
      --steps=$((STEPS + WARMUP)) --batch_size=64 --eval=false --log_every=$WARMUP \
      --metrics="$WORK/metrics.jsonl" --torch_threads="$THREADS" 2>/dev/null | tail -1)
    echo "trainer rep=$rep $side: $line"
    steady_rate "$WORK/metrics.jsonl" "$WARMUP" 64 \
      >>"$WORK/train.$side"
    echo "$line" | field data_stall_pct >>"$WORK/stall.$side"
  done
done
a=$(median <"$WORK/train.A"); b=$(median <"$WORK/train.B")
echo "RESULT trainer threads=$THREADS A_triplets_per_s=$a B_triplets_per_s=$b" \
     "ratio=$(ratio "$a" "$b") A_stall_pct=$(median <"$WORK/stall.A")" \
     "B_stall_pct=$(median <"$WORK/stall.B") A_runs=$(paste -sd/ "$WORK/train.A")" \
     "B_runs=$(paste -sd/ "$WORK/train.B")"
stop_server || true
