# Shared by the probes: starts the mock upstream and Reprise (release build) on free loopback
# ports with `server.threads: $loops` and any extra YAML in $extra_yaml; stops both and removes
# the work directory on exit. Sets mock_port, proxy_port, proxy_pid, work.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin=${BIN_DIR:-.build-bench/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mock_port=$(free_port); proxy_port=$(free_port)
cat > "$work/reprise.yaml" <<YAML
server:
  listen: 127.0.0.1:$proxy_port
  threads: ${loops:-1}
upstream:
  url: http://127.0.0.1:$mock_port
logging:
  level: warning
${extra_yaml:-}
YAML
"$bin/reprise-mock-upstream" --port "$mock_port" --threads 1 > "$work/mock.log" 2>&1 &
"$bin/reprise" --config "$work/reprise.yaml" > "$work/reprise.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break; sleep 0.1; done
export BENCH_WRK_DIR=bench/wrk
