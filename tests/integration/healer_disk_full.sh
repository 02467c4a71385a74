#!/usr/bin/env bash
# healer_disk_full.sh - a full disk that frees up heals by itself, on a real
# 4 MiB tmpfs holding --state-dir (docs/runtime.md, "Faults" and "Journal"):
#   1. healer starts on the tmpfs and is ready;
#   2. the tmpfs is filled to the last byte: a webhook gets 503 with a JSON
#      error, /readyz 503 journal_failed naming the write that failed,
#      /healthz stays 200;
#   3. a remediation accepted (202) just before the disk filled, whose
#      start-delay ends while it is full, is listed `queued` with the reason
#      "waiting: the journal cannot record its start yet" - not `failed` -
#      and nothing is triggered; so is the one the 503'd webhook took;
#   4. the filler is deleted: within 10 s /readyz is 200 again, a new webhook
#      gets 202, and each waiting remediation runs exactly once (one trigger
#      at the fake Jenkins, one outcome line); resends are duplicates;
#   5. a restart on a still-full disk with a torn last record: healer starts
#      (no exit 1), cuts the torn tail (ftruncate: no free space needed),
#      answers 503 while the disk stays full, and once it is freed is ready
#      and takes a webhook (202); nothing that ran before runs again;
#   6. a remediation that finishes while the disk is full is not run again
#      by the next start (its end is written once the journal heals).
# The waiting state needs a remediation that is not a dry run (a dry run
# records no start), hence the fake Jenkins and the fixture's it_prune.
# Needs root (mount); without it the test says SKIP and passes.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh

DISK=$TMP/disk            # the tmpfs mount point
STATE=$DISK/state         # --state-dir, on the tmpfs
J=$STATE/journal.log
FILLER=$DISK/filler
MOUNTED=

# lib.bash's and lib.sh's EXIT traps, chained: healer and the fakes are
# stopped before the tmpfs is unmounted, which must precede rm -rf "$TMP".
disk_cleanup() {
  if [ -n "$HEALER_PID" ]; then
    { kill -9 "$HEALER_PID" && wait "$HEALER_PID"; } 2>/dev/null
    HEALER_PID=
  fi
  fake_cleanup
  if [ -n "$MOUNTED" ]; then
    [ -n "${KEEP_LOGS:-}" ] && cp "$J" "$TMP/journal.log.kept" 2>/dev/null
    umount "$DISK" 2>/dev/null || umount -l "$DISK" 2>/dev/null
  fi
  cleanup
}
trap disk_cleanup EXIT

if [ "$(id -u)" != 0 ]; then
  echo "SKIP $TEST_NAME: not root, cannot mount a tmpfs"
  exit 0
fi
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=4m healer-disk-full "$DISK" 2>"$TMP/mount.err"; then
  echo "SKIP $TEST_NAME: cannot mount a tmpfs: $(head -n 1 "$TMP/mount.err" | head -c 200)"
  exit 0
fi
MOUNTED=1

# fill: writes zeros to $FILLER until ENOSPC; the tmpfs then has no free block.
fill() {
  dd if=/dev/zero of="$FILLER" bs=64k 2>"$TMP/dd.err" && fail "dd filled 4 MiB without ENOSPC"
  grep -q 'No space left on device' "$TMP/dd.err" || fail "dd: $(cat "$TMP/dd.err")"
  local avail
  avail=$(df -k --output=avail "$DISK" | tail -n 1 | tr -d ' ')
  [ "$avail" = 0 ] || fail "the tmpfs still has $avail KiB free after the filler"
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
# waiting FINGERPRINT: listed queued, waiting for the journal.
waiting() {
  [ "$(rem_field "$1" state)" = queued ] &&
    rem_field "$1" reason | grep -q '^waiting: the journal cannot record its start yet'
}
succeeded() { [ "$(rem_field "$1" state)" = succeeded ]; }
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/readyz")" = 200 ]; }

TRIGGER='method=POST&path=/job/infra/job/DockerPruneNode/buildWithParameters'
# triggers NODE: how many builds the fake Jenkins was asked for, for that node
# (a parameter in the query or the form body).
triggers() {
  fake_get_requests jk "$TRIGGER" |
    fake_py "len([r for r in d if ['$1'] in (r['params'].get('node'), (r.get('form') or {}).get('node'))])"
}
# outcomes FINGERPRINT: how many outcome lines healer logged for it.
outcomes() { grep -c "msg=remediation .*fingerprint=$1 .*state=succeeded" "$TMP/healer.log"; }

printf 'e2e-token\n' >"$TMP/token"
fake_start jk jenkins --user bot --token e2e-token --script '{"jobs":{"infra/DockerPruneNode":{
  "parameters":{"node":"","cluster":"","value":"","HEALER_REMEDIATION_ID":""},
  "build_seconds":0.2}}}' || fail "fake Jenkins did not start"
HEALER_JENKINS_URL=$(fake_url jk)
export HEALER_JENKINS_URL HEALER_JENKINS_USER=bot
export HEALER_JENKINS_TOKEN_FILE=$TMP/token CI_TOKEN=unused

