#!/usr/bin/env bash
# Instructions Reprise executes per upstream miss, and its malloc-family calls, counted by
# valgrind's callgrind (Reprise only: the mock upstream and the client run uninstrumented).
# Counts, not times: the same build and scenario give the same figures on a busy machine.
#
# Every request carries a prompt of its own, so each one goes upstream: with the cache on
# (default) each is a cacheable miss (key, coalescing flight, tee into L1); with `CACHE=false`
# each is a pure pass-through. The client (Python, one keep-alive connection, one request at a
# time) warms Reprise up first (the first upstream connection, lazily set-up state); the
# counters are zeroed after that, so the upstream connect and TLS handshake are not in the
# figures, only requests over an established, kept-alive upstream connection. Under callgrind
# Reprise runs ~50x slower: no rate is printed.
#
# Needs valgrind, objcopy and cc (callgrind-reprise.sh says why Reprise runs from a stripped
# copy with bench/lib/valgrind-sigsuspend.c preloaded).
# Usage: bench/probes/instructions-per-miss.sh [requests]   (default 500)
# Environment: CACHE=false (pass-through), UPSTREAM_TLS=1 (an https:// upstream), KEEP_DUMP=FILE
# (keep the callgrind dump, for callgrind_annotate), BIN_DIR and the rest as for common.sh.
requests=${1:-500}; loops=1; probe=instructions-per-miss
source "$(dirname "$0")/callgrind-reprise.sh"
source "$(dirname "$0")/common.sh"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" "$stripped"' EXIT
curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null || { echo "instructions-per-miss: Reprise did not start" >&2; exit 1; }
python3 - "$proxy_url" "$proxy_pid" "$requests" "$stripped" "${CACHE:-true}" "${UPSTREAM_TLS:-0}" <<'PY'
import os, socket, sys, time
sys.path.insert(0, "bench/lib")
import rawhttp
from callgrind import MALLOC_FAMILY, count_run

url, pid, requests, dump_dir, cache, upstream_tls = sys.argv[1:7]
requests = int(requests)
port = int(url.rsplit(":", 1)[1])
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
run = f"{os.getpid()}-{time.time_ns()}"
# Encoded before the counted run; each prompt is new to the cache.
bodies = [rawhttp.encode_request("/v1/chat/completions",
                                 rawhttp.chat_body(f"What is the capital of France? (bench miss {run} {n})"))
          for n in range(requests + 20)]

for request in bodies[:20]:  # the upstream connection opened, lazily set-up state warmed
    answer = rawhttp.exchange(sock, request)
expected = "MISS" if cache != "false" else None
if answer.status != 200 or (expected and answer.headers.get("x-cache") != expected) or answer.headers.get("x-cache") == "HIT":
    raise SystemExit(f"instructions-per-miss: unexpected answer {answer.status} x-cache={answer.headers.get('x-cache')}")

def measured():
    for request in bodies[20:]:
        rawhttp.exchange(sock, request)

total, calls, _ = count_run(pid, dump_dir, measured)
mallocs = sum(calls[name] for name in MALLOC_FAMILY)
kind = "pass-through (cache off)" if cache == "false" else "cacheable miss"
scheme = "https" if upstream_tls == "1" else "http"
print(f"reprise, {kind}, {scheme}:// upstream, one keep-alive connection: {requests} requests,"
      f" {total / requests:,.0f} instructions per request, malloc-family calls {mallocs / requests:.2f} per request"
      f" (swift_allocObject {calls['swift_allocObject'] / requests:.2f})")
if os.environ.get("KEEP_DUMP"):
    print(f"dump kept in {os.environ['KEEP_DUMP']}")
PY
