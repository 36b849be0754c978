#!/usr/bin/env bash
# The trainer as users run it: clear errors for bad commands, flags and
# unreachable servers; a short run against a real server prints its result
# line and leaves a checkpoint that --resume continues from.
# Usage: trainer_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
source "$SRC/tests/cli/cli_test_lib.sh"
T="$BIN/tripletstream-trainer"
expect_error "no command" "expected a command" "$T"
expect_error "bad command" "got 'fly'" "$T" fly
expect_error "bad loss" "--loss" "$T" train --loss=hinge
expect_error "bad steps" "--steps" "$T" train --steps=-1
# Numbers that would abort LibTorch or train a NaN model are refused up front.
for flag in --lr=-1 --lr=inf --weight_decay=-1 --margin=nan --softmax_scale=nan \
            --dropout=1 --stall_timeout_s=-1; do
  expect_error "bad $flag" "${flag%%=*}" "$T" train "$flag"
  [[ $LAST_RC -eq 2 ]] || fail "$flag: exit code $LAST_RC, expected 2 (not retryable)"
done
expect_error "unreachable" "127.0.0.1:1" "$T" train --servers=127.0.0.1:1
[[ $LAST_RC -eq 1 ]] || fail "unreachable: exit code $LAST_RC, expected 1 (retryable)"

start_server "$WORK/server.log" --data="$SRC/testdata/motionsense_sample" \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' \
  --stride=64 --holdout_sessions='.*_1[1-6]' --split=1,0,0 || exit 1
expect_error "no cuda" "--device=cuda" "$T" train --servers=127.0.0.1:$SERVER_PORT --device=cuda
expect_error "levels past the window" "--levels=40" "$T" train --servers=127.0.0.1:$SERVER_PORT \
  --levels=40
[[ $LAST_RC -eq 2 ]] || fail "--levels=40: exit code $LAST_RC, expected 2"
touch "$WORK/a_file"
expect_error "unwritable checkpoint dir" "$WORK/a_file/ckpt" "$T" train \
  --servers=127.0.0.1:$SERVER_PORT --checkpoint_dir="$WORK/a_file/ckpt" --eval=false
[[ $LAST_RC -eq 2 ]] || fail "unwritable --checkpoint_dir: exit code $LAST_RC, expected 2"
FLAGS=(--servers=127.0.0.1:$SERVER_PORT --steps=6 --batch_size=8 --channels=8 --levels=2
       --log_every=3 --eval=false --checkpoint_dir="$WORK/ckpt")
out=$("$T" train "${FLAGS[@]}" --stop_after=3 2>"$WORK/t1.log") || fail "first run: $(cat "$WORK/t1.log")"
grep -q "steps=3 " <<<"$out" || fail "first run did not stop at 3: $out"
[[ -f "$WORK/ckpt/checkpoint.pt" ]] || fail "no checkpoint written"
out=$("$T" train "${FLAGS[@]}" --resume 2>"$WORK/t2.log") || fail "resume: $(cat "$WORK/t2.log")"
grep -q "resumed" "$WORK/t2.log" || fail "no resume log line"
for key in steps=6 triplets_per_s= data_stall_pct= eer_pct= top1_pct=; do
  grep -q "$key" <<<"$out" || fail "result line lacks $key: $out"
done
expect_error "other model" "has model" "$T" train "${FLAGS[@]}" --resume --channels=16
[[ $LAST_RC -eq 2 ]] || fail "other model: exit code $LAST_RC, expected 2 (not retryable)"
# Damaged bytes (in a copy): the previous checkpoint is used; with both damaged, exit 2.
[[ -f "$WORK/ckpt/checkpoint.pt.digest" && -f "$WORK/ckpt/checkpoint.prev.pt" ]] ||
  fail "no digest file or previous checkpoint beside checkpoint.pt"
cp -r "$WORK/ckpt" "$WORK/damaged"
flip() { printf '\x55' | dd of="$1" bs=1 seek=$(( $(stat -c %s "$1") / 2 )) conv=notrunc 2>/dev/null; }
flip "$WORK/damaged/checkpoint.pt"
"$T" train "${FLAGS[@]}" --checkpoint_dir="$WORK/damaged" --resume >/dev/null 2>"$WORK/t3.log" ||
  fail "resume from the previous checkpoint: $(tail -3 "$WORK/t3.log")"
