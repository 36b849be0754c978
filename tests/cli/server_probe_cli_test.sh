#!/usr/bin/env bash
# End-to-end check of the two binaries as users run them: bad flags and bad
# data give clear errors, a server on port 0 serves the probe, the stream
# digest is the same for 1 and 3 producer threads and for 1 and 2 servers,
# and SIGTERM exits 0.
# Usage: server_probe_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
DATA="$SRC/testdata/motionsense_sample"
REGEX='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
source "$SRC/tests/cli/cli_test_lib.sh"

# --- flag and data errors -------------------------------------------------
expect_error "missing --data" "--data is required" "$BIN/tripletstream-server"
expect_error "bad --split" "--split" "$BIN/tripletstream-server" --data="$DATA" --split=1,2
expect_error "bad --threads" "--threads" "$BIN/tripletstream-server" --data="$DATA" --threads=0
expect_error "--split sum" "sum to 1" "$BIN/tripletstream-server" --data="$DATA" --split=0.7,0.1,0.3
for port in -1 65536 99999; do
  expect_error "--port=$port" "--port must be in" "$BIN/tripletstream-server" --data="$DATA" \
    --port=$port
done
# A port that is taken is an error naming it, not a crash.
"$BIN/tripletstream-server" --data="$DATA" --user_regex="$REGEX" --port=0 \
  --stats_interval_s=0 >"$WORK/holder.log" 2>&1 &
HOLDER=$!
for _ in $(seq 1 300); do
  taken=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/holder.log" | head -1)
  [[ -n "$taken" ]] && break
  sleep 0.1
done
expect_error "port in use" ":$taken" "$BIN/tripletstream-server" --data="$DATA" --port="$taken"
[[ $LAST_RC -eq 1 ]] || fail "port in use: exit code $LAST_RC (expected 1, not a signal)"
kill -TERM $HOLDER; wait $HOLDER
expect_error "unknown flag" "wibble" "$BIN/tripletstream-server" --wibble=1
expect_error "missing dir" "$WORK/nope" "$BIN/tripletstream-server" --data="$WORK/nope"
expect_error "window too long" "longer than every session" \
  "$BIN/tripletstream-server" --data="$DATA" --user_regex="$REGEX" --window=5000 --dry_run
mkdir -p "$WORK/one_user/alice"
printf 'a,b\n1,2\n3,4\n' >"$WORK/one_user/alice/s1.csv"
expect_error "one user" "at least 2" "$BIN/tripletstream-server" --data="$WORK/one_user" --window=1 --dry_run
expect_error "probe bad mode" "--mode" "$BIN/tripletstream-probe" --mode=quadruplet
expect_error "probe unreachable" "127.0.0.1:1" "$BIN/tripletstream-probe" --servers=127.0.0.1:1 --timeout_s=2

if ! "$BIN/tripletstream-server" --help >"$WORK/help.txt" 2>&1; then :; fi
for flag in data port threads window stride columns delimiter user_regex user_column \
            session_column seed split strict; do
  grep -q -- "-$flag" "$WORK/help.txt" || fail "--help does not list --$flag"
done

# --- serving ------------------------------------------------------------
start_server "$WORK/s1.log" --data="$DATA" --user_regex="$REGEX" --threads=1 || exit 1
PID1=$SERVER_PID; PORT1=$SERVER_PORT
start_server "$WORK/s2.log" --data="$DATA" --user_regex="$REGEX" --threads=3 || exit 1
PID2=$SERVER_PID; PORT2=$SERVER_PORT
grep -q "ingest:" "$WORK/s1.log" || fail "no ingest summary in the log"
grep -q "split train" "$WORK/s1.log" || fail "no split summary in the log"

probe() { "$BIN/tripletstream-probe" --info=false --batch_size=16 "$@" | tail -1; }
one=$(probe --servers=127.0.0.1:$PORT1) || fail "probe against server 1"
three=$(probe --servers=127.0.0.1:$PORT2) || fail "probe against server 2"
both=$(probe --servers=127.0.0.1:$PORT1,127.0.0.1:$PORT2) || fail "probe against both"
digest() { sed -n 's/.*digest=\([0-9a-f]*\).*/\1/p' <<<"$1"; }
batches() { sed -n 's/.*batches=\([0-9]*\) .*/\1/p' <<<"$1"; }
[[ -n "$(digest "$one")" ]] || fail "no digest in: $one"
[[ "$(digest "$one")" == "$(digest "$three")" ]] || fail "1 vs 3 threads: $one / $three"
[[ "$(digest "$one")" == "$(digest "$both")" ]] || fail "1 vs 2 servers: $one / $both"
[[ "$(batches "$one")" -gt 0 ]] || fail "no batches: $one"
for key in batches= batches_per_s= triplets_per_s= mb_per_s= digest=; do
  grep -q "$key" <<<"$one" || fail "last line lacks $key: $one"
done
other=$(probe --servers=127.0.0.1:$PORT1 --seed=2)
[[ "$(digest "$one")" != "$(digest "$other")" ]] || fail "seed does not change the stream"
info=$("$BIN/tripletstream-probe" --servers=127.0.0.1:$PORT1 --batches=1)
grep -q "fingerprint" <<<"$info" || fail "probe prints no dataset info"

SERVER_PID=$PID1; stop_server || fail "server 1 exit code $? on SIGTERM"
SERVER_PID=$PID2; stop_server || fail "server 2 exit code $? on SIGTERM"
grep -q "received SIGTERM" "$WORK/s1.log" || fail "no SIGTERM log line"

finish "server and probe CLI"
