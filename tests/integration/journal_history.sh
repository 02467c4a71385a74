#!/usr/bin/env bash
# journal_history.sh - what healer did survives a restart: after SIGTERM and
# after SIGKILL, /api/v1/remediations lists the same finished remediations
# (failed, dry_run, skipped by a cooldown or a missing label, cancelled by a
# resolve) with the same ids, states, reasons, times, rule, alert, action
# and parameters, newest first, as before; none of them runs again; a
# smaller --history keeps the newest.
. "$(dirname "$0")/lib.bash"
STATE=$TMP/state
J=$STATE/journal.log
# Not a dry run: Jenkins steps go to a fake Jenkins that rejects healer's
# credentials, so they fail at once (401 is permanent; a refused connection
# would be retried until the rule's timeout).
. "$(dirname "$0")/../fakes/lib.sh"
trap 'fake_cleanup; cleanup' EXIT
fake_start jk jenkins --user healer --token other || fail "fake Jenkins did not start"
export HEALER_JENKINS_URL=$(fake_url jk) HEALER_JENKINS_USER=healer HEALER_JENKINS_TOKEN=t
export CI_TOKEN=unused        # the fixture's declared "ci" backend

kill_healer() {
  kill -9 "$HEALER_PID"
  wait "$HEALER_PID" 2>/dev/null
  HEALER_PID=
}

# snapshot FILE: the remediations listed now.
snapshot() {
  req GET "/api/v1/remediations?limit=1000"
  expect_code 200 "GET /api/v1/remediations"
  cp "$TMP/body" "$1"
}

# settled: nothing queued or running.
settled() {
  req GET "/api/v1/remediations?limit=1000"
  python3 - "$TMP/body" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["remediations"]
sys.exit(0 if r and all(x["state"] not in ("queued", "running") for x in r) else 1)
PY
}

# on_disk LIST: every finished remediation of LIST has its final record in
# the journal file (dry runs and skipped ones are not synced at once: the
# main loop flushes them within a second).
on_disk() {
  python3 - "$1" "$J" <<'PY'
import json, sys
rems = json.load(open(sys.argv[1]))["remediations"]
data = open(sys.argv[2], encoding="utf-8", errors="replace").read()
for x in rems:
    fin = '{"t":"fin","id":%d,' % x["id"]
    st = '{"t":"st","id":%d,"state":"%s"' % (x["id"], x["state"])
    if fin not in data and st not in data:
        sys.exit(1)
PY
}

# same BEFORE AFTER WHAT [N]: AFTER lists what BEFORE did (its first N, if
# given): every field of every remediation, in the same order.
same() {
  python3 - "$1" "$2" "${4:-0}" <<'PY' || fail "$3: the list changed (see above)"
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
ra = a["remediations"][:n] if n else a["remediations"]
rb = b["remediations"]
if [x["id"] for x in ra] != [x["id"] for x in rb]:
    print("ids before:", [x["id"] for x in ra])
    print("ids after: ", [x["id"] for x in rb])
    sys.exit(1)
for x, y in zip(ra, rb):
    if x != y:
        print("before:", json.dumps(x, sort_keys=True))
        print("after: ", json.dumps(y, sort_keys=True))
        sys.exit(1)
if b["count"] != len(rb):
    print("count", b["count"], "for", len(rb))
    sys.exit(1)
PY
}

# states FILE: "id:state" of each, newest first.
states() {
  python3 -c 'import json,sys; print(" ".join("%d:%s" % (x["id"], x["state"]) for x in json.load(open(sys.argv[1]))["remediations"]))' "$1"
}

# ran_again SINCE_LINE: did anything run after that line of the log?
ran_again() {
  tail -n +"$(($1 + 1))" "$TMP/healer.log" | grep -E 'msg=(dry_run|remediation|requeued|resuming|decision) '
}

# --- 1. A mix of outcomes, then SIGTERM. -------------------------------------------
# --start-delay holds r1 queued until its resolve (same payload) cancels it.
start_healer --start-delay 1s
post_json /api/v1/alertmanager "$(payload \
  "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100","cluster":"eu-1"}' h1)" \
  "$(alert firing '{"alertname":"Dry"}' d1)" \
  "$(alert firing '{"alertname":"Cool","instance":"a"}' c1)" \
  "$(alert firing '{"alertname":"Cool","instance":"a"}' c2)" \
  "$(alert firing '{"alertname":"HealerMissing"}' m1)" \
  "$(alert firing '{"alertname":"HealerResolve","instance":"r"}' r1)" \
  "$(alert resolved '{"alertname":"HealerResolve","instance":"r"}' r1)")"