# The start delay holds remediations in the queue long enough for the disk
# to be filled (milliseconds) before they start.
DELAY=5
HARGS=(--state-dir "$STATE" --start-delay "${DELAY}s")

# --- 1. Started on the tmpfs. ----------------------------------------------------
start_healer "${HARGS[@]}"
req GET /readyz
expect_code 200 "/readyz on a fresh tmpfs"
[ -s "$J" ] || fail "no journal at $J"

# --- 2. The disk fills up: 503, unready, still alive. ----------------------------
t0=$(date +%s%N)
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"w1:9100"}' w1)")"
expect_code 202 "w1, before the disk is full"
expect_json "j['queued']" 1 "w1 queued"
fill
# A record larger than any page's slack (a 6,000-byte label, also a
# parameter): its write needs a new block, so it cannot fit however the
# journal's last page is filled.
big=$(printf 'x%.0s' $(seq 1 6000))
post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"p1:9100\",\"value\":\"$big\"}" p1)")"
t1=$(date +%s%N)
expect_code 503 "a webhook on a full disk"
expect_json "j['error']" "the journal cannot record remediations; retry" "503 body"
grep -qi '^retry-after: ' <<<"$HEADERS" || fail "503 without Retry-After"
# What step 3 relies on: the journal failed before w1's start delay ran out.
[ $(((t1 - t0) / 1000000)) -lt $(((DELAY - 1) * 1000)) ] ||
  fail "precondition: filling the disk took $(((t1 - t0) / 1000000)) ms, w1 may have started before the journal failed"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"f1:9100"}' f1)")"
expect_code 503 "a second webhook on a full disk"
expect_json "j['error']" "the journal cannot record remediations; retry" "second 503 body"
wait_until 5 grep -q 'msg=decision decision=journal_failed .*fingerprint=f1' "$TMP/healer.log" ||
  fail "f1 not logged as decision=journal_failed"
req GET /readyz
expect_code 503 "/readyz on a full disk"
expect_json "j['status']" journal_failed "/readyz status on a full disk"
expect_json "j['reason']" "journal $STATE/journal.log: write failed: No space left on device" "/readyz reason"
req GET /healthz
expect_code 200 "/healthz on a full disk"
expect_json "j['status']" ok "/healthz on a full disk"
[ "$(metric healer_journal_failed)" = 1 ] || fail "healer_journal_failed is '$(metric healer_journal_failed)', want 1"
[ "$(metric healer_ready)" = 0 ] || fail "healer_ready is '$(metric healer_ready)', want 0"
wait_until 5 grep -q "journal $STATE/journal.log: write failed: No space left on device; remediations can no longer be recorded" \
  "$TMP/healer.log" || fail "the failure is not logged"

# --- 3. What could not record its start waits, queued. ---------------------------
wait_until $((DELAY + 10)) waiting w1 ||
  fail "w1 is not waiting for the journal: state $(rem_field w1 state), reason '$(rem_field w1 reason)'"
# The 503'd webhook's remediation is held in memory and waits the same way.
wait_until 10 waiting p1 ||
  fail "p1 is not waiting for the journal: state $(rem_field p1 state), reason '$(rem_field p1 reason)'"
# Re-probed every second, still full: it keeps waiting and nothing is sent.
sleep 2
waiting w1 || fail "w1 stopped waiting on a full disk: $(rem_field w1 state) '$(rem_field w1 reason)'"
waiting p1 || fail "p1 stopped waiting on a full disk: $(rem_field p1 state) '$(rem_field p1 reason)'"
[ "$(fake_count jk "$TRIGGER")" = 0 ] || fail "a build was triggered while its start could not be recorded"
req GET /readyz
expect_code 503 "/readyz while still full"

# --- 4. Space is back: ready, accepting, and the waiting ones run once. ----------
rm -f "$FILLER"
wait_until 10 ready || fail "/readyz not 200 within 10 s of the disk freeing up: $(curl -s "$BASE/readyz")"
# The log is written by its own thread: the line may follow /readyz by a flush.
wait_until 5 grep -q "journal $STATE/journal.log: writable again" "$TMP/healer.log" ||
  fail "the recovery is not logged"
[ "$(metric healer_journal_failed)" = 0 ] || fail "healer_journal_failed still '$(metric healer_journal_failed)'"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"a1:9100"}' a1)")"
expect_code 202 "a webhook once the disk has room"
expect_json "j['queued']" 1 "a1 queued"
wait_until 20 succeeded w1 || fail "w1 did not run: $(rem_field w1 state) '$(rem_field w1 reason)'"
wait_until 20 succeeded p1 || fail "p1 did not run: $(rem_field p1 state) '$(rem_field p1 reason)'"
# Alertmanager's retries: duplicates, nothing runs again.
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"w1:9100"}' w1)" \
  "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"p1:9100\",\"value\":\"$big\"}" p1)")"
