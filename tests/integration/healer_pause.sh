#!/usr/bin/env bash
# healer_pause.sh - the two safety levers, end to end:
#   pause: POST /api/v1/pause (authenticated) holds new remediations as
#     skipped "paused" while a resend of one already remediated stays a
#     duplicate; /readyz and /metrics say so; it survives a restart;
#     POST /api/v1/resume lets the next resend through; --pause starts
#     paused.
#   breaker: rule it_breaker (stop after 2 failures in 1h) against a Jenkins
#     that lacks its job: the second failure opens the breaker, pages
#     PagerDuty once, holds a burst of further alerts as "breaker open",
#     survives a restart, and POST /api/v1/rules/it_breaker/reset closes it.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT

printf 's3cret-token\n' >"$TMP/bearer"
AUTH=(-H 'Authorization: Bearer s3cret-token')

# ---- pause, in dry-run -------------------------------------------------------
start_healer --dry-run --auth-bearer-file "$TMP/bearer"
A1=$(alert firing '{"alertname":"HealerTest","instance":"p:1"}' p1)
A2=$(alert firing '{"alertname":"HealerTest","instance":"p:2"}' p2)
post_json /api/v1/alertmanager "$(payload "$A1")" "${AUTH[@]}"
expect_json "j['queued']" 1 "before the pause"

req POST /api/v1/pause
expect_code 401 "pause without credentials"
req POST '/api/v1/pause?by=alice&reason=db%20maintenance' "${AUTH[@]}"
expect_code 200 "pause"
expect_json "j['paused'], j['by'], j['reason']" "True alice db maintenance" "pause answer"
req GET /api/v1/pause "${AUTH[@]}"
expect_json "j['paused']" True "pause state"
req GET /readyz
expect_code 200 "paused is still ready"
expect_json "j['paused'], j['paused_by']" "True alice" "readyz says paused"
[ "$(metric healer_paused)" = 1 ] || fail "healer_paused is not 1"

post_json /api/v1/alertmanager "$(payload "$A1" "$A2")" "${AUTH[@]}"
expect_code 202 "webhook while paused"
expect_json "j['duplicates'], j['queued'], j['suppressed']" "1 0 1" "paused: resend is a duplicate, new one held"
[ "$(metric 'healer_suppressed_total{rule="it_prune",reason="paused"}')" = 1 ] || fail "paused suppression not counted"
req GET /api/v1/remediations "${AUTH[@]}"
python3 - "$TMP/body" <<'PY' || fail "paused remediation not listed: $BODY"
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"] == "p2"]
assert len(r) == 1 and r[0]["state"] == "skipped" and r[0]["reason"] == "paused", r
PY
grep -q 'msg=paused by=alice reason="db maintenance"' "$TMP/healer.log" || fail "pause not logged"

# A restart keeps it paused.
stop_healer
start_healer --dry-run --auth-bearer-file "$TMP/bearer"
req GET /api/v1/pause "${AUTH[@]}"
expect_json "j['paused'], j['by']" "True alice" "paused after a restart"
post_json /api/v1/alertmanager "$(payload "$A2")" "${AUTH[@]}"
expect_json "j['suppressed'], j['queued']" "1 0" "still held after the restart"

req POST '/api/v1/resume?by=bob' "${AUTH[@]}"
expect_code 200 "resume"
expect_json "j['paused']" False "resumed"
[ "$(metric healer_paused)" = 0 ] || fail "healer_paused is not 0 after resume"
post_json /api/v1/alertmanager "$(payload "$A2")" "${AUTH[@]}"
expect_json "j['queued']" 1 "the resend after the resume is remediated"
req GET /api/v1/resume "${AUTH[@]}"
expect_code 405 "GET resume"
stop_healer

# --pause starts paused, on a fresh state directory.
rm -rf "$TMP/state"
start_healer --dry-run --pause
req GET /api/v1/pause
expect_json "j['paused'], j['by']" "True --pause" "--pause"
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['suppressed'], j['queued']" "1 0" "held under --pause"
stop_healer

