#!/usr/bin/env bash
# Two Reprise setups alternated, CPU µs per request of each (cpu-per-request.sh), then the median
# of the paired B/A ratios: the way to compare builds or configurations on a noisy machine.
#
# Usage: bench/probes/paired-cpu-per-request.sh ROUNDS BIN_A YAML_A BIN_B YAML_B [unique|fixed] [connections] [seconds]
#   BIN_*: a directory with release reprise and reprise-mock-upstream; YAML_*: a file of extra
#   reprise.yaml text (e.g. `metrics: {enabled: false}`), or - for none.
# Environment: as for cpu-per-request.sh (CACHE, UPSTREAM_TLS, LOG_LEVEL, ...).
set -euo pipefail
rounds=$1; bin_a=$2; yaml_a=$3; bin_b=$4; yaml_b=$5; script=${6:-fixed}; conc=${7:-8}; seconds=${8:-4}
cd "$(dirname "$0")/../.."
for _ in $(seq "$rounds"); do
    for side in A B; do
        if [[ $side == A ]]; then bin=$bin_a; yaml=$yaml_a; else bin=$bin_b; yaml=$yaml_b; fi
        extra=""; [[ $yaml != - ]] && extra=$(cat "$yaml")
        value=$(BIN_DIR=$bin extra_yaml="$extra" bench/probes/cpu-per-request.sh "$script" "$conc" "$seconds" 2>/dev/null \
            | awk '/us per request/{print $(NF-3)}')
        echo "$side ${value:-0}"
    done
done | python3 -c '
import statistics, sys
a, b = [], []
for line in sys.stdin:
    side, value = line.split()
    (a if side == "A" else b).append(int(value))
ratios = [y / x for x, y in zip(a, b) if x > 0]
print("A µs/request:", a)
print("B µs/request:", b)
print("B/A paired ratios:", " ".join("%.2f" % r for r in ratios), "median %.3f" % statistics.median(ratios) if ratios else "")'
