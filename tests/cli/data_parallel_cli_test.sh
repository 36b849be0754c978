#!/usr/bin/env bash
# Data-parallel trainer ranks (Gloo over loopback) against two data servers:
#  1. 3 ranks train one epoch while a server is killed mid-epoch; the union
#     of their batches (union_digest=) is the epoch one trainer would see.
#  2. 2 ranks stopped after some steps and resumed end with the checkpoint
#     an uninterrupted 2-rank run writes (same file digest); resuming with
#     another world size is refused (exit 2).
#  3. A rank killed with SIGKILL ends the other rank (non-zero) within the
#     collective timeout plus a bound.
# Usage: data_parallel_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
source "$SRC/tests/cli/cli_test_lib.sh"
export GLOO_SOCKET_IFNAME=lo

SERVER_FLAGS=(--data="$SRC/testdata/motionsense_sample"
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
  --stride=4 --split=1,0,0 --stats_interval_s=0)
pids=(); ports=()
for i in 0 1; do
  start_server "$WORK/server$i.log" "${SERVER_FLAGS[@]}" || exit 1
  pids+=("$SERVER_PID"); ports+=("$SERVER_PORT")
done
SERVERS="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}"
# Small batches: an epoch of ~1,500 batches (~500 steps per rank) leaves
# time to kill a server mid-epoch however fast the machine is.
B=2
ref=$("$BIN/tripletstream-probe" --servers=127.0.0.1:${ports[0]} --batch_size=$B \
        --batches=0 --info=false | tail -1) || fail "probe: $ref"
epoch=$(sed -n 's/^batches=\([0-9]*\) .*/\1/p' <<<"$ref")
ref_digest=$(sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<<"$ref")
[[ "$epoch" -ge 30 ]] || fail "epoch too short: $ref"

TRAIN_FLAGS=(--batch_size=$B --channels=8 --levels=2 --embedding=8 --dropout=0 --eval=false
  --log_every=0 --prefetch=1 --torch_threads=1 --collective_timeout_s=20)

# run_ranks WORLD OUT_PREFIX ARGS...: starts WORLD ranks in the background,
# sets RANK_PIDS.
run_ranks() {
  local world=$1 prefix=$2
  shift 2
  local port
  port=$(free_port)
  RANK_PIDS=()
  for ((r = 0; r < world; r++)); do
    RANK=$r WORLD_SIZE=$world MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$BIN/tripletstream-trainer" train "${TRAIN_FLAGS[@]}" "$@" \
      >"$prefix.rank$r.out" 2>"$prefix.rank$r.log" &
    RANK_PIDS+=($!)
  done
}
field() { sed -n "s/\(^\|.* \)$1=\([^ ]*\).*/\2/p" <<<"$2"; }

# --- 1. three ranks, one epoch, a server killed mid-epoch ------------------
W=3
steps=$(((epoch + W - 1) / W))
run_ranks $W "$WORK/e" --servers="$SERVERS" --steps=$steps --metrics_port=-1
killed=0
for _ in $(seq 1 600); do
  kill -0 "${RANK_PIDS[0]}" 2>/dev/null || break
  mp=$(metrics_port_of "$WORK/e.rank0.log")
  if [[ -n "$mp" ]]; then
    s=$(curl -sf "http://127.0.0.1:$mp/metrics" | sed -n 's/^tripletstream_trainer_steps{rank="0"} \([0-9]*\)$/\1/p')
    if [[ -n "$s" && "$s" -ge 2 ]]; then
      kill -9 "${pids[1]}"; killed=1
      echo "killed server 1 at rank 0's step $s of $steps"
      break
    fi
  fi
  sleep 0.05
done
[[ $killed -eq 1 ]] || fail "rank 0 ended or never reported steps before the kill: $(tail -3 "$WORK/e.rank0.log")"
for r in 0 1 2; do
  wait "${RANK_PIDS[$r]}" || fail "rank $r failed: $(tail -5 "$WORK/e.rank$r.log")"
  out=$(tail -1 "$WORK/e.rank$r.out")
  echo "rank $r: $out"
  [[ "$(field steps "$out")" == "$steps" ]] || fail "rank $r took $(field steps "$out") steps, not $steps"
  [[ "$(field union_digest "$out")" == "$ref_digest" ]] ||
    fail "rank $r: union of the ranks' batches $(field union_digest "$out") is not the epoch $ref_digest"
done
echo "3 ranks: union of the trained batches = the single-trainer epoch ($ref_digest), server killed"

# --- 2. resume with two ranks ----------------------------------------------
# Server 1 is gone; the rest uses server 0.
SERVERS="127.0.0.1:${ports[0]}"
B=8
TRAIN_FLAGS=(--batch_size=$B --channels=8 --levels=2 --embedding=8 --dropout=0 --eval=false
  --log_every=0 --prefetch=1 --torch_threads=1 --collective_timeout_s=20)
