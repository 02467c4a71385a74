#!/usr/bin/env bash
# fakes_gate_selftest.sh - drives tests/fakes/fake_gate.py (Spinnaker Gate,
# api-contracts.md section 4) and tests/fakes/fake_webhook.py with curl
# through their state machines and failure modes. Loopback only; bounded to
# 240 s (it takes about 20 s, 80 s with two busy loops on a loaded 2-core
# machine: slow phases overlap, and every wait is a bounded poll) and, per
# fake, to --max-requests. Exit status 0 when every check passes.
set -u
[ -n "${FAKES_GATE_SELFTEST_BOUNDED:-}" ] || FAKES_GATE_SELFTEST_BOUNDED=1 exec timeout 240 bash "$0" "$@"
cd "$(dirname "$0")/../.."
. tests/fakes/lib.sh
T=$FAKE_DIR
LIMITS=(--max-requests 3000 --max-seconds 235)
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -z "${2:-}" ] || printf '     %s\n' "$2"; }
# eq NAME EXPECTED ACTUAL
eq() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected [$2], got [$3]"; fi; }
# has NAME NEEDLE HAYSTACK
has() { if [[ "$3" == *"$2"* ]]; then ok "$1"; else bad "$1" "[$2] not in [${3:0:300}]"; fi; }
# req METHOD URL [CURL ARGS]: prints the status; headers in $T/h, body in $T/b,
# curl's exit status in $T/rc (7 refused, 52 empty reply, 56 reset).
req() {
  local m=$1 u=$2 rc; shift 2
  : >"$T/h"; : >"$T/b"
  curl -sS -g --max-time 10 -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" "$@" "$u" 2>"$T/err"
  rc=$?; echo "$rc" >"$T/rc"
}
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
body() { cat "$T/b"; }
jb() { fake_py "$1" <"$T/b" 2>/dev/null; }
# poll SECONDS CMD...: rerun CMD until it succeeds.
poll() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || return 1; sleep 0.1; done
}
now_ms() { date +%s%3N; }
b64() { printf '%s' "$1" | base64 -w0; }

COMPLETED='("CANCELED","SUCCEEDED","STOPPED","SKIPPED","TERMINAL","FAILED_CONTINUE")'
ULID_RE='^[0-9A-HJKMNP-TV-Z]{26}$'

# ==================================================================== Gate ==
echo "== fake Gate (no auth)"
fake_start ga gate "${LIMITS[@]}" --script '{
  "cancel_seconds": 3, "v2_delay_seconds": 2,
  "pipelines": {
    "shop/restart-service": {"id": "11111111-2222-3333-4444-555555555555",
      "parameters": [{"name": "service", "required": true},
                     {"name": "reason", "default": "none"},
                     {"name": "mode", "required": true, "default": "safe"}],
      "timeline": [["NOT_STARTED", 0.6], ["RUNNING", 1.2], ["SUCCEEDED", null]],
      "stages": [{"name": "Restart", "type": "deployManifest", "context": {"manifest": "m1"},
                  "timeline": [["RUNNING", 0.6], ["SUCCEEDED", null]]},
                 {"name": "Verify", "timeline": [["NOT_STARTED", 0.6], ["RUNNING", 0.3],
                                                  ["SUCCEEDED", null]]}]},
    "shop/ends": {"timeline": [["RUNNING", 0.2], ["SUCCEEDED", null]],
      "runs": [{"timeline": [["RUNNING", 0.2], ["TERMINAL", null]]},
               {"timeline": [["BUFFERED", 0.1], ["NOT_STARTED", 0.1], ["RUNNING", 0.2], ["STOPPED", null]]},
               {"timeline": [["RUNNING", 0.2], ["FAILED_CONTINUE", null]]},
               {"timeline": [["RUNNING", 0.2], ["CANCELED", null]]},
               {"timeline": [["RUNNING", 0.1], ["SUSPENDED", 0.2], ["RUNNING", 0.1], ["SUCCEEDED", null]]}]},
    "shop/forever": {"timeline": [["NOT_STARTED", 0.05], ["RUNNING", null]]},
    "shop/timed": {"timeline": [["RUNNING", 2.0], ["SUCCEEDED", null]]},
    "shop/halts": {"timeline": [["RUNNING", 0.1], ["PAUSED", null]]},
    "shop/stuck": {"timeline": [["NOT_STARTED", null]]},
    "shop/buffered": {"timeline": [["BUFFERED", null]]},
    "shop/off": {"disabled": true}}}' || exit 1
G=$(fake_url ga)
CJ=(-H 'Content-Type: application/json')
rid() { jb 'd["ref"].rsplit("/", 1)[1]'; }
# ex ID EXPR: S3 the execution, evaluate EXPR on it.
ex() { req GET "$G/pipelines/$1" >/dev/null; jb "$2"; }
is_done() { ex "$1" "d[\"status\"] in $COMPLETED" >/dev/null; }
status_is() { [ "$(ex "$1" 'd["status"]')" = "$2" ]; }
hist() { fake_state ga | fake_py "[h[0] for e in d[\"executions\"] if e[\"id\"] == \"$1\" for h in e[\"history\"]]"; }

