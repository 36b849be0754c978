#!/usr/bin/env bash
# tripletstream-server --cache_dir: the first start writes the prepared
# dataset and serves from the mapped file, later starts map it without
# parsing a CSV, the stream is the same byte for byte with and without the
# cache, two servers share the file, and a changed data file or flag, or a
# damaged cache, makes a rebuild (never a crash).
# Usage: dataset_cache_cli_test.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=$1
SRC=$2
source "$SRC/scripts/lib_server.sh"
source "$SRC/tests/cli/cli_test_lib.sh"
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
cp -r "$SRC/testdata/motionsense_sample" "$WORK/data"
FLAGS=(--data="$WORK/data" --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv'
       --stats_interval_s=0 --stride=32)
CACHE="$WORK/cache"

digest_of() {  # One epoch from the server on $SERVER_PORT.
  "$BIN/tripletstream-probe" --servers="127.0.0.1:$SERVER_PORT" --batch_size=32 --info=false |
    tail -1 | sed 's/.*digest=//'
}

start_server "$WORK/plain.log" "${FLAGS[@]}" || fail "server without cache"
plain=$(digest_of); stop_server
[[ -n "$plain" ]] || fail "no digest without the cache"

start_server "$WORK/first.log" "${FLAGS[@]}" --cache_dir="$CACHE" || fail "first cached start"
grep -q "dataset cache: wrote" "$WORK/first.log" || fail "first start wrote no cache: $(grep cache "$WORK/first.log")"
first=$(digest_of); stop_server
[[ "$first" == "$plain" ]] || fail "stream from the freshly written cache differs: $first vs $plain"
[[ $(ls "$CACHE"/*.tsc | wc -l) -eq 1 ]] || fail "expected one cache file: $(ls "$CACHE")"
echo "first start: cache written, same stream ($plain)"

# Two servers at once map the same file, parse nothing, stream the same.
start_server "$WORK/a.log" "${FLAGS[@]}" --cache_dir="$CACHE" || fail "cached start a"; A_PID=$SERVER_PID; A_PORT=$SERVER_PORT
start_server "$WORK/b.log" "${FLAGS[@]}" --cache_dir="$CACHE" || fail "cached start b"
for log in a b; do
  grep -q "dataset cache: mapped" "$WORK/$log.log" || fail "server $log did not map the cache: $(grep -i cache "$WORK/$log.log")"
  grep -q "no file parsed" "$WORK/$log.log" || fail "server $log parsed files"
done
b=$(digest_of); stop_server
SERVER_PID=$A_PID; SERVER_PORT=$A_PORT
a=$(digest_of); stop_server
[[ "$a" == "$plain" && "$b" == "$plain" ]] || fail "mapped cache streams differ: $a $b vs $plain"
echo "two servers mapped the one cache file; same stream"

# Another flag: another cache file, not the old one.
start_server "$WORK/w.log" "${FLAGS[@]}" --window=64 --cache_dir="$CACHE" || fail "--window=64"
grep -q "none yet for these inputs" "$WORK/w.log" || fail "--window=64 reused a cache"
stop_server
[[ $(ls "$CACHE"/*.tsc | wc -l) -eq 2 ]] || fail "expected a second cache file"
# A changed data file: rebuilt, and the stream follows the new data.
f=$(find "$WORK/data" -name '*.csv' | sort | head -1)
sed -i '2d' "$f"
start_server "$WORK/changed.log" "${FLAGS[@]}" --cache_dir="$CACHE" || fail "changed data"
grep -q "none yet for these inputs" "$WORK/changed.log" || fail "a changed file reused the cache"
changed=$(digest_of); stop_server
[[ "$changed" != "$plain" ]] || fail "stream unchanged after the data changed"
echo "a changed flag or data file makes a new cache"

# A damaged cache: a warning, a rebuild, the right stream.
for c in "$CACHE"/*.tsc; do printf 'garbage' | dd of="$c" bs=1 seek=100 conv=notrunc 2>/dev/null; done
start_server "$WORK/damaged.log" "${FLAGS[@]}" --cache_dir="$CACHE" || fail "damaged cache start"
grep -q "dataset cache unusable, rebuilding it" "$WORK/damaged.log" ||
  fail "damaged cache not reported: $(grep -i cache "$WORK/damaged.log")"
again=$(digest_of); stop_server
[[ "$again" == "$changed" ]] || fail "stream after the rebuild differs: $again vs $changed"
echo "a damaged cache is reported and rebuilt"
finish "dataset cache CLI"
