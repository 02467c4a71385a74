#!/usr/bin/env bash
# use_cases_e2e.sh - the four use cases of the example rules, as shipped in
# rules/ (all but rules/backends.heal, whose secrets live in /run/secrets),
# end to end: Debian's real Alertmanager -> healer (those rules compiled by
# healerc, not dry-run) -> the fake Jenkins, Kubernetes API (TLS), Gate ->
# the fake Slack.
#   NodeDiskPressure (prod)  Jenkins infra/DockerPruneNode via ci, node from
#                            host($instance), a static mode
#   KubeNodeNotReady x10     one cluster: cordon + drain (DaemonSet pod
#                            kept) + Spinnaker replace-node, one node at a
#                            time: the other nine are held by the limit
#   CertificateExpiringSoon  Spinnaker rotate-tls-cert
#   HighCPU x4 pools         Spinnaker resize-node-pool, at most 3 per hour
# The test's backends file points ci, prod_eu and gate at the fakes and
# defines the two windows so that the test holds on any date.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

HEALERC=${HEALERC:-bin/healerc}
OBJ=${HEALER_OBJ:-$(dirname "$(dirname "$HEALER")")/runtime}   # build/san/runtime or build/runtime
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
for k in act_jenkins act_k8s_node act_spinnaker; do
  ls "$OBJ"/$k*.o >/dev/null 2>&1 || fail "no $k kind in $OBJ"
done

# --- fakes and their credentials.
bash tests/fakes/mkcerts.sh "$TMP/certs" >/dev/null || fail "mkcerts"
JK_SECRET=uc-jenkins-7001 K8S_SECRET=uc-k8s-7002 GATE_SECRET=uc-gate-7003
printf '%s\n' "$JK_SECRET" >"$TMP/jenkins-token"
printf '%s\n' "$K8S_SECRET" >"$TMP/k8s-token"
params='"node":"","cluster":"","region":"","mode":"","HEALER_REMEDIATION_ID":""'
fake_start jk jenkins --user healer --token "$JK_SECRET" --script "{\"jobs\":{
  \"infra/DockerPruneNode\":{\"parameters\":{$params},\"build_seconds\":0.3},
  \"DockerPruneNode\":{\"parameters\":{$params},\"build_seconds\":0.3}}}" ||
  fail "fake Jenkins did not start"
pods='{"name":"web-1","namespace":"shop","node":"node-b0","owner":{"kind":"ReplicaSet","name":"web"}},
      {"name":"api-1","namespace":"shop","node":"node-b0","owner":{"kind":"ReplicaSet","name":"api"}},
      {"name":"fluentd-b0","namespace":"kube-system","node":"node-b0","owner":{"kind":"DaemonSet","name":"fluentd"}}'
nodes=$(python3 -c 'import json; print(json.dumps({"node-b%d" % i: {} for i in range(10)}))')
fake_start k8 kubernetes --tls-cert "$TMP/certs/server.crt" --tls-key "$TMP/certs/server.key" \
  --token "$K8S_SECRET" --script "{\"nodes\":$nodes,\"pods\":[$pods]}" ||
  fail "fake Kubernetes did not start"
fake_start gate gate --token "$GATE_SECRET" --script '{"pipelines":{
  "infra-nodes/replace-node":{"timeline":[["RUNNING",0.4],["SUCCEEDED",null]]},
  "cert-rotation/rotate-tls-cert":{"timeline":[["RUNNING",0.3],["SUCCEEDED",null]]},
  "capacity/resize-node-pool":{"timeline":[["RUNNING",0.3],["SUCCEEDED",null]]}}}' ||
  fail "fake Gate did not start"
fake_start sl slack --hook /services/T0/B0/uc || fail "fake Slack did not start"
fake_start jira jira --email healer@example.com --token uc-jira-7004 --project OPS --project CAP ||
  fail "fake JIRA did not start"
fake_start pd pagerduty || fail "fake PagerDuty did not start"
printf '%s/services/T0/B0/uc\n' "$(fake_url sl)" >"$TMP/slack-webhook"
export HEALER_CI_JENKINS_URL=$(fake_url jk) HEALER_PROD_EU_K8S_URL=$(fake_url k8)
export HEALER_GATE_URL=$(fake_url gate) HEALER_GATE_TOKEN=$GATE_SECRET
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=healer
export HEALER_JENKINS_TOKEN_FILE=$TMP/jenkins-token
export HEALER_SLACK_WEBHOOK_FILE=$TMP/slack-webhook
export HEALER_JIRA_URL=$(fake_url jira) HEALER_JIRA_USER=healer@example.com
export HEALER_JIRA_TOKEN=uc-jira-7004
export HEALER_PAGERDUTY_ROUTING_KEY=0123456789abcdef0123456789abcdef
export HEALER_PAGERDUTY_URL=$(fake_url pd)

