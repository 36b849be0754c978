#!/usr/bin/env bash
# The main job on the bundled sample: build, start two data servers on
# testdata/motionsense_demo, check with the probe that one epoch has the
# same digest from 1 and 2 servers, then train the TCN from both servers and
# show that it learned: on the four users it never trained on (open-set:
# templates from their first trial of each moving activity, probes from the
# second), the trained model's EER must beat the untrained model's by at
# least DEMO_MARGIN points (default 10). The sample (testdata/motionsense_demo,
# made by testdata/make_demo_sample.py) holds 12 users x 4 activities x 2
# trials of 14 s; DATA=... serves another folder of the same layout.
# Plots (loss and EER over steps, DET curve, EER against fused windows) go
# to DEMO_OUT (default demo_output/), and their paths are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
BIN=${BUILD_DIR:-build}
BIN=$BIN/bin
source scripts/lib_server.sh
DATA=${DATA:-testdata/motionsense_demo}
LOGS=$(mktemp -d)
STEPS=${STEPS:-400}
MARGIN=${DEMO_MARGIN:-10}
OUT_DIR=${DEMO_OUT:-demo_output}
scripts/install_deps.sh --demo
# Users 9-12 are never trained on (open-set); the others train on their
# first trial of each activity and are probed with the second (cross-session).
SERVER_FLAGS=(--data="$DATA" --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
              --stats_interval_s=0 --threads=2 --stride=32 --test_users='9|1[0-2]'
              --split=1,0,0 --holdout_sessions='wlk_15|jog_16|ups_4|dws_2')
TRAIN_FLAGS=(--enroll_sessions='wlk_7|jog_9|ups_3|dws_1' --session_groups='([a-z]+)_.*')

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
rm -f "$LOGS/metrics.jsonl"
"$BIN/tripletstream-trainer" train --servers=127.0.0.1:$PORT1,127.0.0.1:$PORT2 \
  --device=cpu --steps="$STEPS" --batch_size=32 --log_every=50 --eval_every=50 "${TRAIN_FLAGS[@]}" \
  --checkpoint_dir="$LOGS/checkpoint" --metrics="$LOGS/metrics.jsonl" \
  2> >(grep -E "TCN|eval step [0-9]+ [a-z-]+:|ERROR" | sed 's/^[^]]*] /  /' >&2) | tee "$LOGS/train.txt"
result=$(tail -1 "$LOGS/train.txt")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
before=$(field initial_eer_pct)
after=$(field eer_pct)
echo "== users never trained on (open-set), one window per probe: EER ${before}% untrained," \
  "${after}% trained; enrolled users' other trials (cross-session): EER $(field cross_eer_pct)%"
if ! awk -v b="$before" -v a="$after" -v m="$MARGIN" 'BEGIN { exit !(a >= 0 && a <= b - m) }'; then
  echo "run_demo: the trained model does not beat the untrained one by ${MARGIN} EER points" >&2
  exit 1
fi
echo "== learned: ${after}% <= ${before}% - ${MARGIN} points"
mkdir -p "$OUT_DIR"
/usr/bin/python3 scripts/plot_metrics.py "$LOGS/metrics.jsonl" "$OUT_DIR/progress.png" \
  --det="$OUT_DIR/det.png" --fused="$OUT_DIR/fused_windows.png" | sed 's/^/  /'
SERVER_PID=$PID1; stop_server
SERVER_PID=$PID2; stop_server
trap - EXIT
echo "== done; logs, metrics and checkpoint in $LOGS"
