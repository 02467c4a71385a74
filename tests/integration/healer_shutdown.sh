#!/usr/bin/env bash
# shutdown.sh - SIGTERM: stop accepting, answer the request in flight, 503
# (and readyz 503) on open connections, drain the queue (held remediations
# run at once), exit 0. A second signal cuts the waiting short.
. "$(dirname "$0")/lib.bash"
start_healer --dry-run --start-delay 60s
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"held:1"}' held)")"
expect_code 202 "held remediation"

python3 - "$PORT" "$HEALER_PID" <<'PY' || fail "draining behaviour"
import http.client, json, os, signal, socket, sys, threading, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
body = json.dumps({"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "HealerTest",
                   "instance": "inflight:1"}, "startsAt": "2026-11-27T12:10:15Z", "fingerprint": "inflight"}]}).encode()
# A: a request in flight, its body arriving after the signal. healer answers
# "100 Continue" once it has taken A's headers: from then on A is in flight
# (headers taken after the signal get 503 instead).
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
a.settimeout(10)
cont = b""
while not cont.endswith(b"\r\n\r\n"):
    d = a.recv(1)
    assert d, "A: connection closed before 100 Continue: %r" % cont
    cont += d
assert cont.startswith(b"HTTP/1.1 100"), cont
# B: an idle keep-alive connection.
b = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
b.request("GET", "/healthz")
assert b.getresponse().read()
os.kill(pid, signal.SIGTERM)
# New connections are refused: wait for that (healer closes its listening
# socket once it has taken the signal and is draining; that may take a while
# on a loaded machine).
deadline = time.time() + 10
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError, socket.timeout):
        # Refused, or reset: a connection still in the listen backlog when
        # healer closed its listening socket.
        break
    assert time.time() < deadline, "still accepting 10s after SIGTERM"
    time.sleep(0.05)
b.request("GET", "/readyz")
r = b.getresponse()
assert r.status == 503 and json.loads(r.read())["status"] == "draining", r.status
b.request("POST", "/api/v1/alertmanager", body=body, headers={"Content-Type": "application/json"})
r = b.getresponse()
assert r.status == 503, r.status
r.read()
# A finishes its body and gets its answer.
a.sendall(body[10:])
a.settimeout(10)
resp = a.recv(4096)
assert resp.startswith(b"HTTP/1.1 202"), resp[:80]
PY
wait_until 30 sh -c "! kill -0 $HEALER_PID" || fail "healer did not exit"
wait "$HEALER_PID"
rc=$?
HEALER_PID=
[ "$rc" -eq 0 ] || fail "exit status $rc"
grep -q 'msg=dry_run.*fingerprint=held' "$TMP/healer.log" || fail "the held remediation was not drained"
grep -q 'msg=dry_run.*fingerprint=inflight' "$TMP/healer.log" || fail "the in-flight request's remediation was not drained"
grep -q 'msg="stopped after' "$TMP/healer.log" || fail "no stop line"
grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$TMP/healer.log" && fail "sanitizer report"

# A second signal cuts the wait for a stuck client short.
: >"$TMP/healer.log"
start_healer --dry-run
python3 - "$PORT" "$HEALER_PID" "$TMP/healer.log" <<'PY' || fail "second signal"
import os, signal, socket, sys, time
port, pid, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# A stuck client, in flight (see "100 Continue" above): without a second
# signal healer would wait 5s for it.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Expect: 100-continue\r\nContent-Length: 100\r\n\r\n{")
s.settimeout(10)
cont = b""
while not cont.endswith(b"\r\n\r\n"):
    d = s.recv(1)
    assert d, "connection closed before 100 Continue: %r" % cont
    cont += d
assert cont.startswith(b"HTTP/1.1 100"), cont
os.kill(pid, signal.SIGTERM)
# The second signal once healer has taken the first one (it logs that).
deadline = time.time() + 10
while "draining (up to" not in open(log).read():
    assert time.time() < deadline, "SIGTERM not taken within 10s"
    time.sleep(0.05)
t0 = time.time()
os.kill(pid, signal.SIGINT)
while time.time() - t0 < 4:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    try:
        if open("/proc/%d/stat" % pid).read().split()[2] == "Z":
            break
    except FileNotFoundError:
        break
    time.sleep(0.05)
assert time.time() - t0 < 3, "still waiting %.1fs after the second signal" % (time.time() - t0)
PY
wait "$HEALER_PID"
rc=$?
HEALER_PID=
[ "$rc" -eq 0 ] || fail "exit status $rc after two signals"
grep -q 'drain cut short\|stopped after' "$TMP/healer.log" || fail "no stop line after two signals"
echo "PASS $TEST_NAME"
