#!/usr/bin/env bash
# tls_inbound.sh - healer serving HTTPS with mutual TLS (--tls-cert-file,
# --tls-key-file, --tls-client-ca-file):
#   - the real Alertmanager with tls_config (CA, client certificate) delivers
#     an alert, which healer records;
#   - refused cleanly, each followed by a request that still works: a client
#     that trusts another CA, a client certificate from another CA, an expired
#     one, none, plain HTTP, TLS 1.1, a garbage handshake, and a handshake
#     that never finishes (closed after --connection-timeout, while others
#     are served meanwhile);
#   - SIGHUP rotates the certificate: a connection opened before it keeps
#     working, a new one gets the new certificate, a held remediation is
#     still done; a reload from a missing or invalid file keeps the old
#     certificate, says why in the log and /readyz;
#   - start-up refuses a key that does not match its certificate, naming both.
. "$(dirname "$0")/lib.bash"
command -v openssl >/dev/null || fail "openssl is missing"

PKI=$TMP/pki OTHER=$TMP/other
bash tests/fakes/mkcerts.sh "$PKI" || fail "mkcerts.sh"
bash tests/fakes/mkcerts.sh "$OTHER" || fail "mkcerts.sh (other CA)"

# sign NAME EXT START END: a new key and certificate NAME.{key,crt} in $PKI,
# signed by $PKI's CA, valid from START to END (openssl ca dates).
mkdir -p "$TMP/ca/new" && : >"$TMP/ca/index.txt" && echo 1000 >"$TMP/ca/serial"
cat >"$TMP/ca/ca.cnf" <<EOF
[req]
distinguished_name = dn
[dn]
[ca]
default_ca = tca
[tca]
database = $TMP/ca/index.txt
new_certs_dir = $TMP/ca/new
serial = $TMP/ca/serial
default_md = sha256
policy = pol
unique_subject = no
[pol]
commonName = supplied
[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[cli]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
sign() {
  { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$PKI/$1.key" &&
    openssl req -new -config "$TMP/ca/ca.cnf" -key "$PKI/$1.key" -subj "/CN=$1" -out "$TMP/ca/$1.csr" &&
    openssl ca -batch -notext -config "$TMP/ca/ca.cnf" -cert "$PKI/ca.crt" -keyfile "$PKI/ca.key" \
      -in "$TMP/ca/$1.csr" -out "$PKI/$1.crt" -extensions "$2" -startdate "$3" -enddate "$4"; } \
    >>"$TMP/openssl.log" 2>&1 || fail "openssl ($1): $(tail -n 5 "$TMP/openssl.log")"
}
sign expired cli 20200101000000Z 20200201000000Z
sign rotated srv 20250101000000Z 20350101000000Z

cp "$PKI/server.crt" "$TMP/tls.crt"
cp "$PKI/server.key" "$TMP/tls.key"

# A key that is not the certificate's: refused at start-up, both files named.
"$HEALER_FIXTURE" --dry-run --listen 127.0.0.1:0 --state-dir "$TMP/state-bad" \
  --tls-cert-file "$TMP/tls.crt" --tls-key-file "$OTHER/server.key" >"$TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "mismatched key: exit $rc, want 2: $(cat "$TMP/bad.out")"
grep -q "does not match" "$TMP/bad.out" && grep -q "$OTHER/server.key" "$TMP/bad.out" &&
  grep -q "$TMP/tls.crt" "$TMP/bad.out" || fail "mismatched key message: $(cat "$TMP/bad.out")"
"$HEALER_FIXTURE" --dry-run --listen 127.0.0.1:0 --state-dir "$TMP/state-bad" \
  --tls-cert-file "$TMP/missing.crt" --tls-key-file "$TMP/tls.key" >"$TMP/bad.out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "missing.crt" "$TMP/bad.out" || fail "missing cert: exit $rc: $(cat "$TMP/bad.out")"

start_healer --dry-run --start-delay 3s --connection-timeout 2s --log-level debug \
  --tls-cert-file "$TMP/tls.crt" --tls-key-file "$TMP/tls.key" --tls-client-ca-file "$PKI/ca.crt"
BASE="https://127.0.0.1:$PORT"
grep -q 'tls=mutual' "$TMP/healer.log" || fail "listening line without tls=mutual"

# tc [CURL ARGS...] PATH: curl with the test CA and the client certificate.
tc() {
  local path=${!#}
  curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" \
    "${@:1:$#-1}" "$BASE$path"
}
serves() { # a good client still gets in
  [ "$(tc -o /dev/null -w '%{http_code}' /healthz)" = 200 ] || fail "healer stopped serving ($1)"
}
refused() { # WHAT CURL-ARGS...: no HTTP answer at all
  local what=$1 code
  shift
  code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$@" 2>>"$TMP/refused.log")
  [ "$code" = 000 ] || fail "$what: got HTTP $code"
  serves "$what"
}
serves start

# 1. The real Alertmanager, with tls_config.
am=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
[ -x "$am" ] || fail "no Alertmanager at $am"
am_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AM_URL="http://127.0.0.1:$am_port"
cat >"$TMP/alertmanager.yml" <<YML
route:
  receiver: healer
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: healer
    webhook_configs:
      - url: 'https://127.0.0.1:$PORT/api/v1/alertmanager'
        send_resolved: false
        http_config:
          tls_config:
            ca_file: $PKI/ca.crt
            cert_file: $PKI/client.crt
            key_file: $PKI/client.key
YML
mkdir -p "$TMP/am"
"$am" --config.file="$TMP/alertmanager.yml" --storage.path="$TMP/am" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= >"$TMP/am.log" 2>&1 &
PIDS+=($!)
wait_until 30 curl -sf "$AM_URL/-/ready" || fail "Alertmanager not ready: $(tail -n 5 "$TMP/am.log")"
am_push '[{"labels":{"alertname":"HealerTest","instance":"tls-am:9100"}}]'
recorded() { # NODE: a remediation for it is listed
  tc "/api/v1/remediations" | grep -q "\"node\":\"$1\""
}
wait_until 30 recorded tls-am || fail "Alertmanager's alert did not arrive: $(grep -i 'notify\|tls\|x509' "$TMP/am.log" | tail -n 5)"

# 2. Refusals.
refused "a client that trusts another CA" --cacert "$OTHER/ca.crt" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" "$BASE/healthz"
refused "a client certificate from another CA" --cacert "$PKI/ca.crt" --cert "$OTHER/client.crt" \
  --key "$OTHER/client.key" "$BASE/healthz"
refused "an expired client certificate" --cacert "$PKI/ca.crt" --cert "$PKI/expired.crt" \
  --key "$PKI/expired.key" "$BASE/healthz"
refused "no client certificate" --cacert "$PKI/ca.crt" "$BASE/healthz"
refused "plain HTTP" "http://127.0.0.1:$PORT/healthz"
refused "TLS 1.1" --tls-max 1.1 --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" "$BASE/healthz"
wait_until 10 grep -q 'tls client refused.*expired' "$TMP/healer.log" || fail "no log line for the expired certificate"
wait_until 10 grep -q 'tls client refused.*issuer is unknown' "$TMP/healer.log" || fail "no log line for the unknown issuer"

# Garbage for a handshake: closed. A handshake that stops half-way: others
# are served meanwhile, and it is closed after --connection-timeout (2s).
python3 - "$PORT" <<'PY' || fail "garbage handshake"
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"\x16\x03\x01\x00\x40" + os.urandom(64) + b"GET / HTTP/1.1\r\n\r\n" * 10)
while s.recv(4096):
    pass
PY
serves "garbage handshake"
python3 - "$PORT" "$PKI" <<'PY' || fail "stalled handshake"
import socket, ssl, subprocess, sys, time
port, pki = int(sys.argv[1]), sys.argv[2]
stalled = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(20)]
for s in stalled:
    s.sendall(b"\x16\x03\x01")          # the first bytes of a ClientHello, then nothing
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
t0 = time.monotonic()
for _ in range(5):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as c:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert c.recv(100).startswith(b"HTTP/1.1 200"), "no 200 while stalled"
assert time.monotonic() - t0 < 10, "good clients waited for the stalled ones"
for s in stalled:                      # closed by healer, not by our timeout
    data = b""
    while True:
        chunk = s.recv(100)
        if not chunk:
            break
        data += chunk
    # nothing, or a TLS alert record: no handshake, no HTTP
    assert data == b"" or data[0] == 0x15, ("stalled handshake answered", data[:20])
PY
serves "stalled handshakes"

# 3. Rotation. A connection opened before SIGHUP keeps working; a new one
# gets the new certificate; a held remediation (--start-delay) still ends.
post_held() {
  curl -sS --max-time 10 -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
    --key "$PKI/client.key" -H 'Content-Type: application/json' \
    --data-binary "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"tls-held:9100"}' 7150000000000001)")" \
    "$BASE/api/v1/alertmanager"
}
[ "$(post_held)" = 202 ] || fail "webhook before the rotation"
serial_of() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
old_serial=$(serial_of "$PKI/server.crt")
new_serial=$(serial_of "$PKI/rotated.crt")
export HEALER_PID TMP PKI
python3 - "$PORT" "$PKI" "$old_serial" "$new_serial" <<'PY' || fail "rotation"
import socket, ssl, subprocess, sys
port, pki, old, new = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
def conn():
    c = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="127.0.0.1")
    return c, c.getpeercert()["serialNumber"].upper().lstrip("0")
