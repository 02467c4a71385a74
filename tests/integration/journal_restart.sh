#!/usr/bin/env bash
# journal_restart.sh - the journal (--state-dir) through healer itself:
# accepted remediations survive SIGKILL and run after the restart, resends
# stay duplicates and cooldowns hold across restarts, a torn last line is
# cut with a warning, a corrupt journal stops start-up unless
# --journal-recover, and two healers cannot share a state directory.
. "$(dirname "$0")/lib.bash"
if ! "$HEALER_FIXTURE" --help 2>/dev/null | grep -q -- '--state-dir'; then
  echo "SKIP $TEST_NAME: this healer has no --state-dir yet (journal hooks not applied)"
  exit 0
fi
STATE=$TMP/state
J=$STATE/journal.log

# remediation FINGERPRINT FIELD: a field of the remediation of that alert.
rem_field() {
  req GET /api/v1/remediations
  python3 - "$TMP/body" "$1" "$2" <<'PY'
import json, sys
r = [x for x in json.load(open(sys.argv[1]))["remediations"] if x["fingerprint"] == sys.argv[2]]
print(r[0][sys.argv[3]] if r else "none")
PY
}

kill_healer() {
  kill -9 "$HEALER_PID"
  wait "$HEALER_PID" 2>/dev/null
  HEALER_PID=
}

# --- 1. Accepted, then SIGKILL before it ran: it is still there after.
start_healer --state-dir "$STATE" --dry-run --start-delay 60s
A1=$(alert firing '{"alertname":"HealerTest","instance":"n1:9100"}' k1)
C1=$(alert firing '{"alertname":"Cool","instance":"a"}' c1)
post_json /api/v1/alertmanager "$(payload "$A1" "$C1")"
expect_code 202 "first webhook"
expect_json "j['queued']" 2 "two accepted"
id1=$(rem_field k1 id)
id2=$(rem_field c1 id)
kill_healer
[ -s "$J" ] || fail "no journal at $J"

lines=$(wc -l <"$TMP/healer.log")   # the first start logged a journal line too
start_healer --state-dir "$STATE" --dry-run --start-delay 60s
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'records=' || fail "no journal line at start-up"
[ "$(rem_field k1 id)" = "$id1" ] || fail "k1 not restored with id $id1: $BODY"
[ "$(rem_field k1 state)" = queued ] || fail "k1 not queued after restart: $BODY"
[ "$(rem_field c1 id)" = "$id2" ] || fail "c1 not restored with id $id2: $BODY"
# A resend is still a duplicate; the cooldown of instance=a still holds.
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['duplicates'], j['queued']" "1 0" "resend after the restart"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"Cool","instance":"a"}' c2)")"
expect_json "j['suppressed'], j['queued']" "1 0" "cooldown across the restart"
# New ids continue after the journaled ones.
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n2:9100"}' k2)")"
expect_json "j['queued']" 1 "a new alert"
[ "$(rem_field k2 id)" -gt "$id2" ] || fail "id reused after restart: $BODY"
# A clean stop drains the queue: they run (dry_run) and are journaled final.
stop_healer
grep -q 'msg=dry_run.*fingerprint=k1' "$TMP/healer.log" || fail "k1 never ran"

# --- 2. After a clean stop: nothing runs twice, the dedupe keys hold.
start_healer --state-dir "$STATE" --dry-run
# It is listed again (the history survives a restart), as it ended.
[ "$(rem_field k1 state)" = dry_run ] || fail "k1 not listed as it ended, or in flight again: $BODY"
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['duplicates'], j['queued']" "1 0" "resend after it ran and healer restarted"
stop_healer

# --- 3. A torn last line (a crash mid-write): cut with a warning.
size=$(stat -c %s "$J")
printf '0badf00d {"t":"acc","id":77,"rule":1' >>"$J"
start_healer --state-dir "$STATE" --dry-run
grep -q 'torn record at offset' "$TMP/healer.log" || fail "no torn-record warning"
[ "$(stat -c %s "$J")" -ge "$size" ] || fail "journal lost more than the torn line"
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['duplicates']" 1 "state intact after the torn line"
stop_healer

# --- 4. Corruption in the middle stops start-up; --journal-recover skips it.
# The first record after the header that is not a group commit's marker
# gets a flipped bit; its number (a line number) is printed.
recno=$(python3 - "$J" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
lines = data.split(b"\n")
k = next(i for i in range(1, len(lines)) if b'{"t":"grp"' not in lines[i])
off = sum(len(l) + 1 for l in lines[:k])
data[off + 30] ^= 0x01
open(p, "wb").write(bytes(data))
print(k + 1)
PY
)
"$HEALER_FIXTURE" --listen 127.0.0.1:0 --state-dir "$STATE" --dry-run >"$TMP/corrupt.out" 2>"$TMP/corrupt.err"
rc=$?
[ "$rc" -eq 1 ] || fail "a corrupt journal: exit status $rc, want 1"
grep -q "journal $STATE/journal.log is corrupt: record $recno at offset" "$TMP/corrupt.err" ||
  fail "message does not name file, record and offset: $(cat "$TMP/corrupt.err")"
grep -q -- '--journal-recover' "$TMP/corrupt.err" || fail "message does not mention --journal-recover"
start_healer --state-dir "$STATE" --dry-run --journal-recover
grep -q 'damaged records skipped' "$TMP/healer.log" || fail "recover did not say what was lost"
stop_healer
ls "$STATE"/journal.log.damaged-* >/dev/null 2>&1 || fail "--journal-recover kept no damaged copy"
rm -f "$STATE"/journal.log.damaged-*
start_healer --state-dir "$STATE" --dry-run   # rewritten clean
stop_healer

# --- 4b. Damage at the end that a crash cannot leave (the last record
# complete, its checksum wrong) stops start-up too: it may be an
# acknowledged remediation. --journal-recover cuts it and keeps the file.
python3 - "$J" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
last = data.rindex(b"\n", 0, len(data) - 1) + 1
data[last + 20] ^= 0x01
open(p, "wb").write(bytes(data))
PY
cp "$J" "$TMP/damaged.log"
"$HEALER_FIXTURE" --listen 127.0.0.1:0 --state-dir "$STATE" --dry-run >/dev/null 2>"$TMP/tail.err"
rc=$?
[ "$rc" -eq 1 ] || fail "a journal damaged at its end: exit status $rc, want 1"
grep -q "journal $STATE/journal.log is damaged at its end" "$TMP/tail.err" ||
  fail "no clear message for a damaged end: $(cat "$TMP/tail.err")"
cmp -s "$J" "$TMP/damaged.log" || fail "a refused start changed the journal"
start_healer --state-dir "$STATE" --dry-run --journal-recover
grep -q 'the damaged one kept as' "$TMP/healer.log" || fail "recover did not name the kept copy"
stop_healer
copy=$(ls "$STATE"/journal.log.damaged-* 2>/dev/null | head -n 1)
[ -n "$copy" ] && cmp -s "$copy" "$TMP/damaged.log" || fail "the damaged copy is not the file as found"

# --- 5. One healer per state directory.
start_healer --state-dir "$STATE" --dry-run
"$HEALER_FIXTURE" --listen 127.0.0.1:0 --state-dir "$STATE" --dry-run >/dev/null 2>"$TMP/second.err"
rc=$?
[ "$rc" -eq 1 ] || fail "second healer on the same state dir: exit status $rc, want 1"
grep -q 'in use by another healer' "$TMP/second.err" || fail "no clear message: $(cat "$TMP/second.err")"
stop_healer
echo "PASS $TEST_NAME"
