#!/usr/bin/env bash
# k8s_e2e.sh - Debian's real Alertmanager -> healer (the rules of
# k8s_e2e.heal compiled by healerc, linked with the runtime objects next to
# $HEALER; not dry-run) -> the fake Kubernetes API server over TLS (token
# auth, the test CA from tests/fakes/mkcerts.sh) -> the fake Slack.
#   1. A node NotReady: `kubernetes drain` cordons it and evicts its pods
#      (a DaemonSet pod and a mirror pod kept), while a PodDisruptionBudget
#      refuses one eviction (429) three times; at the same time a
#      `kubernetes job` creates a Job that runs for seconds.
#   2. healer is SIGKILLed with both in flight: the cordon journaled, one
#      pod gone, one still terminating, the PDB still blocking, the Job
#      running. Restarted on the same --state-dir, it follows both to the
#      end: the node was patched once, no pod was evicted again once its
#      eviction was accepted (the terminating one is waited for), the Job
#      is followed, not created again (one POST to the jobs path), both
#      end succeeded and Slack hears of both.
#   3. Killed before the API server's answer to a Job create arrived (the
#      Job exists, no token journaled): the restart finds it by its
#      healer.io/remediation label; still no second Job.
# Bounded: about 20 s (ASan build); every wait has a limit. Loopback only.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

# --- healer with the test's rules: the runtime objects of $HEALER's build.
HEALERC=${HEALERC:-bin/healerc}
OBJ=${HEALER_OBJ:-$(dirname "$(dirname "$HEALER")")/runtime}   # build/san/runtime or build/runtime
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
[ -f "$OBJ/main.o" ] || fail "no runtime objects in $OBJ (make, or make SAN=1)"
for k in act_k8s_node act_k8s_job; do
  [ -f "$OBJ/$k.o" ] || fail "no $k kind in $OBJ"
done
"$HEALERC" compile tests/integration/k8s_e2e.heal -o "$TMP/rules.c" || fail "healerc compile"
link_healer "$TMP/rules.c"
STATE=$TMP/state

# --- the fakes. node-d1 holds, in etcd key order: a mirror pod, a DaemonSet
# pod (both kept), db-0 under PDB "db" (refused 3 times: healer tries a 429
# again every 5 s), web-1 (gone 0.2 s after its eviction) and web-2 (gone
# only 12 s after: still terminating when healer is killed).
bash tests/fakes/mkcerts.sh "$TMP/certs" >/dev/null || fail "mkcerts"
K8S_SECRET=e2e-K8S-token-7331
fake_start k8 kubernetes --tls-cert "$TMP/certs/server.crt" --tls-key "$TMP/certs/server.key" \
  --token "$K8S_SECRET" --script '{
  "nodes": {"node-d1": {}, "node-d2": {}, "node-j1": {}},
  "pods": [
    {"name": "kube-proxy-node-d1", "namespace": "kube-system", "node": "node-d1", "mirror": true},
    {"name": "fluentd-d1", "namespace": "kube-system", "node": "node-d1",
     "owner": {"kind": "DaemonSet", "name": "fluentd"}},
    {"name": "db-0", "namespace": "shop", "node": "node-d1",
     "owner": {"kind": "StatefulSet", "name": "db"}, "pdb": "db"},
    {"name": "web-1", "namespace": "shop", "node": "node-d1",
     "owner": {"kind": "ReplicaSet", "name": "web-5d4f"}},
    {"name": "web-2", "namespace": "shop", "node": "node-d1",
     "owner": {"kind": "ReplicaSet", "name": "web-5d4f"}, "evict_delete_seconds": 12},
    {"name": "web-9", "namespace": "shop", "node": "node-d2",
     "owner": {"kind": "ReplicaSet", "name": "web-5d4f"}}],
  "pdbs": {"db": {"block_count": 3, "desired_healthy": 2, "current_healthy": 2}},
  "job_behaviour": {"heal-disk-": {"start_seconds": 0.2, "run_seconds": 8}}}' ||
  fail "fake Kubernetes did not start"
fake_start sl slack --hook /services/T0/B0/k8se2e || fail "fake Slack did not start"
printf '%s/services/T0/B0/k8se2e\n' "$(fake_url sl)" >"$TMP/slack-webhook"
export E2E_K8S_URL=$(fake_url k8) E2E_K8S_TOKEN=$K8S_SECRET E2E_K8S_CA=$(fake_cacert k8)
export HEALER_SLACK_WEBHOOK_FILE=$TMP/slack-webhook

INBOUND=e2e-inbound-4242
printf '%s\n' "$INBOUND" >"$TMP/inbound"
start_healer --auth-bearer-file "$TMP/inbound" --state-dir "$STATE"
start_alertmanager alertname "$INBOUND"

