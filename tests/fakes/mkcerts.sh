#!/usr/bin/env bash
# mkcerts.sh DIR - a throw-away PKI for the TLS fakes (fake_kubernetes.py ...).
#
# Makes, in DIR (created if needed):
#   ca.crt     ca.key       a test CA ("healer test CA")
#   server.crt server.key   signed by the CA; SAN IP:127.0.0.1, IP:::1, DNS:localhost
#   client.crt client.key   signed by the CA; CN=healer (a client certificate)
# EC keys (prime256v1), valid for 10 years. Quiet: prints nothing on success,
# openssl's output on failure (exit 1). Idempotent: when all six files exist
# it does nothing; otherwise it makes a complete new set, so the files always
# belong together. Safe to run concurrently on the same DIR (flock).
set -u
dir=${1:?usage: mkcerts.sh DIR}
files=(ca.crt ca.key server.crt server.key client.crt client.key)

complete() {
  local f
  for f in "${files[@]}"; do [ -s "$dir/$f" ] || return 1; done
}

complete && exit 0
mkdir -p "$dir" || exit 1
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.mkcerts.lock" || exit 1
  flock 9 || exit 1
  complete && exit 0  # made by whoever held the lock
fi

work=$(mktemp -d "$dir/.mkcerts.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
umask 077

# One config for every step: no dependence on the system's openssl.cnf.
cat >"$work/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

run() {  # run CMD...: openssl quietly; its output and exit 1 on failure
  if ! "$@" >>"$work/log" 2>&1; then
    echo "mkcerts.sh: failed: $*" >&2
    cat "$work/log" >&2
    exit 1
  fi
}
serial() { echo "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
key() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$work/$1"; }
leaf() {  # leaf NAME CN EXTENSIONS
  key "$1.key"
  run openssl req -new -config "$work/openssl.cnf" -key "$work/$1.key" -subj "/CN=$2" \
    -out "$work/$1.csr"
  run openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
    -set_serial "$(serial)" -days 3650 -sha256 -extfile "$work/openssl.cnf" -extensions "$3" \
    -out "$work/$1.crt"
}

key ca.key
run openssl req -x509 -new -config "$work/openssl.cnf" -key "$work/ca.key" \
  -subj "/O=healer tests/CN=healer test CA" -set_serial "$(serial)" -days 3650 -sha256 \
  -extensions ca_ext -out "$work/ca.crt"
leaf server localhost server_ext
leaf client healer client_ext
chmod 644 "$work"/*.crt
for f in "${files[@]}"; do mv -f "$work/$f" "$dir/$f" || exit 1; done
exit 0
