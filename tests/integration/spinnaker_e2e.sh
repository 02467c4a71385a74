#!/usr/bin/env bash
# spinnaker_e2e.sh - Debian's real Alertmanager -> healer (the rules of
# spinnaker_e2e.heal compiled by healerc, linked with the runtime objects
# next to $HEALER; not dry-run) -> the fake Gate and the fake webhook
# receiver -> the fake Slack. A certificate is rotated through a pipeline;
# node-pool capacity grows through another, at most 2 per hour (the third
# cluster is held back); a disk cleanup is asked of a webhook, its label
# value percent-encoded in the path; each success is announced in Slack.
# Then healer is SIGKILLed while a pipeline's execution is RUNNING and
# restarted on the same --state-dir: it follows that execution to its end
# and never triggers the pipeline again (one execution in the fake); the
# same when it is killed before Gate's answer to the trigger arrived (the
# restart finds the execution by its correlationId). No secret reaches
# the log or the API.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

# --- healer with the test's rules: the runtime objects of $HEALER's build.
HEALERC=${HEALERC:-bin/healerc}
OBJ=$(dirname "$(dirname "$HEALER")")/runtime       # build/san/runtime or build/runtime
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
[ -f "$OBJ/main.o" ] || fail "no runtime objects in $OBJ (make, or make SAN=1)"
[ -f "$OBJ/act_spinnaker.o" ] || fail "no Spinnaker kind in $OBJ"
"$HEALERC" compile tests/integration/spinnaker_e2e.heal -o "$TMP/rules.c" || fail "healerc compile"
link_healer "$TMP/rules.c"
STATE=$TMP/state

# --- the fakes.
GATE_SECRET=e2e-GATE-token-5150
HOOK_SECRET=e2e-HOOK-key-6061
fake_start gate gate --token "$GATE_SECRET" --token-user healer-bot --script '{"pipelines":{
  "cert-rotation/rotate-tls-cert":{"parameters":[{"name":"namespace","required":true},
    {"name":"secret","required":true},{"name":"HEALER_REMEDIATION_ID"}],
    "timeline":[["NOT_STARTED",0.2],["RUNNING",0.8],["SUCCEEDED",null]]},
  "capacity/resize-node-pool":{"parameters":[{"name":"cluster","required":true},
    {"name":"step","default":"+1"}],
    "timeline":[["RUNNING",0.5],["SUCCEEDED",null]]},
  "infra-nodes/replace-node":{"parameters":[{"name":"node","required":true}],
    "timeline":[["NOT_STARTED",0.2],["RUNNING",8],["SUCCEEDED",null]]}}}' ||
  fail "fake Gate did not start"
fake_start hook webhook --require-header "X-Api-Key: $HOOK_SECRET" ||
  fail "fake webhook did not start"
fake_start sl slack --hook /services/T0/B0/e2e || fail "fake Slack did not start"
printf '%s/services/T0/B0/e2e\n' "$(fake_url sl)" >"$TMP/slack-webhook"
export E2E_GATE_URL=$(fake_url gate) E2E_GATE_TOKEN=$GATE_SECRET
export E2E_HOOK_URL=$(fake_url hook) E2E_HOOK_HEADER="X-Api-Key: $HOOK_SECRET"
export HEALER_SLACK_WEBHOOK_FILE=$TMP/slack-webhook

printf 'e2e-token-88\n' >"$TMP/token"
start_healer --auth-bearer-file "$TMP/token" --state-dir "$STATE"
start_alertmanager alertname e2e-token-88

rems() { curl -s --max-time 5 -H 'Authorization: Bearer e2e-token-88' "$BASE/api/v1/remediations"; }
states_of() { # RULE -> the states of its remediations, sorted
  rems | python3 -c 'import json,sys; print(" ".join(sorted(r["state"] for r in json.load(sys.stdin)["remediations"] if r["rule"] == sys.argv[1])))' "$1"
}
is_states() { [ "$(states_of "$1")" = "$2" ]; }
executions() { # PIPELINE -> how many executions the fake Gate holds
  fake_state gate | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin)["executions"] if e["name"] == sys.argv[1]))' "$1"
}
slack_has() { fake_state sl | grep -q -- "$1"; }

