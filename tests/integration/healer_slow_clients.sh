#!/usr/bin/env bash
# healer_slow_clients.sh - slowloris (issue 11.2): clients that each
# trickle a header line every 2 s and never finish their request, more of
# them than --max-connections. Each byte restarts libmicrohttpd's idle
# timeout (--connection-timeout), so without --request-timeout and the
# eviction of slow connections they would hold every slot and Alertmanager
# would get nothing. All clients share 127.0.0.1: --max-connections-per-ip
# is lifted so that this tests the table as a whole.
#   1. 1,000 slow clients (below --max-connections 2000; the table is never
#      full), each reconnecting 0.2 s after being cut: webhooks and /healthz
#      on fresh connections all succeed, p99 under 1 s (the issue measured
#      9 ms in this regime), and every slow connection is closed at its
#      deadline (--request-timeout 4s from its first byte, checked four
#      times a second): none before 4 s, none lives past 4 s + 2 s of
#      slack. An idle kept-alive connection is not cut by the deadline.
#   2. 4,200 slow clients for 20 s, reconnecting likewise (thousands of
#      connections a second): webhooks and /healthz meanwhile all succeed
#      with p99 under 1 s, because healer closes the connections that have
#      held their slot the longest without a whole request once the table
#      reaches its soft limit (see docs/runtime.md, "Faults").
# The bound: 1 s is far above what a 2-core machine shared with a build
# gives (p99 14 to 60 ms with 4,200, 30 to 35 ms under ASan), and far below
# where Alertmanager would notice (before the change every request timed out
# after 5 s). Both phases say what they measured (p50, p99, max; the slow
# clients' connections and cuts) on stdout. The fd limit is raised for the
# slow clients (the tests run as root). Bounded: about 40 s, ASan build too;
# loopback only.
. "$(dirname "$0")/lib.bash"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 10000 ] ||
  fail "cannot raise the fd limit to 10000 (it is $(ulimit -n))"

# The slow clients: N connections, each sending a request line and then one
# header line every 2 s, never the blank line that ends the headers; a
# connection healer closes is counted (with how long it lived after its
# first byte) and opened again after 0.2 s until the end. Prints "ready"
# once every connection was tried, and a JSON summary at the end.
cat >"$TMP/slow.py" <<'PY'
import errno, heapq, json, selectors, socket, sys, time
port, n, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sel = selectors.DefaultSelector()
t_end = time.monotonic() + duration
st = {"opened": 0, "cut": 0, "answered": 0, "refused": 0, "lives": [], "max_open": 0}
live = {}          # fd -> [socket, time of the first byte or None, lines sent]
timers = []        # (when, kind, fd or -1): "line" for a live fd, "open" for a new one

def open_one():
    s = socket.socket()
    s.setblocking(False)
    e = s.connect_ex(("127.0.0.1", port))
    if e not in (0, errno.EINPROGRESS):
        st["refused"] += 1
        s.close()
        heapq.heappush(timers, (time.monotonic() + 0.2, "open", -1))
        return
    live[s.fileno()] = [s, None, 0]
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    st["opened"] += 1
    st["max_open"] = max(st["max_open"], len(live))

def close_one(fd, answered):
    s, t0, _ = live.pop(fd)
    sel.unregister(s)
    s.close()
    if answered:
        st["answered"] += 1
    elif t0 is not None:
        st["cut"] += 1
        st["lives"].append(time.monotonic() - t0)
    heapq.heappush(timers, (time.monotonic() + 0.2, "open", -1))

def send_line(fd):
    c = live[fd]
    line = b"POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\n" if c[2] == 0 \
        else b"X-Slow-%d: trickle\r\n" % c[2]
    try:
        c[0].send(line)
    except OSError:
        close_one(fd, False)
        return
    if c[1] is None:
        c[1] = time.monotonic()
    c[2] += 1
    heapq.heappush(timers, (time.monotonic() + 2.0, "line", fd))

for _ in range(n):
    open_one()
print("ready", flush=True)
while True:
    now = time.monotonic()
    if now >= t_end:
        break
    while timers and timers[0][0] <= now:
        _, kind, fd = heapq.heappop(timers)
        if kind == "open":
            open_one()
        elif fd in live and live[fd][1] is not None:
            send_line(fd)
    wait = min(timers[0][0] - now if timers else 0.1, t_end - now, 0.1)
    for key, ev in sel.select(max(wait, 0)):
        fd = key.fd
        if fd not in live:
            continue
        c = live[fd]
        if ev & selectors.EVENT_WRITE and c[1] is None:
            if c[0].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                st["refused"] += 1
                close_one(fd, False)
                continue
            sel.modify(c[0], selectors.EVENT_READ)
            send_line(fd)
            continue
        if ev & selectors.EVENT_READ:
            try:
                data = c[0].recv(4096)
            except OSError:
                data = b""
            close_one(fd, bool(data))
lives = sorted(st.pop("lives"))
st["life_min"] = round(lives[0], 3) if lives else None
st["life_max"] = round(lives[-1], 3) if lives else None
st["still_open"] = len(live)
ages = [time.monotonic() - c[1] for c in live.values() if c[1] is not None]
st["open_age_max"] = round(max(ages), 3) if ages else 0
print(json.dumps(st), flush=True)
PY

