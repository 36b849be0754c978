#!/usr/bin/env bash
# Soak: one data server (--threads=1) and CLIENTS concurrent tripletstream-probe
# loops connecting and disconnecting for DURATION seconds. Each client session
# is, seeded per client: whole epochs (--epochs=1..3), a clean disconnect
# mid-epoch (--batches=N), a kill mid-stream (SIGKILL or SIGTERM), or a
# frozen reader (SIGSTOP: the server blocks on flow control) killed after a
# while; batch sizes 16/64/128 and a P x K mode, --read_delay_ms 2..20.
# Every INTERVAL seconds the server's RSS (VmRSS), thread count (Threads) and
# open file descriptors (/proc/PID/fd), and its open streams, producer threads
# and reserved batch bytes (/metrics), go to OUT.csv. At the end: min, max,
# first and last of each, and a verdict whether RSS, threads and fds stay flat
# after the warm-up; OUT.png with the curves if /usr/bin/python3 has
# matplotlib. Everything printed also goes to OUT.txt.
#   [DURATION=1800] [CLIENTS=8] [INTERVAL=10] [WARMUP=120] [SEED=1]
#   [OUT=bench/results/DATE_soak] [BIN=build/bin] bench/run_soak.sh [DATA_DIR]
# Flat means: the median of the last quarter of the samples after WARMUP is
# at most the median of the first quarter plus a tolerance, and the largest
# sample of the second half at most the largest of the first half plus the
# tolerance (RSS: 10% or 16 MiB, whichever is more; threads: 4; fds: 8).
# Threads and fds move with the streams open at the moment of a sample, so
# single samples are not compared.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/motionsense}
DURATION=${DURATION:-1800}
CLIENTS=${CLIENTS:-8}
INTERVAL=${INTERVAL:-10}
WARMUP=${WARMUP:-120}
SEED=${SEED:-1}
OUT=${OUT:-bench/results/$(date +%F)_soak}
BIN=${BIN:-build/bin}
[[ $WARMUP -lt $((DURATION / 2)) ]] || WARMUP=$((DURATION / 5))
source scripts/lib_server.sh
WORK=$(mktemp -d)
mkdir -p "$(dirname "$OUT")"
exec > >(tee "$OUT.txt") 2>&1
client_pids=()
cleanup() {
  # Clients first (each kills its probe, frozen or not), then the server.
  for p in "${client_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${client_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "soak: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "data=$DATA duration=${DURATION}s clients=$CLIENTS interval=${INTERVAL}s warmup=${WARMUP}s" \
     "seed=$SEED nice=$(nice) out=$OUT.{csv,txt,png}"
: >"$WORK/server.log"
start_server "$WORK/server.log" --data="$DATA" --stats_interval_s=0 --threads=1 \
  --metrics_port=-1 --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
SERVER=127.0.0.1:$SERVER_PORT
PID=$SERVER_PID
metrics_port=$(metrics_port_of "$WORK/server.log")
echo "server pid $PID on $SERVER, metrics on $metrics_port"
grep -E "split train|fingerprint" "$WORK/server.log" | sed 's/^[^]]*] /  /'

END=$((SECONDS + DURATION))
# client C: sessions until END, one line each in C.sessions: "kind rc".
# Every probe runs in the background and is waited for, so a SIGTERM to the
# client (cleanup) kills the probe at once, frozen or not.
client() {
  set +e
  local c=$1 kind rc p="" bs mode delay
  trap '[[ -n "$p" ]] && { kill -CONT "$p"; kill -KILL "$p"; } 2>/dev/null; exit 0' TERM
  RANDOM=$((SEED * 1000 + c))
  while [[ $SECONDS -lt $END ]]; do
    bs=(16 64 64 128); bs=${bs[RANDOM % 4]}
    delay=(2 5 10 20); delay=${delay[RANDOM % 4]}
    mode=(--batch_size=$bs); ((RANDOM % 5)) || mode=(--mode=pk --p=8 --k=4)
    local probe=("$BIN/tripletstream-probe" --servers="$SERVER" --info=false
                 --read_delay_ms=$delay --stall_timeout_s=60 "${mode[@]}")
    rc=0
    case $((RANDOM % 4)) in
      0) kind=epochs; "${probe[@]}" --epochs=$((1 + RANDOM % 3)) >/dev/null 2>"$WORK/$c.err" &
         p=$! ;;
      # At most 100: an epoch at batch 128 is 121 batches of the full data,
      # and the probe fails a --batches past the epoch's end.
      1) kind=batches; "${probe[@]}" --batches=$((1 + RANDOM % 100)) >/dev/null 2>"$WORK/$c.err" &
         p=$! ;;
      2) kind=killed; "${probe[@]}" --epochs=100 >/dev/null 2>&1 &
         p=$!
         sleep "0.$((1 + RANDOM % 9))$((RANDOM % 10))"
         if ((RANDOM % 2)); then kill -KILL "$p"; else kill -TERM "$p"; fi 2>/dev/null ;;
      3) kind=frozen; "${probe[@]}" --epochs=100 >/dev/null 2>&1 &
         p=$!
         sleep "0.$((RANDOM % 10))"
         kill -STOP "$p" 2>/dev/null
         sleep "$((RANDOM % 3)).$((RANDOM % 10))"
         kill -KILL "$p" 2>/dev/null ;;
    esac
    wait "$p" 2>/dev/null || rc=$?
    p=""
    if [[ $rc -ne 0 && ( $kind == epochs || $kind == batches ) ]]; then
      echo "client $c $kind rc=$rc: $(grep -v '^I' "$WORK/$c.err" | tail -2)" >>"$WORK/errors"
    fi
    echo "$kind $rc" >>"$WORK/$c.sessions"
    sleep "0.$((RANDOM % 3))"
  done
}
for c in $(seq 1 "$CLIENTS"); do
  : >"$WORK/$c.sessions"
  client "$c" &
  client_pids+=($!)
