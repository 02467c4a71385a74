#!/usr/bin/env bash
# journal_jenkins_kill.sh - healer is SIGKILLed while the Jenkins build of a
# remediation runs (twice: while queued, then while building); after each
# restart it follows that build to its result and never triggers the job a
# second time (issue 4, "Bad input and faults"). Then the same when healer
# dies before Jenkins' answer to the trigger arrived: the restart finds the
# build by the remediation's tag instead of triggering again.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/../fakes/lib.sh"
trap 'fake_cleanup; cleanup' EXIT
if ! "$HEALER_FIXTURE" --help 2>/dev/null | grep -q -- '--state-dir'; then
  echo "SKIP $TEST_NAME: this healer has no --state-dir yet (journal hooks not applied)"
  exit 0
fi
STATE=$TMP/state

# The first trigger waits 5s in Jenkins' queue (quiet period): healer polls
# the item 1s, 2.5s, 4.75s and 8.1s after the trigger, so it is still queued
# for healer when the test kills it (as soon as it is journaled, below).
fake_start jk jenkins --user bot --token tok --script '{
  "jobs": {"infra/DockerPruneNode": {
    "parameters": {"node": "", "cluster": "", "value": "", "HEALER_REMEDIATION_ID": ""},
    "build_seconds": 10, "runs": [{"quiet_seconds": 5}]}}}' || fail "fake Jenkins did not start"
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=bot HEALER_JENKINS_TOKEN=tok
export CI_TOKEN=unused        # the fixture's declared "ci" backend (needs a user too)

FP=kill1
rem_state() {
  req GET /api/v1/remediations
  python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"]==sys.argv[2]]; print(r[0]["state"] if r else "none")' "$TMP/body" "$FP"
}
triggers() { fake_count jk 'method=POST&path_prefix=/job/infra/job/DockerPruneNode/buildWithParameters'; }
# journaled PREFIX: healer's journal holds a resume token "PREFIX...".
journaled() { grep -q "\"token\":\"$1" "$STATE/journal.log"; }

start_healer --state-dir "$STATE"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n7:9100"}' kill1)")"
expect_code 202 "webhook"
expect_json "j['queued']" 1 "accepted"
# Killed while queued: once healer has journaled the queue item as its token.
if ! wait_until 20 journaled queue:; then
  if grep -q 'no Jenkins configured' "$TMP/healer.log"; then
    echo "SKIP $TEST_NAME: this healer does not load the Jenkins backend yet"
    exit 0
  fi
  fail "the trigger was never journaled: $(fake_state jk | head -c 600)"
fi
[ "$(triggers)" = 1 ] || fail "triggered $(triggers) times before the kill"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=

start_healer --state-dir "$STATE"
grep -q 'msg=resuming.*fingerprint=kill1' "$TMP/healer.log" || fail "not resumed after the restart"
# Once more, after a healer has seen the build (its token now names the
# build). Either run may have seen it: the first one if the build started
# before the kill, else the restarted one, possibly before start_healer
# returned. So the whole log counts.
seen_build() { grep -q 'msg=jenkins_build' "$TMP/healer.log"; }
wait_until 20 seen_build || fail "the restarted healer never saw the build"
# healer logs the build before it journals the build's token: wait for that.
wait_until 10 journaled build: || fail "the build's token was never journaled"
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
# Listed again as it ended (the history survives), not in flight.
[ "$(rem_state)" = succeeded ] || fail "finished remediation not listed as it ended: $(rem_state)"
[ "$(fake_count jk)" = "$n" ] || fail "a restart after it finished called Jenkins again"

# --- Killed before Jenkins' answer to the trigger arrived: Jenkins queued the
# build, healer never saw the 201 (no resume token journaled).
FP=kill2
fake_script jk '{"faults":[{"kind":"delay","seconds":30,"phase":"after","method":"POST",
  "path_prefix":"/job/infra/job/DockerPruneNode/buildWithParameters"}]}'
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n8:9100"}' kill2)")"
expect_json "j['queued']" 1 "second alert accepted"
two_triggers() { [ "$(triggers)" = 2 ]; }
wait_until 20 two_triggers || fail "the second trigger never reached Jenkins"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=
fake_script jk '{}'
lines=$(wc -l <"$TMP/healer.log")   # only this run's lines count below
start_healer --state-dir "$STATE"
tail -n +"$((lines + 1))" "$TMP/healer.log" |
  grep -q 'msg=resuming.*fingerprint=kill2.*trigger was not confirmed' ||
  fail "kill2 not resumed as unconfirmed"
wait_until 40 succeeded || fail "kill2 not followed to its result: state $(rem_state)"
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'jenkins_found_earlier_trigger' ||
  fail "did not look for its tag"
[ "$(triggers)" = 2 ] || fail "kill2 triggered again after the restart ($(triggers) triggers)"
stop_healer
echo "PASS $TEST_NAME"
