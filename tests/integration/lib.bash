# lib.bash - sourced by the runtime's integration tests (tests/integration/healer_*.sh).
#
# Each test starts healer on 127.0.0.1 with an ephemeral port (--listen
# 127.0.0.1:0 --port-file), drives it with curl/python3, and stops it with
# SIGTERM, requiring exit status 0 (so an ASan/UBSan report or a leak at exit
# fails the test). Everything it starts is killed on exit.
#
# Environment:
#   HEALER          the healer binary (default bin/healer); the tests run the
#                   binary built with the test rules next to it,
#   HEALER_FIXTURE  (default: healer-fixture next to $HEALER), whose rules
#                   are tests/runtime/gen_fixture.py's.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

HEALER=${HEALER:-bin/healer}
HEALER_FIXTURE=${HEALER_FIXTURE:-$(dirname "$HEALER")/healer-fixture}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d)
HEALER_PID=
PIDS=()
# healer run directly (not by start_healer) keeps its journal here, not in
# ./state of the working tree.
export HEALER_STATE_DIR=$TMP/state-direct
# The fixture's webhook rules (eq_continue, resolved_only, any_status) use
# the default webhook backend, which healer needs at start-up now that the
# kind is built in; nothing listens on port 9 (a test that fires them
# points this at a fake).
export HEALER_WEBHOOK_URL=${HEALER_WEBHOOK_URL:-http://127.0.0.1:9}
# Likewise the Kubernetes kinds: the fixture's multi_step rule mixes a
# cordon with Jenkins and Spinnaker steps, so it now runs (no longer dry-run)
# and needs the default Spinnaker and Kubernetes backends at start-up.
export HEALER_SPINNAKER_URL=${HEALER_SPINNAKER_URL:-http://127.0.0.1:9}
export HEALER_KUBE_URL=${HEALER_KUBE_URL:-https://127.0.0.1:9}

cleanup() {
  local p
  for p in "${PIDS[@]}" $HEALER_PID; do
    { kill -9 "$p" && wait "$p"; } 2>/dev/null
  done
  # KEEP_LOGS=DIR keeps the test's files (healer.log, ...) for a look.
  [ -n "${KEEP_LOGS:-}" ] && mkdir -p "$KEEP_LOGS" && cp -r "$TMP/." "$KEEP_LOGS/"
  rm -rf "$TMP"
}
trap cleanup EXIT

# fail REASON: one line on stdout, the log's tail after it, exit 1.
fail() {
  echo "FAIL $TEST_NAME: $*"
  if [ -f "$TMP/healer.log" ]; then
    echo "--- healer log (tail)"
    tail -n 25 "$TMP/healer.log"
  fi
  exit 1
}

[ -x "$HEALER_FIXTURE" ] || fail "no healer test binary at $HEALER_FIXTURE (make test-bins)"
command -v curl >/dev/null || fail "curl is missing"
command -v python3 >/dev/null || fail "python3 is missing"
# The interpreter itself (a pyenv shim costs ~0.3 s per call).
PY=$(python3 -c 'import sys; print(sys.executable)')
python3() { "$PY" "$@"; }

# link_healer RULES.c: links $TMP/healer from the runtime objects of
# $HEALER's build (build/san/runtime or build/runtime; HEALER_OBJ overrides),
# the core archive beside them (core/libcore.a) and the given generated
# rules, and makes it HEALER_FIXTURE. The libraries are the Makefile's own
# (make print-rt-libs): a new dependency of the runtime is added in one
# place, not in every test that links healer.
link_healer() {
  local rules_c=$1 obj core libs san=()
  obj=${HEALER_OBJ:-$(dirname "$(dirname "$HEALER")")/runtime}
  core=$(dirname "$obj")/core/libcore.a
  [ -f "$obj/main.o" ] || fail "no runtime objects in $obj (make, or make SAN=1)"
  [ -f "$core" ] || fail "no core archive at $core (make, or make SAN=1)"
  nm "$obj/main.o" 2>/dev/null | grep -q __asan && san=(-fsanitize=address,undefined)
  libs=$(make -s --no-print-directory print-rt-libs) || fail "make print-rt-libs"
  cc -Icore -std=c11 -O1 "${san[@]}" -c -o "$TMP/rules.o" "$rules_c" || fail "rules.c"
  # shellcheck disable=SC2086  # $libs is a list of linker flags
  cc "${san[@]}" -o "$TMP/healer" "$obj"/*.o "$TMP/rules.o" "$core" $libs || fail "link"
  HEALER_FIXTURE=$TMP/healer
}

# start_healer [ARGS...]: starts healer, waits until it listens; sets PORT, BASE.
# Generous bounds here and in stop_healer: an ASan build on a loaded 2-core CI
# machine can take seconds to start or to exit (leak check).
start_healer() {
  rm -f "$TMP/port"
  "$HEALER_FIXTURE" --listen 127.0.0.1:0 --port-file "$TMP/port" --state-dir "$TMP/state" "$@" \
    >>"$TMP/healer.out" 2>>"$TMP/healer.log" &
  HEALER_PID=$!
  local i
  for i in $(seq 1 600); do
    [ -s "$TMP/port" ] && break
    kill -0 "$HEALER_PID" 2>/dev/null || fail "healer exited at start-up: $(tail -n 3 "$TMP/healer.log")"
    sleep 0.05
  done
  [ -s "$TMP/port" ] || fail "healer did not write its port within 30s"
  PORT=$(cat "$TMP/port")
  BASE="http://127.0.0.1:$PORT"
}

# stop_healer: SIGTERM, wait (bounded), require exit 0 and a clean log.
stop_healer() {
  [ -n "$HEALER_PID" ] || return 0
  kill -TERM "$HEALER_PID"
  local rc i
  for i in $(seq 1 600); do
    kill -0 "$HEALER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$HEALER_PID" 2>/dev/null; then
    kill -9 "$HEALER_PID"
    fail "healer did not exit within 30s of SIGTERM"
  fi
  wait "$HEALER_PID"
  rc=$?
  HEALER_PID=
  if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$TMP/healer.log"; then
    fail "sanitizer report in the log"
  fi
  [ "$rc" -eq 0 ] || fail "healer exited with status $rc after SIGTERM"
}

# req METHOD PATH [curl args...]: sets CODE, BODY (file $TMP/body), HEADERS.
req() {
  local method=$1 path=$2
  shift 2
  CODE=$(curl -sS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 20 \
    -X "$method" "$@" "$BASE$path") || CODE=000
  BODY=$(cat "$TMP/body")
  HEADERS=$(cat "$TMP/headers" 2>/dev/null)
}

# post_json PATH DATA [curl args...]: a webhook-style POST.
post_json() {
  local path=$1 data=$2
  shift 2
  req POST "$path" -H 'Content-Type: application/json' --data-binary "$data" "$@"
}

# expect_code WANT WHAT: fails unless CODE is WANT.
expect_code() {
  [ "$CODE" = "$1" ] || fail "$2: got HTTP $CODE, want $1; body: $(head -c 300 "$TMP/body")"
}

# json_get EXPR: evaluates a Python expression on the last body, bound to j.
json_get() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' \
    "$TMP/body" "$1" 2>/dev/null || echo "<not json>"
}

# expect_json EXPR WANT WHAT
expect_json() {
  local got
  got=$(json_get "$1")
  [ "$got" = "$2" ] || fail "$3: $1 is '$got', want '$2'; body: $(head -c 300 "$TMP/body")"
}

# wait_until SECONDS CMD...: polls CMD every 0.1s.
wait_until() {
  local limit=$1 i
  shift
  for i in $(seq 1 $((limit * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# payload ALERT_JSON...: a version-4 webhook body holding the given alerts.
payload() {
  local IFS=,
  printf '{"receiver":"healer","status":"firing","alerts":[%s],"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am","version":"4","groupKey":"{}:{}","truncatedAlerts":0}\n' "$*"
}

# alert STATUS LABELS_JSON FINGERPRINT [STARTS_AT]
alert() {
  printf '{"status":"%s","labels":%s,"annotations":{"summary":"s"},"startsAt":"%s","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"%s"}' \
    "$1" "$2" "${4:-2026-11-27T12:10:15.696335593Z}" "$3"
}

# metric NAME_WITH_LABELS: the value from /metrics (empty if absent).
metric() {
  curl -s --max-time 10 "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# start_alertmanager GROUP_BY TOKEN: starts the real Alertmanager on a free
# loopback port (no clustering, storage in $TMP, short group timers) with
# one receiver, healer on $PORT with bearer TOKEN; sets AM_URL; waits until
# it is ready. Its log is $TMP/am.log.
start_alertmanager() {
  local am=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager} port
  [ -x "$am" ] || fail "no Alertmanager at $am (scripts/deps.sh test installs prometheus-alertmanager)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  AM_URL="http://127.0.0.1:$port"
  cat >"$TMP/alertmanager.yml" <<YML
global:
  resolve_timeout: 5m
route:
  receiver: healer
  group_by: ['$1']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 3s
receivers:
  - name: healer
    webhook_configs:
      - url: 'http://127.0.0.1:$PORT/api/v1/alertmanager'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: $2
YML
  mkdir -p "$TMP/am"
  "$am" --config.file="$TMP/alertmanager.yml" --storage.path="$TMP/am" \
    --web.listen-address="127.0.0.1:$port" --cluster.listen-address= \
    --log.level=debug >"$TMP/am.log" 2>&1 &
  PIDS+=($!)
  wait_until 30 curl -sf "$AM_URL/-/ready" || fail "Alertmanager not ready: $(tail -n 5 "$TMP/am.log")"
  curl -sf "$AM_URL/api/v2/status" | grep -q '"status":"disabled"' || fail "Alertmanager clustering not disabled"
}

# am_push JSON: posts a JSON array of postable alerts to Alertmanager's API v2.
am_push() {
  local code
  code=$(curl -s -o "$TMP/push" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$1" "$AM_URL/api/v2/alerts")
  [ "$code" = 200 ] || fail "push to Alertmanager: HTTP $code $(cat "$TMP/push")"
}
