#!/usr/bin/env bash
# Delivery against the gRPC ceiling (issue 13): the probe pulls EPOCHS epochs
# from a real tripletstream-server, then the same from bench/ceiling_server
# (one pre-built batch of the same size, streamed with one write in flight),
# in the same run, for each batch size. Prints MB/s, the server's CPU seconds
# per GB delivered (from /proc/PID/stat) and the ratio to the ceiling.
#   [EPOCHS=10] [BATCHES="64 256"] [SERVER_FLAGS=...] bench/run_ceiling.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
BIN=${BUILD_DIR:-build}/bin
EPOCHS=${EPOCHS:-10}
BATCHES=${BATCHES:-64 256}
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
source scripts/lib_server.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICKS" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat"; }

start_server "$WORK/server.log" --data="$DATA" --rotate=false --user_regex="$REGEX" --stats_interval_s=0 \
  ${SERVER_FLAGS:-}
REAL_PID=$SERVER_PID; REAL_PORT=$SERVER_PORT
"$BIN/ceiling_server" --like="127.0.0.1:$REAL_PORT" >"$WORK/ceiling.log" 2>&1 &
CEIL_PID=$!
for _ in $(seq 1 100); do
  CEIL_PORT=$(sed -n 's/.*serving on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/ceiling.log")
  [[ -n "$CEIL_PORT" ]] && break; sleep 0.1
done
echo "# $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); $EPOCHS epochs per run; server flags: ${SERVER_FLAGS:-none}"
echo "| batch | server | MB/s | server CPU s per GB | ratio to ceiling |"
echo "|---|---|---|---|---|"
measure() {  # measure PID PORT BATCH -> "mb_per_s cpu_per_gb"
  local before after line mbps secs
  before=$(cpu_s "$1")
  line=$("$BIN/tripletstream-probe" --servers="127.0.0.1:$2" --batch_size="$3" --info=false \
           --epochs="$EPOCHS" | tail -1)
  after=$(cpu_s "$1")
  mbps=$(sed -n 's/.* mb_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
  secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
  awk -v m="$mbps" -v s="$secs" -v b="$before" -v a="$after" \
    'BEGIN { printf "%.0f %.3f", m, (a - b) / (m * s / 1000) }'
}
for b in $BATCHES; do
  measure "$REAL_PID" "$REAL_PORT" "$b" >/dev/null      # Warm both once.
  measure "$CEIL_PID" "$CEIL_PORT" "$b" >/dev/null
  read -r real_mb real_cpu <<<"$(measure "$REAL_PID" "$REAL_PORT" "$b")"
  read -r ceil_mb ceil_cpu <<<"$(measure "$CEIL_PID" "$CEIL_PORT" "$b")"
  echo "| $b | tripletstream | $real_mb | $real_cpu | $(awk -v r="$real_mb" -v c="$ceil_mb" 'BEGIN { printf "%.2f", r / c }') |"
  echo "| $b | ceiling | $ceil_mb | $ceil_cpu | 1 |"
done
kill -TERM "$CEIL_PID" "$REAL_PID"; wait 2>/dev/null || true