# --- slow phases first, checked later: cancel from RUNNING, pause of a timed run
eq "gate: long-running pipeline triggered" 202 "$(req POST "$G/pipelines/shop/forever" "${CJ[@]}" \
  -d '{"parameters":{"who":"cancel-later"}}')"
cx=$(rid)
eq "gate: timed pipeline triggered" 202 "$(req POST "$G/pipelines/shop/timed" "${CJ[@]}" -d '{}')"
tp=$(rid)
eq "gate: pause of a RUNNING execution gets 200" 200 "$(req PUT "$G/pipelines/$tp/pause")"
eq "gate: pause answer has an empty body" 0 "$(stat -c %s "$T/b")"
eq "gate: paused execution is PAUSED" PAUSED "$(ex "$tp" 'd["status"]')"
eq "gate: paused.pausedBy and paused.paused" "anonymous True" "$(jb 'd["paused"]["pausedBy"] + " " + str(d["paused"]["paused"])')"
poll 10 status_is "$cx" RUNNING
eq "gate: cancel of a RUNNING execution gets 200" 200 "$(req PUT "$G/pipelines/$cx/cancel?reason=healer%20deadline")"
eq "gate: cancel answer has an empty body" 0 "$(stat -c %s "$T/b")"
eq "gate: cancel sets canceled/canceledBy/cancellationReason at once, status stays RUNNING" \
  "True anonymous healer deadline RUNNING" \
  "$(ex "$cx" '"%s %s %s %s" % (d["canceled"], d["canceledBy"], d["cancellationReason"], d["status"])')"

# S2 v2 trigger: the execution appears after v2_delay_seconds (checked below)
eq "gate: S2 answers 202" 202 "$(req POST "$G/pipelines/v2/shop/restart-service" "${CJ[@]}" -d '{"parameters":{"service":"v2"}}')"
v2=$(rid)
eq "gate: S2 execution is 404 at first" 404 "$(req GET "$G/pipelines/$v2")"
req POST "$G/pipelines/v2/shop/restart-service" "${CJ[@]}" -d '{"parameters":{"service":"v2"}}' >/dev/null
eq "gate: S2 body has eventId (UUID) and ref" "36 True" \
  "$(jb '"%d %s" % (len(d["eventId"]), d["ref"].startswith("/pipelines/"))')"
v2b=$(rid); v2ev=$(jb 'd["eventId"]')

# --- S1 trigger
eq "gate: S1 answers 202" 202 "$(req POST "$G/pipelines/shop/restart-service" "${CJ[@]}" \
  -d '{"type":"manual","user":"healer","parameters":{"service":"checkout","extra":"kept"},"correlationId":"rid-main"}')"
has "gate: S1 answers JSON" application/json "$(hdr Content-Type)"
ref=$(jb 'd["ref"]')
main=$(rid)
if [[ "$ref" == "/pipelines/$main" && "$main" =~ $ULID_RE ]]; then ok "gate: ref is /pipelines/<26-char ULID>"
else bad "gate: ref is /pipelines/<26-char ULID>" "got [$ref]"; fi
eq "gate: ref is the only key" '["ref"]' "$(jb 'sorted(d)')"
req POST "$G/pipelines/shop/restart-service" "${CJ[@]}" -d '{"parameters":{"service":"cart"}}' >/dev/null
second=$(rid)
eq "gate: ids are time-ordered" "$main $second" "$(printf '%s\n' "$second" "$main" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
ex "$main" 'd' >/dev/null
eq "gate: execution shape (4.3)" "PIPELINE shop restart-service 11111111-2222-3333-4444-555555555555" \
  "$(jb '" ".join([d["type"], d["application"], d["name"], d["pipelineConfigId"]])')"
eq "gate: defaults merged, undeclared parameter kept" \
  '{"extra": "kept", "mode": "safe", "reason": "none", "service": "checkout"}' \
  "$(jb 'dict(sorted(d["trigger"]["parameters"].items()))')"
eq "gate: trigger keeps the body's user, type and correlationId" "healer manual rid-main" \
  "$(jb '" ".join([d["trigger"]["user"], d["trigger"]["type"], d["trigger"]["correlationId"]])')"
eq "gate: authentication.user is the caller (anonymous)" anonymous "$(jb 'd["authentication"]["user"]')"
eq "gate: buildTime is epoch ms" True "$(jb 'str(isinstance(d["buildTime"], int) and d["buildTime"] > 1.7e12)')"
eq "gate: second trigger without user gets anonymous, type manual" "anonymous manual" \
  "$(ex "$second" 'd["trigger"]["user"] + " " + d["trigger"]["type"]')"
eq "gate: trigger by pipeline id" "202 restart-service" "$(req POST \
  "$G/pipelines/shop/11111111-2222-3333-4444-555555555555" "${CJ[@]}" -d '{"parameters":{"service":"x"}}') \
$(ex "$(rid)" 'd["name"]')"
eq "gate: empty body (no content type) on a pipeline without required parameters" 202 \
  "$(req POST "$G/pipelines/shop/forever")"
eq "gate: unknown pipeline gets 404" 404 "$(req POST "$G/pipelines/shop/nope" "${CJ[@]}" -d '{}')"
eq "gate: 404 Spring-style JSON" "404 Not Found Pipeline config (id: nope) not found" \
  "$(jb '"%s %s %s" % (d["status"], d["error"], d["message"])')"
