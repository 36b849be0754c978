# syntax=docker/dockerfile:1.7
# tripletstream data server: tripletstream-server and tripletstream-probe on
# Debian bookworm's runtime libraries. No LibTorch, no compiler.
# Build from the repository root (BuildKit reads server.Dockerfile.dockerignore):
#   docker build -f deploy/docker/server.Dockerfile -t tripletstream-server .
ARG DEBIAN_IMAGE=debian:bookworm-slim

# Build stage: the same script CI runs (scripts/build_release.sh runs
# scripts/install_deps.sh and scripts/build.sh, then stages the binaries and
# the list of Debian packages their shared libraries come from).
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY . .
RUN scripts/build_release.sh server /out

FROM ${DEBIAN_IMAGE} AS runtime
# Runtime libraries: exactly the packages (and versions) the build stage
# linked against, plus tini as PID 1 (forwards SIGTERM, reaps children).
RUN --mount=type=bind,from=build,source=/out,target=/stage \
    /stage/install_runtime_packages.sh /stage/runtime-packages.txt tini \
 && groupadd --system --gid 10001 tripletstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin tripletstream
COPY --from=build /out/bin/tripletstream-server /out/bin/tripletstream-probe /usr/local/bin/
# The dataset is mounted read-only at /data (docker run -v DIR:/data:ro, or
# the Kubernetes PersistentVolumeClaim). glog writes to stderr.
ENV GLOG_logtostderr=1
USER 10001:10001
# 50051: gRPC (TripletStream and grpc.health.v1); 9464: Prometheus /metrics
# when --metrics_port=9464 is given.
EXPOSE 50051 9464
# SIGTERM makes the server report NOT_SERVING, drain streams for
# --shutdown_grace_s and exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/tripletstream-server"]
CMD ["--data=/data"]
