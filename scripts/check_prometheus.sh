#!/usr/bin/env bash
# Runs a real Prometheus server (Debian's `prometheus` package) against a
# data server and a trainer on loopback and checks, through Prometheus's own
# HTTP API, that it scrapes both /metrics endpoints and stores their series.
# Usage: scripts/check_prometheus.sh [BIN_DIR]   (default build/bin)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/bin}
PROMETHEUS=$(command -v prometheus || true)
if [[ -z "$PROMETHEUS" ]]; then
  echo "prometheus is not installed: run scripts/install_deps.sh --test as root" >&2
  exit 1
fi
PY=/usr/bin/python3
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

start_server "$WORK/server.log" --data="$SRC/testdata/motionsense_sample" \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' \
  --split=1,0,0 --metrics_port=-1 --host=127.0.0.1
SERVER_METRICS=$(metrics_port_of "$WORK/server.log")
"$BIN/tripletstream-trainer" train --servers=127.0.0.1:$SERVER_PORT --steps=100000 \
  --minutes=2 --batch_size=16 --channels=8 --levels=2 --eval=false --log_every=0 \
  --metrics_port=-1 --metrics_host=127.0.0.1 >"$WORK/train.out" 2>"$WORK/train.log" &
TRAINER_METRICS=""
for _ in $(seq 1 300); do
  TRAINER_METRICS=$(metrics_port_of "$WORK/train.log")
  [[ -n "$TRAINER_METRICS" ]] && break
  sleep 0.1
done
[[ -n "$TRAINER_METRICS" && -n "$SERVER_METRICS" ]] || {
  echo "no metrics endpoint logged" >&2; cat "$WORK/server.log" "$WORK/train.log" >&2; exit 1; }

PROM_PORT=$(free_port)
cat >"$WORK/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tripletstream-server
    static_configs: [{targets: ['127.0.0.1:$SERVER_METRICS']}]
  - job_name: tripletstream-trainer
    static_configs: [{targets: ['127.0.0.1:$TRAINER_METRICS']}]
YAML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address=127.0.0.1:$PROM_PORT >"$WORK/prometheus.log" 2>&1 &
echo "prometheus $("$PROMETHEUS" --version 2>&1 | head -1 | awk '{print $3}') on :$PROM_PORT" \
     "scraping server :$SERVER_METRICS and trainer :$TRAINER_METRICS"

ok=0
for _ in $(seq 1 60); do
  up=$(prometheus_query "$PROM_PORT" 'sum(up{job=~"tripletstream-.*"})')
  steps=$(prometheus_query "$PROM_PORT" 'tripletstream_trainer_steps')
  sent=$(prometheus_query "$PROM_PORT" 'tripletstream_server_batches_sent_total')
  if [[ "$up" == "2" && -n "$steps" && -n "$sent" ]] &&
     $PY -c "import sys; sys.exit(0 if float('$steps') > 0 and float('$sent') > 0 else 1)"; then
    ok=1
    break
  fi
  sleep 1
done
if [[ $ok -ne 1 ]]; then
  echo "FAIL: Prometheus did not scrape both targets (up=$up steps=$steps sent=$sent)" >&2
  curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/targets" >&2 || true
  tail -20 "$WORK/prometheus.log" >&2
  exit 1
fi
rate=$(prometheus_query "$PROM_PORT" 'tripletstream_server_triplets_per_second')
stall=$(prometheus_query "$PROM_PORT" 'tripletstream_trainer_data_stall_ratio')
echo "prometheus scraped both targets: up=$up trainer_steps=$steps server_batches_sent=$sent" \
     "server_triplets_per_s=${rate:-n/a} trainer_data_stall_ratio=${stall:-n/a}"