eq "gate: unknown application gets 404" 404 "$(req POST "$G/pipelines/nobody/restart-service" "${CJ[@]}" -d '{}')"
eq "gate: missing required parameter gets 400" 400 \
  "$(req POST "$G/pipelines/shop/restart-service" "${CJ[@]}" -d '{"parameters":{"reason":"r"}}')"
eq "gate: 400 Spring-style JSON" "400 Bad Request Required parameter service is missing True" \
  "$(jb '"%s %s %s %s" % (d["status"], d["error"], d["message"], isinstance(d["timestamp"], int))')"
eq "gate: a null required parameter is missing" 400 \
  "$(req POST "$G/pipelines/shop/restart-service" "${CJ[@]}" -d '{"parameters":{"service":null}}')"
eq "gate: no body at all misses the required parameter" 400 "$(req POST "$G/pipelines/shop/restart-service")"
eq "gate: form content type gets 415" 415 "$(req POST "$G/pipelines/shop/forever" -d '{}')"
eq "gate: malformed JSON gets 400" 400 "$(req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"type":')"
eq "gate: a JSON array body gets 400" 400 "$(req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '[]')"
eq "gate: GET on a trigger path gets 405" 405 "$(req GET "$G/pipelines/shop/forever")"
eq "gate: disabled pipeline gets 400" 400 "$(req POST "$G/pipelines/shop/off" "${CJ[@]}" -d '{"correlationId":"off-1"}')"
has "gate: 400 says disabled" "Pipeline is disabled and cannot be started" "$(jb 'd["message"]')"
eq "gate: ... and leaves a TERMINAL execution (no startTime)" "TERMINAL None True" \
  "$(fake_state ga | fake_py '(lambda e: "%s %s %s" % (e["status"], e["startTime"], e["endTime"] is not None))([x for x in d["executions"] if x["name"] == "off"][0])')"

# --- S3 state machine (4.2): NOT_STARTED -> RUNNING -> SUCCEEDED, stages on the run clock
seen=""
track() {
  local s; s=$(ex "$main" 'd["status"]')
  [ "${seen##* }" = "$s" ] || seen="$seen $s"
  [ "$s" = SUCCEEDED ]
}
poll 15 track
case "$seen" in
  " NOT_STARTED RUNNING SUCCEEDED" | " RUNNING SUCCEEDED" | " SUCCEEDED")
    ok "gate: polled statuses go forward to SUCCEEDED ($seen)" ;;
  *) bad "gate: polled statuses go forward to SUCCEEDED" "got [$seen]" ;;
esac
ex "$main" 'd' >/dev/null
eq "gate: startTime 600 ms after buildTime, endTime 1200 ms later" "600 1200" \
  "$(jb '"%d %d" % (round((d["startTime"] - d["buildTime"]) / 10) * 10, round((d["endTime"] - d["startTime"]) / 10) * 10)')"
eq "gate: stages completed with their own times" "SUCCEEDED SUCCEEDED 600 300" \
  "$(jb '(lambda a, b: "%s %s %d %d" % (a["status"], b["status"], round((a["endTime"] - a["startTime"]) / 10) * 10, round((b["endTime"] - b["startTime"]) / 10) * 10))(*d["stages"])')"
eq "gate: stage shape" "deployManifest 1 Restart" "$(jb '"%s %s %s" % (d["stages"][0]["type"], d["stages"][0]["refId"], d["stages"][0]["name"])')"
eq "gate: state history is exact" '["NOT_STARTED", "RUNNING", "SUCCEEDED"]' "$(hist "$main")"

# --- every terminal status (per-trigger runs), BUFFERED and SUSPENDED on the way
ends=()
for i in 1 2 3 4 5 6; do
  req POST "$G/pipelines/shop/ends" "${CJ[@]}" -d "{\"parameters\":{\"n\":\"$i\"}}" >/dev/null
  ends+=("$(rid)")
done
all_done() { local e; for e in "${ends[@]}"; do is_done "$e" || return 1; done; }
poll 15 all_done
got=""
for e in "${ends[@]}"; do got="$got $(ex "$e" 'd["status"]')"; done
eq "gate: runs end TERMINAL, STOPPED, FAILED_CONTINUE, CANCELED, SUCCEEDED, then the default" \
  " TERMINAL STOPPED FAILED_CONTINUE CANCELED SUCCEEDED SUCCEEDED" "$got"
eq "gate: BUFFERED -> NOT_STARTED -> RUNNING -> STOPPED" '["BUFFERED", "NOT_STARTED", "RUNNING", "STOPPED"]' "$(hist "${ends[1]}")"
eq "gate: RUNNING -> SUSPENDED -> RUNNING -> SUCCEEDED" '["RUNNING", "SUSPENDED", "RUNNING", "SUCCEEDED"]' "$(hist "${ends[4]}")"
eq "gate: mirrored stage takes the execution's terminal status" TERMINAL "$(ex "${ends[0]}" 'd["stages"][0]["status"]')"
eq "gate: scripted CANCELED sets canceled" true "$(ex "${ends[3]}" 'd["canceled"]')"
eq "gate: S3 of an unknown id gets 404" 404 "$(req GET "$G/pipelines/01XXXXXXXXXXXXXXXXXXXXXXXX")"
eq "gate: 404 message" "Pipeline not found (id: 01XXXXXXXXXXXXXXXXXXXXXXXX)" "$(jb 'd["message"]')"