def get(c):
    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}\n"):
        chunk = c.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:80]
a, sa = conn()
assert sa == old.lstrip("0"), (sa, old)
get(a)
subprocess.run(["bash", "-c", '''
  cp "$PKI/rotated.crt" "$TMP/tls.crt" && cp "$PKI/rotated.key" "$TMP/tls.key" && kill -HUP "$HEALER_PID" &&
  for i in $(seq 1 100); do grep -q "TLS certificate reloaded" "$TMP/healer.log" && exit 0; sleep 0.1; done; exit 1
'''], check=True)
get(a)                                 # the old connection, after the reload
b, sb = conn()
assert sb == new.lstrip("0"), ("new connection got", sb, "want", new)
get(b)
a.close(); b.close()
PY
held_done() { tc "/api/v1/remediations" | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin)["remediations"] if x["fingerprint"] == "7150000000000001"]
sys.exit(0 if len(r) == 1 and r[0]["state"] == "dry_run" else 1)'; }
wait_until 20 held_done || fail "the held remediation: $(tc /api/v1/remediations | head -c 600)"

# 4. Reloads that fail keep the certificate in use, and say why.
readyz_tls() { tc /readyz | python3 -c 'import json,sys; print(json.load(sys.stdin).get("tls", ""))'; }
[ -z "$(readyz_tls)" ] || fail "/readyz has a tls problem after a good reload: $(tc /readyz)"
mv "$TMP/tls.crt" "$TMP/tls.crt.away"
kill -HUP "$HEALER_PID"
wait_until 10 grep -q 'TLS certificate not reloaded.*tls.crt' "$TMP/healer.log" || fail "no log line for the missing file"
case $(readyz_tls) in *"previous certificate"*"tls.crt"*) ;; *) fail "/readyz after a failed reload: $(tc /readyz)" ;; esac
[ "$(tc -o /dev/null -w '%{http_code}' /readyz)" = 200 ] || fail "/readyz not 200 while serving the old certificate"
printf 'not a certificate\n' >"$TMP/tls.crt"
kill -HUP "$HEALER_PID"
logged() { [ "$(grep -c "$1" "$TMP/healer.log")" -ge "$2" ]; }
wait_until 10 logged 'TLS certificate not reloaded' 2 || fail "no log line for the invalid file"
serves "invalid certificate file"
mv "$TMP/tls.crt.away" "$TMP/tls.crt"
kill -HUP "$HEALER_PID"
wait_until 10 logged 'TLS certificate reloaded' 2 || fail "good reload after the failures"
tls_fine() { [ -z "$(readyz_tls)" ]; }
wait_until 10 tls_fine || fail "/readyz still reports a tls problem: $(tc /readyz)"
serves "after the reloads"

stop_healer
echo "PASS $TEST_NAME"
