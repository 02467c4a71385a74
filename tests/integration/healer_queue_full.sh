#!/usr/bin/env bash
# queue_full.sh - a full queue answers 503 with Retry-After (Alertmanager
# retries 5xx); what was accepted is not taken twice on the retry; once
# there is room the retry goes through.
. "$(dirname "$0")/lib.bash"
# Held remediations (start delay) keep the queue full while the test runs:
# the hold-off must outlast everything up to the retry while full (a few
# curl and python runs, seconds on a loaded CI machine).
start_healer --dry-run --queue-size 2 --workers 1 --start-delay 10s
A1=$(alert firing '{"alertname":"HealerTest","instance":"q1:1"}' q1)
A2=$(alert firing '{"alertname":"HealerTest","instance":"q2:1"}' q2)
A3=$(alert firing '{"alertname":"HealerTest","instance":"q3:1"}' q3)
post_json /api/v1/alertmanager "$(payload "$A1" "$A2" "$A3")"
expect_code 503 "third remediation over --queue-size 2"
grep -qi '^retry-after: 5' <<<"$HEADERS" || fail "503 without Retry-After"
expect_json "j['error'], j['queued'], j['unprocessed']" "queue full; retry later 2 1" "503 body"
[ "$(metric healer_queue_depth)" = 2 ] || fail "queue depth $(metric healer_queue_depth)"
req GET /readyz
expect_code 200 "still ready while full"
# Alertmanager's immediate retry: still full, nothing taken twice.
post_json /api/v1/alertmanager "$(payload "$A1" "$A2" "$A3")"
expect_code 503 "retry while full"
expect_json "j['duplicates'], j['queued']" "2 0" "retry while full"
# After the hold-off the worker drains the queue; the next retry fits.
wait_until 20 sh -c "[ \"\$(curl -s $BASE/metrics | awk '/^healer_queue_depth / {print \$2}')\" = 0 ]" ||
  fail "queue did not drain"
post_json /api/v1/alertmanager "$(payload "$A1" "$A2" "$A3")"
expect_code 202 "retry after draining"
expect_json "j['duplicates'], j['queued']" "2 1" "retry after draining"
[ "$(metric 'healer_http_requests_total{code="503"}')" = 2 ] || fail "503s not counted"
stop_healer
echo "PASS $TEST_NAME"