# --- correlationId dedupe (S1, 4.5)
req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"correlationId":"rid-dup","parameters":{"a":"1"}}' >/dev/null
dup=$(rid)
eq "gate: endTime is null while not complete" "RUNNING None" "$(poll 10 status_is "$dup" RUNNING; ex "$dup" 'd["status"] + " " + str(d["endTime"])')"
eq "gate: same correlationId while running returns the same ref" "202 $dup" \
  "$(req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"correlationId":"rid-dup","parameters":{"a":"2"}}') $(rid)"
eq "gate: ... and starts nothing" 1 \
  "$(fake_state ga | fake_py 'len([e for e in d["executions"] if e["trigger"]["correlationId"] == "rid-dup"])')"
fake_script ga '{"cancel_seconds": 0}'
req PUT "$G/pipelines/$dup/cancel" >/dev/null
eq "gate: cancel_seconds 0 cancels a RUNNING execution at once" CANCELED "$(ex "$dup" 'd["status"]')"
req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"correlationId":"rid-dup"}' >/dev/null
dup2=$(rid)
if [ -n "$dup2" ] && [ "$dup2" != "$dup" ]; then ok "gate: once completed, the same correlationId starts a new execution"
else bad "gate: once completed, the same correlationId starts a new execution" "got [$dup2] after [$dup]"; fi
# the reply is lost after Gate started the execution: the retry finds it
fake_script ga '{"faults": [{"kind": "drop", "phase": "after", "method": "POST", "path": "/pipelines/shop/forever"}]}'
req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"correlationId":"rid-lost"}' >/dev/null
eq "gate: drop after the trigger: curl sees an empty reply" 52 "$(cat "$T/rc")"
eq "gate: retry with the same correlationId gets 202" 202 \
  "$(req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"correlationId":"rid-lost"}')"
eq "gate: ... the execution the lost reply had started" \
  "$(fake_state ga | fake_py '[e["id"] for e in d["executions"] if e["trigger"]["correlationId"] == "rid-lost"]')" \
  "[\"$(rid)\"]"

# --- S4 cancel
fake_script ga '{"cancel_seconds": 3}'
req POST "$G/pipelines/shop/stuck" "${CJ[@]}" -d '{}' >/dev/null; st=$(rid)
eq "gate: cancel of NOT_STARTED gets 200" 200 "$(req PUT "$G/pipelines/$st/cancel?reason=stuck")"
eq "gate: NOT_STARTED -> CANCELED at once, no startTime/endTime" "CANCELED True stuck None None NOT_STARTED" \
  "$(ex "$st" '"%s %s %s %s %s %s" % (d["status"], d["canceled"], d["cancellationReason"], d["startTime"], d["endTime"], d["stages"][0]["status"])')"
req POST "$G/pipelines/shop/buffered" "${CJ[@]}" -d '{}' >/dev/null; bu=$(rid)
eq "gate: BUFFERED shows as BUFFERED" BUFFERED "$(ex "$bu" 'd["status"]')"
req PUT "$G/pipelines/$bu/cancel" >/dev/null
eq "gate: BUFFERED -> CANCELED at once, no reason given" "CANCELED None" "$(ex "$bu" 'd["status"] + " " + str(d["cancellationReason"])')"
eq "gate: cancel of a completed execution gets 200" 200 "$(req PUT "$G/pipelines/$main/cancel?reason=late")"
eq "gate: ... which keeps SUCCEEDED but is marked canceled" "SUCCEEDED True late" \
  "$(ex "$main" '"%s %s %s" % (d["status"], d["canceled"], d["cancellationReason"])')"
eq "gate: cancel of an unknown id gets 404" 404 "$(req PUT "$G/pipelines/01XXXXXXXXXXXXXXXXXXXXXXXX/cancel")"

# --- S5 pause/resume
req POST "$G/pipelines/shop/forever" "${CJ[@]}" -d '{"parameters":{"who":"pause"}}' >/dev/null; pz=$(rid)
poll 10 status_is "$pz" RUNNING
eq "gate: resume of a RUNNING execution gets 500" 500 "$(req PUT "$G/pipelines/$pz/resume")"
has "gate: 500 says why" "not PAUSED" "$(jb 'd["message"]')"
req PUT "$G/pipelines/$pz/pause" >/dev/null
eq "gate: paused execution pauses its running stage" "PAUSED PAUSED" "$(ex "$pz" 'd["status"] + " " + d["stages"][0]["status"]')"
eq "gate: pause of a PAUSED execution gets 500" 500 "$(req PUT "$G/pipelines/$pz/pause")"
eq "gate: resume gets 200" 200 "$(req PUT "$G/pipelines/$pz/resume")"
eq "gate: resumed execution is RUNNING, paused.resumeTime set" "RUNNING False True" \
  "$(ex "$pz" '"%s %s %s" % (d["status"], d["paused"]["paused"], d["paused"]["resumeTime"] is not None)')"
