#!/usr/bin/env bash
# cli.sh - --help, --version (with the rules' digest), --list-rules,
# --check-config, HEALER_* variables (a flag wins), bad flags (exit 2),
# an address that cannot be bound.
. "$(dirname "$0")/lib.bash"
H=$HEALER_FIXTURE
$H --help >"$TMP/out" || fail "--help failed"
for f in --listen --workers --queue-size --max-body --dry-run --log-format --auth-bearer-file \
  --auth-basic-file --auth-all --drain-timeout --list-rules --check-config --version HEALER_LISTEN \
  --state-dir --journal-recover --journal-compact-size HEALER_STATE_DIR; do
  grep -q -- "$f" "$TMP/out" || fail "--help does not mention $f"
done
$H --version >"$TMP/out" || fail "--version failed"
grep -q '^healer 0.1.0' "$TMP/out" || fail "--version: $(cat "$TMP/out")"
grep -q 'digest 0123456789abcdef' "$TMP/out" || fail "--version lacks the digest"
$H --list-rules >"$TMP/out" || fail "--list-rules failed"
grep -q '^re_rule  (tests/runtime/fixture.heal:20)' "$TMP/out" || fail "--list-rules: $(head -n 5 "$TMP/out")"
grep -q 'node = host(\$instance)' "$TMP/out" || fail "--list-rules lacks parameters"
# Backends: without their settings start-up fails naming every one; with
# them (or in dry-run) it goes on.
$H --check-config >"$TMP/out" 2>&1
[ $? -eq 2 ] || fail "--check-config without backend settings: exit status not 2"
grep -q 'HEALER_JENKINS_URL is not set' "$TMP/out" || fail "missing HEALER_JENKINS_URL not named: $(cat "$TMP/out")"
grep -q 'environment variable CI_TOKEN is not set' "$TMP/out" || fail "missing CI_TOKEN not named: $(cat "$TMP/out")"
$H --check-config --dry-run >"$TMP/out" 2>&1 || fail "--check-config --dry-run failed: $(cat "$TMP/out")"
export HEALER_JENKINS_URL=http://127.0.0.1:9 CI_TOKEN=not-a-real-token
$H --check-config >"$TMP/out" 2>&1 || fail "--check-config failed: $(cat "$TMP/out")"
grep -q 'valid' "$TMP/out" || fail "--check-config: $(cat "$TMP/out")"
grep -q 'not-a-real-token' "$TMP/out" && fail "a secret was printed"

$H --workers nope 2>"$TMP/err"
[ $? -eq 2 ] || fail "bad flag: exit status not 2"
grep -q -- "--workers: expected a number, got 'nope'" "$TMP/err" || fail "bad flag message: $(cat "$TMP/err")"
HEALER_QUEUE_SIZE=0 $H --check-config 2>"$TMP/err"
[ $? -eq 2 ] || fail "bad variable: exit status not 2"
grep -q 'HEALER_QUEUE_SIZE: 0 is out of range' "$TMP/err" || fail "bad variable message: $(cat "$TMP/err")"
$H --listen nonsense 2>"$TMP/err"
[ $? -eq 2 ] || fail "bad --listen"
grep -q -- '--listen nonsense: expected host:port' "$TMP/err" || fail "bad --listen message: $(cat "$TMP/err")"
# --check-config refuses what start would: a port out of range (said so,
# and before any journal file is made), a state directory that cannot be
# made; it creates nothing for one that can.
$H --check-config --listen 127.0.0.1:99999 2>"$TMP/err"
[ $? -eq 2 ] || fail "--check-config took port 99999"
grep -q -- '--listen 127.0.0.1:99999: port 99999 is out of range (0 to 65535)' "$TMP/err" ||
  fail "port range message: $(cat "$TMP/err")"
$H --listen 127.0.0.1:99999 --state-dir "$TMP/never" 2>/dev/null
[ $? -eq 2 ] && [ ! -e "$TMP/never" ] || fail "a bad port still made the state directory"
$H --check-config --state-dir /proc/nonexistent/x 2>"$TMP/err"
[ $? -eq 2 ] || fail "--check-config took --state-dir /proc/nonexistent/x"
grep -q -- '--state-dir /proc/nonexistent/x: cannot create files in /proc' "$TMP/err" ||
  fail "state dir message: $(cat "$TMP/err")"
$H --check-config --state-dir "$TMP/new/a/b" >/dev/null 2>"$TMP/err" || fail "--check-config refused a creatable state dir: $(cat "$TMP/err")"
[ ! -e "$TMP/new" ] || fail "--check-config created the state directory"

# Variables configure, flags win.
start_healer --dry-run
OCC=$PORT
HEALER_LISTEN=127.0.0.1:$OCC HEALER_DRY_RUN=1 $H 2>"$TMP/err" &
pid=$!
wait_until 20 sh -c "! kill -0 $pid" || { kill $pid; fail "started on a port in use"; }
grep -q "127.0.0.1:$OCC: Address already in use" "$TMP/err" || fail "port in use message: $(cat "$TMP/err")"
# ... and a state directory another healer holds.
$H --check-config --state-dir "$TMP/state" 2>"$TMP/err"
[ $? -eq 2 ] || fail "--check-config took a state dir in use"
grep -q "is in use by another healer" "$TMP/err" || fail "lock message: $(cat "$TMP/err")"
stop_healer
: >"$TMP/healer.log"
HEALER_LOG_FORMAT=json HEALER_WORKERS=3 start_healer --workers 2
grep -q '"msg":"listening".*"workers":2' "$TMP/healer.log" || fail "flag did not win: $(cat "$TMP/healer.log")"
stop_healer
echo "PASS $TEST_NAME"