# 1. A certificate rotated through Spinnaker; Slack told.
am_push '[{"labels":{"alertname":"E2ECertificateExpiringSoon","namespace":"shop","secret":"tls-checkout"}}]'
wait_until 40 is_states rotate_cert_e2e succeeded ||
  fail "rotate_cert_e2e: '$(states_of rotate_cert_e2e)'; Gate: $(fake_state gate | head -c 600)"
fake_state gate | python3 -c '
import json, sys
ex = [e for e in json.load(sys.stdin)["executions"] if e["name"] == "rotate-tls-cert"]
assert len(ex) == 1, ex
t = ex[0]["trigger"]
assert ex[0]["application"] == "cert-rotation", ex[0]
assert t["type"] == "manual" and t["user"] == "healer", t
assert t["parameters"]["namespace"] == "shop" and t["parameters"]["secret"] == "tls-checkout", t
assert t["parameters"]["HEALER_REMEDIATION_ID"] + "-s1" == t["correlationId"], t
assert ex[0]["status"] == "SUCCEEDED", ex[0]
assert ex[0]["authentication"]["user"] == "healer-bot", ex[0]
' || fail "Gate execution: $(fake_state gate | head -c 800)"
wait_until 20 slack_has rotate_cert_e2e || fail "Slack was not told of rotate_cert_e2e"

# 2. Capacity through a pipeline, at most 2 per hour: the third cluster waits.
am_push '[{"labels":{"alertname":"E2EHighCPU","cluster":"eu-1"}},
          {"labels":{"alertname":"E2EHighCPU","cluster":"eu-2"}},
          {"labels":{"alertname":"E2EHighCPU","cluster":"eu-3"}}]'
wait_until 40 is_states grow_pool_e2e "skipped succeeded succeeded" ||
  fail "grow_pool_e2e: '$(states_of grow_pool_e2e)'"
[ "$(executions resize-node-pool)" = 2 ] ||
  fail "resize-node-pool ran $(executions resize-node-pool) times, want 2"
metric 'healer_suppressed_total{rule="grow_pool_e2e",reason="budget"}' | grep -q '^[1-9]' ||
  fail "the budget did not hold the third back: $(curl -s "$BASE/metrics" | grep suppressed)"
wait_until 20 slack_has grow_pool_e2e || fail "Slack was not told of grow_pool_e2e"

# 3. A webhook: the label value percent-encoded inside its segment.
am_push '[{"labels":{"alertname":"E2EDiskFull","instance":"db-1:9100/x?y#z"}}]'
wait_until 40 is_states clean_disk_e2e succeeded ||
  fail "clean_disk_e2e: '$(states_of clean_disk_e2e)'; webhook: $(fake_state hook | head -c 600)"
fake_state hook | python3 -c '
import json, sys
d = json.load(sys.stdin)["deliveries"]
assert len(d) == 1, d
assert d[0]["path"] == "/hooks/db-1%3A9100%2Fx%3Fy%23z/clean", d[0]["path"]
j = d[0]["json"]
assert j["node"] == "db-1:9100/x?y#z" and j["alertname"] == "E2EDiskFull", j
assert j["reason"] == "E2EDiskFull on db-1:9100/x?y#z", j
assert d[0]["idempotency_key"] == j["remediation_id"] + "-s1", d[0]
' || fail "webhook delivery: $(fake_state hook | head -c 800)"
wait_until 20 slack_has clean_disk_e2e || fail "Slack was not told of clean_disk_e2e"

