#!/usr/bin/env bash
# Trains with default flags on the proxy of bench/make_defaults_proxy.py,
# only the layout and the user split given (users 1-8 test, 9-11
# validation, 12-24 train), for 5 minutes, and prints the result line.
#   bench/run_defaults_proxy.sh NAME ["SERVER FLAGS"] ["TRAINER FLAGS"] [DATA_DIR]
set -u
cd "$(dirname "$0")/.."
source scripts/lib_server.sh
BIN=${BUILD_DIR:-build}/bin
NAME=$1; SERVER_FLAGS=(${2:-}); TRAIN_FLAGS=(${3:---minutes=5}); DATA=${4:-/tmp/defaults_proxy}
LOGS=/tmp/defaults_proxy_runs/$NAME; mkdir -p "$LOGS"
start_server "$LOGS/server.log" --data="$DATA" --user_regex='(?P<user>user\d+)/(?P<session>r\d)\.csv' \
  --test_users='user0[1-8]' --val_users='user(09|10|11)' --stats_interval_s=0 "${SERVER_FLAGS[@]}"
"$BIN/tripletstream-trainer" train --servers=127.0.0.1:$SERVER_PORT "${TRAIN_FLAGS[@]}" \
  --metrics="$LOGS/metrics.jsonl" >"$LOGS/result.txt" 2>"$LOGS/train.log"
stop_server
tail -1 "$LOGS/result.txt"
