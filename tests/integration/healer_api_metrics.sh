#!/usr/bin/env bash
# api_metrics.sh - /api/v1/remediations (shape, order, ?limit), /api/v1/rules,
# /metrics (names, types, values), /healthz, /readyz.
. "$(dirname "$0")/lib.bash"
start_healer --dry-run
for i in 1 2 3; do
  post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"n$i:9100\",\"cluster\":\"eu\"}" "fp$i")")"
  expect_code 202 "alert $i"
done
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerMissing"}' fpm)")"
expect_json "j['skipped']" 1 "missing label"
wait_until 20 sh -c "grep -c 'msg=dry_run' $TMP/healer.log | grep -q 3" || fail "3 dry runs not logged"

req GET '/api/v1/remediations?limit=2'
expect_code 200 "remediations"
python3 - "$TMP/body" <<'PY' || fail "remediations: $BODY"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["remediations"]
assert d["count"] == 2 and len(r) == 2, d
first = r[0]
assert first["rule"] == "it_missing" and first["state"] == "skipped", first
assert first["reason"] == "missing label node", first
second = r[1]
for k in ["id", "rule", "alertname", "fingerprint", "startsAt", "action", "state", "reason", "created", "updated"]:
    assert k in second, k
assert second["action"] == {"kind": "jenkins", "target": "infra/DockerPruneNode", "backend": "default",
                            "params": {"node": "n3", "cluster": "eu", "value": "none"}}, second["action"]
assert second["state"] == "dry_run" and second["fingerprint"] == "fp3", second
assert second["created"].endswith("Z") and second["updated"] >= second["created"], second
PY
req GET '/api/v1/remediations'
expect_json "len(j['remediations'])" 4 "default limit"
for bad in 0 -1 abc 99999999999 ''; do
  req GET "/api/v1/remediations?limit=$bad"
  expect_code 400 "limit=$bad"
done

req GET /api/v1/rules
expect_code 200 "rules"
# The ABI the tables were built for: the one core/abi.h declares.
abi=$(awk '$1 == "#define" && $2 == "HL_ABI_VERSION" {print $3}' core/abi.h)
python3 - "$TMP/body" "$abi" <<'PY' || fail "rules: $(head -c 300 "$TMP/body")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["digest"] == "0123456789abcdef" and d["abi"] == int(sys.argv[2]), (d["abi"], sys.argv[2])
rules = {r["name"]: r for r in d["rules"]}
r = rules["re_rule"]
assert r["source"] == "tests/runtime/fixture.heal:20", r["source"]
assert r["alerts"] == ["Match"] and r["status"] == "firing"
assert r["matchers"][0] == {"on": "label", "name": "instance", "op": "=~",
                            "value": "node\\d+:9100|\\[[0-9a-f:]+\\]:9100"}, r["matchers"]
a = r["actions"][0]
assert a["kind"] == "jenkins" and a["target"] == "infra/Job" and a["backend"] == "ci", a
assert a["params"] == {"node": "host($instance)", "cluster": "$cluster ?? \"unknown\""}, a["params"]
c = rules["cooldown_rule"]["options"]
assert c["cooldown_ms"] == 3600000 and c["cooldown_key"] == "$instance", c
assert rules["multi_step"]["actions"][2]["params"]["reason"] == "\"${alertname} since ${alert.startsAt}\""
assert rules["window_rule"]["options"]["during"] == "business_hours"
assert rules["eq_continue"]["options"]["continue"] is True
assert rules["pat_rule"]["alerts"] == ["PatA"] and rules["pat_rule"]["alert_patterns"] == ["Pat[A-Z]"], rules["pat_rule"]
assert rules["re_rule"]["alert_patterns"] == []
# The results that count as success ride on each step: a jenkins step's
# defaults, none for a webhook (it has no result vocabulary).
assert "succeed_on" not in c, c
a = rules["cooldown_rule"]["actions"][0]
assert a["kind"] == "jenkins" and a["succeed_on"] == ["SUCCESS"], a
assert rules["eq_continue"]["actions"][0]["succeed_on"] == [], rules["eq_continue"]
# A backend picked per alert: no name, the expression that names it.
pc = rules["per_cluster"]["actions"]
assert pc[0]["backend"] is None and pc[0]["backend_expr"] == "$cluster", pc[0]
assert pc[1]["backend_expr"] == "\"${cluster}-b\"", pc[1]
assert a["backend_expr"] is None, a
PY

req GET /metrics
expect_code 200 "metrics"
grep -qi '^content-type: text/plain; version=0.0.4' <<<"$HEADERS" || fail "metrics content type"
for name in healer_build_info healer_alerts_received_total healer_rule_matches_total \
  healer_remediations_total healer_remediations_created_total healer_suppressed_total \
  healer_queue_depth healer_http_requests_total healer_alerts_unmatched_total healer_ready; do
  grep -q "^# TYPE $name " "$TMP/body" || fail "metric $name missing"
done
grep -q '^healer_build_info{version="0.1.0",rules_digest="0123456789abcdef"' "$TMP/body" || fail "build info"
[ "$(metric 'healer_rule_matches_total{rule="it_prune"}')" = 3 ] || fail "rule matches"
[ "$(metric 'healer_remediations_created_total{rule="it_prune"}')" = 3 ] || fail "created"
[ "$(metric 'healer_remediations_total{rule="it_prune",outcome="dry_run"}')" = 3 ] || fail "dry_run outcomes"
[ "$(metric 'healer_suppressed_total{rule="it_missing",reason="missing_label"}')" = 1 ] || fail "missing label"
[ "$(metric healer_ready)" = 1 ] || fail "ready gauge"
# Every sample line parses as name{labels} value.
python3 - "$TMP/body" <<'PY' || fail "metrics text format"
import re, sys
pat = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#") or not line:
        continue
    assert pat.match(line), line
PY
req GET /healthz
expect_json "j['status']" ok "healthz"
req GET /readyz
expect_json "j['status']" ready "readyz"
stop_healer
echo "PASS $TEST_NAME"
