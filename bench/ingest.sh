#!/usr/bin/env bash
# ingest.sh - how fast healer takes webhooks, against a bare libmicrohttpd
# server on the same machine, with the same load, in the same run.
#
#   1. healer built with 1,000 generated rules, --dry-run, logging to
#      /dev/null, driven by wrk with one-alert payloads (each request a new
#      alert, rotating over the rules' alert names: decode, match, render,
#      decide, queue, a worker records it);
#   2. bench/sink.c: the same daemon flags and thread pool, reads the body,
#      answers 200;
#   3. prints both requests/second, their ratio (target >= 0.80), p50/p99
#      latency, healer's RSS idle and after the load;
#   4. match cost per alert at 10,000 rules, in instructions (callgrind),
#      counting only lookup + matchers + first match.
#
#   bench/ingest.sh                 DURATION=10 CONNECTIONS=32 HTTP_THREADS=2
# Results go to stdout; bench/RESULTS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
HTTP_THREADS=${HTTP_THREADS:-2}
WRK_THREADS=${WRK_THREADS:-2}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The rule mix of bench/compile.sh: one-line rules and block rules.
gen() {
  local n=$1 i
  for ((i = 0; i < n; i++)); do
    if ((i % 2 == 0)); then
      printf 'when alert Alert%d labels env="prod", instance=~"node-%d-.+" run jenkins "team/Job%d" with node=host($instance), cluster=$cluster ?? "c%d", cooldown 30m\n' "$i" "$i" "$i" "$i"
    else
      printf 'rule r%d {\n  when alert Alert%d, Other%d\n  labels severity=~"warning|critical", team!="none", cluster=~".+", instance=~".+"\n  run spinnaker "pipe-%d" with application="app%d", cluster=$cluster, reason="${alertname} on ${cluster}"\n  cooldown 1h per $instance\n  at most 10000 per 1h\n}\n' "$i" "$i" "$i" "$i" "$i"
    fi
  done
}

echo "== building (1,000 and 10,000 rules)"
make --no-print-directory bin/healerc >/dev/null
mkdir -p "$work/r1k" "$work/r10k"
gen 1000 >"$work/r1k/rules.heal"
gen 10000 >"$work/r10k/rules.heal"
make --no-print-directory B=build/bench1k BIN=build/bench1k/bin RULES="$work/r1k/rules.heal" \
  build/bench1k/bin/healer >/dev/null
make --no-print-directory B=build/bench10k BIN=build/bench10k/bin RULES="$work/r10k/rules.heal" \
  runtime-objs >/dev/null
