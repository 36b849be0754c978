#!/usr/bin/env bash
# Autoscaling on the trainer's input wait, end to end on one machine (issue
# 13): Debian's Prometheus scrapes a trainer reading from a server list file;
# this script plays the autoscaler: every second it reads the trainer's
# input-wait share through Prometheus's HTTP API (the query the
# prometheus-adapter rule of deploy/k8s/components/stall-autoscaling runs)
# and, while it is above 0.2, starts another data server (up to 3) and adds
# it to the file. Servers are CPU-capped in their own cgroups so that one
# server cannot keep up with the trainer.
# Checks: the controller scaled up on the metric, every server delivered
# batches (the trainer re-resolves the file every second), and the batches
# trained are exactly those of the same run against one static server
# (digest). Prints the input-wait share over time.
# Exit 77 (skipped) where no cgroup is writable.
#   scripts/check_stall_autoscaling.sh [BIN_DIR]
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/bin}
PROMETHEUS=$(command -v prometheus || true)
[[ -n "$PROMETHEUS" ]] || { echo "prometheus is not installed: scripts/install_deps.sh --test" >&2; exit 1; }
source "$SRC/scripts/lib_server.sh"
source "$SRC/scripts/lib_cgroup.sh"
WORK=$(mktemp -d)
CAP=${CPU_CAP:-0.02}
cleanup() {
  kill $(jobs -p) 2>/dev/null; wait 2>/dev/null
  remove_cgroups ts_autoscale_
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[[ -n "$(capped_cgroup ts_autoscale_check "$CAP")" ]] || {
  echo "SKIPPED: no writable cgroup to cap the servers (needs root and a cpu controller)"; exit 77; }

DATA="$SRC/testdata/motionsense_demo"
SERVER_FLAGS=(--data="$DATA" --rotate=false --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
  --split=1,0,0 --stride=16 --threads=1 --stats_interval_s=0 --host=127.0.0.1
  --jitter=0.05 --scale=0.1 --shift=8 --time_warp=0.2 --cache_dir="$WORK/cache")
TRAIN_FLAGS=(--steps=${STEPS:-2000} --batch_size=64 --channels=8 --levels=2 --embedding=16
  --eval=false --log_every=0 --torch_threads=1 --checkpoint_every=0)

# capped_server K: starts server K in its own capped cgroup; sets PORT_K.
capped_server() {
  local k=$1 procs log="$WORK/server$1.log" port=""
  procs=$(capped_cgroup "ts_autoscale_server$k" "$CAP")
  : >"$log"
  run_capped "$procs" "$BIN/tripletstream-server" --port=0 \
    "${SERVER_FLAGS[@]}" >"$log" 2>&1 &
  for _ in $(seq 1 600); do
    port=$(sed -n 's/.*serving on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [[ -n "$port" ]] && break; sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$log" >&2; fail "server $k did not start"; }
  eval "PORT_$k=$port"
}

# Reference: the same steps from one static, uncapped server.
start_server "$WORK/reference.log" "${SERVER_FLAGS[@]}" || fail "reference server"
"$BIN/tripletstream-trainer" train --servers=127.0.0.1:$SERVER_PORT "${TRAIN_FLAGS[@]}" \
  >"$WORK/reference.out" 2>"$WORK/reference.train.log" || fail "reference run: $(tail -3 "$WORK/reference.train.log")"
stop_server
reference=$(tail -1 "$WORK/reference.out" | sed -n 's/.* digest=\([0-9a-f]*\).*/\1/p')

capped_server 1
echo "127.0.0.1:$PORT_1" >"$WORK/servers"
: >"$WORK/train.log"
"$BIN/tripletstream-trainer" train --servers="file:$WORK/servers" --resolve_interval_s=1 \
  "${TRAIN_FLAGS[@]}" --metrics_port=-1 --metrics_host=127.0.0.1 \
  >"$WORK/train.out" 2>"$WORK/train.log" &
TRAINER=$!
TRAINER_METRICS=""
for _ in $(seq 1 300); do
  TRAINER_METRICS=$(metrics_port_of "$WORK/train.log")
  [[ -n "$TRAINER_METRICS" ]] && break; sleep 0.1
done
[[ -n "$TRAINER_METRICS" ]] || fail "the trainer logged no metrics endpoint: $(tail -3 "$WORK/train.log")"
PROM_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: tripletstream-trainer
    static_configs: [{targets: ['127.0.0.1:$TRAINER_METRICS']}]
YAML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:$PROM_PORT >"$WORK/prometheus.log" 2>&1 &
# The adapter rule's query, over a window short enough for this test.
SHARE='sum(rate(tripletstream_trainer_input_wait_seconds_total[5s])) / clamp_min(sum(rate(tripletstream_trainer_step_seconds_total[5s])), 1e-9)'
servers=1; last_scale=$SECONDS; timeline=()
while kill -0 "$TRAINER" 2>/dev/null; do
  sleep 1
  share=$(prometheus_query "$PROM_PORT" "$SHARE")
  [[ -n "$share" && "$share" != NaN ]] || continue
  timeline+=("$(printf '%ds:%d:%.2f' $((SECONDS)) "$servers" "$share")")
  if (( servers < 3 && SECONDS - last_scale >= 4 )) &&
     awk -v s="$share" 'BEGIN { exit !(s > 0.2) }'; then
    servers=$((servers + 1))
    capped_server "$servers"
    echo "127.0.0.1:$(eval echo "\$PORT_$servers")" >>"$WORK/servers"
    echo "input-wait share $share > 0.2: started server $servers"
    last_scale=$SECONDS
  fi
done
wait "$TRAINER" || fail "autoscaled run: $(tail -3 "$WORK/train.log")"
echo "input-wait share over time (seconds:servers:share): ${timeline[*]}"
result=$(tail -1 "$WORK/train.out")
got=$(sed -n 's/.* digest=\([0-9a-f]*\).*/\1/p' <<<"$result")
per_server=$(sed -n 's/.* per_server=\([0-9/]*\).*/\1/p' <<<"$result")
echo "trainer: per_server=$per_server digest=$got (one static server: $reference)"
# At least one scale-up (how far the stall falls with 2 servers depends on
# the machine's speed; the timeline above shows it), and every started
# server delivered a share.
[[ $servers -ge 2 ]] || fail "the controller never scaled up (input wait stayed below 0.2)"
[[ "$per_server" =~ ^[1-9][0-9]*(/[1-9][0-9]*)+$ && $(tr '/' '\n' <<<"$per_server" | wc -l) -eq $servers ]] ||
  fail "not every started server delivered batches: per_server=$per_server for $servers servers"
# The new list is taken in within an epoch or at its end, whichever comes
# first (this sample's epochs last well under a second).
grep -qE "servers changed within epoch|servers from epoch" "$WORK/train.log" ||
  fail "the trainer never took in the new servers"
[[ -n "$reference" && "$got" == "$reference" ]] ||
  fail "batches trained differ from the static run: $got vs $reference"
echo "scaled 1 -> $servers on the trainer's input wait; exactly the same batches trained"
