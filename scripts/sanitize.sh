#!/usr/bin/env bash
# Builds everything that does not need LibTorch (common, server, client, probe,
# metrics and their tests) with a sanitizer and runs those tests through CTest.
#
#   scripts/sanitize.sh asan   # AddressSanitizer + LeakSanitizer + UBSan (CI)
#   scripts/sanitize.sh tsan   # ThreadSanitizer, with scripts/tsan.supp
#
# Any sanitizer report fails the test that produced it (halt_on_error /
# exitcode), so a green run means no report with or without a project frame.
# Environment: SAN_BUILD_DIR (default build-asan / build-tsan), JOBS (default
# nproc), CTEST_ARGS (extra ctest arguments, e.g. "-R DataServer").
#
# Left out: LibTorch code (Debian's LibTorch is not built with sanitizers)
# and python_client_test (python3 would need the sanitizer runtime preloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

MODE="${1:-}"
case "$MODE" in
  asan)
    SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    # detect_leaks: a leak fails the test. abort_on_error gives a core-style
    # exit that CTest reports as a failure.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0}"
    ;;
  tsan)
    SAN_FLAGS="-fsanitize=thread -fno-omit-frame-pointer"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-suppressions=$ROOT/scripts/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4:print_suppressions=0}"
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan" >&2
    exit 2
    ;;
esac

BUILD_DIR="${SAN_BUILD_DIR:-build-$MODE}"
JOBS="${JOBS:-$(nproc)}"
scripts/install_deps.sh --test

# -O1 keeps stacks readable and the run fast enough; no -DNDEBUG, so DCHECKs
# and asserts run too.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$SAN_FLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$SAN_FLAGS" \
  -DTRIPLETSTREAM_BUILD_TRAINER=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

# Sanitized code runs 2-15x slower: a longer per-test limit.
echo "== $MODE: ctest in $BUILD_DIR"
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900 \
  -E '^python_client_test$' ${CTEST_ARGS:-}
