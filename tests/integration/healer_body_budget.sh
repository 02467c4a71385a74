#!/usr/bin/env bash
# healer_body_budget.sh - --max-body-total bounds the memory that webhook
# bodies being received take together: past it a request gets 503 with
# Retry-After (Alertmanager retries), by its Content-Length before its body
# is read or as a chunked body grows; other requests still go through, and
# the budget comes back when bodies complete or their clients go away
# mid-body. A budget smaller than --max-body is refused at start.
. "$(dirname "$0")/lib.bash"

# Refused at start, exit 2, with the reason.
"$HEALER_FIXTURE" --max-body 4M --max-body-total 1M --check-config >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] || fail "--max-body-total < --max-body: exit $rc, want 2: $(cat "$TMP/err")"
grep -q -- "--max-body-total (1048576 bytes) is smaller than --max-body" "$TMP/err" ||
  fail "no reason for the refusal: $(cat "$TMP/err")"

start_healer --dry-run --max-body 64K --max-body-total 128K --max-connections-per-ip 0
python3 - "$PORT" <<'PY' || fail "budget"
import json, socket, sys, time
port = int(sys.argv[1])
HDR = ("POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")

def reply(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    code = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    n = int(hdrs.get("content-length", "0"))
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return code, hdrs, body

def held(length):
    """A request that declares length bytes and sends only a few."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall((HDR + "Content-Length: %d\r\n\r\n" % length).encode() + b'{"version":"4",')
    return s

def post(body):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall((HDR + "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode() + body)
    r = reply(s)
    s.close()
    return r

small = json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "HealerTest",
                    "instance": "b:1"}, "startsAt": "2026-11-27T12:10:15Z", "fingerprint": "b1"}]}).encode()
assert post(small)[0] == 202, "a small post before anything is held"

# Two bodies of 60,000 bytes in flight hold 120,002 of the 131,072 bytes.
a, b = held(60000), held(60000)
time.sleep(0.3)
# A third is refused by its Content-Length, before its body is read.
s = held(60000)
code, hdrs, body = reply(s)
s.close()
assert code == 503, ("third large body", code, body)
assert hdrs.get("retry-after") == "1", hdrs
assert b"--max-body-total" in body and json.loads(body)["error"], body

# A small one still fits.
code, _, body = post(small)
assert code == 202, ("small post while the budget is nearly spent", code, body)

# A chunked body that grows past the budget is cut off with 503.
s = socket.create_connection(("127.0.0.1", port))
s.sendall((HDR + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode())
piece = b"x" * 2048
for i in range(12):
    try:
        s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
    except OSError:
        break
try:
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
code, hdrs, body = reply(s)
s.close()
assert code == 503 and hdrs.get("retry-after") == "1", ("chunked past the budget", code, body)

# The held clients go away mid-body: their share comes back.
a.close()
b.close()
big = json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "HealerTest",
                  "instance": "big:1", "pad": "p" * 50000}, "startsAt": "2026-11-27T12:10:15Z",
                  "fingerprint": "big"}]}).encode()
deadline = time.time() + 10
while True:
    code, _, body = post(big)
    if code == 202 or time.time() > deadline:
        break
    time.sleep(0.2)
assert code == 202, ("large post after the held clients left", code, body)
# And again, twice at once within the budget: nothing leaked.
c1, c2 = held(60000), held(60000)
time.sleep(0.3)
c1.close(); c2.close()
time.sleep(0.3)
assert post(big)[0] == 202
PY
req GET /healthz
expect_code 200 "healthz"
stop_healer
echo "PASS $TEST_NAME"
