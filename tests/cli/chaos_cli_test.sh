#!/usr/bin/env bash
# Chaos: three data server processes and one trainer running three epochs
# while a seeded schedule kills (SIGKILL), freezes (SIGSTOP), thaws (SIGCONT)
# and restarts servers (on their old port, so the trainer's fixed address
# list reaches them again). At least one server is alive and unfrozen at every
# moment. The trainer finishes every step, and the batches it trained on are
# exactly those of an undisturbed run (same chained digest).
#
# The reference is an undisturbed trainer run on one server, not
# `tripletstream-probe --epochs=3`: over several epochs the probe chains one
# digest per epoch (digest of digests) while the trainer chains every batch,
# so the two agree for one epoch only (probe/stream_probe.cc,
# trainer/training.cc). The probe's one-epoch digest is checked against
# every server after the chaos.
#
# Each event fires once the trainer has reached the event's step (read off
# its /metrics), so a seed gives the same events at the same points of the
# stream, or later: the thaw or kill of a frozen server waits until it has
# been frozen for --stall_timeout_s + 1 s (the client can have a few MB of a
# frozen server's batches in flight, so a shorter freeze may pass
# unnoticed). Each freeze that bites holds the trainer for about
# --stall_timeout_s, which paces the run. Liveness bounds only; no timing is
# asserted.
# Usage: chaos_cli_test.sh BIN_DIR SOURCE_DIR [SEED]
set -uo pipefail
BIN=$1
SRC=$2
SEED=${3:-42}
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do [[ -n "$p" ]] && kill -CONT "$p" 2>/dev/null; done
  kill -9 $(jobs -p) 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
source "$SRC/tests/cli/cli_test_lib.sh"

SERVER_FLAGS=(--data="$SRC/testdata/motionsense_sample"
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
  --stride=4 --split=1,0,0 --stats_interval_s=0 --threads=1)
TRAIN_FLAGS=(--batch_size=8 --channels=8 --levels=2 --embedding=8 --eval=false
  --log_every=0 --prefetch=1 --torch_threads=1 --stall_timeout_s=2)
STALL=2
EPOCHS=3
EVENTS=12
LIMIT_S=120  # liveness bound on the disturbed trainer
N=3
ports=(); state=()
for i in $(seq 0 $((N - 1))); do
  : >"$WORK/server$i.log"
  start_server "$WORK/server$i.log" "${SERVER_FLAGS[@]}" || exit 1
  pids+=("$SERVER_PID"); ports+=("$SERVER_PORT"); state+=(up)
done
ALL="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
digest() { sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"; }

# The undisturbed stream, from server 0 before any chaos: one epoch (probe)
# and the whole run (trainer).
ref1=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[0]} --batch_size=8 \
         --info=false | tail -1) || fail "probe: $ref1"
epoch=$(field batches "$ref1")
[[ "$epoch" -ge 60 ]] || { fail "epoch too short for a chaos schedule: $ref1"; finish chaos; }
STEPS=$((EPOCHS * epoch))
ref=$("$BIN/tripletstream-trainer" train --servers=127.0.0.1:${ports[0]} --steps=$STEPS \
        "${TRAIN_FLAGS[@]}" 2>"$WORK/ref.log" | tail -1) ||
  fail "undisturbed trainer: $(tail -3 "$WORK/ref.log")"
echo "undisturbed: $ref"
[[ "$(field steps "$ref")" -eq $STEPS ]] || fail "undisturbed trainer: $ref"

# The schedule: EVENTS events at seeded steps spread over the first two and
# a half epochs. The first three are a freeze of a seeded server X, a kill of
# a seeded other server Y and Y's restart (so every run has all three); each
# later one picks a seeded server and an action its state allows (up: freeze
# or kill, unless it is the last one up; frozen: thaw, or kill; down:
# restart).
RANDOM=$SEED
lo=$((epoch / 10)); hi=$((epoch * 5 / 2))
gap=$(((hi - lo) / EVENTS))
x=$((RANDOM % N)); y=$(((x + 1 + RANDOM % (N - 1)) % N))
plan_action=(freeze kill restart); plan_server=("$x" "$y" "$y")
sim=("${state[@]}"); sim[x]=frozen
n_up() { local n=0 s; for s in "$@"; do [[ $s == up ]] && n=$((n + 1)); done; echo $n; }
for j in $(seq 3 $((EVENTS - 1))); do
  while :; do
    i=$((RANDOM % N))
    case ${sim[i]} in
      up) [[ $(n_up "${sim[@]}") -ge 2 ]] || continue
          if ((RANDOM % 2)); then a=freeze; sim[i]=frozen; else a=kill; sim[i]=down; fi ;;
      frozen) if ((RANDOM % 3)); then a=thaw; sim[i]=up; else a=kill; sim[i]=down; fi ;;
      down) a=restart; sim[i]=up ;;
    esac
    break
  done
  plan_action+=("$a"); plan_server+=("$i")
done
plan_step=()
for j in $(seq 0 $((EVENTS - 1))); do plan_step+=($((lo + j * gap + RANDOM % (gap / 2 + 1)))); done
echo "seed $SEED: epoch $epoch batches, $STEPS steps; schedule (step: action server):"
for j in $(seq 0 $((EVENTS - 1))); do
  echo "  ${plan_step[j]}: ${plan_action[j]} ${plan_server[j]}"
done

