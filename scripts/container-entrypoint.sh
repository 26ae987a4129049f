#!/bin/sh
# Entrypoint of the Reprise container image (Containerfile). Picks the configuration and execs
# reprise, so reprise is PID 1 and receives SIGTERM itself (the drain needs it).
#
#   config: $REPRISE_CONFIG if set, else the mounted file (a ConfigMap at
#           /etc/reprise/reprise.yaml), else the default baked into the image.
#   container-entrypoint [serve] [ARGS...]   reprise serve --config CONFIG ARGS...
#   container-entrypoint check-config [PATH] validate PATH, or the chosen config
#   container-entrypoint --version | --help
#
# REPRISE_BIN, REPRISE_MOUNTED_CONFIG and REPRISE_DEFAULT_CONFIG name the image's paths; they
# are variables so Tests/python/test_kubernetes.py can run this script outside a container.
set -eu

bin=${REPRISE_BIN:-/usr/local/bin/reprise}
mounted=${REPRISE_MOUNTED_CONFIG:-/etc/reprise/reprise.yaml}
baked=${REPRISE_DEFAULT_CONFIG:-/usr/share/reprise/reprise.yaml}

if [ -n "${REPRISE_CONFIG:-}" ]; then
  config=$REPRISE_CONFIG
  origin="REPRISE_CONFIG"
elif [ -f "$mounted" ]; then
  config=$mounted
  origin="mounted"
else
  config=$baked
  origin="image default"
fi
if [ ! -r "$config" ]; then
  echo "container-entrypoint: configuration $config ($origin) is not readable" >&2
  exit 78
fi

case "${1:-}" in
  check-config)
    shift
    if [ $# -eq 0 ]; then set -- "$config"; fi
    exec "$bin" check-config "$@"
    ;;
  --version | --help | -h)
    exec "$bin" "$@"
    ;;
  serve)
    shift
    ;;
esac
for argument in "$@"; do
  case "$argument" in
    --config | --config=*) exec "$bin" serve "$@" ;;
  esac
done
echo "container-entrypoint: configuration $config ($origin)" >&2
exec "$bin" serve --config "$config" "$@"