grep -q "previous checkpoint" "$WORK/t3.log" || fail "no warning about the damaged checkpoint"
flip "$WORK/damaged/checkpoint.pt"
flip "$WORK/damaged/checkpoint.prev.pt"
expect_error "damaged checkpoints" "damaged" "$T" train "${FLAGS[@]}" \
  --checkpoint_dir="$WORK/damaged" --resume
[[ $LAST_RC -eq 2 ]] || fail "damaged checkpoints: exit code $LAST_RC, expected 2"

# SIGTERM mid-run: checkpoint at the current step, exit 143 (not success, so
# a Kubernetes Job restarts the pod), and --resume goes on from there.
"$T" train --servers=127.0.0.1:$SERVER_PORT --steps=100000 --batch_size=8 --channels=8 \
  --levels=2 --log_every=1 --eval=false --checkpoint_dir="$WORK/sig" >"$WORK/sig.out" \
  2>"$WORK/sig.log" &
TRAINER=$!
for _ in $(seq 1 300); do
  grep -q "step 3/" "$WORK/sig.out" 2>/dev/null && break
  sleep 0.1
done
kill -TERM $TRAINER
rc=0; wait $TRAINER || rc=$?
[[ $rc -eq 143 ]] || fail "SIGTERM: exit code $rc, expected 143: $(tail -3 "$WORK/sig.log")"
grep -q "interrupted=1" "$WORK/sig.out" || fail "SIGTERM: no interrupted=1 line"
stopped=$(sed -n 's/^steps=\([0-9]*\) .*/\1/p' "$WORK/sig.out")
[[ -n "$stopped" && "$stopped" -ge 3 && -f "$WORK/sig/checkpoint.pt" ]] ||
  fail "SIGTERM: no checkpoint at the stop step: $(tail -2 "$WORK/sig.out")"
out=$("$T" train --servers=127.0.0.1:$SERVER_PORT --steps=$((stopped + 2)) --batch_size=8 \
        --channels=8 --levels=2 --eval=false --checkpoint_dir="$WORK/sig" --resume 2>&1 | tail -1)
grep -q "steps=$((stopped + 2)) " <<<"$out" || fail "resume after SIGTERM: $out"

# embed / enroll / verify on raw CSVs with the checkpoint's preprocessing.
S="$SRC/testdata/motionsense_sample/A_DeviceMotion_data"
C="$WORK/ckpt/checkpoint.pt"
"$T" embed --checkpoint="$C" --input="$S/wlk_7/sub_1.csv" --output="$WORK/emb.csv" 2>/dev/null \
  || fail "embed"
[[ $(wc -l <"$WORK/emb.csv") -eq 3 ]] || fail "embed: expected 3 windows, got $(wc -l <"$WORK/emb.csv")"
out=$("$T" enroll --checkpoint="$C" --input="$S/wlk_7/sub_1.csv,$S/wlk_8/sub_1.csv" --user=u1 \
        --template_file="$WORK/u1.tpl" 2>&1) || fail "enroll: $out"
out=$("$T" verify --checkpoint="$C" --input="$S/wlk_7/sub_1.csv" --template_file="$WORK/u1.tpl" \
        --threshold=0.5 2>&1) || fail "verify: $out"
grep -q "decision=accept" <<<"$out" || fail "an enrolled file is not accepted: $out"
grep -q "group=\* " <<<"$out" || fail "verify without --group uses the pooled template: $out"
# Per-group templates in the same file: one enroll per group, verify by group.
out=$("$T" enroll --checkpoint="$C" --input="$S/wlk_7/sub_1.csv" --user=u1 --group=walking \
        --template_file="$WORK/u1.tpl" 2>&1) || fail "enroll --group: $out"
grep -q "group=walking " <<<"$out" || fail "enroll --group: $out"
grep -q "^walking " "$WORK/u1.tpl" && grep -q '^\* ' "$WORK/u1.tpl" ||
  fail "the template file lacks the pooled or the walking template: $(cut -c1-40 "$WORK/u1.tpl")"
out=$("$T" verify --checkpoint="$C" --input="$S/wlk_7/sub_1.csv" --template_file="$WORK/u1.tpl" \
        --group=walking --threshold=0.9 2>&1) || fail "verify --group: $out"
