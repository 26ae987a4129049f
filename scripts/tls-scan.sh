#!/usr/bin/env bash
# Scan a TLS endpoint with testssl.sh (Debian package `testssl.sh`, command `testssl`) and fail
# if it reports a weak protocol, a weak cipher or a known vulnerability.
#
#   scripts/tls-scan.sh HOST:PORT [CA_BUNDLE]
#
# CA_BUNDLE (optional) makes a private CA trusted, so an untrusted test chain is not reported.
# Exit status: 0 clean, 1 findings, 2 usage or tool error. Prints a short summary either way.
set -euo pipefail

target="${1:-}"
ca_bundle="${2:-}"
if [[ -z "$target" || "$target" != *:* ]]; then
    echo "usage: $0 HOST:PORT [CA_BUNDLE]" >&2
    exit 2
fi

testssl_bin="$(command -v testssl || command -v testssl.sh || true)"
if [[ -z "$testssl_bin" ]]; then
    echo "testssl.sh not found; installing the Debian package" >&2
    if ! { apt-get install -y testssl.sh >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y testssl.sh >/dev/null 2>&1; }; }; then
        echo "cannot install testssl.sh" >&2
        exit 2
    fi
    testssl_bin="$(command -v testssl || command -v testssl.sh)"
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
json="$workdir/findings.json"

args=(--quiet --color 0 --warnings off --sneaky --jsonfile "$json"
      --protocols --std --fs --server-preference --vulnerable)
if [[ -n "$ca_bundle" ]]; then args+=(--add-ca "$ca_bundle"); fi

set +e
"$testssl_bin" "${args[@]}" "$target" >"$workdir/report.txt" 2>&1
status=$?
set -e
if [[ ! -s "$json" ]]; then
    echo "testssl produced no findings file (exit $status):" >&2
    tail -20 "$workdir/report.txt" >&2
    exit 2
fi

# Findings at MEDIUM or above, and any LOW finding about protocols, ciphers or vulnerabilities
# (testssl rates e.g. offered TLS 1.1 or CBC ciphers LOW), count as failures.
python3 - "$json" "$target" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
target = sys.argv[2]
bad_levels = {"MEDIUM", "HIGH", "CRITICAL"}
watched_prefixes = ("SSLv", "TLS1", "TLS1_1", "cipherlist_", "cipher_", "FS", "BEAST", "POODLE", "SWEET32",
                    "LUCKY13", "RC4", "CRIME", "BREACH", "ROBOT", "heartbleed", "CCS", "ticketbleed",
                    "secure_renego", "secure_client_renego", "fallback_SCSV", "FREAK", "DROWN", "LOGJAM",
                    "winshock", "opossum")
failures = [f for f in findings
            if f.get("severity") in bad_levels
            or (f.get("severity") == "LOW" and f.get("id", "").startswith(watched_prefixes))]
def pick(prefix):
    return [f"{f['id']}={f['finding']}" for f in findings if f.get("id", "").startswith(prefix)]
print(f"testssl scan of {target}: {len(findings)} findings, {len(failures)} weak")
for key in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"):
    for f in findings:
        if f.get("id") == key:
            print(f"  protocol {key}: {f['finding']}")
vulnerabilities = [f for f in findings if f.get("id") in ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego",
                   "secure_client_renego", "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN",
                   "LOGJAM", "BEAST", "LUCKY13", "RC4", "BREACH")]
ok = sum(1 for f in vulnerabilities if f.get("severity") in ("OK", "INFO"))
print(f"  vulnerability checks: {ok}/{len(vulnerabilities)} OK/INFO")
for f in findings:
    if f.get("id") in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
                       "cipherlist_AVERAGE", "cipherlist_STRONG"):
        print(f"  {f['id']}: {f['finding']}")
for f in failures:
    print(f"  WEAK {f['severity']} {f['id']}: {f['finding']}")
sys.exit(1 if failures else 0)
PY
