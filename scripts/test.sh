#!/usr/bin/env bash
# Sets up (Debian packages and the Python SDK virtualenv when missing), builds, and runs every
# test: the Swift suites (unit, Redis, TLS, end-to-end with the real binaries) and the
# end-to-end suite driven by the real OpenAI Python SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh --test
swift build --build-tests
swift test --skip-build
.venv/bin/python -m pytest -q Tests/python
