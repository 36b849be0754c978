#!/usr/bin/env bash
# Copies built tripletstream binaries into DEST/bin and writes
# DEST/runtime-packages.txt: the Debian packages (pinned to the installed
# version, "name=version" per line) that provide the shared libraries the
# binaries name (DT_NEEDED, found where ldd finds them; apt brings the rest
# of the closure), owners found with dpkg -S. The Dockerfiles' runtime stages
# install exactly that list; scripts/check_deploy.sh runs this on CI's build to
# prove every library maps to a package. install_runtime_packages.sh is
# copied beside the list for the runtime stage.
#
#   deploy/docker/stage_release.sh BIN_DIR DEST BINARY [BINARY...]
#   STRIP=1 strips debug info from the copies (symbols stay).
#   BUNDLED_PREFIXES=/opt/libtorch:... : libraries under these folders are not
#   mapped to packages (the image copies those folders itself, e.g. a CUDA
#   LibTorch unpacked from its zip).
#   PROVIDED_AT_RUNTIME="libcuda.so.1 ..." : sonames that may be missing here
#   because the host supplies them (the GPU driver).
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 BIN_DIR DEST BINARY [BINARY...]" >&2
  exit 2
fi
bin_dir=$1
dest=$2
shift 2
mkdir -p "$dest/bin"

is_bundled() {
  local real prefix prefixes=()
  real=$(readlink -f "$1")
  IFS=':' read -r -a prefixes <<< "${BUNDLED_PREFIXES:-}"
  for prefix in "${prefixes[@]}"; do
    [[ -n "$prefix" && ( "$1" == "$prefix"/* || "$real" == "$prefix"/* ) ]] && return 0
  done
  return 1
}

# The libraries a binary names itself (DT_NEEDED) and where the loader finds
# them; apt brings their own dependencies. ldd also reports any library of
# the whole closure that is not found.
libs=()      # "binary soname path"
failed=0
for name in "$@"; do
  binary="$bin_dir/$name"
  if [[ ! -x "$binary" ]]; then
    echo "stage_release: $binary is missing (not built?)" >&2
    failed=1
    continue
  fi
  install -m 0755 "$binary" "$dest/bin/$name"
  if [[ "${STRIP:-0}" == 1 ]]; then
    strip --strip-debug "$dest/bin/$name"
  fi
  declare -A found=()
  # ldd prints "libx.so => /path (0x...)" or "libx.so => not found".
  while read -r lib arrow path _; do
    [[ "$arrow" == "=>" ]] || continue
    if [[ "$path" == "not" ]]; then
      if [[ " ${PROVIDED_AT_RUNTIME:-} " != *" $lib "* ]]; then
        echo "stage_release: $name needs $lib, which is not found" >&2
        failed=1
      fi
      continue
    fi
    found[$lib]=$path
  done < <(ldd "$binary")
  while read -r lib; do
    [[ -n "${found[$lib]:-}" ]] || continue  # not found: reported above
    is_bundled "${found[$lib]}" || libs+=("$name $lib ${found[$lib]}")
  done < <(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  unset found
done
[[ $failed -eq 0 ]] || exit 1

# Which package owns each library: one dpkg-query for all of them. Merged
# /usr means a file may be registered under /lib or /usr/lib (or through a
# symlink's target), so every spelling is asked.
declare -A owner=()
queries=()
for entry in "${libs[@]}"; do
  read -r _ _ path <<< "$entry"
  real=$(readlink -f "$path")
  for c in "$path" "$real"; do
    queries+=("$c")
    case "$c" in
      /usr/lib/*) queries+=("${c#/usr}") ;;
      /lib/*) queries+=("/usr$c") ;;
    esac
  done
done
if [[ ${#queries[@]} -gt 0 ]]; then
  while IFS= read -r line; do
    pkg=${line%%: /*}
    owner[${line#*: }]=${pkg%%:*}   # "libfoo:amd64" -> libfoo
  done < <(dpkg-query -S "${queries[@]}" 2>/dev/null || true)
fi
packages=()
for entry in "${libs[@]}"; do
  read -r name lib path <<< "$entry"
  real=$(readlink -f "$path")
  pkg=""
  for c in "$path" "$real" "${path#/usr}" "/usr$path" "${real#/usr}" "/usr$real"; do
    pkg=${owner[$c]:-}
    [[ -n "$pkg" ]] && break
  done
  if [[ -z "$pkg" ]]; then
    echo "stage_release: $name loads $path ($lib), which no Debian package owns" >&2
    failed=1
    continue
  fi
  packages+=("$pkg")
done
[[ $failed -eq 0 ]] || exit 1
install -m 0755 "$(dirname "$0")/install_runtime_packages.sh" "$dest/"

# Pinned to the installed versions: the exact build the binaries were
# linked against.
: > "$dest/runtime-packages.txt"
if [[ ${#packages[@]} -gt 0 ]]; then
  mapfile -t unique < <(printf '%s\n' "${packages[@]}" | sort -u)
  dpkg-query -W -f='${Package}=${Version}\n' "${unique[@]}" | sort -u > "$dest/runtime-packages.txt"
fi
echo "staged $* into $dest ($(wc -l < "$dest/runtime-packages.txt") runtime packages)"
