#!/usr/bin/env bash
# fakes_selftest.sh - drives every fake of tests/fakes/ with curl through its
# documented state machines and failure modes, so that healer's integration
# tests can rely on them. Loopback only; bounded to 300 s (it takes about
# 40 s, over 120 s on a loaded 2-core machine) and, per fake, to
# --max-requests. Exit status 0 when every check passes.
set -u
[ -n "${FAKES_SELFTEST_BOUNDED:-}" ] || FAKES_SELFTEST_BOUNDED=1 exec timeout 300 bash "$0" "$@"
cd "$(dirname "$0")/../.."
. tests/fakes/lib.sh
T=$FAKE_DIR
LIMITS=(--max-requests 3000 --max-seconds 290)
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

# ================================================================= Jenkins ==
echo "== fake Jenkins"
fake_start jk jenkins "${LIMITS[@]}" --user bot --token tok --password pw --crumb --script '{
  "users": {"viewer": {"token": "vt", "permissions": ["read"]}},
  "jobs": {
    "DockerPruneNode": {"parameters": {"NODE": "", "HEALER_REMEDIATION_ID": "", "MODE": "safe"},
                        "build_seconds": 0.5},
    "ops/remediation/restart node": {"pipeline": true,
                        "parameters": {"NODE": "", "HEALER_REMEDIATION_ID": ""}},
    "plain": {"build_seconds": 0.2},
    "off": {"parameters": {"X": ""}, "disabled": true}}}' || exit 1
J=$(fake_url jk)
A=(-u bot:tok)
P="$J/job/DockerPruneNode"

# --- auth (section 2.2)
eq "jenkins: anonymous gets 403" 403 "$(req GET "$J/queue/api/json")"
eq "jenkins: wrong token gets 401" 401 "$(req POST "$P/buildWithParameters" -u bot:nope)"
has "jenkins: 401 names the user" "Invalid password/token for user: bot" "$(body)"
eq "jenkins: unknown user gets 401" 401 "$(req GET "$J/queue/api/json" -u mallory:tok)"
eq "jenkins: malformed Basic gets 401" 401 \
  "$(req GET "$J/queue/api/json" -H 'Authorization: Basic !!!')"
eq "jenkins: user without Job/Build gets 403" 403 \
  "$(req POST "$P/buildWithParameters?NODE=n" -u viewer:vt)"
has "jenkins: 403 names the permission" "missing the Job/Build permission" "$(body)"

# --- CSRF crumb (section 2.2)
eq "jenkins: password POST without crumb gets 403" 403 \
  "$(req POST "$P/buildWithParameters?NODE=c0" -u bot:pw)"
has "jenkins: 403 says No valid crumb" "No valid crumb was included in the request" "$(body)"
eq "jenkins: crumb issuer answers 200" 200 \
  "$(req GET "$J/crumbIssuer/api/json" -u bot:pw -c "$T/jar")"
crumb=$(jb 'd["crumb"]')
eq "jenkins: crumb field is Jenkins-Crumb" Jenkins-Crumb "$(jb 'd["crumbRequestField"]')"
has "jenkins: crumb issuer sets a session cookie" JSESSIONID "$(hdr Set-Cookie)"
eq "jenkins: crumb without its session cookie gets 403" 403 \
  "$(req POST "$P/buildWithParameters?NODE=c1" -u bot:pw -H "Jenkins-Crumb: $crumb")"
eq "jenkins: crumb with its session cookie gets 201" 201 \
  "$(req POST "$P/buildWithParameters?NODE=c2" -u bot:pw -b "$T/jar" -H "Jenkins-Crumb: $crumb")"
eq "jenkins: API token is exempt from the crumb" 201 \
  "$(req POST "$P/buildWithParameters?NODE=c3" "${A[@]}")"
fake_script jk '{"crumb_exempt_api_token": false}'
eq "jenkins: API token needs a crumb when not exempt" 403 \
  "$(req POST "$P/buildWithParameters?NODE=c4" "${A[@]}")"
fake_script jk '{"crumb": false, "crumb_exempt_api_token": true}'
eq "jenkins: crumb issuer is 404 without CSRF protection" 404 \
  "$(req GET "$J/crumbIssuer/api/json" "${A[@]}")"
eq "jenkins: password POST needs no crumb without CSRF protection" 201 \
  "$(req POST "$P/buildWithParameters?NODE=c5" -u bot:pw)"
