# lib.sh - start, script and query healer's fake services from a bash test.
#
#   . tests/fakes/lib.sh
#   fake_start jk jenkins --user bot --token t0k --crumb   # NAME SERVICE [ARGS]
#   url=$(fake_url jk)                                     # http://127.0.0.1:PORT
#   fake_start k8 kubernetes --tls-cert D/server.crt --tls-key D/server.key   # https://
#   fake_curl k8 -sS "$(fake_url k8)/api/v1/nodes"         # curl + the fake's CA (and client cert)
#   fake_script jk '{"jobs":{"DockerPruneNode":{"parameters":{"NODE":""}}}}'
#   fake_get_requests jk 'method=POST' | fake_py 'len(d)'
#   fake_stop jk;  fake_restart jk  (same port and arguments, fresh state)
#
# SERVICE is jenkins, slack, jira, pagerduty, kubernetes ... (tests/fakes/fake_SERVICE.py).
# TLS: a fake started with --tls-cert D/server.crt is an https:// fake. lib.sh
# then talks to it with curl --cacert D/ca.crt, and when it also has
# --tls-client-ca, with --cert D/client.crt --key D/client.key (the layout of
# tests/fakes/mkcerts.sh D). FAKE_TLS_CA, FAKE_TLS_CLIENT_CERT and
# FAKE_TLS_CLIENT_KEY override those paths when set at fake_start.
# Every fake started here is stopped when the shell exits (an EXIT trap; if the
# test sets its own EXIT trap, it must call fake_cleanup itself). Needs curl
# and python3 only. Logs: $FAKE_DIR/NAME.log (fake_logs prints them); FAKE_DIR
# is a fresh temporary directory, removed at exit unless FAKE_KEEP=1.

FAKES_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${FAKE_DIR:-}" ]; then
  FAKE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/healer-fakes.XXXXXX")
  FAKE_DIR_OWNED=1  # removed at exit unless FAKE_KEEP=1
fi
export PYTHONDONTWRITEBYTECODE=1
# Debian's python3 directly: a version-manager shim on PATH can cost ~0.5 s a call.
if [ -z "${FAKE_PYTHON:-}" ]; then
  FAKE_PYTHON=python3
  [ -x /usr/bin/python3 ] && FAKE_PYTHON=/usr/bin/python3
fi
declare -A FAKE_PID=() FAKE_PORT=() FAKE_ARGS=()
declare -A FAKE_SCHEME=() FAKE_CA=() FAKE_CLIENT_CERT=() FAKE_CLIENT_KEY=()

fake_die() { echo "lib.sh: $*" >&2; return 1; }

# fake_start NAME SERVICE [ARGS...]: start on an ephemeral port (or --port N in
# ARGS) and wait (up to 30 s) until it listens. Sets FAKE_PORT[NAME]; fails
# with the log.
fake_start() {
  local name=$1 svc=$2; shift 2
  local script="$FAKES_HOME/fake_$svc.py" pf="$FAKE_DIR/$name.port" i
  [ -f "$script" ] || { fake_die "no fake named $svc"; return 1; }
  [ -z "${FAKE_PID[$name]:-}" ] || { fake_die "fake $name already running"; return 1; }
  rm -f "$pf"
  local port_arg=(--port 0)
  [[ " $* " == *" --port "* ]] && port_arg=()
  "$FAKE_PYTHON" "$script" "${port_arg[@]}" --port-file "$pf" "$@" >>"$FAKE_DIR/$name.log" 2>&1 &
  FAKE_PID[$name]=$!
  FAKE_ARGS[$name]=$svc
  [ $# -eq 0 ] || FAKE_ARGS[$name]+=" $(printf '%q ' "$@")"
  _fake_learn_tls "$name" "$@"
  for ((i = 0; i < 600; i++)); do  # 30 s: python starts slowly on a loaded machine
    if [ -s "$pf" ]; then
      FAKE_PORT[$name]=$(cat "$pf")
      return 0
    fi
    if ! kill -0 "${FAKE_PID[$name]}" 2>/dev/null; then
      unset "FAKE_PID[$name]"
      fake_die "fake $name ($svc) exited at start-up:"; cat "$FAKE_DIR/$name.log" >&2
      return 1
    fi
    sleep 0.05
  done
  fake_die "fake $name ($svc) did not listen within 30 s"
  fake_stop "$name"
  return 1
}

# _fake_learn_tls NAME ARGS...: note whether the fake serves https, and the
# CA (and client certificate) curl needs for it.
_fake_learn_tls() {
  local name=$1 cert="" client_ca="" a prev=""; shift
  for a in "$@"; do
    case $prev in
      --tls-cert) cert=$a ;;
      --tls-client-ca) client_ca=$a ;;
    esac
    case $a in
      --tls-cert=*) cert=${a#*=} ;;
      --tls-client-ca=*) client_ca=${a#*=} ;;
    esac
    prev=$a
  done
  unset "FAKE_SCHEME[$name]" "FAKE_CA[$name]" "FAKE_CLIENT_CERT[$name]" "FAKE_CLIENT_KEY[$name]"
  [ -n "$cert" ] || return 0
  local d; d=$(dirname "$cert")
  FAKE_SCHEME[$name]=https
  FAKE_CA[$name]=${FAKE_TLS_CA:-$d/ca.crt}
  if [ -n "$client_ca" ]; then
    FAKE_CLIENT_CERT[$name]=${FAKE_TLS_CLIENT_CERT:-$d/client.crt}
    FAKE_CLIENT_KEY[$name]=${FAKE_TLS_CLIENT_KEY:-$d/client.key}
  fi
}