expect_code 202 "first webhook"
expect_json "j['queued'], j['suppressed'], j['skipped'], j['cancelled']" "4 1 1 1" "decisions"
wait_until 30 settled || fail "remediations did not finish: $BODY"
snapshot "$TMP/before1"
# Every kind of end is there.
python3 - "$TMP/before1" <<'PY' || fail "outcomes before the restart: $(cat "$TMP/before1")"
import json, sys
r = {x["fingerprint"]: x for x in json.load(open(sys.argv[1]))["remediations"]}
assert r["h1"]["state"] == "failed" and "401" in r["h1"]["reason"], r["h1"]
assert r["h1"]["action"]["params"] == {"node": "n1", "cluster": "eu-1", "value": "none"}, r["h1"]
assert r["d1"]["state"] == "dry_run", r["d1"]
assert r["c1"]["state"] == "failed", r["c1"]
assert r["c2"]["state"] == "skipped" and r["c2"]["reason"].startswith("cooldown: "), r["c2"]
assert r["m1"]["state"] == "skipped" and r["m1"]["reason"] == "missing label node", r["m1"]
assert r["r1"]["state"] == "cancelled", r["r1"]
PY
wait_until 10 on_disk "$TMP/before1" || fail "final records not in the journal: $(cat "$J")"
stop_healer
mark=$(wc -l <"$TMP/healer.log")
start_healer --start-delay 1s
grep -q 'msg=journal .*history=6' "$TMP/healer.log" || fail "start-up line does not say history=6"
snapshot "$TMP/after1"
same "$TMP/before1" "$TMP/after1" "after SIGTERM and a restart"
sleep 1.5                     # past --start-delay: anything queued would run now
if ran_again "$mark"; then fail "something ran (or was decided) again after the restart"; fi
snapshot "$TMP/after1b"
same "$TMP/before1" "$TMP/after1b" "a moment after the restart"
# The dedupe key of h1 holds as before (a resend is a duplicate), and the
# cooldown of instance a too (c1 started it).
post_json /api/v1/alertmanager "$(payload \
  "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100","cluster":"eu-1"}' h1)" \
  "$(alert firing '{"alertname":"Cool","instance":"a"}' c3)")"
expect_json "j['duplicates'], j['suppressed'], j['queued']" "1 1 0" "resends after the restart"

# --- 2. More, with compactions (snapshots write the history), then SIGKILL. ------
stop_healer
start_healer --start-delay 1s --journal-compact-size 4096
for i in 1 2 3 4 5 6; do
  post_json /api/v1/alertmanager "$(payload \
    "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"k$i:9100\"}" "k$i")" \
    "$(alert firing '{"alertname":"HealerMissing"}' "mk$i")")"
  expect_code 202 "webhook k$i"
done
wait_until 30 settled || fail "the second batch did not finish: $BODY"
compacted() { [ "$(metric healer_journal_compactions_total)" -ge 1 ]; }
wait_until 10 compacted || fail "no compaction past --journal-compact-size 4096"
snapshot "$TMP/before2"
wait_until 10 on_disk "$TMP/before2" || fail "final records not in the journal"
kill_healer
mark=$(wc -l <"$TMP/healer.log")
start_healer --start-delay 1s --journal-compact-size 4096
snapshot "$TMP/after2"
same "$TMP/before2" "$TMP/after2" "after SIGKILL and a restart"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["remediations"]))' "$TMP/after2")" -ge 19 ] ||
  fail "fewer remediations than posted: $(states "$TMP/after2")"
sleep 1.5
if ran_again "$mark"; then fail "something ran again after SIGKILL and the restart"; fi
stop_healer

# --- 3. A smaller --history keeps the newest. ------------------------------------
start_healer --history 3
snapshot "$TMP/after3"
same "$TMP/before2" "$TMP/after3" "with --history 3" 3
stop_healer
echo "PASS $TEST_NAME"