# --- healer with the shipped rules and the test's backends.
cat >"$TMP/backends.heal" <<EOF
backend jenkins ci {
  url   = env("HEALER_CI_JENKINS_URL")
  user  = "healer"
  token = file("$TMP/jenkins-token")
}
backend kubernetes prod_eu {
  url     = env("HEALER_PROD_EU_K8S_URL")
  token   = file("$TMP/k8s-token")
  ca_file = "$TMP/certs/ca.crt"
}
backend spinnaker gate {
  url   = env("HEALER_GATE_URL")
  token = env("HEALER_GATE_TOKEN")
}
window year_end_freeze 2000-01-01..2000-01-02 in "UTC"
window business_hours daily in "UTC"
EOF
rules=()
for f in rules/*.heal; do [ "$f" = rules/backends.heal ] || rules+=("$f"); done
"$HEALERC" compile "${rules[@]}" "$TMP/backends.heal" -o "$TMP/rules.c" 2>"$TMP/healerc.err" ||
  fail "healerc compile: $(cat "$TMP/healerc.err")"
link_healer "$TMP/rules.c"

printf 'uc-inbound-7005\n' >"$TMP/inbound"
start_healer --auth-bearer-file "$TMP/inbound" --workers 4
start_alertmanager alertname uc-inbound-7005

rems() { curl -s --max-time 5 -H 'Authorization: Bearer uc-inbound-7005' "$BASE/api/v1/remediations?limit=1000"; }
count() { # RULE STATE [REASON-PREFIX] -> how many remediations
  rems | python3 -c '
import json, sys
rule, state = sys.argv[1], sys.argv[2]
pre = sys.argv[3] if len(sys.argv) > 3 else ""
print(sum(1 for r in json.load(sys.stdin)["remediations"]
          if r["rule"] == rule and r["state"] == state and r["reason"].startswith(pre)))' "$@"
}
is_count() { [ "$(count "$1" "$2")" = "$3" ]; }

# 1. Disk pressure on a prod node: the Jenkins job with translated parameters.
am_push '[{"labels":{"alertname":"NodeDiskPressure","env":"prod","instance":"node-a:9100","cluster":"prod-eu"}}]'
wait_until 60 is_count prune_docker_images succeeded 1 ||
  fail "prune_docker_images: $(rems | head -c 600)"
fake_get_requests jk 'method=POST' | python3 -c '
import json, sys
posts = [r for r in json.load(sys.stdin) if r["path"].endswith("/buildWithParameters")]
assert len(posts) == 1, posts
f = posts[0]["form"]
assert posts[0]["path"] == "/job/infra/job/DockerPruneNode/buildWithParameters", posts[0]["path"]
assert f["node"] == ["node-a"] and f["cluster"] == ["prod-eu"] and f["mode"] == ["aggressive"], f
assert f["region"] == ["eu-west-1"], f
' || fail "Jenkins did not get the translated parameters"

# 2. Ten nodes of one cluster NotReady at once: one at a time.
alerts=$(python3 -c 'import json; print(json.dumps([{"labels":{"alertname":"KubeNodeNotReady","severity":"critical","cluster":"prod-eu","node":"node-b%d" % i}} for i in range(10)]))')
am_push "$alerts"
wait_until 60 is_count replace_unhealthy_node succeeded 1 ||
  fail "replace_unhealthy_node: $(rems | head -c 800)"
held=$(count replace_unhealthy_node skipped "limit: 1 of 1 already in flight")
[ "$held" = 9 ] || fail "9 nodes should be held by the limit, $held were: $(rems | head -c 800)"
fake_state k8 | python3 -c '
import json, sys
s = json.load(sys.stdin)
cordoned = [n for n, v in s["nodes"].items() if (v.get("spec") or {}).get("unschedulable")]
assert len(cordoned) == 1, ("one node cordoned", cordoned)
ev = s.get("evictions", [])
names = sorted(e.get("pod") or e.get("name") for e in ev)
if cordoned[0] == "node-b0":
    assert "fluentd-b0" not in names, ("DaemonSet pod evicted", ev)
    assert {"web-1", "api-1"} <= set(names), ("pods not evicted", ev)
' || fail "cordon/drain at the fake Kubernetes API: $(fake_state k8 | head -c 1200)"
fake_state gate | python3 -c '
import json, sys
ex = [e for e in json.load(sys.stdin)["executions"] if e["name"] == "replace-node"]
assert len(ex) == 1 and ex[0]["status"] == "SUCCEEDED", ex
assert ex[0]["trigger"]["parameters"]["cluster"] == "prod-eu", ex[0]["trigger"]
' || fail "replace-node pipeline: $(fake_state gate | head -c 800)"

# 3. A certificate about to expire: rotated through Spinnaker.
am_push '[{"labels":{"alertname":"CertificateExpiringSoon","namespace":"shop","secret":"tls-checkout"},"annotations":{"service":"checkout"}}]'
wait_until 60 is_count rotate_tls_certificate succeeded 1 ||
  fail "rotate_tls_certificate: $(rems | head -c 600)"

# 4. Four hot pools: at most three per hour.
pools=$(python3 -c 'import json; print(json.dumps([{"labels":{"alertname":"HighCPU","cluster":"c1","nodepool":"p%d" % i}} for i in range(4)]))')
am_push "$pools"
wait_until 60 is_count grow_node_pool succeeded 3 || fail "grow_node_pool: $(rems | head -c 800)"
[ "$(count grow_node_pool skipped "budget: 3 per 1h used up")" = 1 ] ||
  fail "the fourth pool should wait for the budget: $(rems | head -c 800)"

# Every success was announced in Slack; no secret went anywhere it should not.
slack_has() { fake_state sl | grep -q -- "$1"; }
for ch in '#sre-remediation' '#certificates' '#capacity'; do
  wait_until 30 slack_has "$ch" || fail "no Slack message in $ch: $(fake_state sl | head -c 600)"
done
stop_healer
for s in "$JK_SECRET" "$K8S_SECRET" "$GATE_SECRET" uc-jira-7004; do
  grep -q -- "$s" "$TMP/healer.log" && fail "secret $s in the log"
done
echo "PASS $TEST_NAME"
