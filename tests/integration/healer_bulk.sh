#!/usr/bin/env bash
# bulk.sh - 1,000 alerts in one payload: every one evaluated on its own
# labels, resends deduplicated, counters and the API agree.
. "$(dirname "$0")/lib.bash"
start_healer --dry-run --queue-size 2000 --history 5000

python3 - >"$TMP/bulk.json" <<'PY'
import json
alerts = []
for i in range(1000):
    alerts.append({"status": "firing",
                   "labels": {"alertname": "HealerTest" if i % 2 == 0 else "Nobody",
                              "instance": "node%d:9100" % i, "cluster": "c%d" % (i % 7)},
                   "annotations": {"summary": "alert %d" % i},
                   "startsAt": "2026-11-27T12:10:15.696335593Z", "endsAt": "0001-01-01T00:00:00Z",
                   "generatorURL": "http://prom/graph?g0.expr=up", "fingerprint": "%016x" % i})
print(json.dumps({"version": "4", "status": "firing", "alerts": alerts,
                  "commonLabels": {"alertname": "HealerTest", "instance": "COMMON"}}))
PY
req POST /api/v1/alertmanager -H 'Content-Type: application/json' --data-binary @"$TMP/bulk.json"
expect_code 202 "1,000 alerts"
expect_json "j['alerts'], j['queued'], j['unmatched']" "1000 500 500" "evaluated per alert"
req POST /api/v1/alertmanager -H 'Content-Type: application/json' --data-binary @"$TMP/bulk.json"
expect_code 202 "the same 1,000 again"
expect_json "j['queued'], j['duplicates']" "0 500" "resend deduplicated"
wait_until 30 sh -c "[ \"\$(curl -s $BASE/metrics | awk '/^healer_remediations_total.*it_prune.*dry_run/ {print \$2}')\" = 500 ]" ||
  fail "500 dry_run outcomes not counted: $(metric 'healer_remediations_total{rule="it_prune",outcome="dry_run"}')"
req GET '/api/v1/remediations?limit=1000'
python3 - "$TMP/body" <<'PY' || fail "remediations do not match the alerts"
import json, sys
r = json.load(open(sys.argv[1]))["remediations"]
assert len(r) == 500, len(r)
nodes = sorted(int(x["action"]["params"]["node"][4:]) for x in r)
assert nodes == list(range(0, 1000, 2)), nodes[:5]
assert all(x["state"] == "dry_run" for x in r)
# Own labels, never commonLabels.
assert all(x["action"]["params"]["node"] != "COMMON" for x in r)
ids = [x["id"] for x in r]
assert ids == sorted(ids, reverse=True), "not newest first"
PY
[ "$(metric 'healer_alerts_received_total{status="firing"}')" = 2000 ] || fail "alerts_received"
[ "$(metric 'healer_alerts_unmatched_total')" = 1000 ] || fail "unmatched"
[ "$(metric 'healer_suppressed_total{rule="it_prune",reason="duplicate"}')" = 500 ] || fail "duplicates"
stop_healer
echo "PASS $TEST_NAME"
