#!/usr/bin/env bash
# journal_observe.sh - what an on-call engineer sees of the journal:
#   1. remediation ids are never handed out twice, even across a SIGKILL
#      and restart, including ids of remediations never journaled
#      (skipped: a missing label);
#   2. /metrics has the journal's figures (records, group commits, bytes,
#      compactions and their duration, what it holds, failed);
#   3. a journal that can no longer write (here: a real EFBIG from a file
#      size limit, `ulimit -f`, with SIGXFSZ ignored by healer) turns
#      /readyz to 503 naming the failure, and healer_journal_failed to 1;
#      a restart without the limit cuts the torn tail and is ready again.
. "$(dirname "$0")/lib.bash"
STATE=$TMP/state
J=$STATE/journal.log

kill_healer() {
  kill -9 "$HEALER_PID"
  wait "$HEALER_PID" 2>/dev/null
  HEALER_PID=
}

# rem_field FINGERPRINT FIELD: a field of the remediation of that alert.
rem_field() {
  req GET /api/v1/remediations
  python3 - "$TMP/body" "$1" "$2" <<'PY'
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"] == sys.argv[2]]
print(r[0][sys.argv[3]] if r else "none")
PY
}

# The value of a series, which must come with its HELP and TYPE lines.
jmetric() {
  curl -s --max-time 10 "$BASE/metrics" >"$TMP/metrics"
  grep -q "^# HELP $1 " "$TMP/metrics" || { echo "no HELP for $1"; return; }
  grep -q "^# TYPE $1 $2\$" "$TMP/metrics" || { echo "no TYPE $2 for $1"; return; }
  awk -v m="$1" '$1 == m { print $2 }' "$TMP/metrics"
}

# expect_metric NAME TYPE PYTHON_CONDITION_ON_v WHAT
expect_metric() {
  local v
  v=$(jmetric "$1" "$2")
  python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if ($3) else 1)" "$v" 2>/dev/null ||
    fail "$4: $1 is '$v', want $3"
}

# --- 1. Ids are not reused after a restart. -------------------------------------
# k1 is queued (journaled), then m1 skipped (missing label node: shown in
# the log and the API, never journaled): m1 has the highest id.
start_healer --dry-run --start-delay 60s
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' k1)")"
expect_code 202 "k1"
expect_json "j['queued']" 1 "k1 queued"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerMissing"}' m1)")"
expect_code 202 "m1"
expect_json "j['skipped']" 1 "m1 skipped"
id_k1=$(rem_field k1 id)
id_m1=$(rem_field m1 id)
[ "$id_m1" -gt "$id_k1" ] || fail "m1 ($id_m1) should have a higher id than k1 ($id_k1)"
grep -q "decision=skipped .*fingerprint=m1 .*remediation=$id_m1 " "$TMP/healer.log" || fail "m1's id not in the log"
# No clean shutdown: the reservation must already be on disk.
kill_healer
start_healer --dry-run --start-delay 60s
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n2:9100"}' k2)")"
expect_json "j['queued']" 1 "k2 queued"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerMissing"}' m2)")"
expect_json "j['skipped']" 1 "m2 skipped"
id_k2=$(rem_field k2 id)
id_m2=$(rem_field m2 id)
[ "$id_k2" -gt "$id_m1" ] || fail "id $id_k2 (k2) after the restart is not past $id_m1 (m1): reused"
[ "$id_m2" -gt "$id_k2" ] || fail "m2 ($id_m2) not after k2 ($id_k2)"
[ "$id_k2" -eq 1024 ] || fail "after a restart ids start at the next block of 1024, got $id_k2"
# In the whole log, one id is one remediation.
python3 - "$TMP/healer.log" <<'PY' || fail "an id names two remediations in the log"
import re, sys
seen = {}
for line in open(sys.argv[1]):
    if "msg=decision" not in line:
        continue
    m = re.search(r" remediation=(\d+) ", line)
    if not m:
        continue
    fp = re.search(r" fingerprint=(\S+)", line).group(1)
    if seen.setdefault(m.group(1), fp) != fp:
        print(f"id={m.group(1)}: {seen[m.group(1)]} and {fp}")
        sys.exit(1)
if not seen:
    print("no decision line names a remediation")
    sys.exit(1)
PY
stop_healer

# --- 2. The journal's figures in /metrics. ---------------------------------------
rm -rf "$STATE"
start_healer --dry-run --start-delay 60s --journal-compact-size 4096
expect_metric healer_journal_failed gauge "v == 0" "fresh journal"
expect_metric healer_journal_compactions_total counter "v == 0" "fresh journal"
expect_metric healer_journal_last_compaction_seconds gauge "v == 0" "no compaction yet"
expect_metric healer_journal_remediations_in_flight gauge "v == 0" "fresh journal"
post_json /api/v1/alertmanager "$(payload \
  "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' a1)" \
  "$(alert firing '{"alertname":"HealerTest","instance":"n2:9100"}' a2)" \
  "$(alert firing '{"alertname":"Cool","instance":"c"}' a3)")"
