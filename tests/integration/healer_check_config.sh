#!/usr/bin/env bash
# --check-config refuses what start refuses, with the same message, naming
# the flag or variable and what is valid: auth files (missing, a directory,
# empty, malformed), TLS files (garbage, one without the other, a client CA
# without a certificate), durations and sizes out of range (flag and
# variable), the listen port in use, a port file that cannot be created.
# Each case runs twice: with --check-config, then as a plain start.
set -u
cd "$(dirname "$0")/../.."
H=${HEALER:-bin/healer}
t=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$t"; }
trap cleanup EXIT
fails=0
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

printf 'tok\n' > "$t/tok"; : > "$t/empty"; printf 'nocolon\n' > "$t/basic"
echo 'not a certificate' > "$t/bad.pem"
# A port held by someone else for the whole test.
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(120)' > "$t/port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$t/port" ] && break; sleep 0.1; done
busy=$(cat "$t/port")

# refused NAME TEXT [VAR=VALUE...] -- ARGS...: exit 2 and TEXT on stderr, for
# --check-config and for a start, which must not create the state directory.
refused() {
  local name=$1 text=$2; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local mode rc
  for mode in check start; do
    local st="$t/state-$mode-${name// /_}"
    local extra=(); [ "$mode" = check ] && extra=(--check-config)
    env "${envs[@]}" timeout 10 "$H" --dry-run --listen 127.0.0.1:0 --state-dir "$st" "$@" "${extra[@]}" \
      >"$t/out" 2>"$t/err"; rc=$?
    [ "$rc" -eq 2 ] || bad "$name ($mode): exit $rc, want 2: $(head -c 300 "$t/err")"
    grep -qF -- "$text" "$t/err" || bad "$name ($mode): no '$text' in: $(head -c 300 "$t/err")"
    grep -q "valid" "$t/out" && bad "$name ($mode): said valid"
    [ "$mode" = start ] && [ -e "$st" ] && bad "$name (start): created the state directory"
  done
}

refused "bearer missing" "--auth-bearer-file $t/nope: No such file or directory" -- --auth-bearer-file "$t/nope"
refused "bearer directory" "--auth-bearer-file $t:" -- --auth-bearer-file "$t"
refused "bearer empty" "--auth-bearer-file $t/empty: expected one non-empty line" -- --auth-bearer-file "$t/empty"
refused "bearer by variable" "--auth-bearer-file $t/empty: expected one non-empty line" HEALER_AUTH_BEARER_FILE="$t/empty" --
refused "basic malformed" "--auth-basic-file $t/basic: expected user:password" -- --auth-basic-file "$t/basic"
refused "tls garbage" "--tls-cert-file $t/bad.pem / --tls-key-file $t/bad.pem:" -- --tls-cert-file "$t/bad.pem" --tls-key-file "$t/bad.pem"
refused "tls cert alone" "--tls-cert-file needs --tls-key-file as well" -- --tls-cert-file "$t/bad.pem"
refused "tls key alone" "--tls-key-file needs --tls-cert-file as well" -- --tls-key-file "$t/bad.pem"
refused "tls client ca alone" "--tls-client-ca-file needs --tls-cert-file and --tls-key-file as well" -- --tls-client-ca-file "$t/bad.pem"
refused "duration flag" "--drain-timeout: 2h is out of range [0s, 1h]" -- --drain-timeout 2h
refused "duration variable" "HEALER_DEDUPE_TTL: 10s is out of range [1m, 30d]" HEALER_DEDUPE_TTL=10s --
refused "duration malformed" "--start-delay: expected a duration (e.g. 30s), got 'soon'" -- --start-delay soon
refused "size flag" "--max-body: 100 is out of range [1024, 1073741824]" -- --max-body 100
refused "size variable" "HEALER_JOURNAL_COMPACT_SIZE: expected a size (e.g. 4M), got 'big'" HEALER_JOURNAL_COMPACT_SIZE=big --
refused "count flag" "--workers: 0 is out of range [1, 256]" -- --workers 0
refused "port file directory" "--port-file $t/no/dir/p: cannot create files in $t/no/dir: No such file or directory" -- --port-file "$t/no/dir/p"
refused "port out of range" "--listen 127.0.0.1:99999: port 99999 is out of range (0 to 65535)" -- --listen 127.0.0.1:99999

# The port in use: --check-config binds it as start would. (Start fails
# there only after the journal is open, so only the check is compared.)
"$H" --dry-run --state-dir "$t/state-busy" --listen "127.0.0.1:$busy" --check-config >"$t/out" 2>"$t/err"; rc=$?
[ "$rc" -eq 2 ] || bad "port in use (check): exit $rc, want 2"
grep -qF -- "--listen 127.0.0.1:$busy: Address already in use" "$t/err" || bad "port in use (check): $(cat "$t/err")"
timeout 10 "$H" --dry-run --state-dir "$t/state-busy2" --listen "127.0.0.1:$busy" >"$t/out" 2>"$t/err"; rc=$?
[ "$rc" -ne 0 ] && grep -qF "Address already in use" "$t/err" || bad "port in use (start): exit $rc: $(tail -c 300 "$t/err")"

# A good configuration with every file given passes, and leaves no socket.
"$H" --dry-run --state-dir "$t/state-ok" --listen 127.0.0.1:0 --auth-bearer-file "$t/tok" \
  --port-file "$t/port.out" --check-config >"$t/out" 2>"$t/err" || bad "good config: $(cat "$t/err")"
grep -q "valid" "$t/out" || bad "good config: $(cat "$t/out")"
[ -e "$t/port.out" ] && bad "good config: --check-config wrote the port file"

[ "$fails" -eq 0 ] && echo ok || { echo "$fails failure(s)"; exit 1; }
