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
requests=${1:-2000}; loops=1
for tool in valgrind callgrind_control objcopy cc; do
    command -v "$tool" >/dev/null || { echo "instructions-per-hit: $tool is missing" >&2; exit 2; }
done
source_bin=${BIN_DIR:-.build-bench/release}
stripped=$(mktemp -d)
cp "$source_bin/reprise" "$stripped/reprise"
objcopy --strip-debug "$stripped/reprise"
ln -s "$(cd "$source_bin" && pwd)/reprise-mock-upstream" "$stripped/reprise-mock-upstream"
cc -shared -fPIC -O2 -o "$stripped/libvalgrind-sigsuspend.so" bench/lib/valgrind-sigsuspend.c
export BIN_DIR=$stripped
valgrind=(valgrind --tool=callgrind --dump-instr=no "--callgrind-out-file=$stripped/callgrind.%p")
REPRISE_WRAPPER="env LD_PRELOAD=$stripped/libvalgrind-sigsuspend.so ${valgrind[*]}"
START_SECONDS=120
source "$(dirname "$0")/common.sh"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" "$stripped"' EXIT
curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null || { echo "instructions-per-hit: Reprise did not start" >&2; exit 1; }
python3 - "$proxy_url" "$proxy_pid" "$requests" "$stripped" <<'PY'
import glob, os, socket, ssl, subprocess, sys, time
sys.path.insert(0, "bench/lib")
import rawhttp
from callgrind import parse_dump

url, pid, requests, dump_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
port = int(url.rsplit(":", 1)[1])
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
if url.startswith("https:"):
    sock = ssl._create_unverified_context().wrap_socket(sock, server_hostname="localhost")
request = rawhttp.encode_request("/v1/chat/completions",
                                 rawhttp.chat_body(f"What is the capital of France? (bench callgrind {os.getpid()})"))

def exchange():
    sock.sendall(request)
    parser = rawhttp.ResponseParser()
    while not parser.done:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("instructions-per-hit: the connection closed")
        parser.feed(data)
    return parser

for _ in range(20):  # the first fills the cache; the rest warm what is lazily set up
    exchange()
if exchange().headers.get("x-cache") != "HIT":
    raise SystemExit("instructions-per-hit: the request is not a cache hit")
subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
for _ in range(requests):
    exchange()
subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
dump = None
for _ in range(600):  # the dump of the measured run: callgrind.PID.1
    found = [path for path in glob.glob(f"{dump_dir}/callgrind.{pid}.*") if os.path.getsize(path) > 0]
    if found:
        time.sleep(1)  # written in full
        dump = found[0]
        break
    time.sleep(0.1)
if dump is None:
    raise SystemExit("instructions-per-hit: no callgrind dump")
total, calls = parse_dump(dump)
mallocs = sum(calls[name] for name in ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc"))
scheme = "HTTPS" if url.startswith("https:") else "HTTP"
tier = "Redis" if os.environ.get("CACHE") == "redis" else "L1"
print(f"reprise, {scheme} {tier} hits, one keep-alive connection: {requests} hits, {total / requests:,.0f} instructions"
      f" per hit, malloc-family calls {mallocs / requests:.2f} per hit (swift_allocObject"
      f" {calls['swift_allocObject'] / requests:.2f})")
if os.environ.get("KEEP_DUMP"):
    import shutil
    shutil.copy(dump, os.environ["KEEP_DUMP"])
    print(f"dump kept in {os.environ['KEEP_DUMP']}")
PY
