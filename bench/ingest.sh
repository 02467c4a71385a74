#!/usr/bin/env bash
# ingest.sh - how fast healer takes webhooks, against a bare libmicrohttpd
# server on the same machine, with the same load, in the same run.
#
#   1. healer built with 1,000 generated rules, --dry-run, logging (info) to
#      /dev/null, driven by wrk with one-alert payloads, two ways:
#      - a new alert per request, rotating over the rules' alert names:
#        decode, match, render, decide, queue, a worker records it;
#      - the same alert every time (Alertmanager's resends): decode, match,
#        render, dedupe;
#   2. bench/sink.c: the same daemon flags and thread pool, reads the body,
#      answers 200;
#   3. alternates the three ROUNDS times (the machine may be shared) and
#      prints median requests/second, the ratios (target >= 0.80), p50/p99
#      latency, healer's RSS idle and after the load, the binary's size;
#   4. match cost per alert at 10,000 rules, in instructions (callgrind),
#      counting only lookup + matchers + first match.
#   BASELINE=REV also builds healer as it was at git revision REV (same
#   rules, same flags) and runs it in each round right after this one, both
#   ways: a before/after comparison in one run, alternating.
#
#   bench/ingest.sh      DURATION=5 ROUNDS=3 CONNECTIONS=32 HTTP_THREADS=2 WRK_THREADS=2 MATCH=1
# Results go to stdout; bench/RESULTS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
DURATION=${DURATION:-5}
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
CFLAGS_B="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Icore -Iruntime $(pkg-config --cflags libmicrohttpd libcjson)"
# shellcheck disable=SC2086
cc $CFLAGS_B -o "$work/sink" bench/sink.c build/bench1k/runtime/decode.o \
  build/bench1k/core/libcore.a $(pkg-config --libs libmicrohttpd libcjson)