eq "gate: pause of a completed execution gets 500" 500 "$(req PUT "$G/pipelines/$main/pause")"
eq "gate: pause of an unknown id gets 404" 404 "$(req PUT "$G/pipelines/01XXXXXXXXXXXXXXXXXXXXXXXX/pause")"
req POST "$G/pipelines/shop/halts" "${CJ[@]}" -d '{}' >/dev/null; ha=$(rid)
poll 10 status_is "$ha" PAUSED
eq "gate: a scripted PAUSED phase resumes to RUNNING" "200 RUNNING" "$(req PUT "$G/pipelines/$ha/resume") $(ex "$ha" 'd["status"]')"

# --- S2: the executions triggered at the top appear
appeared() { [ "$(req GET "$G/pipelines/$v2b")" = 200 ]; }
poll 10 appeared
eq "gate: S2 execution appears, trigger carries eventId and executionId" "$v2ev $v2b" \
  "$(ex "$v2b" 'd["trigger"]["eventId"] + " " + d["trigger"]["executionId"]')"

# --- search by trigger (4.5) and S6
S="$G/applications/shop/executions/search"
srch() { req GET "$S" -G --data-urlencode "trigger=$(b64 "$1")" "${@:2}" >/dev/null; jb "[e[\"id\"] for e in d]"; }
eq "gate: search by correlationId finds the execution" "[\"$main\"]" "$(srch '{"correlationId":"rid-main"}')"
eq "gate: search by a parameter" "[\"$second\"]" "$(srch '{"parameters":{"service":"cart"}}')"
eq "gate: search matches strings ignoring case (as Orca)" "[\"$second\"]" "$(srch '{"parameters":{"service":"CART"}}')"
eq "gate: search with several keys needs all of them" "[]" "$(srch '{"correlationId":"rid-main","parameters":{"service":"cart"}}')"
eq "gate: search without a match is []" "[]" "$(srch '{"parameters":{"service":"nomatch"}}')"
eq "gate: S2 executions are found once they exist" 2 "$(srch '{"parameters":{"service":"v2"}}' | fake_py 'len(d)')"
restarts=$(srch '{}' --data-urlencode pipelineName=restart-service)
# newest first by buildTime; a v2 id is older than its buildTime (Gate makes it)
eq "gate: search lists newest buildTime first (pipelineName filter)" "True 5" \
  "$(req GET "$S?pipelineName=restart-service" >/dev/null; jb '(lambda b: str(b == sorted(b, reverse=True)) + " " + str(len(b)))([e["buildTime"] for e in d])')"
eq "gate: search statuses filter" "[\"$main\"]" "$(srch '{"parameters":{"service":"checkout"}}' --data-urlencode statuses=SUCCEEDED,TERMINAL)"
eq "gate: search startIndex and size" "$(echo "$restarts" | fake_py 'd[1:2]')" \
  "$(srch '{}' --data-urlencode pipelineName=restart-service --data-urlencode startIndex=1 --data-urlencode size=1)"
eq "gate: search default size is 10" 10 "$(srch '{}' >/dev/null; jb 'len(d)')"
eq "gate: search is not expanded by default" "{}" "$(req GET "$S?pipelineName=restart-service" >/dev/null; jb 'd[0]["stages"][0]["context"]')"
eq "gate: search with expand=true has the stage context" '{"manifest": "m1"}' \
  "$(req GET "$S?pipelineName=restart-service&expand=true" >/dev/null; jb 'd[0]["stages"][0]["context"]')"
eq "gate: search size=0 gets 400" 400 "$(req GET "$S?size=0")"
eq "gate: search with a bad base64 trigger gets 500" 500 "$(req GET "$S?trigger=%21%21%21")"
req GET "$G/applications/shop/pipelines?limit=2" >/dev/null
eq "gate: S6 holds at most limit executions per pipeline" true \
  "$(jb 'all(n <= 2 for n in __import__("collections").Counter(e["name"] for e in d).values())')"
eq "gate: S6 is sorted by startTime ascending, not started first" true \
  "$(jb '(lambda s: s == sorted(s))([e["startTime"] or 0 for e in d])')"
eq "gate: S6 statuses filter" '["CANCELED"]' \
  "$(req GET "$G/applications/shop/pipelines?limit=50&statuses=CANCELED" >/dev/null; jb 'sorted(set(e["status"] for e in d))')"
eq "gate: S6 default limit is 5 per pipeline" 5 \
  "$(req GET "$G/applications/shop/pipelines" >/dev/null; jb 'len([e for e in d if e["name"] == "ends"])')"
eq "gate: S6 of an unknown application is []" "[]" "$(req GET "$G/applications/nobody/pipelines" >/dev/null; body)"

eq "gate: S2 of an unknown pipeline gets 404 at once" 404 "$(req POST "$G/pipelines/v2/shop/nope" "${CJ[@]}" -d '{}')"
fake_script ga '{"v2_delay_seconds": 0}'
eq "gate: S2 with a missing required parameter: 202, then TERMINAL" "202 TERMINAL" \
  "$(req POST "$G/pipelines/v2/shop/restart-service" "${CJ[@]}" -d '{}') $(ex "$(rid)" 'd["status"]')"