fake_port() { echo "${FAKE_PORT[$1]:?no fake named $1}"; }
# fake_url NAME: http://127.0.0.1:PORT, or https://... for a fake started with --tls-cert.
fake_url() { echo "${FAKE_SCHEME[$1]:-http}://127.0.0.1:${FAKE_PORT[$1]:?no fake named $1}"; }
# fake_cacert NAME: the CA file that verifies an https fake (empty for http).
fake_cacert() { echo "${FAKE_CA[$1]:-}"; }

# fake_curl NAME CURL-ARGS...: curl with what the fake's TLS needs (--cacert,
# and --cert/--key when it requires a client certificate); plain curl for http.
fake_curl() {
  local name=$1; shift
  local -a tls=()
  [ -z "${FAKE_CA[$name]:-}" ] || tls+=(--cacert "${FAKE_CA[$name]}")
  [ -z "${FAKE_CLIENT_CERT[$name]:-}" ] ||
    tls+=(--cert "${FAKE_CLIENT_CERT[$name]}" --key "${FAKE_CLIENT_KEY[$name]}")
  curl "${tls[@]}" "$@"
}

# fake_stop NAME: SIGTERM, then SIGKILL after 5 s. The port stays in
# FAKE_PORT[NAME], so a test can point a client at the dead port.
fake_stop() {
  local name=$1 pid=${FAKE_PID[$1]:-} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "FAKE_PID[$name]"
  return 0
}

# fake_restart NAME: stop, then start again on the same port with the same
# arguments (state and scripting from /_fake/script are lost; --script is kept).
fake_restart() {
  local name=$1 port=${FAKE_PORT[$1]:?no fake named $1}
  local -a args
  eval "args=(${FAKE_ARGS[$name]})"
  fake_stop "$name"
  local svc=${args[0]}
  args=("${args[@]:1}")
  local -a kept=()
  local i
  for ((i = 0; i < ${#args[@]}; i++)); do  # drop an earlier --port N
    if [ "${args[i]}" = --port ]; then i=$((i + 1)); else kept+=("${args[i]}"); fi
  done
  fake_start "$name" "$svc" --port "$port" "${kept[@]}"
}

fake_stop_all() {
  local name
  for name in "${!FAKE_PID[@]}"; do fake_stop "$name"; done
}

# fake_logs: print every fake's log (start-up lines, tracebacks, exit reason).
fake_logs() {
  local f
  for f in "$FAKE_DIR"/*.log; do
    [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -n 50 "$f"; }
  done
  return 0
}

fake_cleanup() {
  fake_stop_all
  [ -z "${FAKE_DIR_OWNED:-}" ] || [ -n "${FAKE_KEEP:-}" ] || rm -rf "$FAKE_DIR"
}
trap fake_cleanup EXIT
trap 'exit 143' TERM INT  # so that `timeout` still runs the EXIT trap

# fake_get_requests NAME [QUERY]: the recorded requests as a JSON array.
# QUERY filters: since=SEQ method=POST path=/exact path_prefix=/job/ status=201
fake_get_requests() {
  fake_curl "$1" -sS --fail --max-time 10 "$(fake_url "$1")/_fake/requests${2:+?$2}"
}

# fake_count NAME [QUERY]: how many recorded requests match.
fake_count() {
  fake_curl "$1" -sS --fail --max-time 10 "$(fake_url "$1")/_fake/count${2:+?$2}"
}

# fake_script NAME JSON: apply knobs and faults; fails on a rejected script.
fake_script() {
  local out
  out=$(fake_curl "$1" -sS --max-time 10 -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "$2" "$(fake_url "$1")/_fake/script") || return 1
  [ "${out##*$'\n'}" = 200 ] || { fake_die "fake_script $1: ${out%$'\n'*}"; return 1; }
}

# fake_reset NAME [JSON]: back to the start-up state ({"requests":false} etc.).
fake_reset() {
  local body=${2:-'{}'}
  fake_curl "$1" -sS --fail --max-time 10 -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data-binary "$body" "$(fake_url "$1")/_fake/reset"
}

# fake_state NAME: the service's state (builds, issues, messages, alerts) as JSON.
fake_state() { fake_curl "$1" -sS --fail --max-time 10 "$(fake_url "$1")/_fake/state"; }

# fake_py EXPR: evaluate a Python expression on the JSON from stdin bound to d;
# prints strings raw, other values as JSON. Exit status 1 when the value is
# false, null or empty ("" [] {}); 0 otherwise (also for the number 0).
#   fake_state jk | fake_py 'd["jobs"]["x"]["builds"][0]["result"]'
fake_py() {
  "$FAKE_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
sys.exit(1 if v is False or v is None or v in ("", [], {}) else 0)' "$1"
}

# fake_wait NAME EXPR [SECONDS]: poll /_fake/requests until fake_py EXPR holds.
fake_wait() {
  local deadline=$((SECONDS + ${3:-10}))
  while ((SECONDS < deadline)); do
    fake_get_requests "$1" | fake_py "$2" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fake_die "fake_wait $1: '$2' still false after ${3:-10} s"
}
