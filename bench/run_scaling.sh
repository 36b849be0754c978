#!/usr/bin/env bash
# Delivery throughput against the number of data servers: N server
# processes (each --threads=1) on loopback ports, one probe pulling the same
# epochs sharded over all of them (i % N == k). Prints one key=value line per
# run and the stream digest, which must not change with N.
#
#   bench/run_scaling.sh [DATA_DIR] [MAX_SERVERS]   (defaults: ../shared/data/motionsense, 4)
#
# Capped mode (CPU_CAP=0.1): each server runs in its own cgroup with that
# CPU quota (cgroup v2 cpu.max or v1 cpu.cfs_quota_us, as root; skipped with
# a message where neither is writable), with augmentation on (SERVER_FLAGS,
# default --jitter=0.03 --scale=0.1 --shift=8) so the servers are CPU-bound,
# and the probe uncapped. Server counts are COUNTS (default "1 2 4 8"); each
# line adds the probe's CPU seconds, and a summary prints throughput,
# efficiency (throughput / (N x one server's)) and the probe's CPU per N; each
# run line also gives what the servers did with their quota (CPU used / (N x
# cap x seconds), CPU ms per batch, share of CFS periods throttled), which
# tells back-pressure (quota left unused) from a higher cost per batch.
# WEAK=1 scales the work with N (EPOCHS x N epochs for N servers), so every
# run lasts about as long as the one-server run and start-up, CFS period
# phase and the last shard's tail weigh the same at every N (steady state);
# without it the work is fixed and an 8-server run lasts 1/8 as long.
#   CPU_CAP=0.1 bench/run_scaling.sh ../shared/data/motionsense
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
MAX=${2:-4}
BIN=${BUILD_DIR:-build}/bin
REPS=${REPS:-3}
EPOCHS=${EPOCHS:-5}
CAP=${CPU_CAP:-}
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
source scripts/lib_server.sh
source scripts/lib_cgroup.sh
WORK=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  remove_cgroups ts_scaling_
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1e6}' /proc/meminfo)," \
     "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "data: $DATA"

if [[ -z "$CAP" ]]; then
  pids=(); addresses=()
  for n in $(seq 1 "$MAX"); do
    start_server "$WORK/server$n.log" --data="$DATA" --rotate=false --user_regex="$REGEX" --threads=1 \
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
  exit 0
fi

# ---- capped mode ---------------------------------------------------------
COUNTS=${COUNTS:-1 2 4 8}
FLAGS=(${SERVER_FLAGS:---jitter=0.03 --scale=0.1 --shift=8 --rotate=false})
probe_file=$(capped_cgroup ts_scaling_writable_check "$CAP")
if [[ -z "$probe_file" ]]; then
  echo "run_scaling: CPU_CAP needs a writable cgroup (v2 cpu.max or v1 cpu controller, as root); skipped" >&2
  exit 0
fi
echo "cap: $CAP CPU per server ($(dirname "$probe_file")), server flags: ${FLAGS[*]}," \
     "epochs: $EPOCHS$([[ "${WEAK:-0}" == 1 ]] && echo ' x servers')"
# Written once at full speed, then mapped by every capped server.
"$BIN/tripletstream-server" --data="$DATA" --user_regex="$REGEX" --cache_dir="$WORK/cache" \
  --dry_run >"$WORK/cache.log" 2>&1
max=0; for n in $COUNTS; do (( n > max )) && max=$n; done
addresses=(); server_pids=(); cgroup_dirs=()
for k in $(seq 1 "$max"); do
  procs=$(capped_cgroup "ts_scaling_server$k" "$CAP")
  cgroup_dirs+=("$(dirname "$procs")")
  : >"$WORK/server$k.log"
  run_capped "$procs" "$BIN/tripletstream-server" --port=0 \
    --data="$DATA" --user_regex="$REGEX" --cache_dir="$WORK/cache" --threads=1 \
    --stats_interval_s=0 "${FLAGS[@]}" >"$WORK/server$k.log" 2>&1 &
  server_pids+=("$!")
