#!/usr/bin/env bash
# healer_promtool.sh - a live /metrics scrape passes `promtool check metrics`
# (Prometheus' own linter: names, units, types, histogram layout) after
# healer has done each thing a histogram times: webhooks answered 202 and
# 400, journal commits, a Jenkins remediation (the fake's) and its upstream
# requests; the histograms and the process_* metrics hold what happened.
# promtool comes with Debian's prometheus package (scripts/deps.sh test).
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
trap 'fake_cleanup; cleanup' EXIT
PROMTOOL=${PROMTOOL:-promtool}
command -v "$PROMTOOL" >/dev/null || fail "no promtool (scripts/deps.sh test installs prometheus)"

printf 'tok\n' >"$TMP/token"
fake_start jk jenkins --user bot --token tok --script '{"jobs":{"infra/DockerPruneNode":{
  "parameters":{"node":"","cluster":"","value":"","HEALER_REMEDIATION_ID":""},
  "build_seconds":0.2}}}' || fail "fake Jenkins did not start"
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=bot
export HEALER_JENKINS_TOKEN_FILE=$TMP/token CI_TOKEN=unused
start_healer

post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' prom0000000001)")"
expect_code 202 "alert"
req POST /api/v1/alertmanager -H 'Content-Type: application/json' --data-binary '{"alerts": 3}'
expect_code 400 "bad payload"
wait_until 20 sh -c "curl -s --max-time 5 $BASE/metrics | grep -q '^healer_remediations_total{rule=\"it_prune\",outcome=\"succeeded\"} 1'" ||
  fail "the remediation did not succeed: $(curl -s "$BASE/api/v1/remediations")"

req GET /metrics
expect_code 200 "metrics"
cp "$TMP/body" "$TMP/metrics.txt"
"$PROMTOOL" check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 ||
  fail "promtool check metrics: $(cat "$TMP/promtool.out")"
[ -s "$TMP/promtool.out" ] && fail "promtool has remarks: $(cat "$TMP/promtool.out")"

python3 - "$TMP/metrics.txt" <<'PY' || fail "histograms: $(grep -E '_(count|sum)' "$TMP/metrics.txt")"
import re, sys
types, samples = {}, {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    m = re.match(r"# TYPE (\S+) (\S+)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    if line and not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        samples[k] = float(v)
for h in ["healer_webhook_duration_seconds", "healer_journal_commit_duration_seconds",
          "healer_remediation_duration_seconds", "healer_upstream_request_duration_seconds"]:
    assert types.get(h) == "histogram", (h, types.get(h))
def count(name, labels=""):
    return samples.get(f"{name}_count{{{labels}}}" if labels else f"{name}_count", 0)
assert count("healer_webhook_duration_seconds", 'code="202"') == 1, "webhook 202"
assert count("healer_webhook_duration_seconds", 'code="400"') == 1, "webhook 400"
assert count("healer_journal_commit_duration_seconds") >= 1, "journal commits"
rem = 'rule="it_prune",kind="jenkins",outcome="succeeded"'
assert count("healer_remediation_duration_seconds", rem) == 1, "remediation"
# The build takes 0.2 s at the fake: the remediation took at least that.
assert samples[f"healer_remediation_duration_seconds_sum{{{rem}}}"] >= 0.2, "remediation sum"
assert samples[f'healer_remediation_duration_seconds_bucket{{{rem},le="0.1"}}'] == 0, "le 0.1"
# Trigger, queue item, build: at least three requests to the default Jenkins;
# none to the declared backend "ci" (no alert went its way).
assert count("healer_upstream_request_duration_seconds", 'backend="default",kind="jenkins"') >= 3, "upstream"
assert count("healer_upstream_request_duration_seconds", 'backend="ci",kind="jenkins"') == 0, "ci"
# Buckets are cumulative and end at _count.
for k, v in samples.items():
    m = re.match(r'(\w+)_bucket\{(.*?),?le="\+Inf"\}$', k)
    if m:
        lab = m.group(2)
        assert v == samples[f"{m.group(1)}_count{{{lab}}}" if lab else f"{m.group(1)}_count"], k
for p in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
          "process_open_fds", "process_max_fds", "process_start_time_seconds"]:
    assert p in samples, p
assert types["process_cpu_seconds_total"] == "counter"
assert samples["process_open_fds"] >= 3 and samples["process_max_fds"] >= samples["process_open_fds"]
assert samples["process_resident_memory_bytes"] > 1 << 20
PY
# The process is healer's: its start time is within a minute of now.
st=$(awk '$1 == "process_start_time_seconds" {print $2}' "$TMP/metrics.txt")
python3 -c "import sys,time; sys.exit(0 if abs(time.time() - $st) < 60 else 1)" ||
  fail "process_start_time_seconds $st is not now"
stop_healer
echo "PASS $TEST_NAME"
