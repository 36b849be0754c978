#!/usr/bin/env bash
# Builds tripletstream and runs every test: GoogleTest and CLI tests through
# CTest (a real Prometheus scrape among them), then the deployment checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh --test
scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 300
# Dockerfiles and Kubernetes manifests against the binaries just built.
scripts/check_deploy.sh "$BUILD_DIR/bin"
