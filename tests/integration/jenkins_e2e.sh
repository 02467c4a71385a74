#!/usr/bin/env bash
# jenkins_e2e.sh - healer (fixture rules, not dry-run) against the fake
# Jenkins: an alert makes it_prune trigger infra/DockerPruneNode, which is
# followed from the queue to the build's result; label values that need
# escaping arrive intact as build parameters, with HEALER_REMEDIATION_ID;
# a FAILURE build ends `failed` with the reason; Jenkins down is waited
# out (nothing reached it, so it is retried despite `retry 0`); the API
# token appears in no log line, no /api/v1 answer and no /metrics; every
# JSON log line about a remediation carries its id, rule and fingerprint.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

SECRET=e2e-SECRET-token-4711
printf '%s\n' "$SECRET" >"$TMP/token"
fake_start jk jenkins --user bot --token "$SECRET" --script '{"jobs":{"infra/DockerPruneNode":{
  "parameters":{"node":"","cluster":"","value":"","HEALER_REMEDIATION_ID":""},
  "build_seconds":0.5,"runs":[{},{"result":"FAILURE"}]}}}' || fail "fake Jenkins did not start"
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=bot
export HEALER_JENKINS_TOKEN_FILE=$TMP/token CI_TOKEN=unused
start_healer --log-format json

state_of() { # FINGERPRINT -> state of its remediation
  curl -s --max-time 5 "$BASE/api/v1/remediations" |
    python3 -c 'import json,sys; print(" ".join(r["state"] for r in json.load(sys.stdin)["remediations"] if r["fingerprint"] == sys.argv[1]))' "$1"
}
wait_state() { # FINGERPRINT STATE SECONDS
  wait_until "$3" sh -c "[ \"\$(curl -s --max-time 5 $BASE/api/v1/remediations | python3 -c 'import json,sys; print(\" \".join(r[\"state\"] for r in json.load(sys.stdin)[\"remediations\"] if r[\"fingerprint\"] == \"$1\"))')\" = $2 ]"
}
reason_of() {
  curl -s --max-time 5 "$BASE/api/v1/remediations" |
    python3 -c 'import json,sys; print(" ".join(r["reason"] for r in json.load(sys.stdin)["remediations"] if r["fingerprint"] == sys.argv[1]))' "$1"
}

# 1. Success, with label values that need escaping.
python3 - >"$TMP/payload.json" <<'PY'
import json
labels = {"alertname": "HealerTest", "instance": "node-ü/1 & x=y:9100",
          "cluster": "a \"quoted\" & b=c %41 / x+y z", "value": "grüße ✓ 🔥 日本"}
alert = {"status": "firing", "labels": labels, "annotations": {"summary": "x"},
         "startsAt": "2026-11-27T12:10:15.696335593Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "", "fingerprint": "e2e0000000000001"}
print(json.dumps({"version": "4", "status": "firing", "alerts": [alert]}, ensure_ascii=False))
PY
req POST /api/v1/alertmanager -H 'Content-Type: application/json' --data-binary @"$TMP/payload.json"
expect_code 202 "alert 1"
wait_state e2e0000000000001 succeeded 20 || fail "remediation 1: $(state_of e2e0000000000001) $(reason_of e2e0000000000001)"
fake_state jk | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
b = d["jobs"]["infra/DockerPruneNode"]["builds"]
assert len(b) == 1, b
p = {x["name"]: x["value"] for a in b[0]["actions"] for x in a.get("parameters", [])}
assert p["node"] == "node-ü/1 & x=y", p
assert p["cluster"] == "a \"quoted\" & b=c %41 / x+y z", p
assert p["value"] == "grüße ✓ 🔥 日本", p
# The tag: that of the alert occurrence (16 hex digits, no local id).
assert re.fullmatch(r"[0-9a-f]{16}", p["HEALER_REMEDIATION_ID"]), p
assert b[0]["result"] == "SUCCESS", b[0]
' || fail "build parameters: $(fake_state jk)"
[ "$(fake_count jk 'method=POST&path=/job/infra/job/DockerPruneNode/buildWithParameters')" = 1 ] ||
  fail "not exactly one trigger"
reason_of e2e0000000000001 | grep -q 'all 1 steps succeeded' || fail "reason 1: $(reason_of e2e0000000000001)"
# The line is logged before the state changes, but written by healer's log
# thread a little later: wait for it.
wait_until 5 grep -q '"msg":"jenkins_result".*"result":"SUCCESS"' "$TMP/healer.log" ||
  fail "no jenkins_result line"

# 2. The next build fails: failed, the result in the reason.
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n2:9100"}' e2e0000000000002)")"
expect_code 202 "alert 2"
wait_state e2e0000000000002 failed 20 || fail "remediation 2: $(state_of e2e0000000000002)"
reason_of e2e0000000000002 | grep -q 'build #2 FAILURE' || fail "reason 2: $(reason_of e2e0000000000002)"

# 3. Jenkins down: nothing reached it, so the rule's `retry 0` does not
# stop the step: it is still trying 2 s later, and runs once Jenkins is back.
fake_stop jk
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n3:9100"}' e2e0000000000003)")"
expect_code 202 "alert 3"
sleep 2
[ "$(state_of e2e0000000000003)" = running ] || fail "remediation 3 gave up: $(state_of e2e0000000000003) $(reason_of e2e0000000000003)"
fake_restart jk || fail "fake Jenkins did not restart"
wait_state e2e0000000000003 succeeded 30 || fail "remediation 3: $(state_of e2e0000000000003) $(reason_of e2e0000000000003)"

# The token is nowhere to be seen.
req GET /api/v1/remediations
grep -q "$SECRET" "$TMP/body" && fail "token in /api/v1/remediations"
req GET /api/v1/rules
grep -q "$SECRET" "$TMP/body" && fail "token in /api/v1/rules"
req GET /metrics
grep -q "$SECRET" "$TMP/body" && fail "token in /metrics"
grep -q 'healer_notifications_total' "$TMP/body" || fail "no notification counters in /metrics"
stop_healer
grep -q "$SECRET" "$TMP/healer.log" "$TMP/healer.out" && fail "token in the log"
# One log schema: every line is a JSON object; every line about a
# remediation names it by the same key, with its rule and fingerprint, so
# one filter follows a remediation from decision to result.
python3 - "$TMP/healer.log" <<'PY' || fail "log schema"
import json, sys
about, events = {}, set()
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)                      # every line parses
    for k in ("ts", "level", "msg"):
        assert k in o, (n, k, o)
    assert "id" not in o, (n, "a remediation is 'remediation', not 'id'", o)
    if "remediation" not in o:
        continue
    assert isinstance(o["remediation"], int), (n, o)
    assert o.get("rule") and o.get("fingerprint"), (n, "rule and fingerprint", o)
    events.add(o["msg"])
    prev = about.setdefault(o["remediation"], (o["rule"], o["fingerprint"]))
    assert prev == (o["rule"], o["fingerprint"]), (n, prev, o)
want = {"decision", "jenkins_queued", "jenkins_build", "jenkins_result", "remediation"}
assert want <= events, ("missing events", want - events)
assert set(about) == {1, 2, 3}, sorted(about)
assert about[1][1] == "e2e0000000000001" and about[3][1] == "e2e0000000000003", about
PY
echo "PASS $TEST_NAME"
