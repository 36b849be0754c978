#!/usr/bin/env bash
# Builds the binaries of one container image and stages them, exactly as the
# Dockerfiles' build stages do (they run this script), so a CI run of it
# builds what the images ship.
#   scripts/build_release.sh server|trainer DEST [CMAKE_ARGS...]
# server:  tripletstream-server and tripletstream-probe (no LibTorch)
# trainer: tripletstream-trainer (LibTorch: Debian's CPU one, or a CUDA one
#          given with -DCMAKE_PREFIX_PATH=...)
# DEST gets bin/, runtime-packages.txt and install_runtime_packages.sh (see
# deploy/docker/stage_release.sh). BUILD_DIR defaults to build-release-TARGET;
# STRIP=0 keeps debug info (default 1: stripped of debug info, symbols kept).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -lt 2 ]]; then
  echo "usage: $0 server|trainer DEST [CMAKE_ARGS...]" >&2
  exit 2
fi
target=$1
dest=$2
shift 2
case "$target" in
  server)
    with_trainer=OFF
    binaries=(tripletstream-server tripletstream-probe)
    ;;
  trainer)
    with_trainer=ON
    binaries=(tripletstream-trainer)
    ;;
  *)
    echo "build_release: unknown target '$target' (server or trainer)" >&2
    exit 2
    ;;
esac
export BUILD_DIR=${BUILD_DIR:-build-release-$target}
scripts/build.sh -DTRIPLETSTREAM_BUILD_TESTS=OFF -DTRIPLETSTREAM_BUILD_TRAINER="$with_trainer" "$@"
STRIP=${STRIP:-1} deploy/docker/stage_release.sh "$BUILD_DIR/bin" "$dest" "${binaries[@]}"
