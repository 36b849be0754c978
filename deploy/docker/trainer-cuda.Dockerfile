# syntax=docker/dockerfile:1.7
# tripletstream trainer on CUDA. Debian's libtorch-dev is CPU only, so this
# variant builds against PyTorch's CUDA LibTorch (the cxx11-ABI
# "shared-with-deps" zip, which carries the CUDA runtime, cuBLAS and cuDNN
# libraries) and the CUDA toolkit from NVIDIA's Debian 12 repository; gRPC,
# protobuf, abseil and glog stay Debian bookworm's, as in the other images.
# The GPU driver (libcuda) comes from the node (NVIDIA container toolkit).
#
# NOT BUILT OR RUN in this project's CI (no Docker engine, no GPU there):
# the LibTorch version, its CUDA version and the toolkit packages below must
# agree; check them against the LibTorch release you pick.
#   docker build -f deploy/docker/trainer-cuda.Dockerfile \
#     --build-arg LIBTORCH_URL=https://download.pytorch.org/libtorch/cu121/libtorch-cxx11-abi-shared-with-deps-2.3.1%2Bcu121.zip \
#     --build-arg CUDA_PACKAGES="cuda-nvcc-12-1 cuda-cudart-dev-12-1 cuda-nvrtc-dev-12-1 cuda-nvtx-12-1 libcublas-dev-12-1 libcufft-dev-12-1 libcurand-dev-12-1 libcusolver-dev-12-1 libcusparse-dev-12-1" \
#     -t tripletstream-trainer-cuda .
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu121/libtorch-cxx11-abi-shared-with-deps-2.3.1%2Bcu121.zip
ARG CUDA_REPO=https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64
ARG CUDA_PACKAGES="cuda-nvcc-12-1 cuda-cudart-dev-12-1 cuda-nvrtc-dev-12-1 cuda-nvtx-12-1 libcublas-dev-12-1 libcufft-dev-12-1 libcurand-dev-12-1 libcusolver-dev-12-1 libcusparse-dev-12-1"
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates curl unzip \
 && curl -fsSLo /tmp/cuda-keyring.deb "${CUDA_REPO}/cuda-keyring_1.1-1_all.deb" \
 && dpkg -i /tmp/cuda-keyring.deb \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ${CUDA_PACKAGES} \
 && curl -fsSLo /tmp/libtorch.zip "${LIBTORCH_URL}" \
 && unzip -q /tmp/libtorch.zip -d /opt \
 && rm -rf /tmp/libtorch.zip /tmp/cuda-keyring.deb /var/lib/apt/lists/*
ENV PATH=/usr/local/cuda/bin:${PATH}
WORKDIR /src
COPY . .
# Same script as CI and the CPU image; LibTorch's own libraries are shipped by
# copying /opt/libtorch/lib, the rest maps to Debian packages.
RUN BUNDLED_PREFIXES=/opt/libtorch:/usr/local/cuda PROVIDED_AT_RUNTIME=libcuda.so.1 \
    scripts/build_release.sh trainer /out \
      -DCMAKE_PREFIX_PATH=/opt/libtorch -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc

FROM ${DEBIAN_IMAGE} AS runtime
RUN --mount=type=bind,from=build,source=/out,target=/stage \
    /stage/install_runtime_packages.sh /stage/runtime-packages.txt tini \
 && groupadd --system --gid 10001 tripletstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tripletstream \
 && install -d -o 10001 -g 10001 /ckpt
# The binary's RPATH points at /opt/libtorch/lib: keep the same path.
COPY --from=build /opt/libtorch/lib /opt/libtorch/lib
COPY --from=build /out/bin/tripletstream-trainer /usr/local/bin/
ENV GLOG_logtostderr=1 \
    LD_LIBRARY_PATH=/opt/libtorch/lib \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
EXPOSE 9465
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/tripletstream-trainer"]
CMD ["train", "--device=cuda", "--checkpoint_dir=/ckpt", "--resume"]
