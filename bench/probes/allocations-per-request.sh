#!/usr/bin/env bash
# Heap allocations Reprise makes per request: calls of libc's malloc (Swift objects, arrays and
# strings all end there), counted by a perf uprobe over a wrk run and divided by the requests
# served. A count, not a time: the same build and scenario give the same figure on a busy or a
# quiet machine. The uprobe slows every malloc, so the request rate printed is not a result.
#
# Needs root: perf (Debian's linux-perf, installed when missing) and the uprobe
# `probe_libc:malloc` (added once).
# Usage: bench/probes/allocations-per-request.sh [unique|fixed] [connections] [seconds]
# Environment: CACHE (true, false or redis, as for cpu-per-request.sh), PROXY_TLS=1 (hits over
# HTTPS), BIN_DIR.
script=${1:-fixed}; conc=${2:-32}; seconds=${3:-3}; loops=1
if ! command -v perf >/dev/null 2>&1; then
    echo "allocations-per-request: installing linux-perf" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
libc=$(ldconfig -p | awk '/libc\.so\.6 .*x86-64/{print $NF; exit}')
if ! perf probe -l 2>/dev/null | grep -q "probe_libc:malloc "; then
    perf probe -q -x "$libc" malloc
fi
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="alloc$RANDOM$$"
wrk -t1 -c1 -d1s -s "bench/wrk/$script.lua" "$proxy_url/v1/chat/completions" >/dev/null
perf stat -e probe_libc:malloc -p "$proxy_pid" -o "$work/perf-stat.txt" -- sleep $((seconds + 1)) &
perf_pid=$!
sleep 0.3  # perf attached before the measured run starts; it ends after it
out=$(wrk -t1 -c"$conc" -d"${seconds}s" -s "bench/wrk/$script.lua" "$proxy_url/v1/chat/completions")
wait "$perf_pid"
requests=$(echo "$out" | awk '/requests in/{print $1}')
mallocs=$(awk '/probe_libc:malloc/{gsub(",", "", $1); print $1}' "$work/perf-stat.txt")
echo "$out" | grep -E "Non-2xx" || true
echo "reprise mallocs: $mallocs for $requests requests = $(python3 -c "print(f'{$mallocs / $requests:.1f}')") per request"