fake_script jk '{"crumb": true}'

# --- trigger (J2, J3)
# Queue phases of 3s each: long enough for the polls below (a curl and a
# python each) to see every phase on a loaded machine.
fake_script jk '{"jobs": {"DockerPruneNode": {"parameters": {"NODE": "", "HEALER_REMEDIATION_ID": "",
  "MODE": "safe"}, "build_seconds": 1, "quiet_seconds": 3, "buildable_seconds": 3}}}'
weird='a&b=c/d e+f é%20ü'
st=$(req POST "$P/buildWithParameters" "${A[@]}" --data-urlencode "NODE=$weird" \
  --data-urlencode HEALER_REMEDIATION_ID=rem-1 --data-urlencode UNDECLARED=x)
eq "jenkins: buildWithParameters gets 201" 201 "$st"
loc=$(hdr Location)
if [[ "$loc" =~ ^$J/queue/item/([0-9]+)/$ ]]; then ok "jenkins: absolute Location .../queue/item/N/"
else bad "jenkins: absolute Location .../queue/item/N/" "got [$loc]"; fi
qid=${BASH_REMATCH[1]:-0}
eq "jenkins: 201 has an empty body" 0 "$(stat -c %s "$T/b")"
eq "jenkins: identical queued item gets 303" 303 "$(req POST "$P/buildWithParameters" "${A[@]}" \
  --data-urlencode "NODE=$weird" --data-urlencode HEALER_REMEDIATION_ID=rem-1)"
eq "jenkins: 303 points at the same item" "$loc" "$(hdr Location)"
# --- queue item state machine (J4): Waiting -> Buildable -> Left(executable)
seen=""
item_class() {
  req GET "$J/queue/item/$qid/api/json" "${A[@]}" >/dev/null
  local c; c=$(jb 'd["_class"].split("$")[1]')
  [[ "$seen" == *"$c"* ]] || seen="$seen $c"
  [ "$c" = LeftItem ]
}
poll 15 item_class
eq "jenkins: queue item goes Waiting -> Buildable -> Left" " WaitingItem BuildableItem LeftItem" "$seen"
eq "jenkins: left item has cancelled=false" false "$(jb 'd["cancelled"]')"
bnum=$(jb 'd["executable"]["number"]')
eq "jenkins: executable url is the build's" "$P/$bnum/" "$(jb 'd["executable"]["url"]')"
eq "jenkins: queue item shows the parameters" "NODE=$weird" "$(jb 'd["params"].split("\n")[1]')"
eq "jenkins: repeated parameter is an error" 500 \
  "$(req POST "$P/buildWithParameters?NODE=a&NODE=b" "${A[@]}")"
eq "jenkins: non-parameterized job gets 400" 400 "$(req POST "$J/job/plain/buildWithParameters" "${A[@]}")"
has "jenkins: 400 says not parameterized" "plain is not parameterized" "$(body)"
eq "jenkins: disabled job gets 409" 409 "$(req POST "$J/job/off/buildWithParameters?X=1" "${A[@]}")"
eq "jenkins: unknown job gets 404" 404 "$(req POST "$J/job/nope/buildWithParameters" "${A[@]}")"
eq "jenkins: GET buildWithParameters is refused" 405 "$(req GET "$P/buildWithParameters" "${A[@]}")"
eq "jenkins: /build of a plain job gets 201" 201 "$(req POST "$J/job/plain/build" "${A[@]}")"
eq "jenkins: folder job (escaped name) gets 201" 201 "$(req POST \
  "$J/job/ops/job/remediation/job/restart%20node/buildWithParameters?NODE=n1&HEALER_REMEDIATION_ID=f1" \
  "${A[@]}")"
eq "jenkins: folder lists its job" '["restart node"]' \
  "$(req GET "$J/job/ops/job/remediation/api/json" "${A[@]}" >/dev/null; jb '[j["name"] for j in d["jobs"]]')"


# --- build (J6)
req GET "$P/$bnum/api/json" "${A[@]}" >/dev/null
if [ "$(jb 'd["building"]')" = true ]; then
  eq "jenkins: running build has result null" null "$(jb 'd["result"]')"
