#!/usr/bin/env bash
# A throwaway PKI for the bench's TLS runs, made with the openssl CLI in DIR (the caller's temp
# directory, removed with it; never committed): ca.pem (a private CA) and server.pem/server.key,
# an ECDSA P-256 certificate for localhost and 127.0.0.1 signed by it, valid for a day.
# Used by bench/tls/run.sh, bench/probes/common.sh and bench/lib/pki.py (bench/run.sh).
#   bench/lib/make-pki.sh DIR
set -euo pipefail
dir=$1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$dir/server.ext"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 1 -subj "/CN=Reprise bench CA" 2>/dev/null
openssl req "${ec[@]}" -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial 0x10 -days 1 \
  -out "$dir/server.pem" -extfile "$dir/server.ext" 2>/dev/null