STEPS=24
run_ranks 2 "$WORK/full" --servers="$SERVERS" --steps=$STEPS --checkpoint_dir="$WORK/full_ckpt"
for r in 0 1; do wait "${RANK_PIDS[$r]}" || fail "uninterrupted rank $r: $(tail -5 "$WORK/full.rank$r.log")"; done
run_ranks 2 "$WORK/part" --servers="$SERVERS" --steps=$STEPS --checkpoint_dir="$WORK/ckpt" --stop_after=10
for r in 0 1; do wait "${RANK_PIDS[$r]}" || fail "first half rank $r: $(tail -5 "$WORK/part.rank$r.log")"; done

run_ranks 2 "$WORK/rest" --servers="$SERVERS" --steps=$STEPS --checkpoint_dir="$WORK/ckpt" --resume
for r in 0 1; do wait "${RANK_PIDS[$r]}" || fail "resumed rank $r: $(tail -5 "$WORK/rest.rank$r.log")"; done
grep -q "resumed .* at step 10" "$WORK/rest.rank1.log" || fail "rank 1 did not resume from rank 0's checkpoint: $(grep -i resum "$WORK/rest.rank1.log")"
# Same weights: the two checkpoints embed a recording identically.
csv=$(find "$SRC/testdata/motionsense_sample" -name '*.csv' | sort | head -1)
for c in full_ckpt ckpt; do
  "$BIN/tripletstream-trainer" embed --checkpoint="$WORK/$c/checkpoint.pt" --input="$csv" \
    --output="$WORK/$c.emb" 2>>"$WORK/embed.log" || fail "embed with $c: $(tail -3 "$WORK/embed.log")"
done
cmp -s "$WORK/full_ckpt.emb" "$WORK/ckpt.emb" ||
  fail "stopped + resumed 2-rank run ends with other weights than the uninterrupted one"
echo "2 ranks: stopped at 10 and resumed = uninterrupted (identical embeddings)"
# Another world size cannot continue that position.
run_ranks 3 "$WORK/w3" --servers="$SERVERS" --steps=$STEPS --checkpoint_dir="$WORK/ckpt" --resume
rc=0; wait "${RANK_PIDS[0]}" || rc=$?
[[ $rc -eq 2 ]] || fail "resume with world size 3 of a 2-rank checkpoint: exit $rc, want 2"
grep -q "written by 2 trainer rank" "$WORK/w3.rank0.out" "$WORK/w3.rank0.log" ||
  fail "no clear message for the world size: $(tail -3 "$WORK/w3.rank0.log")"
for r in 1 2; do wait "${RANK_PIDS[$r]}" 2>/dev/null; done
echo "world size 3 on a 2-rank checkpoint: refused (exit 2)"
# NCCL on this CPU build: a clear refusal before anything starts.
rc=0; "$BIN/tripletstream-trainer" train --servers="$SERVERS" --world_size=2 --rank=0 \
  --collective_backend=nccl >"$WORK/nccl.out" 2>&1 || rc=$?
if [[ $rc -eq 2 ]]; then
  grep -q "without NCCL\|needs --device=cuda" "$WORK/nccl.out" ||
    fail "--collective_backend=nccl: no clear message: $(tail -2 "$WORK/nccl.out")"
  echo "--collective_backend=nccl without NCCL or CUDA: refused (exit 2)"
else
  fail "--collective_backend=nccl on a CPU device: exit $rc, want 2"
fi

# --- 3. a rank killed ------------------------------------------------------
TIMEOUT=10
TRAIN_FLAGS+=(--collective_timeout_s=$TIMEOUT)
run_ranks 2 "$WORK/k" --servers="$SERVERS" --steps=100000 --metrics_port=-1
for _ in $(seq 1 600); do
  mp=$(metrics_port_of "$WORK/k.rank0.log")
  if [[ -n "$mp" ]]; then
    s=$(curl -sf "http://127.0.0.1:$mp/metrics" | sed -n 's/^tripletstream_trainer_steps{rank="0"} \([0-9]*\)$/\1/p')
    [[ -n "$s" && "$s" -ge 3 ]] && break
  fi
  sleep 0.05
done
kill -9 "${RANK_PIDS[1]}"
start=$SECONDS
rc=0
# The bound: the collective timeout plus 30 s of slack for a loaded machine.
for _ in $(seq 1 $(((TIMEOUT + 30) * 10))); do
  kill -0 "${RANK_PIDS[0]}" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "${RANK_PIDS[0]}" 2>/dev/null; then
  fail "rank 0 still running $((SECONDS - start)) s after rank 1 was killed"
fi
wait "${RANK_PIDS[0]}" || rc=$?
[[ $rc -ne 0 ]] || fail "rank 0 exited 0 after rank 1 was killed"
echo "rank 1 SIGKILLed: rank 0 exited $rc after $((SECONDS - start)) s: $(grep -o 'all-reduce failed[^(]*' "$WORK/k.rank0.out" "$WORK/k.rank0.log" | head -1)"
finish "data-parallel"