fi
build_done() { req GET "$P/$bnum/api/json" "${A[@]}" >/dev/null; [ "$(jb 'd["building"]')" = false ]; }
poll 10 build_done
eq "jenkins: build ends SUCCESS" SUCCESS "$(jb 'd["result"]')"
eq "jenkins: build knows its queueId" "$qid" "$(jb 'd["queueId"]')"
eq "jenkins: label value arrives intact" "$weird" \
  "$(jb '{p["name"]: p["value"] for a in d["actions"] for p in a.get("parameters", [])}["NODE"]')"
eq "jenkins: default applied, undeclared ignored" "safe -" \
  "$(jb '(lambda p: p["MODE"] + " " + p.get("UNDECLARED", "-"))({p["name"]: p["value"] for a in d["actions"] for p in a.get("parameters", [])})')"
eq "jenkins: duration set once finished" true "$(jb 'd["duration"] > 0')"
eq "jenkins: ?tree= limits the fields" '["_class", "number", "result"]' \
  "$(req GET "$P/$bnum/api/json?tree=number,result" "${A[@]}" >/dev/null; jb 'sorted(d)')"
req GET "$P/api/json?tree=builds[number,queueId,actions[parameters[name,value]]]" "${A[@]}" >/dev/null
eq "jenkins: job lists builds findable by HEALER_REMEDIATION_ID" "$bnum" "$(jb '[b["number"] for b in d["builds"]
  for a in b["actions"] for p in a.get("parameters", []) if p["name"] == "HEALER_REMEDIATION_ID" and p["value"] == "rem-1"][0]')"
eq "jenkins: unknown build gets 404" 404 "$(req GET "$P/999/api/json" "${A[@]}")"

# --- every result, the intermediate result, a never-ending build, stop/term
fake_script jk '{"jobs": {"DockerPruneNode": {"parameters": {"NODE": "", "HEALER_REMEDIATION_ID": ""},
  "build_seconds": 0.3, "runs": [{"result": "UNSTABLE"}, {"result": "FAILURE"}, {"result": "NOT_BUILT"},
  {"result": "ABORTED"}, {"result": "SUCCESS", "intermediate_result": "FAILURE", "build_seconds": 6},
  {"build_seconds": null}]}}}'
for id in r-unstable r-failure r-notbuilt r-aborted r-intermediate r-forever; do
  req POST "$P/buildWithParameters?HEALER_REMEDIATION_ID=$id" "${A[@]}" >/dev/null
done
build_of() {  # build_of REMEDIATION_ID -> number (once started)
  req GET "$P/api/json?tree=builds[number,actions[parameters[name,value]]]" "${A[@]}" >/dev/null
  jb "[b['number'] for b in d['builds'] for a in b['actions'] for p in a.get('parameters', [])
       if p['value'] == '$1'][0]"
}
result_of() {  # result_of REMEDIATION_ID -> "building result"
  local n; n=$(build_of "$1") || return 1
  req GET "$P/$n/api/json" "${A[@]}" >/dev/null
  jb 'str(d["building"]).lower() + " " + str(d["result"])'
}
poll 5 build_of r-intermediate >/dev/null
eq "jenkins: intermediate result shows while building" "true FAILURE" "$(result_of r-intermediate)"
finished() { [[ "$(result_of "$1")" == false* ]]; }
for pair in r-unstable:UNSTABLE r-failure:FAILURE r-notbuilt:NOT_BUILT r-aborted:ABORTED \
            r-intermediate:FAILURE; do
  poll 20 finished "${pair%%:*}"
  eq "jenkins: scripted build ends ${pair#*:}" "false ${pair#*:}" "$(result_of "${pair%%:*}")"
done
sleep 0.5
eq "jenkins: never-ending build is still running" "true None" "$(result_of r-forever)"
n=$(build_of r-forever)
eq "jenkins: stop without Job/Cancel gets 403" 403 "$(req POST "$P/$n/stop" -u viewer:vt)"
eq "jenkins: stop gets 302" 302 "$(req POST "$P/$n/stop" "${A[@]}")"
eq "jenkins: stop redirects to the build" "$P/$n/" "$(hdr Location)"
eq "jenkins: stopped build ends ABORTED" "false ABORTED" "$(result_of r-forever)"
eq "jenkins: term on a freestyle build is 404" 404 "$(req POST "$P/$n/term" "${A[@]}")"
R="$J/job/ops/job/remediation/job/restart%20node"
fake_script jk '{"runs": {"ops/remediation/restart node": [{"build_seconds": null, "ignore_stop": true}]}}'
req POST "$R/buildWithParameters?HEALER_REMEDIATION_ID=pipe" "${A[@]}" >/dev/null
pipe_started() { req GET "$R/lastBuild/api/json" "${A[@]}" >/dev/null &&
  [ "$(jb 'd["actions"][0]["parameters"][1]["value"]')" = pipe ]; }
