#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang-14 (ASan + UBSan) and runs
# each one: first every input in fuzz/regressions/<target>/ (each must not
# crash), then SECONDS_PER_TARGET seconds of fuzzing on a copy of its seed
# corpus fuzz/corpus/<target>/ (the committed seeds are never modified).
# Exits non-zero when any target crashes, leaks or hits UB, naming the file.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60]
# Environment: BUILD_DIR (default build-fuzz), JOBS (build -j, default 1),
#   FUZZERS (space separated subset of targets), CC/CXX (default clang-14).
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
JOBS="${JOBS:-1}"
CC="${CC:-clang-14}"
CXX="${CXX:-clang++-14}"
ALL_FUZZERS="csv_parser_fuzzer data_service_fuzzer wire_fuzzer checkpoint_files_fuzzer"
FUZZERS="${FUZZERS:-$ALL_FUZZERS}"

# Project libraries: sanitizers and coverage instrumentation, no libFuzzer
# main (fuzz/CMakeLists.txt adds -fsanitize=fuzzer to the targets only).
SAN_FLAGS="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

mkdir -p "$BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
  -DTRIPLETSTREAM_FUZZ=ON -DTRIPLETSTREAM_BUILD_TRAINER=OFF -DTRIPLETSTREAM_BUILD_TESTS=OFF \
  >"$BUILD_DIR/fuzz-configure.log" 2>&1 || { cat "$BUILD_DIR/fuzz-configure.log"; exit 2; }
# shellcheck disable=SC2086
cmake --build "$BUILD_DIR" -j "$JOBS" --target $FUZZERS || exit 2

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tripletstream-fuzz.XXXXXX")"
echo "work dir: $WORK"
failed=0
for target in $FUZZERS; do
  bin="$BUILD_DIR/fuzz/$target"
  out="$WORK/$target"
  mkdir -p "$out/corpus" "$out/artifacts"
  regressions="$ROOT/fuzz/regressions/$target"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
    echo "== $target: regression inputs"
    for input in "$regressions"/*; do
      if ! "$bin" -runs=1 "$input" >"$out/regression.log" 2>&1; then
        tail -n 60 "$out/regression.log"
        echo "FAIL $target: regression input crashes: $input"
        failed=1
      fi
    done
  fi
  [ "$SECONDS_PER_TARGET" -gt 0 ] || continue
  if [ -d "$ROOT/fuzz/corpus/$target" ]; then
    cp -r "$ROOT/fuzz/corpus/$target/." "$out/corpus/"
  fi
  echo "== $target: fuzzing ${SECONDS_PER_TARGET}s"
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=25 -rss_limit_mb=4096 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
    "$out/corpus" >"$out/fuzz.log" 2>&1
  rc=$?
  grep -E "^stat::number_of_executed_units|^#[0-9]+ *DONE" "$out/fuzz.log" | tail -n 2
  if [ $rc -ne 0 ]; then
    tail -n 80 "$out/fuzz.log"
    for crash in "$out"/artifacts/*; do
      [ -e "$crash" ] && echo "FAIL $target: crash file: $crash"
    done
    echo "FAIL $target: exit status $rc (log: $out/fuzz.log)"
    failed=1
  fi
done
if [ $failed -ne 0 ]; then
  echo "fuzz: FAILED"
  exit 1
fi
echo "fuzz: all targets clean"