CFLAGS_B="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Idsl -Iruntime $(pkg-config --cflags libmicrohttpd libcjson)"
# shellcheck disable=SC2086
cc $CFLAGS_B -o "$work/sink" bench/sink.c $(pkg-config --libs libmicrohttpd)
# shellcheck disable=SC2086
cc $CFLAGS_B -o "$work/match_bench" bench/match_bench.c \
  $(ls build/bench10k/runtime/*.o | grep -v '/main.o$') build/bench10k/rules.o \
  $(pkg-config --libs libpcre2-8 libmicrohttpd libcjson libcurl) -lpthread -lm
HEALER_BIN=build/bench1k/bin/healer

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; return 1; }
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

cat >"$work/alert.lua" <<'LUA'
-- One new alert per request, rotating over the 1,000 rules' alert names.
local thread_no = 0
function setup(thread)
  thread:set("tid", thread_no)
  thread_no = thread_no + 1
end
local n = 0
function request()
  n = n + 1
  local i = n % 1000
  local body = string.format(
    '{"receiver":"healer","status":"firing","alerts":[{"status":"firing","labels":' ..
    '{"alertname":"Alert%d","env":"prod","instance":"node-%d-%d:9100","severity":"critical",' ..
    '"team":"sre","cluster":"c%d"},"annotations":{"summary":"bench"},' ..
    '"startsAt":"2026-11-27T12:00:00Z","endsAt":"0001-01-01T00:00:00Z",' ..
    '"generatorURL":"http://prom/graph","fingerprint":"%08x%08x"}],"groupLabels":{},' ..
    '"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","version":"4",' ..
    '"groupKey":"{}:{}","truncatedAlerts":0}\n', i, i, n, i % 7, tid or 0, n)
  return wrk.format("POST", "/api/v1/alertmanager", {["Content-Type"] = "application/json"}, body)
end
LUA

run_wrk() { # PORT OUT
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/alert.lua" \
    "http://127.0.0.1:$1" >"$2"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
codes() { awk '/Non-2xx/ {print $NF}' "$1"; }

echo "== sink: bare libmicrohttpd, $HTTP_THREADS threads"
SP=$(free_port)
"$work/sink" "$SP" "$HTTP_THREADS" &
pids+=($!)
wait_port "$SP"
run_wrk "$SP" "$work/sink.out"
kill "${pids[-1]}"

echo "== healer: 1,000 rules, $HTTP_THREADS HTTP threads, --dry-run, log to /dev/null"
HP=$(free_port)
"$HEALER_BIN" --listen "127.0.0.1:$HP" --dry-run --http-threads "$HTTP_THREADS" \
  --queue-size 100000 --history 1000 2>/dev/null &
HPID=$!
pids+=($HPID)
wait_port "$HP"
sleep 0.5
RSS_IDLE=$(rss_kb "$HPID" VmRSS)
run_wrk "$HP" "$work/healer.out"
RSS_LOAD=$(rss_kb "$HPID" VmHWM)
curl -s "http://127.0.0.1:$HP/metrics" >"$work/metrics"
kill "$HPID"

S=$(rps "$work/sink.out")
H=$(rps "$work/healer.out")
RATIO=$(python3 -c "print(f'{$H / $S:.2f}')")
echo
printf '%-34s %12s %10s %10s\n' "" "requests/s" "p50" "p99"
printf '%-34s %12s %10s %10s\n' "bare libmicrohttpd sink" "$S" "$(pct "$work/sink.out" 50%)" "$(pct "$work/sink.out" 99%)"
printf '%-34s %12s %10s %10s\n' "healer (1,000 rules)" "$H" "$(pct "$work/healer.out" 50%)" "$(pct "$work/healer.out" 99%)"
echo "ratio healer/sink: $RATIO (target >= 0.80)"
[ -n "$(codes "$work/healer.out")" ] && echo "healer non-2xx answers: $(codes "$work/healer.out")"
echo "healer RSS: idle $((RSS_IDLE / 1024)) MiB ($RSS_IDLE kB), peak under load $((RSS_LOAD / 1024)) MiB ($RSS_LOAD kB)"
awk '/^healer_remediations_created_total/ {c += $2} /^healer_suppressed_total/ {s += $2}
     END {printf "healer decisions: %d remediations queued, %d suppressed\n", c, s}' "$work/metrics"

echo
echo "== match cost per alert, 10,000 rules (callgrind)"
python3 - "$work/alerts.json" <<'PY'
import json, sys
alerts = []
for i in range(10000):
    alerts.append({"status": "firing", "labels": {"alertname": "Alert%d" % i, "env": "prod",
                   "instance": "node-%d-a:9100" % i, "severity": "critical", "team": "sre",
                   "cluster": "c1"}, "startsAt": "t", "fingerprint": "%016x" % i})
json.dump({"version": "4", "alerts": alerts}, open(sys.argv[1], "w"))
PY
"$work/match_bench" "$work/alerts.json" 1
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --toggle-collect=bench_match_loop \
  "$work/match_bench" "$work/alerts.json" 1 >/dev/null 2>"$work/cg.err"
IR=$(awk '/^summary:/ {print $2}' "$work/cg.out")
python3 -c "print(f'instructions: {$IR} for 10000 alerts = {$IR / 10000:.0f} per alert (lookup + matchers + first match)')"
