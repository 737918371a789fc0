#!/usr/bin/env bash
# ratio.sh FILE NUMERATOR DENOMINATOR [UNIT]: the ratio of two benchmarks' median
# UNIT (default ns/op; B/op with -benchmem) from `go test -bench` output,
# measured in the same run.
set -euo pipefail
file=$1 num=$2 den=$3 unit=${4:-ns/op}
median() {
  grep -E "^$1(-[0-9]+)?[[:space:]]" "$file" | awk -v u="$unit" '{for (i=1;i<=NF;i++) if ($i==u) print $(i-1)}' |
    sort -g | awk '{a[NR]=$1} END {if (NR==0) exit 1; print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
n=$(median "$num") || { echo "ratio.sh: no results for $num" >&2; exit 1; }
d=$(median "$den") || { echo "ratio.sh: no results for $den" >&2; exit 1; }
awk -v n="$n" -v d="$d" -v a="$num" -v b="$den" -v u="$unit" 'BEGIN {printf "%s / %s = %.0f / %.0f %s = %.2fx\n", a, b, n, d, u, n/d}'
