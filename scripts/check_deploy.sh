#!/usr/bin/env bash
# Checks deploy/ without a Docker engine or a cluster:
#  1. renders every kustomization (deploy/k8s/base, deploy/k8s/overlays/*)
#     with kubectl's built-in kustomize;
#  2. validates every rendered object against the Kubernetes OpenAPI schemas
#     (kubernetes-models, unknown fields rejected), checks references between
#     objects, and checks every --flag in the manifests (args and ConfigMap
#     flag files) against the --helpfull and --only_check_args of the binary
#     it is passed to; the cpu overlay's server flags also load the bundled
#     sample with --dry_run;
#  3. maps the binaries' shared libraries to Debian packages the way the
#     images' runtime stages do (deploy/docker/stage_release.sh), and checks
#     the server image needs no LibTorch;
#  4. lints the Dockerfiles (dockerfile-utils, dockerfilelint, project rules)
#     and the deploy shell scripts (shellcheck).
#
#   scripts/check_deploy.sh [BIN_DIR]     default: ${BUILD_DIR:-build}/bin
#
# Needs the built binaries (scripts/build.sh), kubectl >= 1.21 (kustomize v4+),
# node and npm. As root it installs what is missing of these Debian
# packages: nodejs, npm, shellcheck. The npm packages go to
# deploy/tools/node_modules (npm ci from deploy/tools/package-lock.json).
set -euo pipefail
start=$SECONDS
# A BIN_DIR argument is relative to the caller, the default to the repository.
bin_dir=${1:-}
if [[ -n "$bin_dir" && -d "$bin_dir" ]]; then
  bin_dir=$(cd "$bin_dir" && pwd)
fi
cd "$(dirname "$0")/.."
bin_dir=${bin_dir:-${BUILD_DIR:-build}/bin}
[[ -d "$bin_dir" ]] || { echo "check_deploy: no bin dir $bin_dir (build first: scripts/build.sh)" >&2; exit 1; }
bin_dir=$(cd "$bin_dir" && pwd)

# --- tools -------------------------------------------------------------------
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "check_deploy: missing Debian packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "check_deploy: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null; then
  echo "check_deploy: kubectl not found. These overlays need kubectl >= 1.21 (kustomize v4+);" \
    "Debian bookworm's kubernetes-client is 1.20 (kustomize v2.0.3), too old to render them." >&2
  exit 1
fi
kustomize_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
if [[ -z "$kustomize_version" || "$kustomize_version" -lt 4 ]]; then
  echo "check_deploy: $(command -v kubectl) has no kustomize v4+ (kubectl >= 1.21 needed)" >&2
  exit 1
fi
tools=deploy/tools
if [[ ! -f $tools/node_modules/.installed || $tools/package-lock.json -nt $tools/node_modules/.installed ]]; then
  echo "check_deploy: npm ci in $tools"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error >/dev/null
  touch "$tools/node_modules/.installed"
fi

# Each check prints "== NAME", runs, and counts as passed or failed; a
# failure names the files to look at.
failed=()
passed=0
check() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed+=("$name")
  fi
}

# --- 1. render ---------------------------------------------------------------
out=deploy/.out
rm -rf "$out"
mkdir -p "$out"
render() {  # DIR RENDERED: kustomize output, failing on errors and warnings
  if ! kubectl kustomize "$1" >"$2" 2>"$2.err"; then
    cat "$2.err" >&2
    return 1
  fi
  if grep -qiE 'warning|deprecated' "$2.err"; then
    cat "$2.err" >&2
    return 1
  fi
}
inputs=()
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir=${dir%/}
  name=${dir#deploy/k8s/}
  rendered="$out/${name//\//_}.yaml"
  check "kubectl kustomize $dir" render "$dir" "$rendered"
  [[ -s "$rendered" ]] && inputs+=("$name=$rendered")
done

# --- 2. schemas, references, flags ---------------------------------------------
check "deploy/k8s: schemas, references and flags of ${#inputs[@]} rendered kustomizations" \
  node "$tools/check_manifests.mjs" --bin-dir "$bin_dir" \
  --dry-run-server overlays/cpu=testdata/motionsense_sample "${inputs[@]}"

# --- 3. runtime packages of the images -----------------------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
server_packages() {
  deploy/docker/stage_release.sh "$bin_dir" "$stage/server" tripletstream-server tripletstream-probe || return 1
  if grep -q '^libtorch' "$stage/server/runtime-packages.txt"; then
    echo "deploy/docker/server.Dockerfile: the server's binaries need LibTorch" >&2
    return 1
  fi
}
check "deploy/docker/stage_release.sh: server image runtime packages" server_packages
check "deploy/docker/stage_release.sh: trainer image runtime packages" \
  deploy/docker/stage_release.sh "$bin_dir" "$stage/trainer" tripletstream-trainer

# --- 4. lint -------------------------------------------------------------------
check "deploy/docker/*.Dockerfile: lint" node "$tools/lint_dockerfiles.mjs" deploy/docker/*.Dockerfile
check "shellcheck deploy/docker/*.sh scripts/check_deploy.sh scripts/build_release.sh" \
  shellcheck deploy/docker/*.sh scripts/check_deploy.sh scripts/build_release.sh

echo "check_deploy: $((SECONDS - start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "check_deploy: FAILED:" >&2
  printf '  %s\n' "${failed[@]}" >&2
fi
echo "check_deploy: $passed passed, ${#failed[@]} failed"
[[ ${#failed[@]} -eq 0 ]]