# --- S3 swallowed upstream error: 200 with an empty body
fake_script ga '{"s3_empty": 2}'
eq "gate: scripted S3 answers 200 with an empty body" "200 0 200 0" \
  "$(req GET "$G/pipelines/$main") $(stat -c %s "$T/b") $(req GET "$G/pipelines/$main") $(stat -c %s "$T/b")"
eq "gate: ... then the execution again" "200 $main" "$(req GET "$G/pipelines/$main") $(jb 'd["id"]')"

# --- script validation
sc() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "${CJ[@]}" --data-binary "$1" "$G/_fake/script"; }
eq "gate: a terminal status before the end is refused" 400 \
  "$(sc '{"pipelines":{"shop/x":{"timeline":[["SUCCEEDED",null],["RUNNING",null]]}}}')"
eq "gate: a non-terminal end needs null seconds" 400 "$(sc '{"pipelines":{"shop/x":{"timeline":[["RUNNING",1]]}}}')"
eq "gate: an unknown status is refused" 400 "$(sc '{"pipelines":{"shop/x":{"timeline":[["DONE",null]]}}}')"
eq "gate: an unknown pipeline key is refused" 400 "$(sc '{"pipelines":{"shop/x":{"steps":[]}}}')"
eq "gate: an unknown script key is refused" 400 "$(sc '{"bogus":1}')"

# --- the slow checks started at the top
eq "gate: cancel took cancel_seconds (3 s) to turn RUNNING into CANCELED" true "$(
  poll 15 status_is "$cx" CANCELED
  fake_state ga | fake_py "(lambda e: 2990 <= [h[1] for h in e['history'] if h[0] == 'CANCELED'][0] - [c['time'] for c in e['calls'] if c['call'] == 'cancel'][0] <= 3010)([x for x in d['executions'] if x['id'] == '$cx'][0])")"
eq "gate: canceled RUNNING execution: stage CANCELED, endTime set" "CANCELED True" \
  "$(ex "$cx" 'd["stages"][0]["status"] + " " + str(d["endTime"] is not None)')"
elapsed_ok() { fake_state ga | fake_py "(lambda e: $(now_ms) - e['buildTime'] > 2600)([x for x in d['executions'] if x['id'] == '$tp'][0])" >/dev/null; }
poll 15 elapsed_ok
eq "gate: a paused timeline does not move (still PAUSED past its 2 s)" PAUSED "$(ex "$tp" 'd["status"]')"
req PUT "$G/pipelines/$tp/resume" >/dev/null
poll 15 is_done "$tp"
eq "gate: resumed timed run ends SUCCEEDED after 2 s of running time" "SUCCEEDED True" \
  "$(ex "$tp" '"%s %s" % (d["status"], abs(d["endTime"] - d["startTime"] - d["paused"]["pausedMs"] - 2000) <= 5)')"
eq "gate: reset clears the executions" 0 "$(fake_reset ga; fake_state ga | fake_py 'len(d["executions"])')"
fake_stop ga

echo "== fake Gate (auth)"
fake_start gb gate "${LIMITS[@]}" --user healer --password s3cret --token tok123 --token-user svc-healer \
  --script '{"forbidden_apps": ["secret"], "pipelines": {
    "shop/p": {"timeline": [["RUNNING", null]]}, "secret/deploy": {"timeline": [["RUNNING", null]]}}}' || exit 1
G=$(fake_url gb)
eq "gate auth: no credentials get 401" 401 "$(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}')"
eq "gate auth: 401 is Spring-style JSON with a Basic challenge" "401 Unauthorized Basic" \
  "$(jb '"%s %s" % (d["status"], d["error"])') $(hdr WWW-Authenticate | cut -d' ' -f1)"
eq "gate auth: wrong password gets 401" 401 "$(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}' -u healer:nope)"
eq "gate auth: unknown user gets 401" 401 "$(req GET "$G/applications/shop/pipelines" -u mallory:s3cret)"
eq "gate auth: wrong bearer token gets 401" 401 "$(req GET "$G/applications/shop/pipelines" -H 'Authorization: Bearer nope')"
eq "gate auth: malformed Basic gets 401" 401 "$(req GET "$G/applications/shop/pipelines" -H 'Authorization: Basic !!!')"
eq "gate auth: Basic gets 202" 202 "$(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}' -u healer:s3cret -c "$T/jar")"
b1=$(rid)
has "gate auth: first authenticated answer sets a SESSION cookie" "SESSION=" "$(hdr Set-Cookie)"
eq "gate auth: trigger.user is the Basic user" "healer healer" \
  "$(req GET "$G/pipelines/$b1" -u healer:s3cret >/dev/null; jb 'd["trigger"]["user"] + " " + d["authentication"]["user"]')"
eq "gate auth: the SESSION cookie alone authenticates, no new cookie" "200 " \
  "$(req GET "$G/pipelines/$b1" -b "$T/jar") $(hdr Set-Cookie)"
eq "gate auth: Bearer token gets 202" 202 "$(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}' -H 'Authorization: Bearer tok123')"
eq "gate auth: trigger.user is the token's user" svc-healer \
  "$(req GET "$G/pipelines/$(rid)" -H 'Authorization: Bearer tok123' >/dev/null; jb 'd["trigger"]["user"]')"