# restart I: a new server process on server I's old port (retried while the
# port is still held), its log in serverI.rN.log.
restarts=0
restart() {
  local i=$1 log
  restarts=$((restarts + 1))
  log="$WORK/server$i.r$restarts.log"
  for _ in $(seq 1 50); do
    : >"$log"
    if start_server "$log" "${SERVER_FLAGS[@]}" --port="${ports[i]}" 2>/dev/null; then
      [[ "$SERVER_PORT" == "${ports[i]}" ]] || { fail "restarted server $i on $SERVER_PORT"; return 1; }
      pids[i]=$SERVER_PID
      return 0
    fi
    sleep 0.2
  done
  fail "server $i could not listen on port ${ports[i]} again: $(tail -3 "$log")"
  return 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

: >"$WORK/train.log"
"$BIN/tripletstream-trainer" train --servers="$ALL" --steps=$STEPS "${TRAIN_FLAGS[@]}" \
  --metrics_port=-1 >"$WORK/train.out" 2>"$WORK/train.log" &
TRAINER=$!
start=$(now_ms)
elapsed() { awk -v ms=$(($(now_ms) - start)) 'BEGIN {printf "%.1f", ms / 1000}'; }
metrics_port=""
j=0
frozen_at=(0 0 0)
declare -A fired=([freeze]=0 [thaw]=0 [kill]=0 [restart]=0)
while kill -0 $TRAINER 2>/dev/null; do
  if [[ $(($(now_ms) - start)) -ge $((LIMIT_S * 1000)) ]]; then
    fail "trainer still running $LIMIT_S s after its start (liveness bound)"
    kill -9 $TRAINER
    break
  fi
  [[ -n "$metrics_port" ]] || metrics_port=$(metrics_port_of "$WORK/train.log")
  if [[ $j -lt $EVENTS && -n "$metrics_port" ]]; then
    i=${plan_server[j]}; a=${plan_action[j]}
    due=0
    [[ ${state[i]} == frozen ]] && due=$((frozen_at[i] + (STALL + 1) * 1000))
    steps=$(curl -sf --max-time 2 "http://127.0.0.1:$metrics_port/metrics" |
            sed -n 's/^tripletstream_trainer_steps \([0-9]*\)$/\1/p')
    if [[ -n "$steps" && "$steps" -ge ${plan_step[j]} && $(now_ms) -ge $due ]]; then
      case $a in
        freeze) kill -STOP "${pids[i]}"; state[i]=frozen; frozen_at[i]=$(now_ms) ;;
        thaw) kill -CONT "${pids[i]}"; state[i]=up ;;
        kill) kill -9 "${pids[i]}"; wait "${pids[i]}" 2>/dev/null; pids[i]=""; state[i]=down ;;
        restart) restart "$i" || break; state[i]=up ;;
      esac
      fired[$a]=$((fired[$a] + 1))
      echo "t=$(elapsed)s step $steps (epoch $((steps / epoch))): $a server $i" \
           "(port ${ports[i]}) -> ${state[*]}"
      [[ $(n_up "${state[@]}") -ge 1 ]] || fail "no server up after event $j"
      j=$((j + 1))
      continue
    fi
  fi
  sleep 0.05
done
# The trainer has ended (or the schedule was cut short): thaw and bring back
# every server.
for i in $(seq 0 $((N - 1))); do
  case ${state[i]} in
    frozen) kill -CONT "${pids[i]}"; state[i]=up ;;
    down) restart "$i" && state[i]=up ;;
  esac
done
for _ in $(seq 1 $((LIMIT_S * 10))); do kill -0 $TRAINER 2>/dev/null || break; sleep 0.1; done
if kill -0 $TRAINER 2>/dev/null; then fail "trainer still running"; kill -9 $TRAINER; fi
rc=0
wait $TRAINER || rc=$?
echo "trainer ended after $(elapsed) s with exit code $rc; $j of $EVENTS events fired" \
     "(freeze ${fired[freeze]}, thaw ${fired[thaw]}, kill ${fired[kill]}," \
     "restart ${fired[restart]}); $(grep -c 're-requesting' "$WORK/train.log") shard" \
     "failovers logged, $(grep -c 'stall_timeout_s' "$WORK/train.log") of them stalls"
[[ $rc -eq 0 ]] || fail "trainer failed: $(tail -5 "$WORK/train.log")"
out=$(tail -1 "$WORK/train.out")
echo "trainer: $out"
[[ "$(field steps "$out")" -eq $STEPS ]] || fail "trainer did not finish $STEPS steps: $out"
[[ -n "$(digest "$out")" && "$(digest "$out")" == "$(digest "$ref")" ]] ||
  fail "trained batches differ from the undisturbed run: $out / $ref"
per=$(sed -n 's/.*per_server=\([0-9/]*\).*/\1/p' <<<"$out")
[[ -n "$per" && $((${per//\// + })) -eq $STEPS ]] || fail "received $per, expected $STEPS in all"
# The schedule must have disturbed the run: its first events fire in the
# first epoch, long before the trainer can end.
for a in freeze kill restart; do
  [[ ${fired[$a]} -ge 1 ]] || fail "no $a fired before the trainer ended (seed $SEED)"
done
[[ "$(field reconnects "$out")" -ge 1 ]] || fail "chaos but no reconnects: $out"

# Every server, thawed or restarted, serves the undisturbed epoch again and
# exits cleanly on SIGTERM.
for i in $(seq 0 $((N - 1))); do
  again=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[i]} --batch_size=8 \
            --info=false --stall_timeout_s=10 | tail -1) || fail "server $i after the chaos: $again"
  [[ "$(digest "$again")" == "$(digest "$ref1")" ]] || fail "server $i digest: $again / $ref1"
done
for i in $(seq 0 $((N - 1))); do
  kill -TERM "${pids[i]}"; wait "${pids[i]}" || fail "server $i exit code on SIGTERM"
  pids[i]=""
done
finish "chaos"
