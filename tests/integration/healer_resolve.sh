#!/usr/bin/env bash
# resolve.sh - a resolved alert cancels its queued remediation that has not
# started (held by --start-delay), leaves started ones alone, and resends
# of either do not remediate again.
. "$(dirname "$0")/lib.bash"
# The hold-off must outlast everything up to the states check below (a few
# curl and python runs, seconds on a loaded CI machine): r1 must still be
# queued when its resolve arrives, r2 still queued when checked.
start_healer --dry-run --start-delay 10s
FIRE=$(alert firing '{"alertname":"HealerResolve","instance":"r:1"}' r1)
RESOLVE=$(alert resolved '{"alertname":"HealerResolve","instance":"r:1"}' r1)
OTHER=$(alert firing '{"alertname":"HealerResolve","instance":"r:2"}' r2)
post_json /api/v1/alertmanager "$(payload "$FIRE" "$OTHER")"
expect_code 202 "fire"
expect_json "j['queued']" 2 "two queued"
post_json /api/v1/alertmanager "$(payload "$RESOLVE")"
expect_code 202 "resolve"
expect_json "j['cancelled']" 1 "resolve cancels the queued one"
req GET /api/v1/remediations
python3 - "$TMP/body" <<'PY' || fail "states after resolve: $BODY"
import json, sys
r = {x["fingerprint"]: x for x in json.load(open(sys.argv[1]))["remediations"]}
assert r["r1"]["state"] == "cancelled", r["r1"]
assert "resolved" in r["r1"]["reason"], r["r1"]
assert r["r2"]["state"] == "queued", r["r2"]
PY
# The other one runs after the hold-off; resolving it then cancels nothing.
wait_until 20 grep -q 'msg=dry_run.*fingerprint=r2' "$TMP/healer.log" || fail "r2 never ran"
post_json /api/v1/alertmanager "$(payload "$(alert resolved '{"alertname":"HealerResolve","instance":"r:2"}' r2)")"
expect_json "j['cancelled']" 0 "started remediations are not cancelled"
post_json /api/v1/alertmanager "$(payload "$FIRE")"
expect_json "j['duplicates'], j['queued']" "1 0" "firing resend after resolve"
grep -q 'decision=cancelled .*fingerprint=r1' "$TMP/healer.log" || fail "no cancelled decision logged"
[ "$(metric 'healer_remediations_total{rule="resolve_firing",outcome="cancelled"}')" = 1 ] || fail "cancelled not counted"
[ "$(metric 'healer_suppressed_total{rule="resolve_firing",reason="resolved"}')" = 1 ] || fail "resolved suppression not counted"
stop_healer
echo "PASS $TEST_NAME"