eq "gate auth: cancel records the authenticated user" "200 healer" \
  "$(req PUT "$G/pipelines/$b1/cancel" -u healer:s3cret) $(req GET "$G/pipelines/$b1" -u healer:s3cret >/dev/null; jb 'd["canceledBy"]')"
eq "gate auth: forbidden application gets 403 on S1" 403 "$(req POST "$G/pipelines/secret/deploy" "${CJ[@]}" -d '{}' -u healer:s3cret)"
eq "gate auth: 403 message" "403 Access denied to application secret" "$(jb '"%s %s" % (d["status"], d["message"])')"
eq "gate auth: forbidden application gets 403 on search" 403 \
  "$(req GET "$G/applications/secret/executions/search" -u healer:s3cret)"
fake_script gb '{"forbidden_apps": []}'
req POST "$G/pipelines/secret/deploy" "${CJ[@]}" -d '{}' -u healer:s3cret >/dev/null; sx=$(rid)
fake_script gb '{"forbidden_apps": ["secret"]}'
eq "gate auth: S3 and S4 of a forbidden application's execution get 403" "403 403" \
  "$(req GET "$G/pipelines/$sx" -u healer:s3cret) $(req PUT "$G/pipelines/$sx/cancel" -u healer:s3cret)"
fake_script gb '{"faults": [{"status": 429, "retry_after": 2, "path_prefix": "/pipelines/"}]}'
eq "gate auth: scripted 429 with Retry-After, then normal" "429 2 202" \
  "$(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}' -u healer:s3cret) $(hdr Retry-After) $(req POST "$G/pipelines/shop/p" "${CJ[@]}" -d '{}' -u healer:s3cret)"
fake_stop gb

# mTLS (4.4 X.509): needs fakebase's --tls-* options and tests/fakes/mkcerts.sh
if [ -f tests/fakes/mkcerts.sh ] &&
  "$FAKE_PYTHON" tests/fakes/fake_gate.py --help 2>/dev/null | grep -q -- --tls-client-ca; then
  echo "== fake Gate (mTLS)"
  bash tests/fakes/mkcerts.sh "$T/pki" || bad "gate mtls: mkcerts.sh failed"
  fake_start gc gate "${LIMITS[@]}" --tls-cert "$T/pki/server.crt" --tls-key "$T/pki/server.key" \
    --tls-client-ca "$T/pki/ca.crt" --user ops --password pw \
    --script '{"pipelines": {"shop/p": {"timeline": [["RUNNING", null]]}}}' || exit 1
  G="https://127.0.0.1:$(fake_port gc)"
  TLS=(--cacert "$T/pki/ca.crt" --cert "$T/pki/client.crt" --key "$T/pki/client.key")
  eq "gate mtls: a client certificate alone authenticates" 202 \
    "$(req POST "$G/pipelines/shop/p" "${TLS[@]}" "${CJ[@]}" -d '{}')"
  eq "gate mtls: trigger.user is the certificate's CN" healer \
    "$(req GET "$G/pipelines/$(rid)" "${TLS[@]}" >/dev/null; jb 'd["trigger"]["user"]')"
  eq "gate mtls: Basic on top of the certificate names the Basic user" ops \
    "$(req POST "$G/pipelines/shop/p" "${TLS[@]}" "${CJ[@]}" -d '{}' -u ops:pw >/dev/null
       req GET "$G/pipelines/$(rid)" "${TLS[@]}" >/dev/null; jb 'd["trigger"]["user"]')"
  eq "gate mtls: wrong Basic password on top of the certificate gets 401" 401 \
    "$(req GET "$G/applications/shop/pipelines" "${TLS[@]}" -u ops:nope)"
  eq "gate mtls: no client certificate gets no HTTP answer" 000 \
    "$(req GET "$G/applications/shop/pipelines" --cacert "$T/pki/ca.crt")"
  fake_stop gc
else
  echo "-- skipped: fake Gate over mTLS (this fakebase has no --tls-client-ca)"
fi

# ================================================================= Webhook ==
echo "== fake webhook (auth)"
fake_start wb webhook "${LIMITS[@]}" --token wt --require-header "X-Api-Key: k1" || exit 1
W=$(fake_url wb)
eq "webhook auth: no token gets 401" 401 "$(req POST "$W/hooks/x" "${CJ[@]}" -d '{}')"
eq "webhook auth: 401 JSON and a Bearer challenge" "invalid or missing bearer token Bearer" \
  "$(jb 'd["error"]') $(hdr WWW-Authenticate | cut -d' ' -f1)"
eq "webhook auth: right token, header missing gets 401" 401 "$(req POST "$W/hooks/x" -H 'Authorization: Bearer wt')"
eq "webhook auth: ... naming the header" "missing or wrong header X-Api-Key" "$(jb 'd["error"]')"
eq "webhook auth: wrong header value gets 401" 401 \
  "$(req POST "$W/hooks/x" -H 'Authorization: Bearer wt' -H 'X-Api-Key: k2')"
eq "webhook auth: token and header get 200 {\"ok\":true}" '200 {"ok":true}' \
  "$(req POST "$W/hooks/x" -H 'Authorization: Bearer wt' -H 'X-Api-Key: k1') $(body)"
eq "webhook auth: state: 1 delivery, 3 rejected" "1 3" \
  "$(fake_state wb | fake_py '"%d %d" % (len(d["deliveries"]), len(d["rejected"]))')"