poll 5 pipe_started
pn=$(jb 'd["number"]')
req POST "$R/$pn/stop" "${A[@]}" >/dev/null
eq "jenkins: pipeline ignoring stop keeps building" true \
  "$(req GET "$R/$pn/api/json" "${A[@]}" >/dev/null; jb 'd["building"]')"
eq "jenkins: term on a pipeline gets 302" 302 "$(req POST "$R/$pn/term" "${A[@]}")"
eq "jenkins: term ends it ABORTED" "False ABORTED" \
  "$(req GET "$R/$pn/api/json" "${A[@]}" >/dev/null; jb 'str(d["building"]) + " " + d["result"]')"

# --- cancel (J5) and cancelled queue items
fake_script jk '{"jobs": {"DockerPruneNode": {"parameters": {"HEALER_REMEDIATION_ID": ""},
  "buildable_seconds": 60, "runs": [{}, {"buildable_seconds": 0.3, "cancel_in_queue": true}]}}}'
req POST "$P/buildWithParameters?HEALER_REMEDIATION_ID=q1" "${A[@]}" >/dev/null
q1=$(hdr Location | sed 's#.*/item/\([0-9]*\)/#\1#')
eq "jenkins: waiting item is BuildableItem" 'hudson.model.Queue$BuildableItem' \
  "$(req GET "$J/queue/item/$q1/api/json" "${A[@]}" >/dev/null; jb 'd["_class"]')"
eq "jenkins: queued item is listed in /queue/api/json" true \
  "$(req GET "$J/queue/api/json" "${A[@]}" >/dev/null; jb "any(i['id'] == $q1 for i in d['items'])")"
eq "jenkins: cancel without Job/Cancel gets 422" 422 "$(req POST "$J/queue/cancelItem?id=$q1" -u viewer:vt)"
eq "jenkins: cancel a queued item gets 204" 204 "$(req POST "$J/queue/cancelItem?id=$q1" "${A[@]}")"
req GET "$J/queue/item/$q1/api/json" "${A[@]}" >/dev/null
eq "jenkins: cancelled item is a LeftItem, cancelled, no executable" 'hudson.model.Queue$LeftItem True None' \
  "$(jb 'd["_class"] + " " + str(d["cancelled"]) + " " + str(d["executable"])')"
eq "jenkins: cancel an item that left gets 500" 500 "$(req POST "$J/queue/cancelItem?id=$q1" "${A[@]}")"
eq "jenkins: cancel an unknown item gets 404" 404 "$(req POST "$J/queue/cancelItem?id=99999" "${A[@]}")"
req POST "$P/buildWithParameters?HEALER_REMEDIATION_ID=q2" "${A[@]}" >/dev/null
q2=$(hdr Location | sed 's#.*/item/\([0-9]*\)/#\1#')
item_cancelled() { req GET "$J/queue/item/$q2/api/json" "${A[@]}" >/dev/null; [ "$(jb 'd.get("cancelled")')" = true ]; }
if poll 5 item_cancelled; then ok "jenkins: scripted queue item gets cancelled by Jenkins"
else bad "jenkins: scripted queue item gets cancelled by Jenkins" "$(body)"; fi
fake_script jk '{"left_ttl_seconds": 0.2}'
sleep 0.4
eq "jenkins: left item expires to 404" 404 "$(req GET "$J/queue/item/$q1/api/json" "${A[@]}")"

# --- faults, recording and control (shared base)
fake_reset jk
eq "jenkins: reset clears the record" 0 "$(fake_count jk)"
fake_script jk '{"faults": [{"status": 429, "retry_after": 7, "count": 2, "method": "POST",
  "path_prefix": "/job/DockerPruneNode/"}]}'
