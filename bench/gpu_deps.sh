#!/usr/bin/env bash
# Unpacks the Debian packages the build needs besides LibTorch (gRPC,
# protobuf, Abseil, glog, re2, ...: -dev and runtime) into .gpu-deps/, for a
# GPU machine that has CUDA and a pip torch but none of these (run here, as
# root, then carry .gpu-deps to the machine; bench/gpu_check.sh uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=$(pwd)/.gpu-deps
mkdir -p "$DEPS/debs"
cd "$DEPS/debs"
packages=(libgrpc++-dev libgrpc++1.51 libgrpc-dev libgrpc29 protobuf-compiler-grpc
  libprotobuf-dev libprotobuf32 libprotoc32 protobuf-compiler libabsl-dev libabsl20220623
  libconcurrentqueue-dev libgoogle-glog-dev libgoogle-glog0v6 libgflags-dev libgflags2.2
  libfast-float-dev libre2-dev libre2-9 libcpp-httplib-dev libcpp-httplib0.11 libgloo-dev
  libssl-dev libc-ares2 libc-ares-dev libupb-dev libsystemd0 zlib1g-dev libunwind8)
apt-get download "${packages[@]}" >/dev/null
for deb in *.deb; do dpkg -x "$deb" "$DEPS"; done
count=$(ls ./*.deb | wc -l)
# The device tool carries at most 64 MiB: no archives, static libraries or docs.
cd "$DEPS"
rm -rf debs usr/share/doc usr/share/man
find . -name '*.a' -delete
echo "unpacked $count packages into $DEPS ($(du -sh "$DEPS" | cut -f1); the carry limit is 64 MiB)"
