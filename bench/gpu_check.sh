#!/usr/bin/env bash
# The GPU check, for a machine lent by the `device` tool (CUDA, cmake and a
# pip torch, but no gRPC/protobuf/abseil headers). Prepare here first:
#
#   bench/gpu_deps.sh            # Debian -dev/runtime .debs unpacked into .gpu-deps/
#
# then run this there with `.gpu-deps` carried. It builds the server and the
# trainer against the LibTorch inside pip's torch wheel, serves the bundled
# sample, and trains a few hundred steps on the GPU: 1 rank (plain, then
# --amp=bf16), then 2 ranks, with NCCL (where the wheel brings nccl.h, the
# nvidia-nccl package, and there are 2 GPUs) and with Gloo. It
# prints each run's result line (step rate, data stall, all-reduce share)
# and writes them to $OUT/gpu_check.txt (or bench/results/ when $OUT is unset).
#
#   bench/gpu_check.sh [STEPS=300]
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-300}
DEPS=$(pwd)/.gpu-deps
OUT_FILE=${OUT:-bench/results}/gpu_check.txt
mkdir -p "$(dirname "$OUT_FILE")"
[[ -d "$DEPS/usr" ]] || { echo "gpu_check: no $DEPS (run bench/gpu_deps.sh here and carry it)" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT_FILE"
TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
ABI=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
if [[ "$ABI" != 1 ]]; then
  echo "gpu_check: this torch wheel uses the pre-C++11 string ABI; Debian's gRPC and Abseil" \
       "use the C++11 one, so they cannot link together. Use a torch >= 2.7 wheel." >&2
  exit 2
fi
export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu:$DEPS/usr/lib:$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib:${LD_LIBRARY_PATH:-}"
export PATH="$DEPS/usr/bin:$PATH"
# nccl.h for c10d's NCCL backend (the nvidia-nccl-cu* wheel torch depends on).
NCCL_INCLUDE=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' 2>/dev/null || true)
BUILD=build-gpu
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTRIPLETSTREAM_BUILD_TESTS=OFF \
  ${NCCL_INCLUDE:+-DNCCL_INCLUDE_DIR="$NCCL_INCLUDE"} \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$DEPS/usr;$DEPS/usr/lib/x86_64-linux-gnu/cmake" \
  -DCMAKE_INCLUDE_PATH="$DEPS/usr/include" -DCMAKE_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu" \
  >"$BUILD.configure.log" 2>&1 || { tail -30 "$BUILD.configure.log"; exit 2; }
cmake --build "$BUILD" -j "$(nproc)" --target tripletstream-server tripletstream-trainer 2>&1 | tail -3
BIN=$BUILD/bin
source scripts/lib_server.sh
trap 'kill $(jobs -p) 2>/dev/null' EXIT
start_server /tmp/gpu_server.log --data=testdata/motionsense_sample --threads=8 \
  --user_regex='A_DeviceMotion_data/(?P<session>[^/]+)/sub_(?P<user>\d+)\.csv' --stride=8
FLAGS=(--servers="127.0.0.1:$SERVER_PORT" --steps="$STEPS" --eval=false --log_every=100
  --loss=batch_hard --p=16 --k=4)
run() {
  echo "== $*" | tee -a "$OUT_FILE"
  "$@" 2>>/tmp/gpu_train.log | tail -1 | tee -a "$OUT_FILE"
}
run "$BIN/tripletstream-trainer" train "${FLAGS[@]}" --device=cuda
run "$BIN/tripletstream-trainer" train "${FLAGS[@]}" --device=cuda --amp=bf16
grep -o "NCCL backend o[nf]*" "$BUILD.configure.log" | tee -a "$OUT_FILE" || true
# Two ranks: one GPU each where there are two (LOCAL_RANK=r), else both on
# cuda:0, which Gloo allows and NCCL refuses ("duplicate GPU").
GPUS=$(nvidia-smi -L | wc -l)
two_ranks() {
  local backend=$1 port pids=()
  if [[ $backend == nccl && $GPUS -lt 2 ]]; then
    echo "== 2 ranks with NCCL: skipped, NCCL needs one GPU per rank and this machine has $GPUS" |
      tee -a "$OUT_FILE"
    return
  fi
  port=$(free_port)
  echo "== 2 ranks ($backend, $GPUS GPU(s))" | tee -a "$OUT_FILE"
  for r in 0 1; do
    RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port LOCAL_RANK=$((GPUS > 1 ? r : 0)) \
      "$BIN/tripletstream-trainer" train "${FLAGS[@]}" --device=cuda --collective_timeout_s=60 \
      --collective_backend="$backend" >"/tmp/gpu_rank$r.$backend.out" 2>>/tmp/gpu_train.log &
    pids+=($!)
  done
  wait "${pids[@]}" 2>/dev/null || echo "  (a rank exited non-zero; see /tmp/gpu_train.log)" | tee -a "$OUT_FILE"
  tail -1 "/tmp/gpu_rank0.$backend.out" "/tmp/gpu_rank1.$backend.out" | tee -a "$OUT_FILE"
}
two_ranks nccl
two_ranks gloo
grep -i "nccl\|error" /tmp/gpu_train.log | tail -5 | tee -a "$OUT_FILE" || true
echo "results in $OUT_FILE"