grep -q "group=walking .*decision=accept" <<<"$out" ||
  fail "a file is not accepted by its own group template: $out"
expect_error "verify unknown group" "walking" "$T" verify --checkpoint="$C" \
  --input="$S/wlk_7/sub_1.csv" --template_file="$WORK/u1.tpl" --group=cycling
expect_error "enroll another user into the file" "holds the templates of u1" "$T" enroll \
  --checkpoint="$C" --input="$S/wlk_7/sub_1.csv" --user=u2 --template_file="$WORK/u1.tpl"
expect_error "verify missing file" "nope.csv" "$T" verify --checkpoint="$C" \
  --input="$WORK/nope.csv" --template_file="$WORK/u1.tpl"
expect_error "enroll without template" "--template_file" "$T" enroll --checkpoint="$C" \
  --input="$S/wlk_7/sub_1.csv" --user=u1
# A run evaluated with --session_groups stores an EER threshold per group;
# verify --group accepts at its group's, verify without one at the pooled one.
"$T" train --servers=127.0.0.1:$SERVER_PORT --steps=4 --batch_size=8 --channels=8 --levels=2 \
  --session_groups='([a-z]+)_.*' --checkpoint_dir="$WORK/grp" >/dev/null 2>"$WORK/grp.log" ||
  fail "train with --session_groups: $(tail -3 "$WORK/grp.log")"
G="$WORK/grp/checkpoint.pt"
for group in "" wlk; do
  "$T" enroll --checkpoint="$G" --input="$S/wlk_7/sub_1.csv" --user=u1 --group="$group" \
    --template_file="$WORK/g1.tpl" >/dev/null 2>&1 || fail "enroll --group=$group"
done
out=$("$T" verify --checkpoint="$G" --input="$S/wlk_8/sub_1.csv" --template_file="$WORK/g1.tpl" \
        --group=wlk 2>&1) || fail "verify --group=wlk: $out"
grep -q "group=wlk .*threshold_from=group " <<<"$out" || fail "no per-group threshold: $out"
out=$("$T" verify --checkpoint="$G" --input="$S/wlk_8/sub_1.csv" --template_file="$WORK/g1.tpl" \
        2>&1) || fail "verify (pooled): $out"
grep -q "threshold_from=pooled " <<<"$out" || fail "verify without --group: $out"
SERVER_PID=$SERVER_PID; stop_server || fail "server exit code on SIGTERM"

# Derived channels: a server serving triad magnitudes instead of the axes; the
# checkpoint's channel list is enough for embed to compute them from raw CSVs.
start_server "$WORK/derived.log" --data="$SRC/testdata/motionsense_sample" \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' \
  --stride=64 --split=1,0,0 --magnitudes --magnitude_sums='userAcceleration+gravity' \
  --keep_axes=false || exit 1
grep -q 'channels (7): attitude.roll,attitude.pitch,attitude.yaw,|gravity|,|rotationRate|,|userAcceleration|,|userAcceleration+gravity|' \
  "$WORK/derived.log" || fail "derived channels not in the startup log: $(grep channels "$WORK/derived.log")"
"$T" train --servers=127.0.0.1:$SERVER_PORT --steps=5 --channels=8 --levels=2 --embedding=8 \
  --eval=false --log_every=0 --checkpoint_dir="$WORK/dckpt" >/dev/null 2>&1 || fail "train on derived channels"
"$T" embed --checkpoint="$WORK/dckpt/checkpoint.pt" --input="$S/wlk_7/sub_1.csv" \
  --output="$WORK/demb.csv" 2>/dev/null || fail "embed with derived channels"
[[ $(wc -l <"$WORK/demb.csv") -eq 3 ]] || fail "embed (derived): expected 3 windows"
stop_server || fail "derived server exit code on SIGTERM"
# The gravity frame: the triad that carries gravity is picked from the data,
# and every triad becomes its vertical component and horizontal magnitude;
# verify recomputes them from raw CSV columns.
start_server "$WORK/gravity.log" --data="$SRC/testdata/motionsense_sample" \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' \
  --stride=64 --split=1,0,0 --gravity_frame=on --window=100 || exit 1
grep -q 'vertical from the mean of gravity over 100 rows' "$WORK/gravity.log" ||
  fail "gravity triad not in the startup log: $(grep -i gravity "$WORK/gravity.log")"
