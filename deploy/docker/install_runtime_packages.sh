#!/bin/sh
# Runtime stage of the Dockerfiles: installs the packages listed in
# runtime-packages.txt (written by stage_release.sh in the build stage, one
# "name=version" a line) plus any extra package names given, then empties the
# apt caches. A listed package the base image already has at that version or
# newer is left alone (pinning libc6 and friends would fight the base image).
#   install_runtime_packages.sh runtime-packages.txt [EXTRA_PACKAGE...]
set -eu
list=$1
shift
wanted=""
while IFS='=' read -r name version; do
  [ -n "$name" ] || continue
  have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
  if [ -n "$have" ] && dpkg --compare-versions "$have" ge "$version"; then
    continue
  fi
  wanted="$wanted $name=$version"
done < "$list"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $wanted "$@"
apt-get clean
rm -rf /var/lib/apt/lists/*
