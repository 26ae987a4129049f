#!/usr/bin/env bash
# Installs what building, running and testing Reprise needs on Debian, only what is missing.
# Usage: scripts/setup.sh [--test]   (--test adds the test tools and the Python SDK virtualenv)
set -euo pipefail
cd "$(dirname "$0")/.."

# node-llhttp: llhttp's C sources (/usr/share/llhttp), which the CLLHTTP target compiles.
packages=(libhiredis-dev libssl-dev pkg-config node-llhttp)
if [[ "${1:-}" == "--test" ]]; then
  # prometheus: the observability tests run promtool on the alert rules and a real Prometheus
  # server against Reprise.
  packages+=(redis-server curl openssl python3-venv prometheus)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
  else
    echo "setup: Swift 6.1 or newer is required (https://www.swift.org/install/linux/)" >&2
    exit 1
  fi
fi

if [[ "${1:-}" == "--test" ]]; then
  # The end-to-end suite drives Reprise with the real OpenAI Python SDK.
  # The current SDK major (3.x): it hangs up right after `data: [DONE]`, which the stream
  # tests depend on.
  # kubernetes-validate (the Kubernetes OpenAPI schemas, offline) and yamllint check k8s/
  # (Tests/python/test_kubernetes.py).
  if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c "import openai, pytest, kubernetes_validate, yamllint, sys; sys.exit(int(openai.__version__.split('.')[0]) != 3)" 2>/dev/null; then
    echo "setup: creating .venv with openai 3.x, pytest, kubernetes-validate and yamllint"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check "openai>=3,<4" "pytest>=8" \
      "kubernetes-validate>=1.29" "yamllint>=1.35"
  fi
fi
