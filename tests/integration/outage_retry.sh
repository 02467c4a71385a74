#!/usr/bin/env bash
# outage_retry.sh - Jenkins is down when the alert arrives (nothing listens
# on its port: connections are refused) and back 3 s later: the step, of a
# rule without `retry`, is tried again until it reaches Jenkins and runs
# once. A rule with `retry 0`, a 3 s timeout and a cooldown fails with
# Jenkins down all along; nothing reached Jenkins, so neither dedupe nor
# the cooldown holds back Alertmanager's resend, even across a restart
# (the journal remembers that it was forgotten), and the resend runs.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

HEALERC=${HEALERC:-bin/healerc}
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
"$HEALERC" compile tests/integration/outage_retry.heal -o "$TMP/rules.c" || fail "healerc compile"
link_healer "$TMP/rules.c"

JK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
JK_SCRIPT='{"jobs":{"infra/DockerPruneNode":{"parameters":{"node":"","HEALER_REMEDIATION_ID":""},"build_seconds":0.3}}}'
export HEALER_JENKINS_URL=http://127.0.0.1:$JK_PORT HEALER_JENKINS_USER=bot HEALER_JENKINS_TOKEN=tok
start_healer

newest() { # FINGERPRINT FIELD -> that field of its newest remediation
  curl -s --max-time 5 "$BASE/api/v1/remediations" |
    python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin)["remediations"] if x["fingerprint"]==sys.argv[1]]; print(r[0][sys.argv[2]] if r else "none")' "$1" "$2"
}
is_state() { [ "$(newest "$1" state)" = "$2" ]; }
triggers() { fake_count jk 'method=POST&path=/job/infra/job/DockerPruneNode/buildWithParameters'; }

# 1. Down for 3 s, then back: one build.
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"OutageDefault","instance":"n1:9100"}' out1)")"
expect_code 202 "alert 1"
expect_json "j['queued']" 1 "alert 1 accepted"
sleep 3
is_state out1 running || fail "not still trying while Jenkins is down: $(newest out1 state) $(newest out1 reason)"
fake_start jk jenkins --port "$JK_PORT" --user bot --token tok --script "$JK_SCRIPT" ||
  fail "fake Jenkins did not start"
wait_until 30 is_state out1 succeeded || fail "not run once Jenkins was back: $(newest out1 state) $(newest out1 reason)"
[ "$(triggers)" = 1 ] || fail "triggered $(triggers) times"

# 2. Down for the whole timeout: failed, and nothing holds the resend back.
fake_stop jk
ALERT2=$(payload "$(alert firing '{"alertname":"OutageShort","instance":"n2:9100"}' out2)")
post_json /api/v1/alertmanager "$ALERT2"
expect_code 202 "alert 2"
wait_until 20 is_state out2 timed_out || wait_until 1 is_state out2 failed ||
  fail "alert 2 did not end: $(newest out2 state)"
newest out2 reason | grep -q 'never reached the service' || fail "reason 2: $(newest out2 reason)"
stop_healer
start_healer
fake_start jk jenkins --port "$JK_PORT" --user bot --token tok --script "$JK_SCRIPT" ||
  fail "fake Jenkins did not start again"
post_json /api/v1/alertmanager "$ALERT2"
expect_code 202 "alert 2 resent"
expect_json "j['queued']" 1 "the resend is remediated (no dedupe, no cooldown)"
wait_until 30 is_state out2 succeeded || fail "resend not run: $(newest out2 state) $(newest out2 reason)"
[ "$(triggers)" = 1 ] || fail "the resend triggered $(triggers) builds"
# That one reached Jenkins: the next resend is a duplicate again.
post_json /api/v1/alertmanager "$ALERT2"
expect_code 202 "alert 2 resent again"
expect_json "j['queued']" 0 "a resend after a build that ran"
stop_healer
echo "PASS $TEST_NAME"