eq "jenkins: fault 429 (1/2)" 429 "$(req POST "$P/buildWithParameters?NODE=f" "${A[@]}")"
eq "jenkins: 429 carries Retry-After" 7 "$(hdr Retry-After)"
eq "jenkins: fault does not touch other paths" 200 "$(req GET "$J/queue/api/json" "${A[@]}")"
eq "jenkins: fault 429 (2/2)" 429 "$(req POST "$P/buildWithParameters?NODE=f" "${A[@]}")"
eq "jenkins: after K faults the real answer" 201 "$(req POST "$P/buildWithParameters?NODE=f" "${A[@]}")"
fake_script jk '{"faults": [{"status": 502, "count": 1}]}'
eq "jenkins: fault 5xx" 502 "$(req GET "$J/queue/api/json" "${A[@]}")"
eq "jenkins: 5xx then success" 200 "$(req GET "$J/queue/api/json" "${A[@]}")"
fake_script jk '{"faults": [{"kind": "delay", "seconds": 1.2}]}'
t0=$(date +%s%N); st=$(req GET "$J/queue/api/json" "${A[@]}"); t1=$(date +%s%N)
eq "jenkins: delayed reply still answers" 200 "$st"
if [ $(((t1 - t0) / 1000000)) -ge 1100 ]; then ok "jenkins: reply delayed by >= 1.1 s"
else bad "jenkins: reply delayed by >= 1.1 s" "$(((t1 - t0) / 1000000)) ms"; fi
fake_script jk '{"faults": [{"kind": "delay", "seconds": 3}]}'
req GET "$J/queue/api/json" "${A[@]}" --max-time 1 >/dev/null
eq "jenkins: delay beyond the client timeout times out (curl 28)" 28 "$(cat "$T/rc")"
fake_script jk '{"faults": [{"kind": "drop"}]}'
req GET "$J/queue/api/json" "${A[@]}" >/dev/null
eq "jenkins: dropped connection (curl 52, empty reply)" 52 "$(cat "$T/rc")"
fake_script jk '{"faults": [{"kind": "reset"}]}'
req GET "$J/queue/api/json" "${A[@]}" >/dev/null
eq "jenkins: reset connection (curl 56)" 56 "$(cat "$T/rc")"
fake_script jk '{"jobs": {"DockerPruneNode": {"parameters": {"HEALER_REMEDIATION_ID": ""}, "buildable_seconds": 60}},
  "faults": [{"kind": "drop", "phase": "after", "path": "/job/DockerPruneNode/buildWithParameters"}]}'
req POST "$P/buildWithParameters?HEALER_REMEDIATION_ID=lost-reply" "${A[@]}" >/dev/null
eq "jenkins: drop after processing loses the reply" 52 "$(cat "$T/rc")"
eq "jenkins: ... but the item was queued" true \
  "$(req GET "$J/queue/api/json" "${A[@]}" >/dev/null; jb '"HEALER_REMEDIATION_ID=lost-reply" in "".join(i["params"] for i in d["items"])')"
reqs=$(fake_get_requests jk "path=/job/DockerPruneNode/buildWithParameters")
eq "jenkins: recorded the dropped request and its fault" "drop None" \
  "$(fake_py 'd[-1]["fault"]["kind"] + " " + str(d[-1]["status"])' <<<"$reqs")"
eq "jenkins: records method, raw query, headers" "POST HEALER_REMEDIATION_ID=lost-reply Basic" \
  "$(fake_py 'd[-1]["method"] + " " + d[-1]["query"] + " " + d[-1]["headers"]["authorization"].split()[0]' <<<"$reqs")"
eq "jenkins: count filters by status" 2 "$(fake_count jk 'status=429')"
eq "jenkins: a bad script is refused with 400" 400 \
  "$(req POST "$J/_fake/script" -H 'Content-Type: application/json' -d '{"jobs": {"x": {"bogus": 1}}}')"
eq "jenkins: health names the service" jenkins \
  "$(req GET "$J/_fake/health" >/dev/null; jb 'd["service"]')"

# --- down and back
jport=$(fake_port jk)
fake_stop jk
eq "jenkins: stopped fake refuses connections (curl 7)" 7 \
  "$(req GET "$J/queue/api/json" "${A[@]}" >/dev/null; cat "$T/rc")"
eq "jenkins: port file removed on SIGTERM" no "$([ -e "$T/jk.port" ] && echo yes || echo no)"
fake_restart jk
eq "jenkins: restart listens on the same port" "$jport" "$(fake_port jk)"
eq "jenkins: restarted fake answers" 200 "$(req GET "$J/queue/api/json" "${A[@]}")"
fake_stop jk

