#!/usr/bin/env bash
# Upstream connections Reprise opens under load: unique cacheable bodies (misses) with wrk, then
# the mock upstream's count of accepted connections (GET /_mock/stats) and the TIME-WAIT sockets
# left towards it (a proxy that does not reuse connections leaves one per request).
#
# Usage: bench/probes/upstream-connections.sh [connections] [seconds] [event loops]
# Environment: BIN_DIR (default .build-bench/release).
conc=${1:-32}; seconds=${2:-5}; loops=${3:-2}
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="conn$RANDOM$$"
wrk -t1 -c"$conc" -d"${seconds}s" -s bench/wrk/unique.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" \
  | grep -E "requests in|Requests/sec|Non-2xx" || true
echo "mock stats: $(curl -s "http://127.0.0.1:$mock_port/_mock/stats")"
echo "TIME-WAIT sockets to the mock: $(ss -tan state time-wait | grep -c ":$mock_port" || true)"
