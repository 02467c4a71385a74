#!/usr/bin/env bash
# healer_alertmanager.sh - end to end with Debian's real Alertmanager 0.25
# (prometheus-alertmanager): loopback only, clustering off, throw-away
# storage, group_wait 1s / group_interval 2s / repeat_interval 3s, bearer
# auth to healer. Alerts are pushed with Alertmanager's API v2; the test
# asserts that healer recorded the right dry-run remediations, took the
# resends as duplicates, and cancelled the queued remediation of an alert
# that resolved before its hold-off (--start-delay) ended.
. "$(dirname "$0")/lib.bash"

printf 'e2e-token-5d1\n' >"$TMP/token"
# B's resolve reaches healer at one of its group's next flushes, group_interval
# (2s) apart: 2s after B's first one, or 4s when the push below missed that
# tick on a loaded machine. The hold-off must outlast both with room to spare.
start_healer --dry-run --start-delay 10s --auth-bearer-file "$TMP/token"
start_alertmanager alertname e2e-token-5d1

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

# A stays firing; B resolves before its hold-off ends.
am_push '[{"labels":{"alertname":"HealerTest","instance":"e2e-a:9100","cluster":"eu-1","value":"a&b=c d/é"},
        "annotations":{"summary":"disk full"},"generatorURL":"http://prom/graph"},
       {"labels":{"alertname":"HealerResolve","instance":"e2e-b:9100"}}]'
wait_until 20 grep -q 'decision=queued alertname=HealerResolve' "$TMP/healer.log" ||
  fail "healer never queued B: $(grep -i 'notify\|error' "$TMP/am.log" | tail -n 5)"
am_push '[{"labels":{"alertname":"HealerResolve","instance":"e2e-b:9100"},"endsAt":"'"$(now)"'"}]'
# A second alert joins A's group: the group (A included) is sent again.
am_push '[{"labels":{"alertname":"HealerTest","instance":"e2e-c:9100"}}]'

remediations() {
  curl -s -H 'Authorization: Bearer e2e-token-5d1' "$BASE/api/v1/remediations?limit=50" >"$TMP/rem.json"
}
check() {
  remediations
  python3 - "$TMP/rem.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["remediations"]
by = {}
for x in r:
    by.setdefault((x["alertname"], x["action"]["params"].get("node") or x["action"]["params"].get("fp")), []).append(x)
a = by.get(("HealerTest", "e2e-a"), [])
c = by.get(("HealerTest", "e2e-c"), [])
b = [x for x in r if x["alertname"] == "HealerResolve"]
ok = (len(a) == 1 and a[0]["state"] == "dry_run" and
      len(c) == 1 and c[0]["state"] == "dry_run" and
      len(b) == 1 and b[0]["state"] == "cancelled")
sys.exit(0 if ok else 1)
PY
}
wait_until 30 check || fail "remediations after 30s: $(cat "$TMP/rem.json")"

# Let Alertmanager resend A's group (repeat_interval 3s) a few times.
wait_until 15 sh -c "[ \"\$(curl -s $BASE/metrics | awk '/^healer_suppressed_total\\{rule=\"it_prune\",reason=\"duplicate\"\\}/ {print \$2}')\" -ge 2 ]" ||
  fail "resends were not taken as duplicates: $(metric 'healer_suppressed_total{rule="it_prune",reason="duplicate"}')"
check || fail "resends changed the remediations: $(cat "$TMP/rem.json")"
python3 - "$TMP/rem.json" <<'PY' || fail "parameters of A: $(cat "$TMP/rem.json")"
import json, sys
r = json.load(open(sys.argv[1]))["remediations"]
a = [x for x in r if x["action"]["params"].get("node") == "e2e-a"][0]
assert a["action"] == {"kind": "jenkins", "target": "infra/DockerPruneNode", "backend": "default",
                       "params": {"node": "e2e-a", "cluster": "eu-1", "value": "a&b=c d/é"}}, a
assert len(a["fingerprint"]) == 16 and a["startsAt"].endswith("Z"), a
b = [x for x in r if x["alertname"] == "HealerResolve"][0]
assert "resolved" in b["reason"], b
PY
[ "$(metric 'healer_remediations_total{rule="resolve_firing",outcome="cancelled"}')" = 1 ] || fail "cancel not counted"
[ "$(metric 'healer_http_requests_total{code="401"}')" = 0 ] || fail "Alertmanager was refused"
grep -q 'Notify success' "$TMP/am.log" || fail "Alertmanager never logged a successful notification"
grep -q 'Notify attempt failed\|Notify for alerts failed' "$TMP/am.log" &&
  fail "Alertmanager saw failures: $(grep 'Notify.*failed' "$TMP/am.log" | head -n 2)"
kill "${PIDS[0]}"
stop_healer
echo "PASS $TEST_NAME"
