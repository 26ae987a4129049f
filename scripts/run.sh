#!/usr/bin/env bash
# Sets up (Debian packages when missing), builds a release binary and runs Reprise with the
# documented default configuration (in-memory cache, no Redis needed).
# Usage: scripts/run.sh [reprise options...]   e.g. scripts/run.sh --upstream http://127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
swift build -c release --product reprise
exec .build/release/reprise --config config/reprise.yaml "$@"
