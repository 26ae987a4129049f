#!/usr/bin/env bash
# Where Reprise's CPU goes: `perf record -e cpu-clock -g` on the release binary (1 event loop)
# while wrk drives it, then `perf report` of the heaviest symbols, self and with callees.
# cpu-clock because this VM has no hardware counters (`perf stat -e instructions` is refused).
#
# Usage: bench/probes/cpu-profile.sh [unique|fixed] [connections] [seconds] [perf.data path]
#   unique: a new body per request (misses); fixed: cache hits.
# Environment: CACHE (true, false or redis, as for cpu-per-request.sh), UPSTREAM_TLS=1 (the mock
#              over https://), BIN_DIR. Needs root (or perf_event_paranoid <= 1) and linux-perf.
script=${1:-unique}; conc=${2:-1}; seconds=${3:-8}; out=${4:-$PWD/reprise-cpu.perf.data}; loops=1
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="prof$RANDOM$$"
url="http://127.0.0.1:$proxy_port/v1/chat/completions"
wrk -t1 -c1 -d1s -s "bench/wrk/$script.lua" "$url" >/dev/null  # connections (and TLS sessions) up
wrk -t1 -c"$conc" -d"$((seconds + 2))s" -s "bench/wrk/$script.lua" "$url" >"$work/wrk.txt" &
wrk_pid=$!
sleep 1
perf record -q -e cpu-clock -F 4000 -g -p "$proxy_pid" -o "$out" -- sleep "$seconds" >/dev/null 2>&1
wait "$wrk_pid"
awk '/requests in/{print "wrk:", $0}' "$work/wrk.txt"
echo "profile in $out; heaviest symbols (self):"
perf report -i "$out" --no-children --sort dso,symbol -g none 2>/dev/null | grep '%' | head -25 | cut -c1-160