expect_json "j['queued']" 3 "three queued"
# Queued for a minute (--start-delay): held in flight by the journal.
expect_metric healer_journal_remediations_in_flight gauge "v == 3" "three in flight"
expect_metric healer_journal_dedupe_entries gauge "v == 3" "three dedupe keys"
expect_metric healer_journal_cooldown_entries gauge "v == 1" "one cooldown (Cool)"
# Appended: the id block reservation and three accepts, in group commits.
expect_metric healer_journal_records_appended_total counter "v >= 4" "records appended"
expect_metric healer_journal_syncs_total counter "v >= 1" "group commits"
expect_metric healer_journal_sync_waits_total counter "v >= 0" "sync waits"
expect_metric healer_journal_bytes gauge "v == $(stat -c %s "$J")" "bytes = the file's size"
expect_metric healer_ready gauge "v == 1" "ready"
# Past --journal-compact-size, the main loop compacts within a second or so.
for i in $(seq 1 8); do
  post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"x$i:9100\"}" "b$i")")"
  expect_code 202 "b$i"
done
compacted() { [ "$(metric healer_journal_compactions_total)" -ge 1 ]; }
wait_until 10 compacted || fail "no compaction past --journal-compact-size 4096: $(grep journal "$TMP/metrics")"
expect_metric healer_journal_last_compaction_seconds gauge "v > 0" "compaction duration"
expect_metric healer_journal_last_compaction_pause_seconds gauge "0 < v <= $(jmetric healer_journal_last_compaction_seconds gauge)" "compaction pause"
expect_metric healer_journal_snapshot_bytes gauge "v > 0" "snapshot size"
expect_metric healer_journal_remediations_in_flight gauge "v == 11" "in flight after compaction"
settled() { [ "$(metric healer_journal_bytes)" = "$(stat -c %s "$J")" ]; }
wait_until 5 settled || fail "healer_journal_bytes $(metric healer_journal_bytes) != file size $(stat -c %s "$J")"
stop_healer

# --- 3. A journal that cannot write: unready, and says why. ----------------------
# healer under a 16 KiB file size limit: the first journal write that
# passes it fails with EFBIG (SIGXFSZ ignored). Its stderr goes through a
# pipe, so the log itself is not limited.
rm -rf "$STATE"
rm -f "$TMP/port"
( ulimit -f 16; exec "$HEALER_FIXTURE" --listen 127.0.0.1:0 --port-file "$TMP/port" \
    --state-dir "$STATE" --dry-run --start-delay 60s ) \
  >>"$TMP/healer.out" 2> >(exec cat >>"$TMP/healer.log") &
HEALER_PID=$!
wait_until 30 test -s "$TMP/port" || fail "limited healer did not start within 30s"
PORT=$(cat "$TMP/port")
BASE="http://127.0.0.1:$PORT"
req GET /readyz
expect_code 200 "/readyz before the failure"
expect_json "j['status']" ready "/readyz before the failure"
# 60 alerts of about 600 bytes each: one batch well past 16 KiB.
alerts=()
for i in $(seq 1 60); do
  alerts+=("$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"big$i:9100\"}" "big$i")")
done
post_json /api/v1/alertmanager "$(payload "${alerts[@]}")"
expect_code 503 "a webhook the journal could not make durable"
grep -q '"error":"the journal cannot record' "$TMP/body" || fail "503 body: $BODY"
logged() { grep -q 'level=warn msg=journal_failed unprocessed=' "$TMP/healer.log"; }
wait_until 10 logged || fail "the refused webhook was not logged as journal_failed"
kill -0 "$HEALER_PID" 2>/dev/null || fail "healer died (SIGXFSZ not ignored?)"
req GET /readyz
expect_code 503 "/readyz after the journal failed"
expect_json "j['status']" journal_failed "/readyz status"
expect_json "j['reason']" "journal $STATE/journal.log: write failed: File too large" "/readyz reason"
req GET /healthz
expect_code 200 "/healthz still answers"
expect_metric healer_journal_failed gauge "v == 1" "after the failure"
expect_metric healer_ready gauge "v == 0" "after the failure"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"late:9100"}' late)")"
expect_code 503 "webhooks after the failure"
wait_until 5 grep -q 'journal.log: write failed: File too large; remediations can no longer be recorded' \
  "$TMP/healer.log" || fail "the failure is not logged"
stop_healer

# Restarted without the limit: the torn tail is cut, it is ready again,
# and no id is reused.
start_healer --dry-run --start-delay 60s
grep -q 'torn record at offset' "$TMP/healer.log" || fail "no torn tail cut after EFBIG"
req GET /readyz
expect_code 200 "/readyz after a restart"
expect_metric healer_journal_failed gauge "v == 0" "after a restart"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"after:9100"}' after)")"
expect_code 202 "a webhook after the restart"
[ "$(rem_field after id)" -ge 1024 ] || fail "id after the restart not in a new block: $BODY"
stop_healer
echo "PASS $TEST_NAME"
