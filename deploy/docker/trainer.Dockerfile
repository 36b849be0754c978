# syntax=docker/dockerfile:1.7
# tripletstream trainer on CPU: tripletstream-trainer with Debian bookworm's
# LibTorch 1.13 (CPU only; libtorch1.13 pulls in a large runtime: OpenCV,
# FFmpeg, oneDNN, ...). For a GPU see trainer-cuda.Dockerfile.
# Build from the repository root (BuildKit reads trainer.Dockerfile.dockerignore):
#   docker build -f deploy/docker/trainer.Dockerfile -t tripletstream-trainer .
ARG DEBIAN_IMAGE=debian:bookworm-slim

# Build stage: the same script CI runs (scripts/build_release.sh).
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY . .
RUN scripts/build_release.sh trainer /out

FROM ${DEBIAN_IMAGE} AS runtime
# Runtime libraries: the packages (and versions) the build stage linked
# against, plus tini as PID 1 (forwards SIGTERM, reaps children).
RUN --mount=type=bind,from=build,source=/out,target=/stage \
    /stage/install_runtime_packages.sh /stage/runtime-packages.txt tini \
 && groupadd --system --gid 10001 tripletstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tripletstream \
 && install -d -o 10001 -g 10001 /ckpt
COPY --from=build /out/bin/tripletstream-trainer /usr/local/bin/
# Checkpoints go to /ckpt (a volume or PersistentVolumeClaim); with --resume a
# restarted container continues from /ckpt/checkpoint.pt.
ENV GLOG_logtostderr=1
USER 10001:10001
# 9465: Prometheus /metrics when --metrics_port=9465 is given.
EXPOSE 9465
# tini passes SIGTERM on: the trainer stops after the current step, writes
# a checkpoint and exits non-zero (143); the next run with --resume continues.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/tripletstream-trainer"]
CMD ["train", "--checkpoint_dir=/ckpt", "--resume"]