# --- --max-requests
fake_start tiny jenkins --max-requests 2 --user bot --token tok
TU=$(fake_url tiny)
req GET "$TU/queue/api/json" "${A[@]}" >/dev/null; req GET "$TU/queue/api/json" "${A[@]}" >/dev/null
eq "jenkins: request over --max-requests gets 503" 503 "$(req GET "$TU/queue/api/json" "${A[@]}")"
gone() { ! kill -0 "${FAKE_PID[tiny]}" 2>/dev/null; }
if poll 5 gone; then ok "jenkins: fake exits after --max-requests"; else bad "jenkins: fake exits after --max-requests"; fi
fake_stop tiny

# =================================================================== Slack ==
echo "== fake Slack"
fake_start sl slack "${LIMITS[@]}" --hook /services/T1/B1/secret || exit 1
S=$(fake_url sl)
H="$S/services/T1/B1/secret"
CJ=(-H 'Content-Type: application/json')
eq "slack: text message gets 200" 200 "$(req POST "$H" "${CJ[@]}" -d '{"text":"healer: restart-node FAILED"}')"
eq "slack: body is exactly ok" ok "$(body)"
eq "slack: blocks-only message gets 200" 200 \
  "$(req POST "$H" "${CJ[@]}" -d '{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*x*"}}]}')"
eq "slack: legacy form payload= gets 200" 200 "$(req POST "$H" --data-urlencode 'payload={"text":"form"}')"
eq "slack: malformed JSON gets 400" 400 "$(req POST "$H" "${CJ[@]}" -d '{"text":')"
eq "slack: ... invalid_payload" invalid_payload "$(body)"
eq "slack: JSON sent as a form (curl/libcurl default type) gets 400" 400 "$(req POST "$H" -d '{"text":"x"}')"
eq "slack: no text and no blocks gets 400" 400 "$(req POST "$H" "${CJ[@]}" -d '{"username":"x"}')"
eq "slack: ... no_text" no_text "$(body)"
eq "slack: unknown hook gets 404" 404 "$(req POST "$S/services/T1/B1/wrong" "${CJ[@]}" -d '{"text":"x"}')"
eq "slack: ... no_service" no_service "$(body)"
fake_script sl '{"hooks": {"/services/T1/B1/secret": "channel_is_archived"}}'
eq "slack: archived channel gets 410" 410 "$(req POST "$H" "${CJ[@]}" -d '{"text":"x"}')"
eq "slack: ... channel_is_archived" channel_is_archived "$(body)"
fake_script sl '{"hooks": {"/services/T1/B1/secret": "ok"}, "rate_per_second": 0.1, "burst": 1}'
req POST "$H" "${CJ[@]}" -d '{"text":"r1"}' >/dev/null
eq "slack: over the rate gets 429" 429 "$(req POST "$H" "${CJ[@]}" -d '{"text":"r2"}')"
ra=$(hdr Retry-After)
if [[ "$ra" =~ ^[0-9]+$ ]] && ((ra >= 1 && ra <= 10)); then ok "slack: 429 carries Retry-After in seconds"
else bad "slack: 429 carries Retry-After in seconds" "[$ra]"; fi
fake_script sl '{"rate_per_second": 0, "faults": [{"status": 500, "body": "rollup_error"}]}'
eq "slack: injected 500 rollup_error" "500 rollup_error" "$(req POST "$H" "${CJ[@]}" -d '{"text":"x"}') $(body)"
eq "slack: accepted messages are in the state" '["healer: restart-node FAILED", null, "form", "r1"]' \
  "$(fake_state sl | fake_py '[m["payload"].get("text") for m in d["messages"]]')"
eq "slack: every request recorded" 11 "$(fake_count sl)"
fake_stop sl

# ==================================================================== Jira ==
echo "== fake Jira"
fake_start ji jira "${LIMITS[@]}" --email bot@example.com --token jt --pat PAT1 || exit 1
I="$(fake_url ji)/rest/api/2"
JA=(-u bot@example.com:jt -H 'Content-Type: application/json')
new_issue() { printf '{"fields":{"project":{"key":"%s"},"issuetype":{"name":"%s"},"summary":"%s","description":"d","labels":%s}}' "$@"; }
eq "jira: no credentials gets 401" 401 "$(req POST "$I/issue" -H 'Content-Type: application/json' -d "$(new_issue OPS Task s '[]')")"
eq "jira: wrong token gets 401" 401 "$(req GET "$I/myself" -u bot@example.com:nope)"
eq "jira: PAT as a Basic password gets 401" 401 "$(req GET "$I/myself" -u bot@example.com:PAT1)"
eq "jira: Cloud Basic email:token creates 201" 201 \
  "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue OPS Incident 'healer: FAILED 738e04ac61a520a1' '["healer","auto-remediation"]')")"