fake_stop wb

echo "== fake webhook"
fake_start wa webhook "${LIMITS[@]}" --script '{"routes": [
  {"method": "POST", "path": "/hooks/x", "status": 201, "body": {"id": "h1"}, "headers": {"X-Hook": "1"}},
  {"path_prefix": "/hooks/", "status": 202, "body": "queued", "content_type": "text/plain"},
  {"method": ["PUT", "PATCH"], "path": "/limited", "status": 500, "count": 1}]}' || exit 1
W=$(fake_url wa)
eq "webhook: first matching route answers" '201 {"id":"h1"} 1' "$(req POST "$W/hooks/x" "${CJ[@]}" -d '{"a":1}') $(body) $(hdr X-Hook)"
eq "webhook: JSON route body is application/json" application/json "$(hdr Content-Type)"
eq "webhook: method mismatch falls to the next route" "202 queued text/plain" \
  "$(req GET "$W/hooks/x") $(body) $(hdr Content-Type)"
eq "webhook: a route with count 1 answers once" "500 200" "$(req PATCH "$W/limited") $(req PUT "$W/limited")"
eq "webhook: unmatched path gets the default 200 {\"ok\":true}" '200 {"ok":true}' "$(req DELETE "$W/any/thing") $(body)"
fake_script wa '{"strict": true}'
eq "webhook: strict: unmatched path gets 404 JSON" '404 no route for POST /nowhere' "$(req POST "$W/nowhere") $(jb 'd["error"]')"
fake_script wa '{"strict": false}'
# --- Idempotency-Key
IK=(-H 'Idempotency-Key: key-1')
eq "webhook: first request with a key" '201 {"id":"h1"} ' \
  "$(req POST "$W/hooks/x" "${CJ[@]}" "${IK[@]}" -d '{"n":1}') $(body) $(hdr Idempotent-Replayed)"
eq "webhook: same key, same request: replayed answer" '201 {"id":"h1"} true 1' \
  "$(req POST "$W/hooks/x" "${CJ[@]}" "${IK[@]}" -d '{"n":1}') $(body) $(hdr Idempotent-Replayed) $(hdr X-Hook)"
eq "webhook: same key, different body: 422" '422 idempotency key reused with a different request' \
  "$(req POST "$W/hooks/x" "${CJ[@]}" "${IK[@]}" -d '{"n":2}') $(jb 'd["error"]')"
eq "webhook: same key, other path: 422" 422 "$(req POST "$W/hooks/y" "${CJ[@]}" "${IK[@]}" -d '{"n":1}')"
eq "webhook: a key on GET is not tracked" "202 202 " \
  "$(req GET "$W/hooks/g" -H 'Idempotency-Key: key-g') $(req GET "$W/hooks/g" -H 'Idempotency-Key: key-g') $(hdr Idempotent-Replayed)"
req POST "$W/hooks/x" "${CJ[@]}" -d '{"n":1}' >/dev/null
req POST "$W/hooks/x" "${CJ[@]}" -d '{"n":1}' >/dev/null
fake_script wa '{"faults": [{"kind": "drop", "phase": "after", "path": "/hooks/x"}]}'
req POST "$W/hooks/x" "${CJ[@]}" -H 'Idempotency-Key: key-2' -d '{"n":3}' >/dev/null
eq "webhook: drop after delivery: curl sees an empty reply" 52 "$(cat "$T/rc")"
eq "webhook: the retry with the same key is a replay" "201 true" \
  "$(req POST "$W/hooks/x" "${CJ[@]}" -H 'Idempotency-Key: key-2' -d '{"n":3}') $(hdr Idempotent-Replayed)"
eq "webhook: state: deliveries unique by key, replays and conflicts listed" \
  '{"key-1": 1, "key-2": 1, "none": 3, "replays": ["key-1", "key-2"], "conflicts": 2}' \
  "$(fake_state wa | fake_py '(lambda c: dict(c, replays=[r["idempotency_key"] for r in d["replays"]], conflicts=len(d["conflicts"])))({k: sum(1 for x in d["deliveries"] if x["method"] == "POST" and x["path"] == "/hooks/x" and (x["idempotency_key"] or "none") == k) for k in ("key-1", "key-2", "none")})')"
eq "webhook: deliveries keep the request" '{"a": 1} application/json' \
  "$(fake_state wa | fake_py '"%s %s" % (json.dumps(d["deliveries"][0]["json"]), d["deliveries"][0]["headers"]["content-type"])')"
eq "webhook: every request recorded by fakebase" 16 "$(fake_count wa)"
fake_script wa '{"idempotency_ttl_seconds": 0}'
sleep 0.05
eq "webhook: an expired key is a new delivery" "201 " \
  "$(req POST "$W/hooks/x" "${CJ[@]}" "${IK[@]}" -d '{"n":9}') $(hdr Idempotent-Replayed)"
eq "webhook: reset clears the deliveries" 0 "$(fake_reset wa; fake_state wa | fake_py 'len(d["deliveries"])')"
fake_stop wa

echo
echo "$passed passed, $failed failed (${SECONDS} s)"
[ "$failed" -eq 0 ] || { fake_logs; exit 1; }