rems() { curl -s --max-time 5 -H "Authorization: Bearer $INBOUND" "$BASE/api/v1/remediations"; }
states_of() { # RULE -> the states of its remediations, sorted
  rems | python3 -c 'import json,sys; print(" ".join(sorted(r["state"] for r in json.load(sys.stdin)["remediations"] if r["rule"] == sys.argv[1])))' "$1"
}
is_states() { [ "$(states_of "$1")" = "$2" ]; }
reasons_of() {
  rems | python3 -c 'import json,sys; print(" | ".join(r["reason"] for r in json.load(sys.stdin)["remediations"] if r["rule"] == sys.argv[1]))' "$1"
}
journaled() { grep -q "\"token\":\"$1" "$STATE/journal.log" 2>/dev/null; }
k8s() { fake_state k8 | fake_py "($1)"; }   # EXPR (may span lines) over the fake's state
job_posts() { fake_count k8 'method=POST&path=/apis/batch/v1/namespaces/remediation/jobs'; }
node_patches() { fake_count k8 "method=PATCH&path=/api/v1/nodes/$1"; }
slack_has() { fake_state sl | grep -q -- "$1"; }
sigkill_healer() {
  kill -9 "$HEALER_PID"
  wait "$HEALER_PID" 2>/dev/null
  HEALER_PID=
}

# --- 1. The drain and the Job, through Alertmanager.
am_push '[{"labels":{"alertname":"E2EKubeNodeNotReady","node":"node-d1","cluster":"e2e"}},
          {"labels":{"alertname":"E2EKubeDiskFull","node":"node-j1","cluster":"e2e"}}]'
# Mid-drain: the cordon journaled, web-1 and web-2 evicted, db-0 refused by
# its PDB at least once and not yet let through; the Job created and running.
mid_drain() {
  journaled cordoned &&
    k8s '[e["pod"] for e in d["evictions"] if e["code"] == 201] == ["web-1", "web-2"] and
         d["pdbs"]["db"]["blocked"] >= 1 and "shop/web-1" not in d["pods"]' >/dev/null
}
wait_until 40 mid_drain ||
  fail "never mid-drain: $(reasons_of drain_node_e2e); evictions $(k8s 'd["evictions"]')"
job_running() {
  journaled job: && k8s '[j for j in d["jobs"] if j["present"] and not any(
    c["type"] in ("Complete", "Failed") for c in (j["object"]["status"].get("conditions") or []))]' >/dev/null
}
wait_until 20 job_running || fail "the Job is not journaled and running: $(k8s 'd["jobs"]' | head -c 800)"
k8s 'd["pdbs"]["db"]["blocked"] < 3' >/dev/null || fail "the PDB no longer blocks at the kill"
k8s '"shop/web-2" in d["pods"] and "deletionTimestamp" in d["pods"]["shop/web-2"]["metadata"]' >/dev/null ||
  fail "web-2 is not terminating at the kill: $(k8s 'd["pods"].get("shop/web-2")')"
[ "$(job_posts)" = 1 ] || fail "$(job_posts) Job creates before the kill"
[ "$(node_patches node-d1)" = 1 ] || fail "node-d1 patched $(node_patches node-d1) times before the kill"

# --- 2. SIGKILL with both in flight; the restart follows both.
sigkill_healer
lines=$(wc -l <"$TMP/healer.log")
start_healer --auth-bearer-file "$TMP/inbound" --state-dir "$STATE"
wait_until 60 is_states drain_node_e2e succeeded ||
  fail "drain_node_e2e after the restart: '$(states_of drain_node_e2e)' $(reasons_of drain_node_e2e); evictions $(k8s 'd["evictions"]')"
wait_until 30 is_states heal_disk_job_e2e succeeded ||
  fail "heal_disk_job_e2e after the restart: '$(states_of heal_disk_job_e2e)' $(reasons_of heal_disk_job_e2e)"
after=$(tail -n +"$((lines + 1))" "$TMP/healer.log")
grep -q 'msg=k8s_drain_resumed' <<<"$after" || fail "the restarted healer did not resume the drain from its token"
grep -q 'msg=k8s_job_resumed' <<<"$after" || fail "the restarted healer did not resume the Job from its token"
[ "$(node_patches node-d1)" = 1 ] || fail "node-d1 patched $(node_patches node-d1) times: cordoned again"
k8s 'd["nodes"]["node-d1"]["spec"].get("unschedulable") is True and
     not d["nodes"]["node-d2"]["spec"].get("unschedulable")' >/dev/null ||
  fail "cordon: $(k8s 'd["nodes"]')"
# Evictions, from the API server's own record of requests (seq order): kept
# pods never; after a pod's eviction was accepted, never again.
fake_get_requests k8 'method=POST' | python3 -c '
import json, re, sys
per = {}
for r in json.load(sys.stdin):
    m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/pods/([^/]+)/eviction", r["path"])
    if m:
        per.setdefault(m.group(2), []).append(r["status"])