eq "jira: first key is OPS-1" OPS-1 "$(jb 'd["key"]')"
eq "jira: self points at the issue id" "$I/issue/$(jb 'd["id"]')" "$(jb 'd["self"]')"
eq "jira: Data Center Bearer PAT creates OPS-2" "201 OPS-2" "$(req POST "$I/issue" -H 'Authorization: Bearer PAT1' \
  -H 'Content-Type: application/json' -d "$(new_issue OPS Task other '["healer"]')") $(jb 'd["key"]')"
eq "jira: missing summary gets 400" 400 "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue OPS Task '' '[]')")"
eq "jira: ... errors.summary" "You must specify a summary of the issue." "$(jb 'd["errors"]["summary"]')"
eq "jira: unknown project gets 400 errors.project" "400 valid project is required" \
  "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue NOPE Task s '[]')") $(jb 'd["errors"]["project"]')"
eq "jira: unknown issue type gets 400 errors.issuetype" "400 valid issue type is required" \
  "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue OPS Epic s '[]')") $(jb 'd["errors"]["issuetype"]')"
eq "jira: label with a space gets 400" 400 "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue OPS Task s '["a b"]')")"
eq "jira: v2 ADF description gets 400" 400 "$(req POST "$I/issue" "${JA[@]}" \
  -d '{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"s","description":{"type":"doc","version":1,"content":[]}}}')"
eq "jira: v3 ADF description gets 201" 201 "$(req POST "${I%/2}/3/issue" "${JA[@]}" \
  -d '{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"v3","description":{"type":"doc","version":1,"content":[]}}}')"
eq "jira: form content type fails the XSRF check" 403 "$(req POST "$I/issue" -u bot@example.com:jt -d 'x=1')"
eq "jira: malformed JSON gets 400" 400 "$(req POST "$I/issue" "${JA[@]}" -d '{"fields":')"
eq "jira: comment gets 201" 201 "$(req POST "$I/issue/OPS-1/comment" "${JA[@]}" -d '{"body":"retry 2 FAILED"}')"
eq "jira: comment echoes its body" "retry 2 FAILED" "$(jb 'd["body"]')"
eq "jira: comment on an unknown issue gets 404" 404 "$(req POST "$I/issue/OPS-99/comment" "${JA[@]}" -d '{"body":"x"}')"
eq "jira: empty comment gets 400" 400 "$(req POST "$I/issue/OPS-1/comment" "${JA[@]}" -d '{"body":""}')"
eq "jira: GET issue shows the comment" 1 \
  "$(req GET "$I/issue/OPS-1" "${JA[@]}" >/dev/null; jb 'd["fields"]["comment"]["total"]')"
eq "jira: JQL labels AND summary finds OPS-1" '1 ["OPS-1"]' "$(req GET "$I/search" "${JA[@]}" -G \
  --data-urlencode 'jql=project = OPS AND labels = healer AND summary ~ "738e04ac61a520a1" ORDER BY created DESC' \
  >/dev/null; jb 'str(d["total"]) + " " + json.dumps([i["key"] for i in d["issues"]])')"
eq "jira: JQL labels IN finds both" 2 "$(req POST "$I/search" "${JA[@]}" -d '{"jql":"labels in (healer, nothing)"}' \
  >/dev/null; jb 'd["total"]')"
eq "jira: JQL OR is outside the subset: 400" 400 "$(req GET "$I/search" "${JA[@]}" -G --data-urlencode 'jql=labels = a OR labels = b')"
eq "jira: JQL summary = is refused like Jira: 400" 400 "$(req GET "$I/search" "${JA[@]}" -G --data-urlencode 'jql=summary = x')"
fake_script ji '{"create_denied": 403, "faults": [{"status": 429, "retry_after": 3, "count": 1}]}'
eq "jira: injected 429" 429 "$(req GET "$I/myself" "${JA[@]}")"
eq "jira: 429 carries Retry-After" 3 "$(hdr Retry-After)"
eq "jira: scripted permission failure gets 403" 403 "$(req POST "$I/issue" "${JA[@]}" -d "$(new_issue OPS Task s '[]')")"
eq "jira: state holds the created issues" '["OPS-1", "OPS-2", "OPS-3"]' \
  "$(fake_state ji | fake_py '[i["key"] for i in d["issues"]]')"
