#!/usr/bin/env bash
# The main job on the bundled sample: build, start two data servers on
# testdata/motionsense_sample, check with the probe that one epoch has the
# same digest from 1 and 2 servers, then train the TCN from both servers and
# print the evaluation (cross-session: trials 11-16 held out; open-set: 2
# users never trained on).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
BIN=${BUILD_DIR:-build}
BIN=$BIN/bin
source scripts/lib_server.sh
DATA=${DATA:-testdata/motionsense_sample}
LOGS=$(mktemp -d)
STEPS=${STEPS:-300}
SERVER_FLAGS=(--data="$DATA" --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
              --stats_interval_s=0 --threads=2 --stride=32 --split=0.6,0,0.4
              --holdout_sessions='.*_1[1-6]')

echo "== starting two data servers on $DATA"
start_server "$LOGS/server1.log" "${SERVER_FLAGS[@]}"; PID1=$SERVER_PID; PORT1=$SERVER_PORT
start_server "$LOGS/server2.log" "${SERVER_FLAGS[@]}"; PID2=$SERVER_PID; PORT2=$SERVER_PORT
trap 'kill $PID1 $PID2 2>/dev/null || true' EXIT
grep -E "ingest:|split |serving on" "$LOGS/server1.log" | sed 's/^[^]]*] /  /'

echo "== one epoch from one server"
"$BIN/tripletstream-probe" --servers=127.0.0.1:$PORT1 --batch_size=64 | tee "$LOGS/one.txt"
echo "== the same epoch sharded over two servers"
"$BIN/tripletstream-probe" --servers=127.0.0.1:$PORT1,127.0.0.1:$PORT2 --batch_size=64 \
  --info=false | tee "$LOGS/two.txt"
d1=$(tail -1 "$LOGS/one.txt" | sed 's/.*digest=//')
d2=$(tail -1 "$LOGS/two.txt" | sed 's/.*digest=//')
if [[ "$d1" != "$d2" ]]; then
  echo "stream digests differ: $d1 vs $d2" >&2
  exit 1
fi
echo "== same stream digest $d1 from 1 and 2 servers"

echo "== training $STEPS steps from both servers (CPU)"
"$BIN/tripletstream-trainer" train --servers=127.0.0.1:$PORT1,127.0.0.1:$PORT2 \
  --device=cpu --steps="$STEPS" --batch_size=32 --log_every=50 \
  --checkpoint_dir="$LOGS/checkpoint" --metrics="$LOGS/metrics.jsonl" \
  2> >(grep -E "TCN|eval|ERROR" | sed 's/^[^]]*] /  /' >&2) | tee "$LOGS/train.txt"
SERVER_PID=$PID1; stop_server
SERVER_PID=$PID2; stop_server
trap - EXIT
echo "== done; logs, metrics and checkpoint in $LOGS"