done
# CPU seconds (user + system, all threads) of the first N servers.
servers_cpu() {
  local total=0 pid
  for pid in "${server_pids[@]:0:$1}"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
# Sum of "KEY value" lines named KEY over the first N servers' cpu.stat.
throttle_stat() {
  local total=0 g
  for g in "${cgroup_dirs[@]:0:$1}"; do
    total=$((total + $(awk -v k="$2" '$1 == k { print $2 }' "$g/cpu.stat")))
  done
  echo "$total"
}
for k in $(seq 1 "$max"); do
  port=""
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*serving on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/server$k.log" | head -1)
    [[ -n "$port" ]] && break; sleep 0.1
  done
  [[ -n "$port" ]] || { echo "server $k did not start:" >&2; cat "$WORK/server$k.log" >&2; exit 1; }
  addresses+=("127.0.0.1:$port")
done
declare -A best cpu quota per_batch
for n in $COUNTS; do
  list=$(IFS=,; echo "${addresses[*]:0:$n}")
  epochs=$EPOCHS; [[ "${WEAK:-0}" == 1 ]] && epochs=$((EPOCHS * n))
  for i in $(seq 1 "$REPS"); do
    cpu0=$(servers_cpu "$n"); periods0=$(throttle_stat "$n" nr_periods)
    throttled0=$(throttle_stat "$n" nr_throttled)
    /usr/bin/time -f "probe_cpu_s=%U+%S" -o "$WORK/time.txt" "$BIN/tripletstream-probe" \
      --servers="$list" --batch_size=64 --info=false --epochs="$epochs" ${PROBE_FLAGS:-} \
      >"$WORK/probe.txt"
    line=$(tail -1 "$WORK/probe.txt")
    probe_cpu=$(awk -F'[=+]' '/probe_cpu_s/ { printf "%.2f", $2 + $3 }' "$WORK/time.txt")
    # What the servers did with their quota: CPU used / (N x cap x seconds),
    # CPU per batch, and the share of CFS periods in which they were throttled.
    servers_cpu_s=$(awk -v a="$cpu0" -v b="$(servers_cpu "$n")" 'BEGIN { printf "%.2f", b - a }')
    periods=$(( $(throttle_stat "$n" nr_periods) - periods0 ))
    throttled=$(( $(throttle_stat "$n" nr_throttled) - throttled0 ))
    extra=$(awk -v c="$servers_cpu_s" -v n="$n" -v cap="$CAP" -v p="$periods" -v t="$throttled" \
      -v s="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")" \
      -v b="$(sed -n 's/^batches=\([0-9]*\).*/\1/p' <<<"$line")" \
      'BEGIN { printf "servers_cpu_s=%.2f quota_used=%.2f server_cpu_ms_per_batch=%.3f throttled_periods=%.2f",
               c, c / (n * cap * s), 1000 * c / b, (p > 0 ? t / p : 0) }')
    echo "servers=$n run=$i $line probe_cpu_s=$probe_cpu $extra"
    rate=$(sed -n 's/.*triplets_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
    if [[ -z "${best[$n]:-}" ]] || awk -v a="$rate" -v b="${best[$n]}" 'BEGIN { exit !(a > b) }'; then
      best[$n]=$rate; cpu[$n]=$probe_cpu
      quota[$n]=$(sed -n 's/.*quota_used=\([0-9.]*\).*/\1/p' <<<"$extra")
      per_batch[$n]=$(sed -n 's/.*server_cpu_ms_per_batch=\([0-9.]*\).*/\1/p' <<<"$extra")
    fi
  done
done
first=${COUNTS%% *}
echo
echo "| servers (${CAP} CPU each) | triplets/s (best of $REPS) | efficiency | probe CPU s | servers' quota used | server CPU ms per batch |"
echo "|---|---|---|---|---|---|"
for n in $COUNTS; do
  awk -v n="$n" -v r="${best[$n]}" -v one="${best[$first]}" -v f="$first" -v c="${cpu[$n]}" \
    -v q="${quota[$n]}" -v m="${per_batch[$n]}" \
    'BEGIN { printf "| %d | %.0f | %.2f | %s | %s | %s |\n", n, r, r / (n / f * one), c, q, m }'
done
