#!/usr/bin/env bash
# One trainer rank against two (Gloo over loopback), one data server, same
# global batch (B for one rank, B/2 for each of two ranks), same TCN, in one
# run: steps/s, triplets/s over all ranks, data stall and all-reduce share.
# On this 2-core machine two ranks share the cores one rank uses, so this
# measures the overhead of data parallelism, not its speed-up; that needs
# more cores or GPUs (bench/gpu_check.sh).
#   [REPS=3] [STEPS=200] [B=64] bench/run_data_parallel.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
REPS=${REPS:-3}
STEPS=${STEPS:-200}
B=${B:-64}
BIN=${BUILD_DIR:-build}/bin
source scripts/lib_server.sh
source bench/lib_bench.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export GLOO_SOCKET_IFNAME=lo

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
start_server "$WORK/server.log" --data="$DATA" --rotate=false --stats_interval_s=0 --threads=1 \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
FLAGS=(--servers="127.0.0.1:$SERVER_PORT" --steps="$STEPS" --eval=false --log_every=0
  --channels=32 --levels=4 --embedding=64)

for rep in $(seq 1 "$REPS"); do
  start=$(date +%s.%N)
  out=$("$BIN/tripletstream-trainer" train "${FLAGS[@]}" --batch_size="$B" --torch_threads=2 2>/dev/null | tail -1)
  end=$(date +%s.%N)
  echo "1 rank  B=$B: $(awk -v s="$start" -v e="$end" -v n="$STEPS" 'BEGIN {printf "%.1f", n / (e - s)}') steps/s (wall)," \
    "stall $(field data_stall_pct <<<"$out")%"
  echo "$STEPS $start $end" >>"$WORK/one"
  p=$(free_port)
  start=$(date +%s.%N)
  ranks=()
  for r in 0 1; do
    RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$p \
      "$BIN/tripletstream-trainer" train "${FLAGS[@]}" --batch_size=$((B / 2)) --torch_threads=1 \
      >"$WORK/rank$r.out" 2>/dev/null &
    ranks+=($!)
  done
  wait "${ranks[@]}"
  end=$(date +%s.%N)
  r0=$(tail -1 "$WORK/rank0.out")
  echo "2 ranks B=$((B / 2)) each: $(awk -v s="$start" -v e="$end" -v n="$STEPS" 'BEGIN {printf "%.1f", n / (e - s)}') steps/s (wall)," \
    "stall $(field data_stall_pct <<<"$r0")%, all-reduce $(field allreduce_pct <<<"$r0")%" \
    "(rank 1: $(field allreduce_pct < <(tail -1 "$WORK/rank1.out"))%)"
  echo "$STEPS $start $end" >>"$WORK/two"
done
rate() { awk '{print $1 / ($3 - $2)}' "$1" | median; }
one=$(rate "$WORK/one"); two=$(rate "$WORK/two")
echo "median steps/s: 1 rank $one, 2 ranks $two (ratio $(ratio "$one" "$two")); each step trains $B triplets in both"
