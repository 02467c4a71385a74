#!/usr/bin/env bash
# full_path.sh - the whole path of issue 4, with nothing simulated but the
# remote services: Debian's real Alertmanager -> healer (not dry-run; the
# rules of full_path.heal compiled by healerc and linked with the runtime
# objects next to $HEALER) -> the fake Jenkins -> the fake Slack and JIRA.
# A build ending SUCCESS is announced in Slack; one ending FAILURE opens one
# JIRA issue. Alertmanager's resends trigger nothing more; a rule with
# 'succeed on UNSTABLE' succeeds on an UNSTABLE build; no secret leaks into
# the log or the API.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

# --- healer with the test's rules: the runtime objects of $HEALER's build.
HEALERC=${HEALERC:-bin/healerc}
OBJ=$(dirname "$(dirname "$HEALER")")/runtime       # build/san/runtime or build/runtime
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
[ -f "$OBJ/main.o" ] || fail "no runtime objects in $OBJ (make, or make SAN=1)"
"$HEALERC" compile tests/integration/full_path.heal -o "$TMP/rules.c" || fail "healerc compile"
link_healer "$TMP/rules.c"

# --- the fakes.
JK_SECRET=fp-JENKINS-secret-8812
JIRA_SECRET=fp-JIRA-secret-3301
fake_start jk jenkins --user bot --token "$JK_SECRET" --script '{"jobs":{"infra/DockerPruneNode":{
  "parameters":{"node":"","cluster":"","HEALER_REMEDIATION_ID":""},
  "build_seconds":0.5,"runs":[{"result":"SUCCESS"},{"result":"FAILURE"}]},
  "infra/FlakyCheck":{"parameters":{"node":"","HEALER_REMEDIATION_ID":""},
  "build_seconds":0.5,"result":"UNSTABLE"}}}' ||
  fail "fake Jenkins did not start"
fake_start sl slack --hook /services/T0/B0/fullpath || fail "fake Slack did not start"
fake_start jr jira --email healer@example.com --token "$JIRA_SECRET" --project OPS ||
  fail "fake JIRA did not start"
printf '%s/services/T0/B0/fullpath\n' "$(fake_url sl)" >"$TMP/slack-webhook"
printf '%s\n' "$JIRA_SECRET" >"$TMP/jira-token"
export FULL_PATH_JENKINS_URL=$(fake_url jk) FULL_PATH_JENKINS_TOKEN=$JK_SECRET
export HEALER_SLACK_WEBHOOK_FILE=$TMP/slack-webhook
export HEALER_JIRA_URL=$(fake_url jr) HEALER_JIRA_USER=healer@example.com
export HEALER_JIRA_TOKEN_FILE=$TMP/jira-token

printf 'fp-token-77\n' >"$TMP/token"
start_healer --auth-bearer-file "$TMP/token" --log-format json

# --- the real Alertmanager, sending to healer.
start_alertmanager instance fp-token-77

state_of() { # NODE -> the states of its remediations
  curl -s --max-time 5 -H 'Authorization: Bearer fp-token-77' "$BASE/api/v1/remediations" |
    python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["remediations"] if r["action"]["params"].get("node") == sys.argv[1]))' "$1"
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }
slack_messages() { fake_state sl | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))'; }
jira_issues() { fake_state jr | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["issues"]))'; }
dup_resends() {
  [ "$(metric 'healer_suppressed_total{rule="prune_full_path",reason="duplicate"}')" -ge 2 ] 2>/dev/null
}

# 1. SUCCESS: Slack is told.
am_push '[{"labels":{"alertname":"FullPathDiskPressure","instance":"fp-a:9100","cluster":"eu-1"}}]'
wait_until 30 is_state fp-a succeeded ||
  fail "remediation of fp-a: '$(state_of fp-a)'; Jenkins: $(fake_state jk | head -c 400)"
wait_until 20 eval '[ "$(slack_messages)" = 1 ]' ||
  fail "Slack got $(slack_messages) messages, want 1"
fake_state sl | python3 -c '
import json, sys
m = json.load(sys.stdin)["messages"][0]
assert m["hook"] == "/services/T0/B0/fullpath", m
text = json.dumps(m["payload"])
for want in ("prune_full_path", "FullPathDiskPressure", "fp-a", "succeeded"):
    assert want in text, (want, text)
' || fail "Slack message: $(fake_state sl | head -c 800)"

# 2. FAILURE: one JIRA issue in OPS.
am_push '[{"labels":{"alertname":"FullPathDiskPressure","instance":"fp-b:9100"}}]'
wait_until 30 is_state fp-b failed ||
  fail "remediation of fp-b: '$(state_of fp-b)'; Jenkins: $(fake_state jk | head -c 400)"
wait_until 20 eval '[ "$(jira_issues)" -ge 1 ]' ||
  fail "JIRA got no issue"
fake_state jr | python3 -c '
import json, sys
i = json.load(sys.stdin)["issues"]
assert len(i) == 1, i
f = i[0]
assert f["project"]["key"] == "OPS", f
text = json.dumps(f)
assert "fp-b" in text and "prune_full_path" in text, text
assert "healer" in f.get("labels", []), f
' || fail "JIRA issue: $(fake_state jr | head -c 800)"

# 3. Alertmanager's resends (repeat_interval 3s) are duplicates: nothing more.
wait_until 15 dup_resends ||
  fail "resends were not taken as duplicates"
[ "$(fake_count jk 'method=POST&path=/job/infra/job/DockerPruneNode/buildWithParameters')" = 2 ] ||
  fail "Jenkins triggered $(fake_count jk 'method=POST&path=/job/infra/job/DockerPruneNode/buildWithParameters') times, want 2"
[ "$(slack_messages)" = 1 ] || fail "Slack got $(slack_messages) messages, want 1"
[ "$(jira_issues)" = 1 ] || fail "JIRA got $(jira_issues) issues, want 1"
grep -q 'Notify success' "$TMP/am.log" || fail "Alertmanager never logged a successful notification"

# 4. A rule with 'succeed on UNSTABLE' (compiled by healerc): an UNSTABLE
# build succeeds, and its result is logged as it was.
am_push '[{"labels":{"alertname":"FullPathFlakyCheck","instance":"fp-c:9100"}}]'
wait_until 30 is_state fp-c succeeded ||
  fail "remediation of fp-c: '$(state_of fp-c)'; Jenkins: $(fake_state jk | head -c 400)"
wait_until 5 grep -q '"job":"infra/FlakyCheck".*"result":"UNSTABLE"' "$TMP/healer.log" ||
  fail "the build's UNSTABLE result was not logged"

# 5. No secret in the log or the API.
curl -s -H 'Authorization: Bearer fp-token-77' "$BASE/api/v1/remediations" >"$TMP/api.json"
curl -s "$BASE/metrics" >"$TMP/metrics.txt"
kill "${PIDS[0]}"
stop_healer   # first: its log thread has written every line
for s in "$JK_SECRET" "$JIRA_SECRET" services/T0/B0/fullpath; do
  grep -q -- "$s" "$TMP/healer.log" "$TMP/healer.out" "$TMP/api.json" "$TMP/metrics.txt" &&
    fail "a secret ($s) leaked"
done
echo "PASS $TEST_NAME"