# 4. SIGKILL while the execution is RUNNING; the restart follows it.
journaled() { grep -q '"token":"exec:' "$STATE/journal.log"; }
running() {
  fake_state gate | python3 -c 'import json,sys; sys.exit(0 if any(e["name"] == "replace-node" and e["status"] == "RUNNING" for e in json.load(sys.stdin)["executions"]) else 1)'
}
am_push '[{"labels":{"alertname":"E2ENodeNotReady","node":"node-7"}}]'
wait_until 30 journaled || fail "the execution was never journaled: $(fake_state gate | head -c 600)"
wait_until 10 running || fail "the execution is not RUNNING: $(fake_state gate | head -c 600)"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=
lines=$(wc -l <"$TMP/healer.log")
start_healer --auth-bearer-file "$TMP/token" --state-dir "$STATE"
wait_until 40 is_states replace_node_e2e succeeded ||
  fail "replace_node_e2e after the restart: '$(states_of replace_node_e2e)'"
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'spinnaker_resumed' ||
  fail "the restarted healer did not resume from the token"
[ "$(executions replace-node)" = 1 ] ||
  fail "replace-node ran $(executions replace-node) times: triggered again after the restart"
[ "$(fake_count gate 'method=POST&path=/pipelines/infra-nodes/replace-node')" = 1 ] ||
  fail "replace-node was posted $(fake_count gate 'method=POST&path=/pipelines/infra-nodes/replace-node') times"
wait_until 20 slack_has replace_node_e2e || fail "Slack was not told of replace_node_e2e"

# 5. Killed before Gate's answer to the trigger arrived (Gate started the
# execution; no token journaled): the restart finds it by its
# correlationId instead of triggering again.
posts() { fake_count gate 'method=POST&path=/pipelines/infra-nodes/replace-node'; }
fake_script gate '{"faults":[{"kind":"delay","seconds":30,"phase":"after","method":"POST",
  "path":"/pipelines/infra-nodes/replace-node"}]}'
# (Straight to healer: the restarted one listens on another port than the
# one Alertmanager was given.)
post_json /api/v1/alertmanager \
  "$(payload "$(alert firing '{"alertname":"E2ENodeNotReady","node":"node-8"}' e2e0000000000008)")" \
  -H 'Authorization: Bearer e2e-token-88'
expect_code 202 "node-8 alert"
two_posts() { [ "$(posts)" = 2 ]; }
wait_until 30 two_posts || fail "the second trigger never reached Gate"
kill -9 "$HEALER_PID"
wait "$HEALER_PID" 2>/dev/null
HEALER_PID=
lines=$(wc -l <"$TMP/healer.log")
start_healer --auth-bearer-file "$TMP/token" --state-dir "$STATE"
node8() {
  rems | python3 -c 'import json,sys; sys.exit(0 if any(r["rule"] == "replace_node_e2e" and r["action"]["params"]["node"] == "node-8" and r["state"] == "succeeded" for r in json.load(sys.stdin)["remediations"]) else 1)'
}
wait_until 40 node8 || fail "node-8 not followed to its end: '$(states_of replace_node_e2e)'"
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'spinnaker_found_earlier_trigger' ||
  fail "the restarted healer did not look for its correlationId"
[ "$(posts)" = 2 ] || fail "replace-node posted $(posts) times: triggered again after the restart"
[ "$(executions replace-node)" = 2 ] || fail "replace-node ran $(executions replace-node) times, want 2"

# 6. No secret in the log or the API.
rems >"$TMP/api.json"
curl -s "$BASE/metrics" >"$TMP/metrics.txt"
kill "${PIDS[0]}"
stop_healer
for s in "$GATE_SECRET" "$HOOK_SECRET" services/T0/B0/e2e; do
  grep -q -- "$s" "$TMP/healer.log" "$TMP/healer.out" "$TMP/api.json" "$TMP/metrics.txt" &&
    fail "a secret ($s) leaked"
done
echo "PASS $TEST_NAME"
