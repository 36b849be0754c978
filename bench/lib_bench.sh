# Helpers for the benchmark scripts (sourced).

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# field NAME: the value of NAME=... in the line on stdin.
field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" | head -1; }
# ratio A B: B / A with three decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b / a}'; }
# steady_rate METRICS_JSONL WARMUP BATCH: triplets/s of a C++ trainer run over
# the --log_every=WARMUP intervals after the first (steady state).
steady_rate() {
  /usr/bin/python3 -c '
import json, sys
warmup, per_interval = int(sys.argv[2]), int(sys.argv[2]) * int(sys.argv[3])
rows = [json.loads(l) for l in open(sys.argv[1]) if "triplets_per_s" in l]
steady = [r for r in rows if r["step"] > warmup]
seconds = sum(per_interval / r["triplets_per_s"] for r in steady)
print("%.1f" % (len(steady) * per_interval / seconds))' "$1" "$2" "$3"
}
