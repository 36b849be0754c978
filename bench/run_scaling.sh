#!/usr/bin/env bash
# Delivery throughput against the number of data servers: N server
# processes (each --threads=1) on loopback ports, one probe pulling the same
# epochs sharded over all of them (i % N == k). Prints one key=value line per
# run and the stream digest, which must not change with N.
#
#   bench/run_scaling.sh [DATA_DIR] [MAX_SERVERS]   (defaults: ../shared/data/motionsense, 4)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
MAX=${2:-4}
BIN=${BUILD_DIR:-build}/bin
REPS=${REPS:-3}
EPOCHS=${EPOCHS:-5}
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
source scripts/lib_server.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo)," \
     "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "data: $DATA"
pids=(); addresses=()
for n in $(seq 1 "$MAX"); do
  start_server "$WORK/server$n.log" --data="$DATA" --user_regex="$REGEX" --threads=1 \
    --stats_interval_s=0 --ingest_threads=1
  pids+=("$SERVER_PID"); addresses+=("127.0.0.1:$SERVER_PORT")
  list=$(IFS=,; echo "${addresses[*]}")
  for i in $(seq 1 "$REPS"); do
    line=$("$BIN/tripletstream-probe" --servers="$list" --batch_size=64 --info=false \
             --epochs="$EPOCHS" | tail -1)
    echo "servers=$n run=$i $line"
  done
done
for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
