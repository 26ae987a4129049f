#!/usr/bin/env bash
# Sets up (Debian packages and the Python SDK virtualenv when missing), builds, and runs every
# test: the Swift suites (unit, Redis, TLS, end-to-end with the real binaries) and the
# end-to-end suite driven by the real OpenAI Python SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --test
swift build --build-tests
# Serially: several suites drive real processes over blocking sockets, and in parallel they
# would starve the other suites' async work on a 2-core machine.
swift test --skip-build --no-parallel
.venv/bin/python -m pytest -q Tests/python
# Fuzz smoke run: every libFuzzer target for 10 s on its seed corpus (scripts/fuzz.sh).
FUZZ_SECONDS=10 scripts/fuzz.sh
