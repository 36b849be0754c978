#!/usr/bin/env bash
# Two data server processes; one is frozen with SIGSTOP mid-epoch (alive,
# socket open, sending nothing). The trainer and the probe fail it over
# within --stall_timeout_s (plus the remaining work) and the batches they
# read are exactly the undisturbed epoch's. After SIGCONT the server serves
# again. A trainer waiting on frozen servers with no deadline still honours
# SIGTERM promptly.
# Usage: frozen_server_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; done
  kill -9 $(jobs -p) 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$SRC/tests/cli/cli_test_lib.sh"

SERVER_FLAGS=(--data="$SRC/testdata/motionsense_sample"
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
  --stride=4 --split=1,0,0 --stats_interval_s=0)
ports=()
for i in 0 1; do
  start_server "$WORK/server$i.log" "${SERVER_FLAGS[@]}" --threads=1 || exit 1
  pids+=("$SERVER_PID"); ports+=("$SERVER_PORT")
done
BOTH="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}"
B=8
STALL=2
digest() { sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }
ref=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[0]} --batch_size=$B \
        --info=false | tail -1) || fail "probe: $ref"
epoch=$(sed -n 's/^batches=\([0-9]*\) .*/\1/p' <<<"$ref")
[[ "$epoch" -ge 60 ]] || fail "epoch too short for a mid-epoch freeze: $ref"

# wait_for_steps PID LOG N: until the trainer's /metrics shows N steps.
wait_for_steps() {
  local port="" steps
  for _ in $(seq 1 600); do
    kill -0 "$1" 2>/dev/null || return 1
    [[ -n "$port" ]] || port=$(metrics_port_of "$2")
    if [[ -n "$port" ]]; then
      steps=$(curl -sf "http://127.0.0.1:$port/metrics" |
              sed -n 's/^tripletstream_trainer_steps \([0-9]*\)$/\1/p')
      [[ -n "$steps" && "$steps" -ge $3 ]] && return 0
    fi
    sleep 0.1
  done
  return 1
}

# 1. Trainer: server 1 frozen at step 3.
"$BIN/tripletstream-trainer" train --servers="$BOTH" --steps="$epoch" --batch_size=$B \
  --channels=8 --levels=2 --embedding=8 --eval=false --log_every=0 --prefetch=1 \
  --torch_threads=1 --metrics_port=-1 --stall_timeout_s=$STALL \
  >"$WORK/train.out" 2>"$WORK/train.log" &
TRAINER=$!
wait_for_steps $TRAINER "$WORK/train.log" 3 || fail "trainer never reached step 3"
kill -STOP "${pids[1]}"
frozen_at=$SECONDS
# Liveness bound: without a progress deadline the trainer waits forever.
for _ in $(seq 1 900); do kill -0 $TRAINER 2>/dev/null || break; sleep 0.1; done
if kill -0 $TRAINER 2>/dev/null; then
  fail "trainer still running 90 s after the freeze"
  kill -9 $TRAINER
fi
wait $TRAINER || fail "trainer failed: $(tail -5 "$WORK/train.log")"
echo "trainer finished $((SECONDS - frozen_at)) s after the freeze"
out=$(tail -1 "$WORK/train.out")
echo "trainer: $out"
grep -q "steps=$epoch " <<<"$out" || fail "trainer did not finish the epoch: $out"
[[ "$(digest "$out")" == "$(digest "$ref")" ]] ||
  fail "trained batches differ from the undisturbed epoch: $out / $ref"
grep -q "stall_timeout_s" "$WORK/train.log" ||
  fail "trainer log does not say the server stalled: $(grep -i shard "$WORK/train.log")"

# 2. Probe: both servers, server 1 (still frozen) times out at once; thawed
# and frozen again mid-read.
kill -CONT "${pids[1]}"
"$BIN/tripletstream-probe" --servers="$BOTH" --batch_size=$B --info=false \
  --read_delay_ms=20 --prefetch=1 --stall_timeout_s=$STALL >"$WORK/probe.out" 2>"$WORK/probe.log" &
PROBE=$!
sleep 0.5
kill -STOP "${pids[1]}"
for _ in $(seq 1 900); do kill -0 $PROBE 2>/dev/null || break; sleep 0.1; done
if kill -0 $PROBE 2>/dev/null; then fail "probe still running 90 s after the freeze"; kill -9 $PROBE; fi
wait $PROBE || fail "probe failed: $(tail -3 "$WORK/probe.log")"
pout=$(tail -1 "$WORK/probe.out")
echo "probe: $pout"
[[ "$(digest "$pout")" == "$(digest "$ref")" ]] || fail "probe digest differs: $pout / $ref"
[[ "$(field batches "x $pout")" -eq "$epoch" ]] || fail "probe read a different count: $pout"
[[ "$(field stalls "$pout")" -ge 1 ]] || fail "probe saw no stall: $pout"

# 3. After SIGCONT the frozen server serves again.
kill -CONT "${pids[1]}"
again=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[1]} --batch_size=$B \
          --info=false --stall_timeout_s=10 | tail -1) || fail "thawed server: $again"
[[ "$(digest "$again")" == "$(digest "$ref")" ]] || fail "thawed server digest: $again"

# 4. SIGTERM while every server is frozen and there is no deadline.
"$BIN/tripletstream-trainer" train --servers="$BOTH" --steps=100000 --batch_size=$B \
  --channels=8 --levels=2 --embedding=8 --eval=false --log_every=0 --prefetch=1 \
  --torch_threads=1 --metrics_port=-1 --stall_timeout_s=0 \
  >"$WORK/term.out" 2>"$WORK/term.log" &
TRAINER=$!
wait_for_steps $TRAINER "$WORK/term.log" 3 || fail "second trainer never reached step 3"
kill -STOP "${pids[0]}" "${pids[1]}"
sleep 1
kill -TERM $TRAINER
rc=0
for _ in $(seq 1 100); do kill -0 $TRAINER 2>/dev/null || break; sleep 0.1; done
if kill -0 $TRAINER 2>/dev/null; then fail "trainer ignored SIGTERM for 10 s"; kill -9 $TRAINER; fi
wait $TRAINER || rc=$?
[[ $rc -eq 143 ]] || fail "trainer exit code after SIGTERM: $rc (expected 143)"
grep -q "interrupted=1" "$WORK/term.out" || fail "no interrupted=1 line: $(cat "$WORK/term.out")"
kill -CONT "${pids[0]}" "${pids[1]}"
for i in 0 1; do
  kill -TERM "${pids[$i]}"; wait "${pids[$i]}" || fail "server $i exit code on SIGTERM"
done
finish "frozen-server"
