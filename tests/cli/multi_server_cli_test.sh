#!/usr/bin/env bash
# Three data server processes behind one name (a gRPC `ipv4:` address list),
# one trainer, one server killed (SIGKILL) mid-epoch: the trainer finishes
# the epoch, and the batches it trained on are exactly the epoch an
# undisturbed server streams (same chained digest as tripletstream-probe's).
# Also scrapes the trainer's /metrics while it runs.
# Usage: multi_server_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
source "$SRC/tests/cli/cli_test_lib.sh"

SERVER_FLAGS=(--data="$SRC/testdata/motionsense_sample"
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
  --stride=4 --split=1,0,0 --stats_interval_s=0)
pids=(); ports=()
for i in 0 1 2; do
  start_server "$WORK/server$i.log" "${SERVER_FLAGS[@]}" --threads=$((i + 1)) || exit 1
  pids+=("$SERVER_PID"); ports+=("$SERVER_PORT")
done
NAME="ipv4:127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
B=8
# The uninterrupted epoch, from server 0 alone.
ref=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[0]} --batch_size=$B \
        --batches=0 --info=false | tail -1) || fail "probe: $ref"
digest() { sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
epoch=$(sed -n 's/^batches=\([0-9]*\) .*/\1/p' <<<"$ref")
[[ "$epoch" -ge 60 ]] || fail "epoch too short for a mid-epoch kill: $ref"

"$BIN/tripletstream-trainer" train --servers="$NAME" --steps="$epoch" --batch_size=$B \
  --channels=8 --levels=2 --embedding=8 --eval=false --log_every=0 --prefetch=1 \
  --torch_threads=1 --metrics_port=-1 >"$WORK/train.out" 2>"$WORK/train.log" &
TRAINER=$!
# Kill server 1 once the trainer has taken a few steps (read off /metrics).
metrics_port=""
killed=0
for _ in $(seq 1 600); do
  kill -0 $TRAINER 2>/dev/null || break
  [[ -n "$metrics_port" ]] || metrics_port=$(metrics_port_of "$WORK/train.log")
  if [[ -n "$metrics_port" ]]; then
    steps=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" |
            sed -n 's/^tripletstream_trainer_steps \([0-9]*\)$/\1/p')
    if [[ -n "$steps" && "$steps" -ge 3 ]]; then
      kill -9 "${pids[1]}"; killed=1
      echo "killed server 1 (port ${ports[1]}) at trainer step $steps of $epoch"
      break
    fi
  fi
  sleep 0.1
done
[[ $killed -eq 1 ]] || fail "trainer ended or never reported steps before the kill"
wait $TRAINER || fail "trainer failed after the kill: $(tail -5 "$WORK/train.log")"
out=$(tail -1 "$WORK/train.out")
echo "trainer: $out"
grep -q "steps=$epoch " <<<"$out" || fail "trainer did not finish the epoch: $out"
[[ "$(digest "$out")" == "$(digest "$ref")" ]] ||
  fail "trained batches differ from the undisturbed epoch: $out / $ref"
# Each server's share is counted; when server 1 died before handing over
# its whole shard (the usual case), the others re-served the rest.
per=$(sed -n 's/.*per_server=\([0-9/]*\).*/\1/p' <<<"$out")
reconnects=$(sed -n 's/.*reconnects=\([0-9]*\).*/\1/p' <<<"$out")
IFS=/ read -r n0 n1 n2 <<<"$per"
shard1=$(( (epoch - 1 - 1) / 3 + 1 ))
if [[ "$reconnects" -eq 0 && "$n1" -ne "$shard1" ]]; then
  fail "no failover yet server 1 sent $n1 of its $shard1 batches: $out"
fi
[[ $((n0 + n1 + n2)) -eq $epoch ]] || fail "received $per, epoch is $epoch"
for i in 0 2; do
  kill -TERM "${pids[$i]}"; wait "${pids[$i]}" || fail "server $i exit code on SIGTERM"
done
finish "multi-server"
