#!/usr/bin/env bash
# Upstream connections Reprise opens under load: unique cacheable bodies (misses) with wrk, then
# the mock upstream's count of accepted connections (GET /_mock/stats) and the TIME-WAIT sockets
# left towards it (a proxy that does not reuse connections leaves one per request).
#
# Usage: bench/probes/upstream-connections.sh [connections] [seconds] [event loops]
# Environment: BIN_DIR (default .build-bench/release).
set -euo pipefail
cd "$(dirname "$0")/../.."
conc=${1:-32}; seconds=${2:-5}; loops=${3:-2}
bin=${BIN_DIR:-.build-bench/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); proxy_port=$(free_port)
cat > "$work/reprise.yaml" <<YAML
server:
  listen: 127.0.0.1:$proxy_port
  threads: $loops
upstream:
  url: http://127.0.0.1:$mock_port
logging:
  level: warning
YAML
"$bin/reprise-mock-upstream" --port "$mock_port" --threads 1 > "$work/mock.log" 2>&1 &
"$bin/reprise" --config "$work/reprise.yaml" > "$work/reprise.log" 2>&1 &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.1; done
export BENCH_WRK_DIR=bench/wrk BENCH_NONCE="conn$RANDOM$$"
wrk -t1 -c"$conc" -d"${seconds}s" -s bench/wrk/unique.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" \
  | grep -E "requests in|Requests/sec|Non-2xx" || true
echo "mock stats: $(curl -s "http://127.0.0.1:$mock_port/_mock/stats")"
echo "TIME-WAIT sockets to the mock: $(ss -tan state time-wait | grep -c ":$mock_port" || true)"