# ---- breaker -------------------------------------------------------------------
rm -rf "$TMP/state"
printf 'jk-token\n' >"$TMP/jktoken"
fake_start jk jenkins --user bot --token jk-token
fake_start pd pagerduty
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=bot
export HEALER_JENKINS_TOKEN_FILE=$TMP/jktoken CI_TOKEN=unused
export HEALER_PAGERDUTY_ROUTING_KEY=0123456789abcdef0123456789abcdef
export HEALER_PAGERDUTY_URL=$(fake_url pd)
export HEALER_SLACK_WEBHOOK=$(fake_url pd)/unused
start_healer
b() { alert firing "{\"alertname\":\"HealerBreaker\",\"node\":\"n$1\"}" "b$1"; }
for i in 1 2; do
  post_json /api/v1/alertmanager "$(payload "$(b $i)")"
  expect_json "j['queued']" 1 "breaker alert $i"
  wait_until 30 grep -q "msg=remediation .*fingerprint=b$i .*state=failed" "$TMP/healer.log" ||
    fail "remediation b$i did not fail"
done
wait_until 30 grep -q 'msg=breaker_open remediation=[0-9]* rule=it_breaker' "$TMP/healer.log" || fail "breaker did not open"
wait_until 30 sh -c "curl -s '$(fake_url pd)/_fake/state' | grep -q 'healer/breaker/it_breaker/'" ||
  fail "no breaker page at PagerDuty"
[ "$(metric 'healer_rule_breaker_open{rule="it_breaker"}')" = 1 ] || fail "breaker gauge not 1"
# A burst while open: all held, no request reaches Jenkins.
before=$(fake_count jk 'method=POST')
post_json /api/v1/alertmanager "$(payload "$(b 3)" "$(b 4)" "$(b 5)" "$(b 6)")"
expect_json "j['suppressed'], j['queued']" "4 0" "burst held by the open breaker"
[ "$(metric 'healer_suppressed_total{rule="it_breaker",reason="breaker_open"}')" = 4 ] ||
  fail "breaker_open suppressions not counted"
req GET /api/v1/remediations
python3 - "$TMP/body" <<'PY' || fail "breaker skip not listed: $BODY"
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"] == "b3"]
assert r and r[0]["state"] == "skipped" and r[0]["reason"].startswith("breaker open (2 failures in 1h)"), r
PY
# The breaker and its page survive a restart: nothing pages again.
stop_healer
start_healer
post_json /api/v1/alertmanager "$(payload "$(b 7)")"
expect_json "j['suppressed']" 1 "still open after a restart"
req POST /api/v1/rules/nosuch/reset
expect_code 404 "reset of an unknown rule"
req GET /api/v1/rules/it_breaker/reset
expect_code 405 "GET reset"
req POST '/api/v1/rules/it_breaker/reset?by=carol'
expect_code 200 "reset"
expect_json "j['was'], j['breaker']" "open closed" "reset answer"
grep -q 'msg=breaker_reset rule=it_breaker by=carol' "$TMP/healer.log" || fail "reset not logged"
post_json /api/v1/alertmanager "$(payload "$(b 8)")"
expect_json "j['queued']" 1 "remediates again after the reset"
wait_until 30 grep -q "msg=remediation .*fingerprint=b8 .*state=failed" "$TMP/healer.log" ||
  fail "b8 did not run"
[ "$(fake_count jk 'method=POST')" -gt "$before" ] || fail "nothing reached Jenkins after the reset"
pages=$(fake_get_requests pd | fake_py 'len([r for r in d if (r["json"] or {}).get("dedup_key", "").startswith("healer/breaker/it_breaker/")])')
[ "$pages" = 1 ] || fail "breaker paged $pages times, want 1"
stop_healer
echo "PASS $TEST_NAME"
