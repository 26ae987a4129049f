#!/usr/bin/env bash
# Requests/s and latency (p50, p99 in µs) of cache hits at a given concurrency, for A/B checks
# of two builds: run it alternately with BIN_DIR=<build A> and BIN_DIR=<build B> and compare
# the pairs (the machine is noisy; one pair proves nothing).
#
# Usage: bench/probes/hit-latency.sh [connections] [seconds] [event loops]
# Environment: CACHE (true: L1, the default; redis: Redis only), BIN_DIR.
conc=${1:-1}; seconds=${2:-3}; loops=${3:-2}
source "$(dirname "$0")/common.sh"
export BENCH_NONCE="lat$RANDOM$$"
wrk -t1 -c1 -d1s -s bench/wrk/fixed.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null
# The measured run through the bench's own wrk runner (its BENCH-JSON summary and error counts),
# with the warm-up's nonce so that it asks for the entry just stored.
python3 - "$proxy_port" "$conc" "$seconds" <<'PY'
import os, sys
sys.path.insert(0, "bench/lib")
from wrk_runner import run_wrk
port, connections, seconds = (int(argument) for argument in sys.argv[1:])
result = run_wrk(".", port, "fixed", connections, seconds, nonce=os.environ["BENCH_NONCE"])
print(f"req/s {result.rps:.0f} p50 {result.p50_ms * 1000:.0f} us p99 {result.p99_ms * 1000:.0f} us errors {result.errors}")
PY
