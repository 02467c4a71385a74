#!/usr/bin/env bash
# healer_framing.sh - a request whose body framing healer cannot trust is
# answered at once, never left to hang until the idle timeout: two differing
# Content-Length headers are a 400, a transfer coding other than chunked is
# a 501, a Content-Length that is not a number is libmicrohttpd's own 400;
# healer keeps serving afterwards.
. "$(dirname "$0")/lib.bash"

start_healer --dry-run --connection-timeout 30

raw() { # REQUEST -> first line of the answer, or "timeout"
  python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
try:
    data = s.recv(4096)
    print(data.split(b"\r\n", 1)[0].decode() if data else "closed")
except socket.timeout:
    print("timeout")
PY
}
P=/api/v1/alertmanager
H='Host: x\r\nContent-Type: application/json\r\n'
body=$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' f0)")
got=$(raw "POST $P HTTP/1.1\r\n${H}Content-Length: ${#body}\r\nContent-Length: $((${#body} + 5))\r\n\r\n$body")
[[ "$got" == "HTTP/1.1 400"* ]] || fail "two differing Content-Length: '$got', want 400"
got=$(raw "POST $P HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n{}")
[[ "$got" == "HTTP/1.1 501"* ]] || fail "Transfer-Encoding gzip: '$got', want 501"
got=$(raw "POST $P HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
[[ "$got" == "HTTP/1.1 501"* ]] || fail "Transfer-Encoding gzip, chunked: '$got', want 501"
got=$(raw "POST $P HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n{}")
[[ "$got" == "HTTP/1.1 501"* ]] || fail "Transfer-Encoding identity: '$got', want 501"
got=$(raw "POST $P HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n{}")
[[ "$got" == "HTTP/1.1 400"* ]] || fail "Content-Length -1: '$got', want 400"
got=$(raw "POST $P HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}")
[[ "$got" != "timeout" ]] || fail "two equal Content-Length hung"
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' f1)")"
expect_code 202 "valid payload after bad framing"
stop_healer
echo "PASS $TEST_NAME"
