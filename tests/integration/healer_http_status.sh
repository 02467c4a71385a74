#!/usr/bin/env bash
# http_status.sh - every answer of POST /api/v1/alertmanager and of unknown
# paths and methods: 202, 400 (malformed, wrong shape, wrong version, empty),
# 413 (with and without Content-Length, chunked), 415, 404, 405, each with a
# JSON error naming the problem; healer keeps serving after all of them.
. "$(dirname "$0")/lib.bash"

start_healer --dry-run --max-body 64k
P=/api/v1/alertmanager

post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' f1)")"
expect_code 202 "valid payload"
expect_json "j['status'], j['queued']" "accepted 1" "202 body"
grep -qi '^content-type: application/json' <<<"$HEADERS" || fail "202 is not JSON"

bad() { # BODY WANT_SUBSTRING WHAT
  post_json $P "$1"
  expect_code 400 "$3"
  local e
  e=$(json_get "j['error']")
  [[ "$e" == *"$2"* ]] || fail "$3: error '$e' does not say '$2'"
}
bad '{"version":"4","alerts":[' 'malformed JSON' 'malformed JSON'
bad 'not json at all' 'malformed JSON' 'garbage'
bad '{"version":"4","alerts":[]} {}' 'unexpected data after the object' 'two objects'
bad '[1,2]' 'expected a JSON object' 'array body'
bad '{"version":"4"}' 'alerts: missing' 'no alerts'
bad '{"version":"4","alerts":{}}' 'alerts: expected an array' 'alerts not an array'
bad '{"version":"4","alerts":[{"status":"firing","labels":{"a":1},"startsAt":"t","fingerprint":"f"}]}' \
  'alerts[0].labels.a: expected a string' 'label not a string'
bad '{"version":"3","alerts":[]}' 'unsupported version "3"' 'version 3'
bad '{"alerts":[]}' 'version: missing' 'no version'
bad '{"version":4,"alerts":[]}' 'version: expected the string' 'numeric version'
bad '{"version":"4","alerts":[{"status":"maybe","labels":{},"startsAt":"t","fingerprint":"f"}]}' \
  'alerts[0].status' 'bad status'

req POST $P -H 'Content-Type: application/json'
expect_code 400 "empty body"
[ "$(json_get "j['error']")" = "empty body" ] || fail "empty body message: $BODY"

# 413: declared too large (answered before the body is read).
big=$(python3 -c 'print("{\"version\":\"4\",\"alerts\":[],\"pad\":\"" + "x"*70000 + "\"}")')
post_json $P "$big"
expect_code 413 "Content-Length over --max-body"
[[ "$(json_get "j['error']")" == *"larger than --max-body (65536 bytes)"* ]] || fail "413 message: $BODY"
# 413: chunked, no Content-Length.
printf '%s' "$big" >"$TMP/big.json"
req POST $P -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big.json"
expect_code 413 "chunked body over --max-body"
# 413: no Content-Length at all (HTTP/1.0-style body until close).
python3 - "$PORT" <<'PY' >"$TMP/raw" || fail "raw 413 request failed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
body = b'{"pad":"' + b"y" * 100000 + b'"}'
for i in range(0, len(body), 7000):
    chunk = body[i:i + 7000]
    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
s.sendall(b"0\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
    d = s.recv(65536)
    if not d:
        break
    data += d
print(data.decode(errors="replace"))
PY
grep -q '^HTTP/1.1 413' "$TMP/raw" || fail "raw chunked upload: $(head -n 1 "$TMP/raw")"
# A body exactly at the limit is fine (it fails decoding, not size).
at_limit=$(python3 -c 'import sys; s="{\"version\":\"4\",\"alerts\":[],\"pad\":\""; e="\"}"; print(s + "x"*(65536-len(s)-len(e)) + e, end="")')
post_json $P "$at_limit"
expect_code 202 "body of exactly --max-body bytes"

# 415
req POST $P --data-binary '{"version":"4","alerts":[]}' -H 'Content-Type: text/plain'
expect_code 415 "text/plain"
[[ "$(json_get "j['error']")" == *"Content-Type must be application/json"* ]] || fail "415 message: $BODY"
req POST $P --data-binary '{"version":"4","alerts":[]}' -H 'Content-Type:'
expect_code 415 "no Content-Type"
req POST $P --data-binary '{"version":"4","alerts":[]}' -H 'Content-Type: application/json; charset=utf-8'
expect_code 202 "json with charset"
req POST $P --data-binary '{"version":"4","alerts":[]}' -H 'Content-Type: Application/JSON'
expect_code 202 "media type is case-insensitive"

# 404 / 405
req GET /nope
expect_code 404 "unknown path"
[[ "$(json_get "j['error']")" == "no such endpoint: GET /nope" ]] || fail "404 message: $BODY"
req GET /api/v1/alertmanager
expect_code 405 "GET on the webhook"
grep -qi '^allow: POST' <<<"$HEADERS" || fail "405 without Allow: $HEADERS"
req DELETE /metrics
expect_code 405 "DELETE /metrics"
grep -qi '^allow: GET, HEAD' <<<"$HEADERS" || fail "405 without Allow: GET, HEAD"
req HEAD /healthz -I
expect_code 200 "HEAD /healthz"
req POST '/api/v1/alertmanager/../x'
[ "$CODE" = 404 ] || [ "$CODE" = 400 ] || fail "dot-dot path: $CODE"

# Still serving, and the counters saw it all.
req GET /healthz
expect_code 200 "healthz after the bad requests"
[ "$(metric 'healer_http_requests_total{code="400"}')" -ge 12 ] || fail "400s not counted"
[ "$(metric 'healer_http_requests_total{code="413"}')" -ge 3 ] || fail "413s not counted"
stop_healer
echo "PASS $TEST_NAME"
