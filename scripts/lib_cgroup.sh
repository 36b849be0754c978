# Shell helper for CPU-capped processes (sourced; as root).

# capped_cgroup NAME CPUS: makes cgroup NAME capped at CPUS (e.g. 0.1) through
# cgroup v2 cpu.max or v1 CFS quota, and prints the cgroup.procs file a PID
# is written to; prints nothing when no cgroup is writable. Remove the
# cgroups with remove_cgroups PREFIX when done.
capped_cgroup() {
  local name=$1 period=100000 quota
  quota=$(awk -v c="$2" -v p=$period 'BEGIN { printf "%d", c * p }')
  if [[ -w /sys/fs/cgroup/cgroup.subtree_control ]] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    mkdir -p "/sys/fs/cgroup/$name" && echo "$quota $period" >"/sys/fs/cgroup/$name/cpu.max" &&
      echo "/sys/fs/cgroup/$name/cgroup.procs"
  elif [[ -d /sys/fs/cgroup/cpu && -w /sys/fs/cgroup/cpu ]]; then
    mkdir -p "/sys/fs/cgroup/cpu/$name" && echo $period >"/sys/fs/cgroup/cpu/$name/cpu.cfs_period_us" &&
      echo "$quota" >"/sys/fs/cgroup/cpu/$name/cpu.cfs_quota_us" && echo "/sys/fs/cgroup/cpu/$name/cgroup.procs"
  fi 2>/dev/null
  return 0
}

# remove_cgroups PREFIX: removes the (empty) cgroups named PREFIX*.
remove_cgroups() {
  local g
  for g in "/sys/fs/cgroup/$1"* "/sys/fs/cgroup/cpu/$1"*; do
    [[ -d "$g" ]] && rmdir "$g" 2>/dev/null
  done
  return 0
}

# run_capped PROCS COMMAND...: execs COMMAND inside the cgroup whose
# cgroup.procs file is PROCS (its threads stay there). It replaces the
# calling (sub)shell, so `run_capped ... &` gives the command's own PID.
run_capped() {
  exec sh -c 'echo $$ > "$1"; shift; exec "$@"' sh "$@"
}