fake_stop ji

# =============================================================== PagerDuty ==
echo "== fake PagerDuty"
fake_start pd pagerduty "${LIMITS[@]}" || exit 1
E="$(fake_url pd)/v2/enqueue"
RK=0123456789abcdef0123456789abcdef
ev() { printf '{"routing_key":"%s","event_action":"%s"%s%s}' "$RK" "$1" \
  "${2:+,\"dedup_key\":\"$2\"}" "${3:+,\"payload\":$3}"; }
PL='{"summary":"Auto-remediation FAILED","source":"node1","severity":"critical"}'
eq "pagerduty: trigger gets 202" 202 "$(req POST "$E" "${CJ[@]}" -d "$(ev trigger healer/fp1 "$PL")")"
eq "pagerduty: success body" "success Event processed healer/fp1" \
  "$(jb 'd["status"] + " " + d["message"] + " " + d["dedup_key"]')"
req POST "$E" "${CJ[@]}" -d "$(ev trigger "" "$PL")" >/dev/null
eq "pagerduty: trigger without dedup_key gets a generated one" 36 "$(jb 'len(d["dedup_key"])')"
req POST "$E" "${CJ[@]}" -d "$(ev trigger healer/fp1 "$PL")" >/dev/null
req POST "$E" "${CJ[@]}" -d "$(ev acknowledge healer/fp1)" >/dev/null
eq "pagerduty: same dedup_key appends to one acknowledged alert" "1 2 acknowledged" \
  "$(fake_state pd | fake_py '(lambda a: "%d %d %s" % (len(a), a[0]["triggers"], a[0]["status"]))([x for x in d["alerts"] if x["dedup_key"] == "healer/fp1"])')"
req POST "$E" "${CJ[@]}" -d "$(ev resolve healer/fp1)" >/dev/null
req POST "$E" "${CJ[@]}" -d "$(ev trigger healer/fp1 "$PL")" >/dev/null
eq "pagerduty: trigger after resolve opens a new alert" "resolved triggered" \
  "$(fake_state pd | fake_py '" ".join(x["status"] for x in d["alerts"] if x["dedup_key"] == "healer/fp1")')"
eq "pagerduty: resolve of an unknown key is 202 but dropped" "202 1" \
  "$(req POST "$E" "${CJ[@]}" -d "$(ev resolve nope)") $(fake_state pd | fake_py 'len(d["dropped"])')"
eq "pagerduty: short routing_key gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d '{"routing_key":"x","event_action":"trigger","payload":'"$PL"'}')"
eq "pagerduty: 400 body shape" "invalid event Event object is invalid True" \
  "$(jb 'd["status"] + " " + d["message"] + " " + str(len(d["errors"]) > 0)')"
eq "pagerduty: bad severity gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d "$(ev trigger k '{"summary":"s","source":"h","severity":"high"}')")"
eq "pagerduty: trigger without payload.summary gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d "$(ev trigger k '{"source":"h","severity":"info"}')")"
eq "pagerduty: acknowledge without dedup_key gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d "$(ev acknowledge)")"
eq "pagerduty: bad event_action gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d "$(ev escalate k)")"
eq "pagerduty: malformed JSON gets 400" 400 "$(req POST "$E" "${CJ[@]}" -d '{')"
"$FAKE_PYTHON" -c 'import json, sys; print(json.dumps({"routing_key": sys.argv[1], "event_action": "trigger",
  "payload": {"summary": "s", "source": "h", "severity": "info", "custom_details": {"x": "a" * 600000}}}))' \
  "$RK" >"$T/big"
eq "pagerduty: event over 512 KB gets 400" 400 "$(req POST "$E" "${CJ[@]}" --data-binary @"$T/big")"
fake_script pd '{"faults": [{"status": 429, "retry_after": null}]}'
eq "pagerduty: injected 429 without Retry-After" "429 " "$(req POST "$E" "${CJ[@]}" -d "$(ev trigger k "$PL")") $(hdr Retry-After)"
fake_stop pd

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || { fake_logs; exit 1; }