# shellcheck disable=SC2086
cc $CFLAGS_B -o "$work/match_bench" bench/match_bench.c \
  $(ls build/bench10k/runtime/*.o | grep -v '/main.o$') build/bench10k/rules.o build/bench10k/core/libcore.a \
  $(make -s --no-print-directory print-rt-libs)
HEALER_BIN=build/bench1k/bin/healer
BASE_BIN=
if [ -n "${BASELINE:-}" ]; then
  echo "== building the baseline ($BASELINE)"
  mkdir -p "$work/base"
  git archive "$BASELINE" | tar -x -C "$work/base"
  make --no-print-directory -C "$work/base" B=build/bench1k BIN=build/bench1k/bin \
    RULES="$work/r1k/rules.heal" build/bench1k/bin/healer >/dev/null
  BASE_BIN=$work/base/build/bench1k/bin/healer
fi

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

cat >"$work/same.lua" <<'LUA'
-- The same alert every time: Alertmanager's resends (the dedupe path).
wrk.method = "POST"
wrk.path = "/api/v1/alertmanager"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"receiver":"healer","status":"firing","alerts":[{"status":"firing","labels":' ..
  '{"alertname":"Alert42","env":"prod","instance":"node-42-1:9100","severity":"critical",' ..
  '"team":"sre","cluster":"c0"},"annotations":{"summary":"bench"},' ..
  '"startsAt":"2026-11-27T12:00:00Z","endsAt":"0001-01-01T00:00:00Z",' ..
  '"generatorURL":"http://prom/graph","fingerprint":"0000000000000001"}],"groupLabels":{},' ..
  '"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","version":"4",' ..
  '"groupKey":"{}:{}","truncatedAlerts":0}\n'
LUA

run_wrk() { # PORT SCRIPT OUT
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" \
    "http://127.0.0.1:$1" >"$3"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $NF}' "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

start_healer() { # PORT [BINARY]
  # A fresh journal each start: one restored from an earlier run would turn
  # "new" alerts into resends.
  local state
  state=$(mktemp -d "$work/state.XXXXXX")
  "${2:-$HEALER_BIN}" --listen "127.0.0.1:$1" --dry-run --http-threads "$HTTP_THREADS" \
    --queue-size 100000 --state-dir "$state" 2>/dev/null &
  HPID=$!
  pids+=($HPID)
  wait_port "$1"
}

# The machine is shared and noisy: alternate the servers, ROUNDS times,
# and compare medians.
ROUNDS=${ROUNDS:-3}
sink_r=() dec_r=() new_r=() same_r=() bnew_r=() bsame_r=()
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round/$ROUNDS: sink, sink+decode, healer (new alerts), healer (resends), ${DURATION}s each"
  SP=$(free_port)
  "$work/sink" "$SP" "$HTTP_THREADS" &
  pids+=($!)
  wait_port "$SP"
  run_wrk "$SP" "$work/alert.lua" "$work/sink.out"
  kill "${pids[-1]}"
  sink_r+=("$(rps "$work/sink.out")")

  SP=$(free_port)
  "$work/sink" "$SP" "$HTTP_THREADS" decode &
  pids+=($!)
  wait_port "$SP"
  run_wrk "$SP" "$work/alert.lua" "$work/dec.out"
  kill "${pids[-1]}"
  dec_r+=("$(rps "$work/dec.out")")

  HP=$(free_port)
  start_healer "$HP"
  sleep 0.5
  RSS_IDLE=$(rss_kb "$HPID" VmRSS)
  run_wrk "$HP" "$work/alert.lua" "$work/new.out"
  RSS_LOAD=$(rss_kb "$HPID" VmHWM)
  curl -s "http://127.0.0.1:$HP/metrics" >"$work/metrics"
  kill "$HPID"
  new_r+=("$(rps "$work/new.out")")

  HP=$(free_port)
  start_healer "$HP"
  run_wrk "$HP" "$work/same.lua" "$work/same.out"
  kill "$HPID"
  same_r+=("$(rps "$work/same.out")")

  if [ -n "$BASE_BIN" ]; then
    for way in alert same; do
      HP=$(free_port)
      start_healer "$HP" "$BASE_BIN"
      run_wrk "$HP" "$work/$way.lua" "$work/base_$way.out"
      kill "$HPID"
      if [ "$way" = alert ]; then bnew_r+=("$(rps "$work/base_alert.out")")
      else bsame_r+=("$(rps "$work/base_same.out")"); fi
    done
  fi
done

S=$(median "${sink_r[@]}")
D=$(median "${dec_r[@]}")
N=$(median "${new_r[@]}")
R=$(median "${same_r[@]}")
echo
echo "requests/second, median of $ROUNDS (all runs: sink ${sink_r[*]}; sink+decode ${dec_r[*]}; new ${new_r[*]}; resends ${same_r[*]})"
printf '%-44s %12s %8s %10s %10s\n' "" "requests/s" "ratio" "p50" "p99"
printf '%-44s %12s %8s %10s %10s\n' "bare libmicrohttpd sink" "$S" "1.00" \
  "$(pct "$work/sink.out" 50%)" "$(pct "$work/sink.out" 99%)"
printf '%-44s %12s %8s %10s %10s\n' "sink + healer's decoder (cJSON, bump arena)" "$D" \
  "$(python3 -c "print(f'{$D / $S:.2f}')")" "$(pct "$work/dec.out" 50%)" "$(pct "$work/dec.out" 99%)"
printf '%-44s %12s %8s %10s %10s\n' "healer, 1,000 rules, a new alert per request" "$N" \
  "$(python3 -c "print(f'{$N / $S:.2f}')")" "$(pct "$work/new.out" 50%)" "$(pct "$work/new.out" 99%)"
printf '%-44s %12s %8s %10s %10s\n' "healer, 1,000 rules, resends (dedupe)" "$R" \
  "$(python3 -c "print(f'{$R / $S:.2f}')")" "$(pct "$work/same.out" 50%)" "$(pct "$work/same.out" 99%)"
if [ -n "$BASE_BIN" ]; then
  BN=$(median "${bnew_r[@]}")
  BR=$(median "${bsame_r[@]}")
  echo "baseline $BASELINE (all runs: new ${bnew_r[*]}; resends ${bsame_r[*]})"
  printf '%-44s %12s %8s %10s %10s\n' "baseline, a new alert per request" "$BN" \
    "$(python3 -c "print(f'{$BN / $S:.2f}')")" "$(pct "$work/base_alert.out" 50%)" "$(pct "$work/base_alert.out" 99%)"
  printf '%-44s %12s %8s %10s %10s\n' "baseline, resends (dedupe)" "$BR" \
    "$(python3 -c "print(f'{$BR / $S:.2f}')")" "$(pct "$work/base_same.out" 50%)" "$(pct "$work/base_same.out" 99%)"
  echo "this build / baseline: new $(python3 -c "print(f'{$N / $BN:.3f}')"), resends $(python3 -c "print(f'{$R / $BR:.3f}')")"
fi
echo "target: ratio >= 0.80 (p50/p99 from the last round)"
for f in new same; do
  [ -n "$(non2xx "$work/$f.out")" ] && echo "healer non-2xx answers ($f): $(non2xx "$work/$f.out")"
done
echo "healer RSS: idle $((RSS_IDLE / 1024)) MiB ($RSS_IDLE kB), peak under load $((RSS_LOAD / 1024)) MiB ($RSS_LOAD kB)"
awk '/^healer_remediations_created_total/ {c += $2} /^healer_suppressed_total/ {s += $2}
     END {printf "healer decisions in the last new-alert run: %d remediations queued, %d suppressed\n", c, s}' "$work/metrics"
STRIPPED=$(strip -o "$work/healer.stripped" "$HEALER_BIN" && stat -c %s "$work/healer.stripped")
echo "binary: $(stat -c %s "$HEALER_BIN") bytes, $STRIPPED stripped (1,000 rules built in)"

# MATCH=0 skips the match cost (the slow part: valgrind JIT-compiling
# 17,500 regexes).
[ "${MATCH:-1}" = 0 ] && exit 0

echo
echo "== match cost per alert, 10,000 rules (callgrind)"
python3 - "$work/alerts.json" <<'PY'
import json, sys
alerts = []
for i in range(10000):
    alerts.append({"status": "firing", "labels": {"alertname": "Alert%d" % i, "env": "prod",
                   "instance": "node-%d-a:9100" % i, "severity": "critical", "team": "sre",
                   "cluster": "c1"}, "startsAt": "2026-11-27T12:10:15Z", "fingerprint": "%016x" % i})
json.dump({"version": "4", "alerts": alerts}, open(sys.argv[1], "w"))
PY
"$work/match_bench" "$work/alerts.json" 20
"$work/match_bench" "$work/alerts.json" 20 index
# JIT-compiling 17,500 regexes under valgrind takes a few minutes (twice:
# the engine's walk, match_iter, then the index-only walk of before
# alert-name patterns, the baseline).
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --toggle-collect=bench_match_loop \
  "$work/match_bench" "$work/alerts.json" 1 >/dev/null 2>"$work/cg.err"
valgrind --tool=callgrind --callgrind-out-file="$work/cg0.out" --toggle-collect=bench_index_loop \
  "$work/match_bench" "$work/alerts.json" 1 index >/dev/null 2>"$work/cg0.err"
IR=$(awk '/^summary:/ {print $2}' "$work/cg.out")
IR0=$(awk '/^summary:/ {print $2}' "$work/cg0.out")
python3 -c "print(f'baseline (index only, as before patterns): {$IR0 / 10000:.0f} per alert; ratio match_iter / baseline {$IR / $IR0:.3f}')"
python3 -c "print(f'instructions: {$IR} for 10000 alerts = {$IR / 10000:.0f} per alert (lookup + matchers + first match)')"
