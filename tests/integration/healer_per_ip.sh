#!/usr/bin/env bash
# healer_per_ip.sh - --max-connections-per-ip: slow clients from one address
# (here 127.0.0.2, each sending half a request line and then nothing) hold
# at most N connections; the rest are closed at once, and Alertmanager's
# posts from another address (127.0.0.1) still get 202, /healthz still
# answers. With 0 there is no cap. Runs in about 10 s.
. "$(dirname "$0")/lib.bash"

# slow PORT COUNT -> how many of COUNT slow connections from 127.0.0.2 are
# still open after 2 s; they are held open (stdin) until the caller is done.
slow() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(count):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"POST /api/v1/alertmanager HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(2)
open_ = 0
for s in socks:
    s.setblocking(False)
    try:
        open_ += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        open_ += 1
    except OSError:
        pass
print(open_, flush=True)
sys.stdin.read()
PY
}

BODY_OK=$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' f1)")
start_healer --dry-run --max-connections-per-ip 8 --connection-timeout 20
coproc SLOW { slow "$PORT" 40; }
read -r -t 30 held <&"${SLOW[0]}" || fail "the slow clients did not report"
[ "$held" = 8 ] || fail "127.0.0.2 holds $held connections, want 8 (--max-connections-per-ip 8)"
post_json /api/v1/alertmanager "$BODY_OK"
expect_code 202 "a post from another address while 127.0.0.2 is at its cap"
req GET /healthz
expect_code 200 "/healthz while 127.0.0.2 is at its cap"
[ -n "${SLOW_PID:-}" ] && { kill "$SLOW_PID" 2>/dev/null; wait "$SLOW_PID" 2>/dev/null; }
stop_healer

start_healer --dry-run --max-connections-per-ip 0 --connection-timeout 20
coproc SLOW { slow "$PORT" 40; }
read -r -t 30 held <&"${SLOW[0]}" || fail "the slow clients did not report"
[ "$held" = 40 ] || fail "with no cap 127.0.0.2 holds $held connections, want 40"
[ -n "${SLOW_PID:-}" ] && { kill "$SLOW_PID" 2>/dev/null; wait "$SLOW_PID" 2>/dev/null; }
stop_healer
echo "PASS $TEST_NAME"