# The good clients (Alertmanager, a prober): for SECONDS, one request at a
# time on a fresh connection each, a webhook then GET /healthz, 20 ms
# apart; each must answer 202 / 200 within 5 s. Each webhook holds a new
# alert, so that it is journaled and waits for the commit suspended (never
# cut). Prints a JSON summary.
cat >"$TMP/good.py" <<'PY'
import http.client, json, sys, time
port, seconds, tag = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
def body(i):
    return json.dumps({"version": "4", "status": "firing", "alerts": [{"status": "firing",
        "labels": {"alertname": "HealerTest", "instance": "%s-%d:1" % (tag, i)},
        "startsAt": "2026-11-27T12:10:15Z", "fingerprint": "%s-%d" % (tag, i)}]})
lat, fails, i, t_end = [], [], 0, time.monotonic() + seconds
while time.monotonic() < t_end:
    post = i % 2 == 0
    i += 1
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        if post:
            c.request("POST", "/api/v1/alertmanager", body(i), {"Content-Type": "application/json"})
        else:
            c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != (202 if post else 200):
            fails.append("%s: HTTP %d" % ("post" if post else "healthz", r.status))
    except Exception as e:
        fails.append("%s: %s" % ("post" if post else "healthz", e))
    lat.append(time.monotonic() - t0)
    time.sleep(0.02)
lat.sort()
pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)
print(json.dumps({"requests": len(lat), "ok": len(lat) - len(fails), "p50_ms": pick(0.5),
                  "p99_ms": pick(0.99), "max_ms": round(lat[-1] * 1000, 1),
                  "failures": fails[:5]}), flush=True)
PY

# phase NAME SLOW SLOW_SECONDS GOOD_SECONDS: runs the slow clients, and
# once they are all connecting (plus a second) the good ones; sets GOOD and
# SLOW to their summaries.
phase() {
  local name=$1 n=$2 slow_s=$3 good_s=$4 ready
  coproc SLOWC { python3 "$TMP/slow.py" "$PORT" "$n" "$slow_s"; }
  read -r -t 30 ready <&"${SLOWC[0]}" || fail "$name: the slow clients did not start"
  [ "$ready" = ready ] || fail "$name: slow clients: $ready"
  sleep 1
  GOOD=$(python3 "$TMP/good.py" "$PORT" "$good_s" "$n") || fail "$name: the good clients failed"
  read -r -t $((slow_s + 30)) SLOW <&"${SLOWC[0]}" || fail "$name: the slow clients did not report"
  wait "$SLOWC_PID" 2>/dev/null
  echo "$name: good clients $GOOD"
  echo "$name: slow clients $SLOW"
}

# jq-less checks: EXPR over the JSON in $1, bound to j.
check() {
  python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# --request-timeout through its variable: a build without it ignores the
# variable, so this script runs against one as it is and fails there on
# what it tests (the slow clients are never cut; with 4,200 nothing gets
# through), not on an unknown flag.
HEALER_REQUEST_TIMEOUT=4s start_healer --dry-run --max-connections 2000 \
  --max-connections-per-ip 0 --connection-timeout 30s

# Meanwhile an idle kept-alive connection outlives --request-timeout: it has
# no request under way (only --connection-timeout bounds it).
python3 - "$PORT" >"$TMP/keepalive" 2>&1 <<'PY' &
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for _ in range(2):
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
    time.sleep(6)
print("ok")
PY
KEEPALIVE=$!
phase "1,000 slow clients" 1000 10 8
wait "$KEEPALIVE"
[ "$(cat "$TMP/keepalive")" = ok ] ||
  fail "an idle kept-alive connection did not outlive --request-timeout: $(tail -n 3 "$TMP/keepalive")"
check "$GOOD" 'j["ok"] == j["requests"] > 50' || fail "with 1,000 slow clients not every request succeeded: $GOOD"
check "$GOOD" 'j["p99_ms"] < 1000' || fail "with 1,000 slow clients p99 is over 1 s: $GOOD"
check "$SLOW" 'j["cut"] >= 1000' || fail "the slow clients were not cut at their deadline: $SLOW"
check "$SLOW" 'j["life_min"] >= 3.9 and j["life_max"] <= 6.0 and j["open_age_max"] <= 6.0' ||
  fail "slow clients cut outside [4 s, 6 s] after their first byte (--request-timeout 4s): $SLOW"
check "$SLOW" 'j["answered"] == 0' || fail "a slow client got an answer: $SLOW"
[ "$(metric 'healer_http_connections_closed_total{reason="request_timeout"}')" -ge 1000 ] 2>/dev/null ||
  fail "healer_http_connections_closed_total{reason=\"request_timeout\"}: $(metric 'healer_http_connections_closed_total{reason="request_timeout"}')"
[ "$(metric 'healer_http_connections_closed_total{reason="evicted"}')" = 0 ] ||
  fail "connections evicted below the soft limit: $(metric 'healer_http_connections_closed_total{reason="evicted"}')"

phase "4,200 slow clients" 4200 20 15
check "$GOOD" 'j["ok"] == j["requests"] > 50' || fail "with 4,200 slow clients not every request succeeded: $GOOD"
check "$GOOD" 'j["p99_ms"] < 1000' || fail "with 4,200 slow clients p99 is over 1 s: $GOOD"
check "$SLOW" '(j["life_max"] or 0) <= 6.0 and j["open_age_max"] <= 6.0' ||
  fail "a slow client outlived its deadline: $SLOW"
[ "$(metric 'healer_http_connections_closed_total{reason="evicted"}')" -ge 1 ] 2>/dev/null ||
  fail "no connection was evicted with 4,200 slow clients"
req GET /healthz
expect_code 200 "healthz at the end"
stop_healer
echo "PASS $TEST_NAME"