grep -q 'channels (9): attitude.roll,attitude.pitch,attitude.yaw,vertical(gravity;gravity,100),horizontal(gravity;gravity,100),vertical(rotationRate;gravity,100)' \
  "$WORK/gravity.log" || fail "gravity-frame channels: $(grep channels "$WORK/gravity.log")"
"$T" train --servers=127.0.0.1:$SERVER_PORT --steps=5 --channels=8 --levels=2 --embedding=8 \
  --eval=false --log_every=0 --checkpoint_dir="$WORK/gckpt" >/dev/null 2>&1 || fail "train in the gravity frame"
"$T" enroll --checkpoint="$WORK/gckpt/checkpoint.pt" --input="$S/wlk_7/sub_1.csv" --user=u1 \
  --template_file="$WORK/gtemplates.csv" >/dev/null 2>&1 || fail "enroll in the gravity frame"
out=$("$T" verify --checkpoint="$WORK/gckpt/checkpoint.pt" --input="$S/wlk_7/sub_1.csv" \
        --template_file="$WORK/gtemplates.csv" --threshold=0.5 2>&1) || fail "verify (gravity): $out"
grep -q "decision=accept" <<<"$out" || fail "verify in the gravity frame: $out"
stop_server || fail "gravity-frame server exit code on SIGTERM"
expect_error "gravity frame without gravity" "no triad carries gravity" "$BIN/tripletstream-server" \
  --data="$SRC/testdata/motionsense_sample" --dry_run --gravity_frame=on \
  --columns=rotationRate.x,rotationRate.y,rotationRate.z \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
expect_error "bad --gravity_frame" "--gravity_frame must be auto, on or off" \
  "$BIN/tripletstream-server" --data="$SRC/testdata/motionsense_sample" --gravity_frame=yes
# Model selection on validation users: every --eval_every evaluation scores
# them, the best weights are kept (best.pt) and the result line names the step.
start_server "$WORK/val.log" --data="$SRC/testdata/motionsense_sample" \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' \
  --stride=32 --split=0.5,0.25,0.25 || exit 1
out=$("$T" train --servers=127.0.0.1:$SERVER_PORT --steps=40 --eval_every=20 --channels=8 \
        --levels=2 --embedding=8 --log_every=0 --checkpoint_dir="$WORK/sel" 2>/dev/null | tail -1)
grep -qE "selected_step=(20|40) selected_val_eer_pct=[0-9.]+ last_eer_pct=" <<<"$out" ||
  fail "no model selection in: $out"
[[ -f "$WORK/sel/best.pt" && -f "$WORK/sel/best.pt.digest" ]] || fail "no best.pt"
stop_server || fail "validation server exit code on SIGTERM"
expect_error "unknown triad" "no triad 'magnetometer'" "$BIN/tripletstream-server" \
  --data="$SRC/testdata/motionsense_sample" --dry_run --magnitude_sums=gravity+magnetometer \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
out=$("$BIN/tripletstream-server" --data="$SRC/testdata/motionsense_sample" --dry_run --rotate \
        --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' 2>&1) ||
  fail "--rotate dry run: $out"
grep -q "turns gravity, rotationRate, userAcceleration by one random rotation" <<<"$out" ||
  fail "--rotate does not say which triads turn: $(grep -i rotate <<<"$out")"
# Rotation is on by default; data without triads is served unturned.
out=$("$BIN/tripletstream-server" --data="$SRC/testdata/motionsense_sample" --dry_run --magnitudes \
        --keep_axes=false --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' 2>&1) ||
  fail "default rotation without triads: $out"
grep -q "no sensor triads (x/y/z channels) among the channels .*, so windows are not turned" <<<"$out" ||
  fail "default rotation without triads is not logged: $(grep -i rotat <<<"$out")"
expect_error "bad --rotate_max_deg" "--rotate_max_deg must be in (0, 180]" \
  "$BIN/tripletstream-server" --data="$SRC/testdata/motionsense_sample" --rotate_max_deg=0
expect_error "keep_axes alone" "--keep_axes=false needs" "$BIN/tripletstream-server" \
  --data="$SRC/testdata/motionsense_sample" --keep_axes=false
finish "trainer CLI"
