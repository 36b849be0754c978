#!/usr/bin/env bash
# Builds tripletstream and runs every test: GoogleTest and CLI tests through
# CTest (a real Prometheus scrape among them), the deployment checks, then
# everything without LibTorch again under AddressSanitizer + UBSan
# (scripts/sanitize.sh asan; TS_SANITIZE=0 skips that pass).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 300
# Dockerfiles and Kubernetes manifests against the binaries just built.
scripts/check_deploy.sh "$BUILD_DIR/bin"
# The same code under ASan + LeakSanitizer + UBSan (its own build folder).
if [[ "${TS_SANITIZE:-1}" != 0 ]]; then
  scripts/sanitize.sh asan
fi
