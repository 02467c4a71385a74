#!/usr/bin/env bash
# journal_jenkins_kill.sh - healer is SIGKILLed while the Jenkins build of a
# remediation runs; after the restart it follows that build to its result
# and never triggers the job a second time (issue 4, "Bad input and faults").
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/../fakes/lib.sh"
trap 'fake_cleanup; cleanup' EXIT
if ! "$HEALER_FIXTURE" --help 2>/dev/null | grep -q -- '--state-dir'; then
  echo "SKIP $TEST_NAME: this healer has no --state-dir yet (journal hooks not applied)"
  exit 0
fi
STATE=$TMP/state

fake_start jk jenkins --user bot --token tok --script '{
  "jobs": {"infra/DockerPruneNode": {
    "parameters": {"node": "", "cluster": "", "value": "", "HEALER_REMEDIATION_ID": ""},
    "build_seconds": 10}}}' || fail "fake Jenkins did not start"
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=bot HEALER_JENKINS_TOKEN=tok
export CI_TOKEN=unused        # the fixture's declared "ci" backend (needs a user too)

rem_state() {
  req GET /api/v1/remediations
  python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"]=="kill1"]; print(r[0]["state"] if r else "none")' "$TMP/body"
}
triggers() { fake_count jk 'method=POST&path_prefix=/job/infra/job/DockerPruneNode/buildWithParameters'; }
building() {
  fake_state jk | fake_py 'any(b.get("building") for j in d["jobs"].values() for b in j.get("builds", []))' 
}

start_healer --state-dir "$STATE"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n7:9100"}' kill1)")"
expect_code 202 "webhook"
expect_json "j['queued']" 1 "accepted"
if ! wait_until 20 building; then
  if grep -q 'no Jenkins configured' "$TMP/healer.log"; then
    echo "SKIP $TEST_NAME: this healer does not load the Jenkins backend yet"
    exit 0
  fi
  fail "the build never started: $(fake_state jk | head -c 600)"
fi
[ "$(triggers)" = 1 ] || fail "triggered $(triggers) times before the kill"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=

start_healer --state-dir "$STATE"
grep -q 'msg=resuming.*fingerprint=kill1' "$TMP/healer.log" || fail "not resumed after the restart"
# Once more, after healer has seen the build (its token now names the build).
lines=$(wc -l <"$TMP/healer.log")
seen_build() { tail -n +"$lines" "$TMP/healer.log" | grep -q 'msg=jenkins_build'; }
wait_until 20 seen_build || fail "the restarted healer never saw the build"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=
start_healer --state-dir "$STATE"
succeeded() { [ "$(rem_state)" = succeeded ]; }
wait_until 40 succeeded || fail "not followed to its result: state $(rem_state)"
[ "$(triggers)" = 1 ] || fail "the job was triggered $(triggers) times: a second trigger after the restart"
stop_healer
# And it stays done: a further restart does not touch Jenkins.
n=$(fake_count jk)
start_healer --state-dir "$STATE"
sleep 1
[ "$(rem_state)" = none ] || fail "finished remediation in flight again: $(rem_state)"
[ "$(fake_count jk)" = "$n" ] || fail "a restart after it finished called Jenkins again"
stop_healer
echo "PASS $TEST_NAME"
