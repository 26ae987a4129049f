#!/usr/bin/env bash
# Instructions Reprise executes per cached hit, and its malloc-family calls, counted by
# valgrind's callgrind. Counts, not times: the same build and scenario give the same figures on
# a busy machine, which makes small differences (a copy, an allocation) visible.
#
# The client (Python, one keep-alive connection, one request at a time) connects and fills the
# cache first; the counters are zeroed after that, so with PROXY_TLS=1 the handshake is not in
# the figures, only the hits over an established TLS connection. Under callgrind Reprise runs
# ~50x slower: no rate is printed.
#
# Needs valgrind, objcopy and cc. valgrind 3.19 cannot read Swift 6.3's DWARF 5 (Reprise runs
# from a copy made with `objcopy --strip-debug`) and dies when Swift's async main parks in
# sigsuspend (bench/lib/valgrind-sigsuspend.c, preloaded, works around it).
# Usage: bench/probes/instructions-per-hit.sh [requests]   (default 2000)
# Environment: PROXY_TLS=1 (hits over HTTPS), KEEP_DUMP=FILE (keep the callgrind dump, for
# callgrind_annotate), BIN_DIR and the rest as for common.sh.
requests=${1:-2000}; loops=1; probe=instructions-per-hit
source "$(dirname "$0")/callgrind-reprise.sh"
source "$(dirname "$0")/common.sh"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" "$stripped"' EXIT
curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null || { echo "instructions-per-hit: Reprise did not start" >&2; exit 1; }
python3 - "$proxy_url" "$proxy_pid" "$requests" "$stripped" <<'PY'
import os, socket, ssl, sys
sys.path.insert(0, "bench/lib")
import rawhttp
from callgrind import MALLOC_FAMILY, count_run

url, pid, requests, dump_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
port = int(url.rsplit(":", 1)[1])
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
if url.startswith("https:"):
    sock = ssl._create_unverified_context().wrap_socket(sock, server_hostname="localhost")
request = rawhttp.encode_request("/v1/chat/completions",
                                 rawhttp.chat_body(f"What is the capital of France? (bench callgrind {os.getpid()})"))

def exchange():
    return rawhttp.exchange(sock, request)

for _ in range(20):  # the first fills the cache; the rest warm what is lazily set up
    exchange()
if exchange().headers.get("x-cache") != "HIT":
    raise SystemExit("instructions-per-hit: the request is not a cache hit")
def measured():
    for _ in range(requests):
        exchange()

total, calls, _ = count_run(pid, dump_dir, measured)
mallocs = sum(calls[name] for name in MALLOC_FAMILY)
scheme = "HTTPS" if url.startswith("https:") else "HTTP"
tier = "Redis" if os.environ.get("CACHE") == "redis" else "L1"
print(f"reprise, {scheme} {tier} hits, one keep-alive connection: {requests} hits, {total / requests:,.0f} instructions"
      f" per hit, malloc-family calls {mallocs / requests:.2f} per hit (swift_allocObject"
      f" {calls['swift_allocObject'] / requests:.2f})")
if os.environ.get("KEEP_DUMP"):
    print(f"dump kept in {os.environ['KEEP_DUMP']}")
PY
