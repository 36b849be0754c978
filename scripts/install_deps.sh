#!/usr/bin/env bash
# Installs the Debian bookworm packages tripletstream builds with.
# As root it installs what is missing; otherwise it lists what is missing and
# fails. Usage: scripts/install_deps.sh [--bench] [--test] [--demo]
#   --bench adds the Python yardstick's packages, --test what the tests run
#   besides the build (a real Prometheus server, curl), --demo what
#   scripts/run_demo.sh needs besides the build (matplotlib for its plots).
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libconcurrentqueue-dev libgoogle-glog-dev libgflags-dev
  libfast-float-dev libre2-dev libgtest-dev libgmock-dev libbenchmark-dev libxxhash-dev
  libtorch-dev libcpp-httplib-dev
  # c10d's Gloo headers, for data-parallel training (LibTorch has Gloo built in).
  libgloo-dev
  # LibTorch's matrix products go through libblas.so.3; without this Debian
  # picks the reference BLAS, and a CPU training step is ~1.4x slower
  # (docs/benchmarks.md).
  libopenblas0-openmp
)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3-torch python3-pandas python3-numpy python3-sklearn hyperfine) ;;
    --test) packages+=(prometheus curl python3 python3-grpcio python3-protobuf python3-numpy
                       python3-torch python3-pytest python3-matplotlib) ;;
    --demo) packages+=(python3-matplotlib) ;;
    *) echo "install_deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