done

metric() {
  curl -sf --max-time 5 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null |
    sed -n "s/^tripletstream_server_$1 \([0-9.e+]*\)$/\1/p" | head -1 || true
}
echo "elapsed_s,rss_kb,threads,fds,streams_open,producer_threads,inflight_bytes_reserved,streams_started,client_sessions" >"$OUT.csv"
start=$SECONDS
printf "%8s %10s %8s %6s %8s %9s %9s\n" elapsed_s rss_kb threads fds streams started sessions
while :; do
  kill -0 "$PID" 2>/dev/null || { echo "server died; its log:"; tail -20 "$WORK/server.log"; exit 1; }
  t=$((SECONDS - start))
  rss=$(sed -n 's/^VmRSS:\s*\([0-9]*\) kB/\1/p' /proc/$PID/status)
  threads=$(sed -n 's/^Threads:\s*\([0-9]*\)/\1/p' /proc/$PID/status)
  fds=$(ls /proc/$PID/fd | wc -l)
  streams=$(metric clients_connected); producers=$(metric producer_threads)
  reserved=$(metric inflight_bytes_reserved); started=$(metric streams_started_total)
  sessions=$(cat "$WORK"/*.sessions | wc -l)
  echo "$t,$rss,$threads,$fds,$streams,$producers,$reserved,$started,$sessions" >>"$OUT.csv"
  printf "%8s %10s %8s %6s %8s %9s %9s\n" "$t" "$rss" "$threads" "$fds" "$streams" "$started" "$sessions"
  [[ $SECONDS -lt $END ]] || break
  sleep $((INTERVAL - (SECONDS - start) % INTERVAL))
done
for p in "${client_pids[@]}"; do wait "$p" || true; done
client_pids=()
# One last sample with every client gone: what an idle server holds.
sleep 2
idle="rss_kb=$(sed -n 's/^VmRSS:\s*\([0-9]*\) kB/\1/p' /proc/$PID/status)"
idle+=" threads=$(sed -n 's/^Threads:\s*\([0-9]*\)/\1/p' /proc/$PID/status)"
idle+=" fds=$(ls /proc/$PID/fd | wc -l) streams_open=$(metric clients_connected)"
idle+=" producer_threads=$(metric producer_threads) inflight_bytes_reserved=$(metric inflight_bytes_reserved)"

echo
echo "client sessions: $(cat "$WORK"/*.sessions | wc -l) in all;" \
     "$(cat "$WORK"/*.sessions | sort | uniq -c | awk '{printf "%s%s rc=%s: %s", sep, $2, $3, $1; sep=", "}')"
bad=$(cat "$WORK"/*.sessions | awk '($1 == "epochs" || $1 == "batches") && $2 != 0' | wc -l)
echo "sessions that should have ended cleanly but did not: $bad"
[[ ! -s "$WORK/errors" ]] || head -5 "$WORK/errors"
echo "idle after the clients left: $idle"
kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
echo "server exit code on SIGTERM: $rc"

/usr/bin/python3 - "$OUT.csv" "$WARMUP" "$bad" "$rc" <<'EOF'
import csv, statistics, sys
path, warmup, bad, server_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [{k: float(v) if v else float("nan") for k, v in r.items()} for r in csv.DictReader(open(path))]
steady = [r for r in rows if r["elapsed_s"] >= warmup]
print(f"\n{len(rows)} samples, {len(steady)} after the {warmup} s warm-up (wu_first: the first of"
      f" those; q1_med/q4_med: median of their first/last quarter; h1_max/h2_max: largest in"
      f" their first/second half; per_hour: least-squares slope over them)")
tolerance = {"rss_kb": lambda base: max(16 * 1024, 0.10 * base), "threads": lambda base: 4,
             "fds": lambda base: 8}
print(f"{'metric':24s} {'min':>9s} {'max':>9s} {'first':>9s} {'last':>9s} "
      f"{'wu_first':>9s} {'q1_med':>9s} {'q4_med':>9s} {'h1_max':>9s} {'h2_max':>9s} {'per_hour':>9s}  verdict")
flat_all = True
for key in ["rss_kb", "threads", "fds", "streams_open", "producer_threads",
            "inflight_bytes_reserved", "streams_started"]:
    values = [r[key] for r in rows]
    s = [r[key] for r in steady]
    t = [r["elapsed_s"] for r in steady]
    q = max(1, len(s) // 4)
    q1, q4 = statistics.median(s[:q]), statistics.median(s[-q:])
    half = len(s) // 2
    h1, h2 = max(s[:max(1, half)]), max(s[half:])
    # Least-squares slope over the steady samples, per hour.
    tm, sm = statistics.mean(t), statistics.mean(s)
    den = sum((x - tm) ** 2 for x in t)
    slope = sum((x - tm) * (y - sm) for x, y in zip(t, s)) / den * 3600 if den else 0.0
    verdict = ""
    if key in tolerance:
        tol = tolerance[key](q1)
        flat = q4 <= q1 + tol and h2 <= h1 + tol
        flat_all &= flat
        verdict = f"{'flat' if flat else 'GROWS'} (tolerance {tol:.0f})"
    print(f"{key:24s} {min(values):9.0f} {max(values):9.0f} {values[0]:9.0f} {values[-1]:9.0f} "
          f"{s[0]:9.0f} {q1:9.0f} {q4:9.0f} {h1:9.0f} {h2:9.0f} {slope:9.1f}  {verdict}")
ok = flat_all and bad == 0 and server_rc == 0
print(f"\nVERDICT: {'FLAT' if flat_all else 'NOT FLAT'} (RSS, threads, fds after warm-up); "
      f"failed clean sessions {bad}; server exit code {server_rc} -> {'PASS' if ok else 'FAIL'}")
EOF

/usr/bin/python3 - "$OUT.csv" "$OUT.png" "$WARMUP" <<'EOF' || echo "plot: skipped (/usr/bin/python3 has no matplotlib)"
import csv, sys
try:
    import matplotlib
except ImportError:
    sys.exit(1)
matplotlib.use("Agg")
import matplotlib.pyplot as plt
path, png, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = list(csv.DictReader(open(path)))
t = [float(r["elapsed_s"]) / 60 for r in rows]
fig, axes = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
series = [("rss_kb", "RSS (MiB)", 1 / 1024), ("threads", "threads", 1), ("fds", "open fds", 1),
          ("streams_open", "open streams", 1)]
for ax, (key, label, scale) in zip(axes, series):
    ax.plot(t, [float(r[key] or "nan") * scale for r in rows], marker=".", linewidth=1)
    ax.axvline(warmup / 60, color="grey", linestyle=":", linewidth=1)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
axes[0].set_title("tripletstream-server soak: " + path)
axes[-1].set_xlabel("minutes")
fig.tight_layout()
fig.savefig(png, dpi=100)
print("plot:", png)
EOF