assert set(per) == {"db-0", "web-1", "web-2"}, ("evicted", per)
for pod, codes in per.items():
    assert codes.count(201) == 1 and codes[-1] == 201, (pod, "evicted again", codes)
assert per["db-0"] == [429, 429, 429, 201], per
assert per["web-1"] == [201] and per["web-2"] == [201], per
' || fail "evictions: $(fake_get_requests k8 'method=POST' | fake_py '[(r["path"], r["status"]) for r in d]')"
k8s 'not [p for p in d["pods"] if p.startswith("shop/") and d["pods"][p]["spec"].get("nodeName") == "node-d1"] and
     "kube-system/fluentd-d1" in d["pods"] and "kube-system/kube-proxy-node-d1" in d["pods"] and
     "shop/web-9" in d["pods"]' >/dev/null || fail "pods left: $(k8s 'sorted(d["pods"])')"
grep -q 'msg=k8s_drained .*node=node-d1' <<<"$after" || fail "no k8s_drained line after the restart"
[ "$(grep -c 'msg=k8s_evicted .*pod=db-0' "$TMP/healer.log")" = 1 ] || fail "db-0 not evicted exactly once"
# The Job: created once, followed to Complete.
[ "$(job_posts)" = 1 ] || fail "$(job_posts) Job creates: a second Job after the restart"
k8s 'len(d["jobs"]) == 1 and d["jobs"][0]["object"]["metadata"]["labels"].get("healer.io/remediation") and
     any(c["type"] == "Complete" and c["status"] == "True" for c in d["jobs"][0]["object"]["status"]["conditions"])' >/dev/null ||
  fail "the Job: $(k8s 'd["jobs"]' | head -c 1000)"
k8s '{e["name"]: e["value"] for e in d["jobs"][0]["object"]["spec"]["template"]["spec"]["containers"][0]["env"]}.get("TARGET_NODE") == "node-j1"' >/dev/null ||
  fail "the Job's environment: $(k8s 'd["jobs"][0]["object"]["spec"]["template"]["spec"]')"
# Every request over TLS, with the token.
fake_get_requests k8 | python3 -c '
import json, sys
reqs = json.load(sys.stdin)
assert reqs and all(r["headers"].get("authorization") == "Bearer " + sys.argv[1] for r in reqs), "token"
assert all((r.get("tls") or {}).get("version") for r in reqs), "not TLS"
' "$K8S_SECRET" || fail "a request without TLS or the token"
wait_until 20 slack_has drain_node_e2e || fail "Slack was not told of drain_node_e2e: $(fake_state sl | head -c 600)"
wait_until 20 slack_has heal_disk_job_e2e || fail "Slack was not told of heal_disk_job_e2e"

# --- 3. Killed before the answer to a Job create arrived: the API server
# made the Job, healer never saw the 201 and journaled no token. (Straight
# to healer: the restarted one listens on another port than Alertmanager
# was given.)
fake_script k8 '{"faults":[{"kind":"delay","seconds":30,"phase":"after","method":"POST",
  "path":"/apis/batch/v1/namespaces/remediation/jobs"}],
  "job_behaviour":{"heal-disk-":{"start_seconds":0.2,"run_seconds":2}}}' || fail "fault script"
post_json /api/v1/alertmanager \
  "$(payload "$(alert firing '{"alertname":"E2EKubeDiskFull","node":"node-j2"}' k8se2e00000000j2)")" \
  -H "Authorization: Bearer $INBOUND"
expect_code 202 "node-j2 alert"
two_jobs() { k8s 'len(d["jobs"]) == 2' >/dev/null; }
wait_until 30 two_jobs || fail "the second create never reached the API server"
[ "$(job_posts)" = 2 ] || fail "$(job_posts) Job creates, want 2"
sigkill_healer
lines=$(wc -l <"$TMP/healer.log")
start_healer --auth-bearer-file "$TMP/inbound" --state-dir "$STATE"
wait_until 40 is_states heal_disk_job_e2e "succeeded succeeded" ||
  fail "node-j2 not followed to its end: '$(states_of heal_disk_job_e2e)' $(reasons_of heal_disk_job_e2e)"
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'msg=k8s_job_found_earlier' ||
  fail "the restarted healer did not look for its Job by label"
[ "$(job_posts)" = 2 ] || fail "$(job_posts) Job creates: created again after the restart"
k8s 'len(d["jobs"]) == 2' >/dev/null || fail "jobs: $(k8s '[j["name"] for j in d["jobs"]]')"

# --- No secret in the log or the API.
rems >"$TMP/api.json"
curl -s "$BASE/metrics" >"$TMP/metrics.txt"
kill "${PIDS[0]}"
stop_healer
for s in "$K8S_SECRET" services/T0/B0/k8se2e; do
  grep -q -- "$s" "$TMP/healer.log" "$TMP/healer.out" "$TMP/api.json" "$TMP/metrics.txt" &&
    fail "a secret ($s) leaked"
done
echo "PASS $TEST_NAME"