expect_code 202 "resends once the disk has room"
expect_json "j['duplicates'], j['queued']" "2 0" "resends once the disk has room"
sleep 1
[ "$(triggers w1)" = 1 ] || fail "w1 was triggered $(triggers w1) times, want once"
[ "$(triggers p1)" = 1 ] || fail "p1 was triggered $(triggers p1) times, want once"
wait_until 5 sh -c "[ \"\$(grep -c 'msg=remediation .*fingerprint=w1 .*state=succeeded' '$TMP/healer.log')\" -ge 1 ]" ||
  fail "no outcome line for w1"
[ "$(outcomes w1)" = 1 ] || fail "w1 has $(outcomes w1) outcome lines, want 1"
[ "$(outcomes p1)" = 1 ] || fail "p1 has $(outcomes p1) outcome lines, want 1"

# --- 5. Restart on a still-full disk with a torn tail. ---------------------------
stop_healer                 # SIGTERM, exit 0 (a1 runs in the drain)
size=$(stat -c %s "$J")
cp "$J" "$TMP/journal.before"
torn='0badf00d {"t":"acc","id":77,"rule":1'
printf '%s' "$torn" >>"$J"
fill
lines=$(wc -l <"$TMP/healer.log")
start_healer "${HARGS[@]}"   # fails the test if healer exits
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'torn record at offset' ||
  fail "no torn-record warning at the start on a full disk"
python3 - "$J" "$TMP/journal.before" "$size" "$torn" <<'PY' || fail "the torn tail was not cut back on the full disk"
import sys
data, before, size, torn = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), int(sys.argv[3]), sys.argv[4].encode()
if data[:size] != before:
    sys.exit("what was there before the torn record changed")
if data[size:size + len(torn)] == torn:
    sys.exit("the torn record is still at offset %d" % size)
PY
# It serves on the full disk: a record no block's slack can hold is
# refused 503, unready, alive; the remediation it took waits like p1.
post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"q1:9100\",\"value\":\"$big\"}" q1)")"
expect_code 503 "a webhook after a start on a full disk"
expect_json "j['error']" "the journal cannot record remediations; retry" "503 body after the restart"
req GET /readyz
expect_code 503 "/readyz after a start on a full disk"
expect_json "j['status']" journal_failed "/readyz status after a start on a full disk"
req GET /healthz
expect_code 200 "/healthz after a start on a full disk"
rm -f "$FILLER"
wait_until 10 ready || fail "/readyz not 200 within 10 s of freeing the disk after the restart: $(curl -s "$BASE/readyz")"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"r1:9100"}' r1)")"
expect_code 202 "a webhook after the restart"
expect_json "j['queued']" 1 "r1 queued"
# What ran before the restart is history, not work.
[ "$(rem_field w1 state)" = succeeded ] || fail "w1 after the restart: $(rem_field w1 state)"
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"w1:9100"}' w1)")"
expect_json "j['duplicates'], j['queued']" "1 0" "w1 resent after the restart"
stop_healer                 # r1 and q1 run in the drain
[ "$(triggers w1)" = 1 ] || fail "w1 was triggered $(triggers w1) times across the restart, want once"
[ "$(triggers p1)" = 1 ] || fail "p1 was triggered $(triggers p1) times across the restart, want once"
[ "$(triggers r1)" = 1 ] || fail "r1 was triggered $(triggers r1) times, want once"
[ "$(triggers q1)" = 1 ] || fail "q1 was triggered $(triggers q1) times, want once"

# --- 6. A remediation that finishes while the disk is full is not run again
# after a restart: its final state is kept in memory and written once the
# journal heals (it was dropped: the next start re-queued it). A dry run
# finishes without recording a start, so it ends on the full disk.
start_healer "${HARGS[@]}" --dry-run
post_json /api/v1/alertmanager "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"d1:9100"}' d1)")"
expect_code 202 "d1, before the disk is full"
fill
post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"HealerTest\",\"instance\":\"x1:9100\",\"value\":\"$big\"}" x1)")"
expect_code 503 "a webhook on a full disk (step 6)"
wait_until $((DELAY + 10)) sh -c "grep -q 'msg=dry_run.*fingerprint=d1' '$TMP/healer.log'" ||
  fail "d1 did not finish on the full disk: $(rem_field d1 state) '$(rem_field d1 reason)'"
req GET /readyz
expect_code 503 "/readyz when d1 finished"
rm -f "$FILLER"
wait_until 10 ready || fail "/readyz not 200 within 10 s of freeing the disk (step 6)"
stop_healer
lines=$(wc -l <"$TMP/healer.log")
start_healer "${HARGS[@]}" --dry-run
sleep $((DELAY + 1))
[ "$(rem_field d1 state)" = dry_run ] || fail "d1 after the restart: $(rem_field d1 state) '$(rem_field d1 reason)'"
tail -n +"$((lines + 1))" "$TMP/healer.log" | grep -q 'msg=dry_run.*fingerprint=d1' &&
  fail "d1 ran again after the restart (its end, on the full disk, was not journaled)"
stop_healer
echo "PASS $TEST_NAME"
