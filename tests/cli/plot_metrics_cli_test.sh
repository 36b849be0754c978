#!/usr/bin/env bash
# scripts/plot_metrics.py on metrics shaped like the trainer's JSON lines:
# the progress, DET and fused-window PNGs are written and are PNGs; a
# malformed line is refused naming the file and line.
#   plot_metrics_cli_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
SRC=$2
PLOT=(/usr/bin/python3 "$SRC/scripts/plot_metrics.py")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$WORK/m.jsonl" <<'JSON'
{"step": 0, "eer_pct": 45.0, "top1_pct": 30.0, "val_eer_pct": 44.0, "open_set_fused": {"3": {"eer_pct": 44.0, "top1_pct": 31.0}, "5": {"eer_pct": 43.0, "top1_pct": 32.0}}, "det": [[1.0, 0.0], [0.5, 0.45], [0.0, 1.0]]}
{"step": 50, "epoch": 0, "loss": 0.4, "lr": 0.001, "triplets_per_s": 700, "data_stall_pct": 1.5}
{"step": 100, "epoch": 1, "loss": 0.2, "lr": 0.001, "triplets_per_s": 710, "data_stall_pct": 0.5}
{"step": 100, "eer_pct": 20.0, "top1_pct": 60.0, "val_eer_pct": 22.0, "open_set_fused": {"3": {"eer_pct": 12.0, "top1_pct": 70.0}, "5": {"eer_pct": 8.0, "top1_pct": 80.0}}, "det": [[1.0, 0.0], [0.2, 0.18], [0.01, 0.6], [0.0, 1.0]]}
JSON
"${PLOT[@]}" "$WORK/m.jsonl" "$WORK/progress.png" --det="$WORK/det.png" --fused="$WORK/fused.png" \
  >"$WORK/out.txt" 2>&1 || fail "plot_metrics exited non-zero: $(cat "$WORK/out.txt")"
for f in progress det fused; do
  [[ -s "$WORK/$f.png" ]] || fail "no $f.png"
  [[ "$(head -c 8 "$WORK/$f.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] ||
    fail "$f.png is not a PNG"
  grep -q "wrote $WORK/$f.png" "$WORK/out.txt" || fail "the path of $f.png is not printed"
done
echo "progress, DET and fused-window plots written"
# A broken line names its file and line.
printf '{"step": 1, "loss": 0.3}\n{"step": 2, "loss": \n' >"$WORK/bad.jsonl"
rc=0
"${PLOT[@]}" "$WORK/bad.jsonl" "$WORK/bad.png" >"$WORK/bad.txt" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a malformed line was accepted"
grep -q "bad.jsonl:2" "$WORK/bad.txt" || fail "no file:line in: $(cat "$WORK/bad.txt")"
# Asking for a DET plot of metrics without one is a clear error.
grep -v det "$WORK/m.jsonl" | sed 's/, "det": \[[^]]*\]\]//' >"$WORK/nodet.jsonl"
rc=0
"${PLOT[@]}" "$WORK/nodet.jsonl" "$WORK/p2.png" --det="$WORK/d2.png" >"$WORK/nodet.txt" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "no DET curve" "$WORK/nodet.txt" || fail "missing DET not reported: $(cat "$WORK/nodet.txt")"
echo "malformed metrics and a missing DET curve are refused clearly"
