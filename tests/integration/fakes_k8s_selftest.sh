#!/usr/bin/env bash
# fakes_k8s_selftest.sh - drives tests/fakes/fake_kubernetes.py with curl over
# HTTPS (test CA + client certificate, from tests/fakes/mkcerts.sh) through
# every state machine and failure mode of README.md "Kubernetes", so that
# healer's tests can rely on it. Loopback only; bounded to 120 s (it takes
# about 25 s, 40 s on a loaded 2-core machine). Exit status 0 when every
# check passes.
set -u
[ -n "${FAKES_K8S_SELFTEST_BOUNDED:-}" ] || FAKES_K8S_SELFTEST_BOUNDED=1 exec timeout 120 bash "$0" "$@"
cd "$(dirname "$0")/../.."
. tests/fakes/lib.sh
T=$FAKE_DIR
LIMITS=(--max-requests 3000 --max-seconds 110)
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -z "${2:-}" ] || printf '     %s\n' "$2"; }
eq() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected [$2], got [$3]"; fi; }
has() { if [[ "$3" == *"$2"* ]]; then ok "$1"; else bad "$1" "[$2] not in [${3:0:400}]"; fi; }
# req METHOD URL [CURL ARGS]: prints the status; headers in $T/h, body in $T/b,
# curl's exit status in $T/rc. Talks to fake $FK (default k8) with its TLS files.
req() {
  local m=$1 u=$2 rc; shift 2
  : >"$T/h"; : >"$T/b"
  fake_curl "${FK:-k8}" -sS -g --max-time 10 -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" "$@" "$u" 2>"$T/err"
  rc=$?; echo "$rc" >"$T/rc"
}
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
body() { cat "$T/b"; }
# jb EXPR: fake_py EXPR on the last body, evaluated by one long-lived python
# (a python start per check would dominate the run time on a loaded machine).
mkfifo "$T/jb.in" "$T/jb.out" || exit 1
"$FAKE_PYTHON" -S -u -c '
import json, sys
for line in sys.stdin:
    path, expr = line.rstrip("\n").split("\t", 1)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        v = eval(expr, {"d": d, "json": json})
        out = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        rc = 1 if v is False or v is None or v in ("", [], {}) else 0
    except Exception:
        out, rc = "", 2
    print("%d\t%s" % (rc, out.replace("\n", "\\n")))
' <"$T/jb.in" >"$T/jb.out" &
JB_PID=$!
exec 7>"$T/jb.in" 8<"$T/jb.out"
trap 'exec 7>&-; kill "$JB_PID" 2>/dev/null; fake_cleanup' EXIT
jb() {
  local line
  printf '%s\t%s\n' "$T/b" "${1//$'\n'/ }" >&7
  IFS= read -r line <&8 || return 2
  printf '%s\n' "${line#*$'\t'}"
  return "${line%%$'\t'*}"
}
poll() {  # poll SECONDS CMD...: rerun CMD until it succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || return 1; sleep 0.1; done
}
check() {  # check NAME SECONDS CMD...: ok when CMD succeeds within SECONDS
  local name=$1 secs=$2; shift 2
  if poll "$secs" "$@"; then ok "$name"; else bad "$name" "last body: $(head -c 400 "$T/b")"; fi
}
state() { fake_state k8 >"$T/b"; }

# ================================================================== TLS ==
echo "== fake Kubernetes: TLS"
C=$T/certs
t0=$(date +%s%N)
bash tests/fakes/mkcerts.sh "$C" || { echo "mkcerts.sh failed"; exit 1; }
eq "mkcerts: makes the six files" "ca.crt ca.key client.crt client.key server.crt server.key" \
  "$(cd "$C" && ls | tr '\n' ' ' | sed 's/ $//')"
sum=$(cat "$C"/*.crt | md5sum)
bash tests/fakes/mkcerts.sh "$C"
eq "mkcerts: idempotent (a second run changes nothing)" "$sum" "$(cat "$C"/*.crt | md5sum)"
has "mkcerts: server SAN" "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost" \
  "$(openssl x509 -in "$C/server.crt" -noout -ext subjectAltName 2>/dev/null)"
has "mkcerts: client CN=healer" "CN = healer" "$(openssl x509 -in "$C/client.crt" -noout -subject)"
eq "mkcerts: certs verify against the CA" "OK OK" \
  "$(openssl verify -CAfile "$C/ca.crt" "$C/server.crt" "$C/client.crt" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')"

cat >"$T/script.json" <<'EOF'
{"namespaces": ["default", "remediation", "shop", "kube-system"], "delete_seconds": 1,
 "terminating_namespaces": ["dying"],
 "nodes": {"node-a": {"labels": {"pool": "general"}}, "node-b": {}},
 "job_behaviour": {
   "heal-ok-": {"start_seconds": 0.2, "run_seconds": 0.6, "failed": 1},
   "heal-fail-": {"start_seconds": 0.2, "run_seconds": 0.6, "outcome": "Failed", "failed": 3},
   "heal-never-": {"outcome": "Never"},
   "heal-deadline-": {"outcome": "Never"},
   "heal-pending-": {"start_seconds": 60},
   "heal-ttl-": {"start_seconds": 0.1, "run_seconds": 0.1}},
 "pdbs": {"web": {"block_count": 2, "desired_healthy": 2, "current_healthy": 2},
          "always": {"block_count": -1}, "stale": {"stale_count": 1},
          "neg": {"disruptions_allowed_negative": true}},
 "pods": [
   {"name": "web-1", "namespace": "shop", "node": "node-a", "labels": {"app": "web"},
    "owner": {"kind": "ReplicaSet", "name": "web-7d4c9"}, "pdb": "web"},
   {"name": "web-2", "namespace": "shop", "node": "node-a", "labels": {"app": "web"},
    "owner": {"kind": "ReplicaSet", "name": "web-7d4c9"}, "pdb": "web"},
   {"name": "db-0", "namespace": "shop", "node": "node-a", "owner": {"kind": "StatefulSet", "name": "db"},
    "pdb": ["db", "db-extra"]},
   {"name": "done-1", "namespace": "shop", "node": "node-a", "phase": "Succeeded",
    "owner": {"kind": "Job", "name": "batch-1"}},
   {"name": "pend-1", "namespace": "shop", "node": "node-a", "phase": "Pending", "pdb": "always",
    "owner": {"kind": "ReplicaSet", "name": "p"}},
   {"name": "slow-1", "namespace": "shop", "node": "node-a", "evict_delete_seconds": 30,
    "owner": {"kind": "ReplicaSet", "name": "s"}},
   {"name": "stale-1", "namespace": "shop", "node": "node-a", "pdb": "stale",
    "owner": {"kind": "ReplicaSet", "name": "s"}},
   {"name": "neg-1", "namespace": "shop", "node": "node-a", "pdb": "neg",
    "owner": {"kind": "ReplicaSet", "name": "s"}},
   {"name": "ds-1", "namespace": "kube-system", "node": "node-a", "owner": {"kind": "DaemonSet", "name": "ds"}},
   {"name": "static-1", "namespace": "kube-system", "node": "node-a", "mirror": true},
   {"name": "bare-1", "namespace": "default", "node": "node-a", "owner": null, "empty_dir": true},
   {"name": "other-1", "namespace": "shop", "node": "node-b", "pdb": "always",
    "owner": {"kind": "ReplicaSet", "name": "o"}},
   {"name": "dy-1", "namespace": "dying", "node": "node-b", "owner": {"kind": "ReplicaSet", "name": "d"}}],
 "deployments": {
   "shop/web": {"replicas": 3, "observe_seconds": 0.3, "rollout_seconds": 1.2},
   "shop/stuck": {"replicas": 2, "observe_seconds": 0.2, "rollout_seconds": 0.6,
                  "progress_deadline_exceeded": true},
   "shop/frozen": {"replicas": 2, "paused": true, "observe_seconds": 0.2, "rollout_seconds": 0.4}}}
EOF
fake_start k8 kubernetes "${LIMITS[@]}" --tls-cert "$C/server.crt" --tls-key "$C/server.key" \
  --tls-client-ca "$C/ca.crt" --token tok1 --script "$T/script.json" || exit 1
K=$(fake_url k8)
A=(-H 'Authorization: Bearer tok1')
CJ=(-H 'Content-Type: application/json')
PORT=$(fake_port k8)

eq "tls: fake_url is https" "https://127.0.0.1:$PORT" "$K"
eq "tls: CA + client certificate + token gets 200" 200 "$(req GET "$K/api/v1/nodes/node-a" "${A[@]}")"
eq "tls: https://localhost verifies too (SAN DNS:localhost)" 200 \
  "$(req GET "https://localhost:$PORT/api/v1/nodes/node-a" "${A[@]}")"
curl -sS --max-time 10 --cacert "$C/ca.crt" "${A[@]}" -o /dev/null "$K/api/v1/nodes" 2>/dev/null; rc=$?
# TLS 1.3 reports the refusal at the first read or write: 55 or 56 (35 in TLS 1.2)
if [ "$rc" = 35 ] || [ "$rc" = 55 ] || [ "$rc" = 56 ]; then ok "tls: no client certificate: handshake refused (curl $rc)"
else bad "tls: no client certificate: handshake refused" "curl exit $rc"; fi
curl -sS --max-time 10 --cert "$C/client.crt" --key "$C/client.key" -o /dev/null "$K/version" 2>/dev/null
eq "tls: server not trusted without the CA (curl 60)" 60 "$?"
curl -sS --max-time 10 -o /dev/null "http://127.0.0.1:$PORT/version" 2>/dev/null; rc=$?
if [ "$rc" != 0 ]; then ok "tls: plain HTTP to the TLS port fails (curl $rc)"; else bad "tls: plain HTTP to the TLS port fails"; fi
eq "tls: the record shows the client certificate's CN" "healer TLSv1" \
  "$(fake_get_requests k8 | fake_py 'd[-1]["tls"]["client_cn"] + " " + d[-1]["tls"]["version"][:5]')"
has "tls: handshake failures are logged" "TLS handshake failed" "$(cat "$T/k8.log")"

# ================================================================= auth ==
echo "== fake Kubernetes: auth (section 3.1)"
U401='{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}'
eq "auth: wrong token gets 401" 401 "$(req GET "$K/api/v1/nodes" -H 'Authorization: Bearer nope')"
eq "auth: 401 body is the Status" "$U401" "$(body)"
eq "auth: errors are application/json" application/json "$(hdr Content-Type)"
eq "auth: no credentials is system:anonymous: 403" 403 "$(req GET "$K/api/v1/nodes")"
has "auth: ... and says so" 'nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"\" at the cluster scope' "$(body)"
eq "auth: Basic is not a Kubernetes credential (anonymous)" 403 "$(req GET "$K/api/v1/nodes" -u a:b)"
eq "auth: /version is public" 200 "$(req GET "$K/version")"
fake_script k8 '{"anonymous_status": 401}'
eq "auth: anonymous_status 401" 401 "$(req GET "$K/api/v1/nodes")"
fake_script k8 '{"anonymous_status": 403, "tokens": ["tok2"]}'
eq "auth: rotated: the old token gets 401" 401 "$(req GET "$K/api/v1/nodes" "${A[@]}")"
eq "auth: rotated: the new token works" 200 "$(req GET "$K/api/v1/nodes" -H 'Authorization: Bearer tok2')"
fake_script k8 '{"tokens": ["tok1"]}'
eq "auth: rotated back" 200 "$(req GET "$K/api/v1/nodes" "${A[@]}")"
fake_script k8 '{"client_cert_auth": true}'
eq "auth: client_cert_auth: the certificate alone authenticates" 200 "$(req GET "$K/api/v1/nodes")"
fake_script k8 '{"client_cert_auth": false}'

POD_SPEC='{"restartPolicy":"Never","containers":[{"name":"fix","image":"registry.example/healer-fix:1.4"}]}'
job_body() {  # job_body METADATA-JSON [SPEC-PREFIX] [POD-SPEC-JSON]
  printf '{"apiVersion":"batch/v1","kind":"Job","metadata":%s,"spec":{%s"template":{"spec":%s}}}' \
    "$1" "${2:-}" "${3:-$POD_SPEC}"
}
gen() { printf '{"generateName":"%s","labels":{"app.kubernetes.io/managed-by":"healer","healer/fingerprint":"%s"}}' "$1" "$2"; }
JOBS=$K/apis/batch/v1/namespaces/remediation/jobs

fake_script k8 '{"forbid": [{"method": "POST", "resource": "jobs", "count": 1}]}'
eq "auth: forbid rule: 403" 403 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body "$(gen heal-x- fp)")")"
eq "auth: 403 message names user, verb, resource, group, namespace" \
  'Forbidden jobs.batch is forbidden: User "system:serviceaccount:remediation:healer" cannot create resource "jobs" in API group "batch" in the namespace "remediation"' \
  "$(jb 'd["reason"] + " " + d["message"]')"
eq "auth: forbid rule spares other verbs" 200 "$(req GET "$JOBS" "${A[@]}")"

# ================================================================= jobs ==
echo "== fake Kubernetes: Jobs (sections 3.3, 3.4)"
create() {  # create VAR BODY [NS]: POST the Job; VAR := its name, CST := the status
  CST=$(req POST "$K/apis/batch/v1/namespaces/${3:-remediation}/jobs" "${A[@]}" "${CJ[@]}" -d "$2")
  printf -v "$1" '%s' "$(jb 'd["metadata"]["name"]')"
}
create j_ok "$(job_body "$(gen heal-ok- fp-ok)")"
eq "jobs: create with generateName gets 201" 201 "$CST"
cp "$T/b" "$T/created.json"
if [[ "$j_ok" =~ ^heal-ok-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]]; then ok "jobs: name = generateName + 5 random characters"
else bad "jobs: name = generateName + 5 random characters" "[$j_ok]"; fi
eq "jobs: server fills uid, resourceVersion, creationTimestamp, generation" "36 True True 1" \
  "$(jb '(lambda m: "%d %s %s %d" % (len(m["uid"]), m["resourceVersion"].isdigit(), m["creationTimestamp"].endswith("Z"), m["generation"]))(d["metadata"])')"
eq "jobs: generated selector is the controller uid" true \
  "$(jb 'd["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == d["metadata"]["uid"]')"
eq "jobs: template labels job-name and controller-uid" true \
  "$(jb '(lambda l, m: l["job-name"] == m["name"] and l["controller-uid"] == m["uid"] and l["batch.kubernetes.io/job-name"] == m["name"])(d["spec"]["template"]["metadata"]["labels"], d["metadata"])')"
eq "jobs: defaults backoffLimit 6, completions 1, status {}" "6 1 {}" \
  "$(jb '"%s %s %s" % (d["spec"]["backoffLimit"], d["spec"]["completions"], json.dumps(d["status"]))')"
eq "jobs: labels kept" fp-ok "$(jb 'd["metadata"]["labels"]["healer/fingerprint"]')"
create j_fail "$(job_body "$(gen heal-fail- fp-fail)")"
create j_never "$(job_body "$(gen heal-never- fp-never)")"
create j_dl "$(job_body "$(gen heal-deadline- fp-dl)" '"activeDeadlineSeconds":1,')"
create j_pend "$(job_body "$(gen heal-pending- fp-pend)")"
create j_ttl "$(job_body "$(gen heal-ttl- fp-ttl)" '"ttlSecondsAfterFinished":1,')"
create j_def "$(job_body "$(gen other- fp-def)")"
eq "jobs: all created" 7 "$(for j in "$j_ok" "$j_fail" "$j_never" "$j_dl" "$j_pend" "$j_ttl" "$j_def"; do [ -n "$j" ] && echo x; done | wc -l)"

req GET "$JOBS/$j_pend" "${A[@]}" >/dev/null
eq "jobs: before the controller acts: no status" "{}" "$(jb 'json.dumps(d["status"])')"
job_is() {  # job_is NAME PY-EXPR
  [ "$(req GET "$JOBS/$1" "${A[@]}")" = 200 ] && [ "$(jb "$2")" = true ]
}
check "jobs: running: active=1 with startTime, no condition" 10 \
  job_is "$j_never" '"startTime" in d["status"] and d["status"].get("active") == 1 and not d["status"].get("conditions")'
terminal() { job_is "$1" 'any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in d["status"].get("conditions", []))'; }
check "jobs: Complete reached" 10 terminal "$j_ok"
eq "jobs: Complete: succeeded 1, no active, completionTime, failed 1 (one retry)" "1 None True 1" \
  "$(jb '(lambda s: "%s %s %s %s" % (s.get("succeeded"), s.get("active"), "completionTime" in s, s.get("failed")))(d["status"])')"
eq "jobs: Complete: SuccessCriteriaMet first, then Complete" "SuccessCriteriaMet:CompletionsReached Complete:CompletionsReached" \
  "$(jb '" ".join(c["type"] + ":" + c["reason"] for c in d["status"]["conditions"])')"
check "jobs: Failed reached" 10 terminal "$j_fail"
eq "jobs: Failed: FailureTarget then Failed, BackoffLimitExceeded, failed 3, no completionTime" \
  "FailureTarget:BackoffLimitExceeded Failed:BackoffLimitExceeded 3 False" \
  "$(jb '" ".join(c["type"] + ":" + c["reason"] for c in d["status"]["conditions"]) + " %s %s" % (d["status"]["failed"], "completionTime" in d["status"])')"
eq "jobs: Failed: message" "Job has reached the specified backoff limit" "$(jb 'd["status"]["conditions"][-1]["message"]')"
check "jobs: activeDeadlineSeconds fails a Never job" 10 terminal "$j_dl"
eq "jobs: ... with DeadlineExceeded" "Failed DeadlineExceeded 1" \
  "$(jb 'd["status"]["conditions"][-1]["type"] + " " + d["status"]["conditions"][-1]["reason"] + " " + str(d["status"]["failed"])')"
check "jobs: a job no behaviour matches completes (the default)" 10 terminal "$j_def"
state
eq "jobs: history of the Complete job (state)" \
  '["created", "active=1", "failed=1,active=1", "SuccessCriteriaMet:CompletionsReached", "Complete:CompletionsReached"]' \
  "$(jb "[h['event'] for j in d['jobs'] if j['name'] == '$j_ok' for h in j['history']]")"
eq "jobs: history of the Failed job: failed climbs while active" \
  '["created", "active=1", "failed=1,active=1", "failed=2,active=1", "FailureTarget:BackoffLimitExceeded", "Failed:BackoffLimitExceeded"]' \
  "$(jb "[h['event'] for j in d['jobs'] if j['name'] == '$j_fail' for h in j['history']]")"
eq "jobs: resourceVersions grow with every change" true \
  "$(jb "(lambda r: r == sorted(r) and len(set(r)) == len(r))([int(h['resourceVersion']) for j in d['jobs'] if j['name'] == '$j_ok' for h in j['history']])")"
gone() { [ "$(req GET "$JOBS/$1" "${A[@]}")" = 404 ]; }
check "jobs: ttlSecondsAfterFinished: 404 after finishing" 10 gone "$j_ttl"
state
eq "jobs: ... it was Complete first, then deleted in the foreground" "Complete:CompletionsReached Foreground ttlSecondsAfterFinished" \
  "$(jb "[(lambda h: ' '.join([h[h.index('deleting (Foreground)') - 1], j['deletion']['policy'], j['deletion']['source']]))([x['event'] for x in j['history']]) for j in d['jobs'] if j['name'] == '$j_ttl'][0]")"
eq "jobs: 404 is a NotFound Status" 'NotFound jobs.batch "'"$j_ttl"'" not found' \
  "$(req GET "$JOBS/$j_ttl" "${A[@]}" >/dev/null; jb 'd["reason"] + " " + d["message"]')"

req GET "$K/api/v1/namespaces/remediation/pods?labelSelector=job-name%3D$j_ok" "${A[@]}" >/dev/null
eq "jobs: its pods are found by labelSelector job-name=" '["Failed", "Succeeded"]' \
  "$(jb 'sorted(p["status"]["phase"] for p in d["items"])')"
eq "jobs: pods are owned by the Job" "Job $j_ok True" \
  "$(jb '" ".join(str(x) for x in [d["items"][0]["metadata"]["ownerReferences"][0][k] for k in ("kind", "name", "controller")])')"

# fixed names, collisions, validation, admission
FIXED=$(job_body '{"name":"heal-fixed"}')
eq "jobs: fixed name gets 201" 201 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$FIXED")"
eq "jobs: duplicate name gets 409" 409 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$FIXED")"
eq "jobs: ... AlreadyExists Status" 'AlreadyExists jobs.batch "heal-fixed" already exists heal-fixed batch jobs' \
  "$(jb '" ".join([d["reason"], d["message"], d["details"]["name"], d["details"]["group"], d["details"]["kind"]])')"
fake_script k8 '{"name_suffixes": ["zzzzz", "zzzzz"]}'
create j_c "$(job_body "$(gen heal-coll- c)")"
eq "jobs: scripted suffix" "201 heal-coll-zzzzz" "$CST $j_c"
eq "jobs: generateName collision gets 409 AlreadyExists" "409 AlreadyExists" \
  "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body "$(gen heal-coll- c)")") $(jb 'd["reason"]')"
eq "jobs: no containers gets 422" 422 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v1"}' '' '{"restartPolicy":"Never"}')")"
eq "jobs: ... Invalid, cause FieldValueRequired on spec.template.spec.containers" \
  'Invalid FieldValueRequired spec.template.spec.containers Job.batch "v1" is invalid: spec.template.spec.containers: Required value' \
  "$(jb '" ".join([d["reason"], d["details"]["causes"][0]["reason"], d["details"]["causes"][0]["field"], d["message"]])')"
eq "jobs: empty containers gets 422" 422 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v2"}' '' '{"restartPolicy":"Never","containers":[]}')")"
eq "jobs: no restartPolicy (defaults to Always) gets 422" 422 \
  "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v3"}' '' '{"containers":[{"name":"c","image":"i:1"}]}')")"
eq "jobs: ... Unsupported value Always" 'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"' \
  "$(jb 'd["message"].split(": ", 1)[1]')"
eq "jobs: restartPolicy OnFailure is fine" 201 \
  "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v4"}' '' '{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"i:1"}]}')")"
eq "jobs: a label value with a space gets 422" "422 metadata.labels" \
  "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v5","labels":{"a":"b c"}}')") $(jb 'd["details"]["causes"][0]["field"]')"
eq "jobs: neither name nor generateName gets 422" 422 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{}')")"
eq "jobs: a string backoffLimit gets 400" 400 "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body '{"name":"v6"}' '"backoffLimit":"3",')")"
eq "jobs: malformed JSON gets 400 BadRequest" "400 BadRequest" "$(req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d '{"spec":') $(jb 'd["reason"]')"
eq "jobs: a form body (curl's and libcurl's default type) gets 415" "415 UnsupportedMediaType" \
  "$(req POST "$JOBS" "${A[@]}" -d "$FIXED") $(jb 'd["reason"]')"
eq "jobs: unknown namespace gets 404 namespaces not found" '404 namespaces "nope" not found' \
  "$(req POST "$K/apis/batch/v1/namespaces/nope/jobs" "${A[@]}" "${CJ[@]}" -d "$(job_body "$(gen heal-x- x)")") $(jb 'd["message"]')"
eq "jobs: terminating namespace gets 403 NamespaceTerminating" "403 NamespaceTerminating" \
  "$(req POST "$K/apis/batch/v1/namespaces/dying/jobs" "${A[@]}" "${CJ[@]}" -d "$(job_body "$(gen heal-x- x)")") $(jb 'd["details"]["causes"][0]["reason"]')"

# lists
eq "jobs: list by labelSelector" "JobList [\"$j_ok\"] True" "$(req GET "$JOBS?labelSelector=healer%2Ffingerprint%3Dfp-ok" "${A[@]}" >/dev/null
  jb 'd["kind"] + " " + json.dumps([i["metadata"]["name"] for i in d["items"]]) + " " + str(d["metadata"]["resourceVersion"].isdigit())')"
eq "jobs: list items carry no kind" false "$(jb '"kind" in d["items"][0]')"
eq "jobs: set-based selector (in, !=)" 2 "$(req GET "$JOBS" -G --data-urlencode 'labelSelector=healer/fingerprint in (fp-ok,fp-fail),app.kubernetes.io/managed-by!=other' "${A[@]}" >/dev/null; jb 'len(d["items"])')"
eq "jobs: a bad labelSelector gets 400" 400 "$(req GET "$JOBS" -G --data-urlencode 'labelSelector=a in (b' "${A[@]}")"
eq "jobs: cluster-wide list" true "$(req GET "$K/apis/batch/v1/jobs?labelSelector=healer%2Ffingerprint%3Dfp-ok" "${A[@]}" >/dev/null; jb 'len(d["items"]) == 1')"

# deletion (K3)
eq "jobs: DELETE ?propagationPolicy=Foreground gets 200 with the Job" 200 "$(req DELETE "$JOBS/$j_never?propagationPolicy=Foreground" "${A[@]}")"
eq "jobs: ... deletionTimestamp and finalizer foregroundDeletion" "Job True foregroundDeletion" \
  "$(jb 'd["kind"] + " " + str("deletionTimestamp" in d["metadata"]) + " " + d["metadata"]["finalizers"][-1]')"
eq "jobs: DELETE with a DeleteOptions body (body wins over the query)" 200 \
  "$(req DELETE "$JOBS/$j_pend?propagationPolicy=Orphan" "${A[@]}" "${CJ[@]}" -d '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}')"
eq "jobs: ... Background: Status Success, gone at once" "Success jobs 404" \
  "$(jb 'd["status"] + " " + d["details"]["kind"]') $(req GET "$JOBS/$j_pend" "${A[@]}")"
eq "jobs: DELETE without a policy: Orphan (the batch/v1 default)" "200 orphan" \
  "$(req DELETE "$JOBS/$j_ok" "${A[@]}") $(jb 'd["metadata"]["finalizers"][-1]')"
req DELETE "$JOBS/$j_fail?propagationPolicy=Background" "${A[@]}" >/dev/null
check "jobs: Foreground: then gone" 10 gone "$j_never"
state
eq "jobs: ... it stayed (deleting) for delete_seconds first" true \
  "$(jb "[(lambda t: t['deleted (Foreground)'] - t['deleting (Foreground)'] >= 0.99)({x['event']: x['time'] for x in j['history']}) for j in d['jobs'] if j['name'] == '$j_never'][0]")"
check "jobs: Orphan: then gone" 10 gone "$j_ok"
eq "jobs: ... its pods stay, without the owner reference" "2 0" \
  "$(req GET "$K/api/v1/namespaces/remediation/pods?labelSelector=job-name%3D$j_ok" "${A[@]}" >/dev/null
     jb '"%d %d" % (len(d["items"]), sum(1 for p in d["items"] if p["metadata"].get("ownerReferences")))')"
no_pods() { req GET "$K/api/v1/namespaces/remediation/pods?labelSelector=job-name%3D$1" "${A[@]}" >/dev/null; [ "$(jb 'len(d["items"])')" = 0 ]; }
check "jobs: Background deletion takes the pods too" 10 no_pods "$j_fail"
eq "jobs: DELETE of a missing Job gets 404" 404 "$(req DELETE "$JOBS/$j_ok?propagationPolicy=Background" "${A[@]}")"
eq "jobs: bad propagationPolicy gets 422" 422 "$(req DELETE "$JOBS/heal-fixed?propagationPolicy=Sometimes" "${A[@]}")"
state
eq "jobs: state records each deletion's policy and where it came from" \
  "Foreground:query Background:body Orphan:default Background:query" \
  "$(jb "' '.join(x['policy'] + ':' + x['source'] for x in d['deletions'] if x['name'] in ('$j_never', '$j_pend', '$j_ok', '$j_fail'))")"
eq "jobs: state: the Job's own deletion" "Foreground False" \
  "$(jb "[j['deletion']['policy'] + ' ' + str(j['present']) for j in d['jobs'] if j['name'] == '$j_never'][0]")"

# ================================================================ nodes ==
echo "== fake Kubernetes: nodes (K5, K10)"
N=$K/api/v1/nodes
req GET "$N/node-a" "${A[@]}" >/dev/null
rv0=$(jb 'd["metadata"]["resourceVersion"]')
eq "nodes: GET: not cordoned, labels from the script" "False general" "$(jb 'str("unschedulable" in d["spec"]) + " " + d["metadata"]["labels"]["pool"]')"
MP=(-H 'Content-Type: application/merge-patch+json')
SP=(-H 'Content-Type: application/strategic-merge-patch+json')
eq "nodes: cordon (merge patch) gets 200" 200 "$(req PATCH "$N/node-a" "${A[@]}" "${MP[@]}" -d '{"spec":{"unschedulable":true}}')"
rv1=$(jb 'd["metadata"]["resourceVersion"]')
eq "nodes: ... unschedulable, resourceVersion bumped" "True True" "$(jb 'str(d["spec"]["unschedulable"])') $([ "$rv1" -gt "$rv0" ] && echo True)"
req PATCH "$N/node-a" "${A[@]}" "${MP[@]}" -d '{"spec":{"unschedulable":true}}' >/dev/null
eq "nodes: a no-op patch keeps the resourceVersion" "$rv1" "$(jb 'd["metadata"]["resourceVersion"]')"
eq "nodes: uncordon (strategic merge patch)" "200 False" \
  "$(req PATCH "$N/node-a" "${A[@]}" "${SP[@]}" -d '{"spec":{"unschedulable":false}}') $(jb 'str("unschedulable" in d["spec"])')"
eq "nodes: application/json patch gets 415" "415 UnsupportedMediaType" \
  "$(req PATCH "$N/node-a" "${A[@]}" "${CJ[@]}" -d '{"spec":{"unschedulable":true}}') $(jb 'd["reason"]')"
eq "nodes: form-typed patch gets 415" 415 "$(req PATCH "$N/node-a" "${A[@]}" -d '{"spec":{"unschedulable":true}}')"
eq "nodes: JSON patch works too" "200 True" "$(req PATCH "$N/node-a" "${A[@]}" -H 'Content-Type: application/json-patch+json' \
  -d '[{"op":"add","path":"/spec/unschedulable","value":true}]') $(jb 'str(d["spec"]["unschedulable"])')"
eq "nodes: a stale resourceVersion in the patch gets 409 Conflict" "409 Conflict" \
  "$(req PATCH "$N/node-a" "${A[@]}" "${MP[@]}" -d "{\"metadata\":{\"resourceVersion\":\"$rv0\"},\"spec\":{\"unschedulable\":false}}") $(jb 'd["reason"]')"
eq "nodes: a non-boolean unschedulable gets 400" 400 "$(req PATCH "$N/node-a" "${A[@]}" "${MP[@]}" -d '{"spec":{"unschedulable":"yes"}}')"
eq "nodes: PATCH an unknown node gets 404" '404 nodes "nope" not found' \
  "$(req PATCH "$N/nope" "${A[@]}" "${MP[@]}" -d '{"spec":{"unschedulable":true}}') $(jb 'd["message"]')"
eq "nodes: POST to a node is not a route: 405 MethodNotAllowed" "405 MethodNotAllowed" "$(req POST "$N/node-a" "${A[@]}" "${CJ[@]}" -d '{}') $(jb 'd["reason"]')"

# ================================================================= pods ==
echo "== fake Kubernetes: pods (K4, K7)"
names() { jb '" ".join(p["metadata"]["namespace"] + "/" + p["metadata"]["name"] for p in d["items"])'; }
req GET "$K/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a" "${A[@]}" >/dev/null
eq "pods: fieldSelector spec.nodeName= (etcd key order)" \
  "default/bare-1 kube-system/ds-1 kube-system/static-1 shop/db-0 shop/done-1 shop/neg-1 shop/pend-1 shop/slow-1 shop/stale-1 shop/web-1 shop/web-2" "$(names)"
req GET "$K/api/v1/pods" -G --data-urlencode 'fieldSelector=spec.nodeName=node-a,status.phase!=Succeeded,status.phase!=Pending,metadata.namespace=shop' "${A[@]}" >/dev/null
eq "pods: combined field selectors with = and !=" "shop/db-0 shop/neg-1 shop/slow-1 shop/stale-1 shop/web-1 shop/web-2" "$(names)"
eq "pods: metadata.name selector" "shop/web-2" \
  "$(req GET "$K/api/v1/namespaces/shop/pods?fieldSelector=metadata.name%3Dweb-2" "${A[@]}" >/dev/null; names)"
eq "pods: labelSelector in a namespace" "shop/web-1 shop/web-2" \
  "$(req GET "$K/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb" "${A[@]}" >/dev/null; names)"
eq "pods: unsupported field label gets 400" "400 field label not supported: spec.foo" \
  "$(req GET "$K/api/v1/pods?fieldSelector=spec.foo%3Dx" "${A[@]}") $(jb 'd["message"]')"
all=$(req GET "$K/api/v1/namespaces/shop/pods" "${A[@]}" >/dev/null; names)
pages=0 got="" cont=""
while :; do
  req GET "$K/api/v1/namespaces/shop/pods?limit=3${cont:+&continue=$cont}" "${A[@]}" >/dev/null
  pages=$((pages + 1)); got="$got $(names)"
  [ $pages = 1 ] && first_remaining=$(jb 'd["metadata"].get("remainingItemCount")')
  cont=$(jb 'd["metadata"].get("continue", "")') || break
  ((pages < 10)) || break
done
eq "pods: limit + continue pages through the whole list once" "$all" "${got# }"
eq "pods: pages of 3" "$(( ($(wc -w <<<"$all") + 2) / 3 ))" "$pages"
eq "pods: the first page counts the remaining items" "$(( $(wc -w <<<"$all") - 3 ))" "$first_remaining"
req GET "$K/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&limit=2" "${A[@]}" >/dev/null
eq "pods: no remainingItemCount with a selector" "True False" "$(jb 'str("continue" in d["metadata"]) + " " + str("remainingItemCount" in d["metadata"])')"
tok=$(jb 'd["metadata"]["continue"]')
eq "pods: a garbled continue token gets 400" 400 "$(req GET "$K/api/v1/pods?limit=2&continue=garbage!" "${A[@]}")"
fake_script k8 '{"expire_continue_tokens": true}'
eq "pods: an expired continue token gets 410 Expired" "410 Expired" \
  "$(req GET "$K/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a&limit=2&continue=$tok" "${A[@]}") $(jb 'd["reason"]')"
fake_script k8 '{"expire_continue_tokens": false}'
req GET "$K/api/v1/namespaces/shop/pods/web-1" "${A[@]}" >/dev/null
eq "pods: a Pod object: owner (controller), node, phase, uid" "Pod ReplicaSet web-7d4c9 True node-a Running 36" \
  "$(jb '" ".join(str(x) for x in [d["kind"], d["metadata"]["ownerReferences"][0]["kind"], d["metadata"]["ownerReferences"][0]["name"], d["metadata"]["ownerReferences"][0]["controller"], d["spec"]["nodeName"], d["status"]["phase"], len(d["metadata"]["uid"])])')"
eq "pods: a mirror pod: config.mirror annotation, owned by its Node" "True Node" \
  "$(req GET "$K/api/v1/namespaces/kube-system/pods/static-1" "${A[@]}" >/dev/null; jb 'str("kubernetes.io/config.mirror" in d["metadata"]["annotations"]) + " " + d["metadata"]["ownerReferences"][0]["kind"]')"
eq "pods: a bare pod has no ownerReferences, has its emptyDir" "False True" \
  "$(req GET "$K/api/v1/namespaces/default/pods/bare-1" "${A[@]}" >/dev/null; jb 'str("ownerReferences" in d["metadata"]) + " " + str("emptyDir" in d["spec"]["volumes"][0])')"
eq "pods: DaemonSet owner" DaemonSet \
  "$(req GET "$K/api/v1/namespaces/kube-system/pods/ds-1" "${A[@]}" >/dev/null; jb 'd["metadata"]["ownerReferences"][0]["kind"]')"
eq "pods: unknown pod gets 404" '404 pods "ghost" not found' "$(req GET "$K/api/v1/namespaces/shop/pods/ghost" "${A[@]}") $(jb 'd["message"]')"
eq "pods: /api/v1/pods/NAME is no route: 404" 404 "$(req GET "$K/api/v1/pods/web-1" "${A[@]}")"

# ============================================================ evictions ==
echo "== fake Kubernetes: eviction (K6, section 3.5)"
ev() {  # ev NAME [NS] [DELETE-OPTIONS] [BODY-NAME]: POST an Eviction; prints the status
  req POST "$K/api/v1/namespaces/${2:-shop}/pods/$1/eviction" "${A[@]}" "${CJ[@]}" \
    -d "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"${4:-$1}\",\"namespace\":\"${2:-shop}\"}${3:+,\"deleteOptions\":$3}}"
}
eq "evict: PDB blocks (1/2): 429" 429 "$(ev web-1)"
eq "evict: ... TooManyRequests, the documented message" "TooManyRequests Cannot evict pod as it would violate the pod's disruption budget." \
  "$(jb 'd["reason"] + " " + d["message"]')"
eq "evict: ... cause DisruptionBudget names the PDB" "DisruptionBudget The disruption budget web needs 2 healthy pods and has 2 currently" \
  "$(jb 'd["details"]["causes"][0]["reason"] + " " + d["details"]["causes"][0]["message"]')"
eq "evict: ... no Retry-After" "" "$(hdr Retry-After)"
eq "evict: PDB blocks (2/2): 429" 429 "$(ev web-1)"
eq "evict: then 201" 201 "$(ev web-1)"
eq "evict: ... a Status Success with code 201" '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}' "$(body)"
pod_gone() { [ "$(req GET "$K/api/v1/namespaces/${2:-shop}/pods/$1" "${A[@]}")" = 404 ]; }
check "evict: the pod disappears (evict_delete_seconds)" 10 pod_gone web-1
eq "evict: again: 404 (gone counts as done)" 404 "$(ev web-1)"
eq "evict: slow pod with gracePeriodSeconds 5: 201" 201 "$(ev slow-1 shop '{"gracePeriodSeconds":5}')"
eq "evict: ... meanwhile it shows deletionTimestamp and the grace period" "200 True 5" \
  "$(req GET "$K/api/v1/namespaces/shop/pods/slow-1" "${A[@]}") $(jb 'str("deletionTimestamp" in d["metadata"]) + " " + str(d["metadata"]["deletionGracePeriodSeconds"])')"
eq "evict: gracePeriodSeconds 0 deletes at once" "201 404" "$(ev web-2 shop '{"gracePeriodSeconds":0}') $(req GET "$K/api/v1/namespaces/shop/pods/web-2" "${A[@]}")"
eq "evict: two PDBs: 500" 500 "$(ev db-0)"
eq "evict: ... empty reason, the documented message" "False This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." \
  "$(jb 'str("reason" in d) + " " + d["message"]')"
eq "evict: block_count -1 blocks every time" "429 429 429" "$(ev other-1) $(ev other-1) $(ev other-1)"
eq "evict: a Pending pod skips the PDB check" 201 "$(ev pend-1)"
eq "evict: a PDB not yet processed: 429 with Retry-After 10" "429 10 10" "$(ev stale-1) $(hdr Retry-After) $(jb 'd["details"]["retryAfterSeconds"]')"
eq "evict: ... then allowed" 201 "$(ev stale-1)"
eq "evict: disruptionsAllowed < 0: 403" '403 poddisruptionbudgets.policy "neg" is forbidden: pdb disruptions allowed is negative' \
  "$(ev neg-1) $(jb 'd["message"]')"
eq "evict: unknown pod: 404" "404 NotFound" "$(ev ghost) $(jb 'd["reason"]')"
eq "evict: body name differs from the URL: 400" "400 name in URL does not match name in Eviction object" \
  "$(ev done-1 shop '' web-1) $(jb 'd["message"]')"
eq "evict: terminating namespace: 403 NamespaceTerminating" "403 NamespaceTerminating" \
  "$(ev dy-1 dying) $(jb 'd["details"]["causes"][0]["reason"]')"
eq "evict: form-typed body: 415" 415 "$(req POST "$K/api/v1/namespaces/shop/pods/done-1/eviction" "${A[@]}" -d '{}')"
state
eq "evict: state records each eviction with its grace period" \
  'web-1:429:None web-1:429:None web-1:201:None web-1:404:None slow-1:201:5 web-2:201:0' \
  "$(jb '" ".join("%s:%s:%s" % (e["pod"], e["code"], e["grace_period_seconds"]) for e in d["evictions"][:6])')"
eq "evict: state shows the PDBs' blocked counts" 2 "$(jb 'd["pdbs"]["web"]["blocked"]')"

# ========================================================== deployments ==
echo "== fake Kubernetes: deployments (K8, K9, section 3.6)"
D=$K/apis/apps/v1/namespaces/shop/deployments
rollout_done() {  # kubectl rollout status's test (section 3.6)
  req GET "$D/$1" "${A[@]}" >/dev/null
  [ "$(jb '(lambda s, sp, g: g <= s.get("observedGeneration", 0) and s.get("updatedReplicas", 0) >= sp["replicas"]
        and s.get("replicas", 0) <= s.get("updatedReplicas", 0) and s.get("availableReplicas", 0) >= s.get("updatedReplicas", 0)
        and [c for c in s["conditions"] if c["type"] == "Progressing"][0]["reason"] != "ProgressDeadlineExceeded")(d["status"], d["spec"], d["metadata"]["generation"])')" = true ]
}
if rollout_done web; then ok "deploy: a scripted deployment starts rolled out"; else bad "deploy: starts rolled out" "$(body)"; fi
rv0=$(jb 'd["metadata"]["resourceVersion"]')
RESTART='{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-27T12:20:00Z"}}}}}'
eq "deploy: rollout restart (strategic merge patch) gets 200" 200 "$(req PATCH "$D/web" "${A[@]}" "${SP[@]}" -d "$RESTART")"
eq "deploy: ... generation 2, observedGeneration still 1, annotation set" "2 1 2026-11-27T12:20:00Z" \
  "$(jb '"%s %s %s" % (d["metadata"]["generation"], d["status"]["observedGeneration"], d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"])')"
eq "deploy: the same restart again is a no-op (generation 2, nothing changed)" "2 False" \
  "$(req PATCH "$D/web" "${A[@]}" "${SP[@]}" -d "$RESTART" >/dev/null; jb 'str(d["metadata"]["generation"])') $(state; jb 'str(d["patches"][-1]["changed"])')"
check "deploy: the rollout completes (kubectl's test)" 15 rollout_done web
eq "deploy: ... revision 2, Progressing NewReplicaSetAvailable" "2 NewReplicaSetAvailable" \
  "$(jb 'd["metadata"]["annotations"]["deployment.kubernetes.io/revision"] + " " + [c for c in d["status"]["conditions"] if c["type"] == "Progressing"][0]["reason"]')"
state
eq "deploy: history: lagging observedGeneration, then updatedReplicas < replicas, a surge replica, available < updated" "True True True True" \
  "$(jb '(lambda h: " ".join(str(x) for x in [any(e["generation"] == 2 and e["observedGeneration"] == 1 for e in h),
      any(e["observedGeneration"] == 2 and 0 < e["updatedReplicas"] < 3 for e in h), any(e["replicas"] > e["updatedReplicas"] >= 3 for e in h) or any(e["replicas"] > 3 for e in h),
      any(e["availableReplicas"] < e["updatedReplicas"] for e in h)]))(d["deployment_history"]["shop/web"])')"
eq "deploy: application/json patch gets 415" 415 "$(req PATCH "$D/web" "${A[@]}" "${CJ[@]}" -d "$RESTART")"
eq "deploy: negative replicas gets 422" "422 spec.replicas" \
  "$(req PATCH "$D/web" "${A[@]}" "${MP[@]}" -d '{"spec":{"replicas":-1}}') $(jb 'd["details"]["causes"][0]["field"]')"
eq "deploy: unknown deployment gets 404" '404 deployments.apps "nope" not found' "$(req GET "$D/nope" "${A[@]}") $(jb 'd["message"]')"
eq "deploy: merge patch on the stuck one gets 200" 200 "$(req PATCH "$D/stuck" "${A[@]}" "${MP[@]}" -d "$RESTART")"
pde() { req GET "$D/stuck" "${A[@]}" >/dev/null; [ "$(jb '[c["reason"] + " " + c["status"] for c in d["status"]["conditions"] if c["type"] == "Progressing"][0]')" = "ProgressDeadlineExceeded False" ]; }
check "deploy: progress_deadline_exceeded: Progressing False ProgressDeadlineExceeded" 10 pde
eq "deploy: ... and the rollout never completes" no "$(rollout_done stuck && echo yes || echo no)"
eq "deploy: paused: patch template" "200 2" "$(req PATCH "$D/frozen" "${A[@]}" "${SP[@]}" -d "$RESTART") $(jb 'd["metadata"]["generation"]')"
paused_seen() { req GET "$D/frozen" "${A[@]}" >/dev/null; [ "$(jb 'd["status"].get("observedGeneration")')" = 2 ]; }
check "deploy: paused: the generation is observed" 10 paused_seen
eq "deploy: paused: no rollout (DeploymentPaused, updatedReplicas 0, revision 1)" "DeploymentPaused 0 1" \
  "$(jb '[c["reason"] for c in d["status"]["conditions"] if c["type"] == "Progressing"][0] + " " + str(d["status"].get("updatedReplicas", 0)) + " " + d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]')"
sleep 0.6
eq "deploy: paused: still no rollout a while later" no "$(rollout_done frozen && echo yes || echo no)"
eq "deploy: resume" "200 3" "$(req PATCH "$D/frozen" "${A[@]}" "${MP[@]}" -d '{"spec":{"paused":null}}') $(jb 'd["metadata"]["generation"]')"
check "deploy: resumed: the pending rollout completes" 10 rollout_done frozen

# =============================================================== faults ==
echo "== fake Kubernetes: faults and control"
fake_script k8 '{"faults": [{"status": 503, "retry_after": 3, "path_prefix": "/api/v1/nodes"}]}'
eq "faults: 503" 503 "$(req GET "$N/node-a" "${A[@]}")"
eq "faults: ... Retry-After and a Status body" "3 application/json ServiceUnavailable 503 3" \
  "$(hdr Retry-After) $(hdr Content-Type) $(jb 'd["reason"] + " " + str(d["code"]) + " " + str(d["details"]["retryAfterSeconds"])')"
eq "faults: ... then the real answer" 200 "$(req GET "$N/node-a" "${A[@]}")"
fake_script k8 '{"faults": [{"status": 500}, {"status": 429}]}'
eq "faults: 500 InternalError Status" "500 InternalError Failure" "$(req GET "$N/node-a" "${A[@]}") $(jb 'd["reason"] + " " + d["status"]')"
eq "faults: 429 TooManyRequests, Retry-After 1" "429 TooManyRequests 1" "$(req GET "$N/node-a" "${A[@]}") $(jb 'd["reason"]') $(hdr Retry-After)"
fake_script k8 '{"faults": [{"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"}]}'
eq "faults: an explicit body (a proxy's) is sent as is" "502 text/html <html>Bad Gateway</html>" \
  "$(req GET "$N/node-a" "${A[@]}") $(hdr Content-Type) $(body)"
fake_script k8 '{"faults": [{"kind": "drop"}]}'
req GET "$N/node-a" "${A[@]}" >/dev/null
eq "faults: drop over TLS (curl 52)" 52 "$(cat "$T/rc")"
fake_script k8 '{"faults": [{"kind": "reset"}]}'
req GET "$N/node-a" "${A[@]}" >/dev/null
eq "faults: reset over TLS (curl 56)" 56 "$(cat "$T/rc")"
fake_script k8 '{"faults": [{"kind": "delay", "seconds": 0.8}]}'
t1=$(date +%s%N); st=$(req GET "$N/node-a" "${A[@]}"); t2=$(date +%s%N)
if [ "$st" = 200 ] && [ $(((t2 - t1) / 1000000)) -ge 750 ]; then ok "faults: delay"; else bad "faults: delay" "$st after $(((t2 - t1) / 1000000)) ms"; fi
fake_script k8 '{"faults": [{"kind": "drop", "count": 2, "phase": "after", "method": "POST"}]}'
req POST "$JOBS" "${A[@]}" "${CJ[@]}" -d "$(job_body "$(gen heal-lost- fp-lost)")" >/dev/null
eq "faults: drop after the create loses the reply" 52 "$(cat "$T/rc")"
eq "faults: ... but the Job exists (list by label finds it)" 1 \
  "$(req GET "$JOBS?labelSelector=healer%2Ffingerprint%3Dfp-lost" "${A[@]}" >/dev/null; jb 'len(d["items"])')"
eq "control: a bad script is refused with 400" 400 \
  "$(req POST "$K/_fake/script" "${CJ[@]}" -d '{"pods": [{"name": "x", "bogus": 1}]}')"
eq "control: health names the service" kubernetes "$(req GET "$K/_fake/health" >/dev/null; jb 'd["service"]')"
state
eq "control: state has jobs, nodes, pods, deployments, evictions" "True True True True True" \
  "$(jb '" ".join(str(bool(d[k])) for k in ("jobs", "nodes", "pods", "deployments", "evictions"))')"
eq "control: recorded requests carry the bearer token" "Bearer tok1" \
  "$(fake_get_requests k8 'path=/api/v1/nodes/node-a' | fake_py 'd[-1]["headers"]["authorization"]')"

# lib.sh: restart keeps https; another fake over TLS (CA only)
fake_restart k8
eq "lib: restarted TLS fake is still https, same port" "$K 200" "$(fake_url k8) $(req GET "$K/version")"
eq "lib: restart rebuilt the scripted state" 200 "$(req GET "$K/api/v1/namespaces/shop/pods/web-1" "${A[@]}")"
fake_stop k8
fake_start pdtls pagerduty --max-seconds 60 --tls-cert "$C/server.crt" --tls-key "$C/server.key" || exit 1
eq "lib: any fake can serve https (CA only, no client cert)" "https pagerduty" \
  "$(fake_url pdtls | cut -d: -f1) $(fake_curl pdtls -sS "$(fake_url pdtls)/_fake/health" | fake_py 'd["service"]')"
fake_stop pdtls

# ========================================================== plain HTTP ==
echo "== fake Kubernetes: plain HTTP"
fake_start kp kubernetes --max-requests 5 --token t || exit 1
FK=kp
P=$(fake_url kp)
eq "plain: fake_url is http" "http://127.0.0.1:$(fake_port kp)" "$P"
eq "plain: GET a namespace" "200 Active" "$(req GET "$P/api/v1/namespaces/default" -H 'Authorization: Bearer t') $(jb 'd["status"]["phase"]')"
eq "plain: default namespaces only" '404 namespaces "shop" not found' \
  "$(req GET "$P/api/v1/namespaces/shop" -H 'Authorization: Bearer t') $(jb 'd["message"]')"
eq "plain: unknown path: 404 Status" "404 NotFound" "$(req GET "$P/apis/batch/v2/jobs" -H 'Authorization: Bearer t') $(jb 'd["reason"]')"
req GET "$P/version" >/dev/null; req GET "$P/version" >/dev/null
eq "plain: over --max-requests: 503" 503 "$(req GET "$P/version")"
kp_gone() { ! kill -0 "${FAKE_PID[kp]}" 2>/dev/null; }
if poll 5 kp_gone; then ok "plain: exits after --max-requests"; else bad "plain: exits after --max-requests"; fi
fake_stop kp

echo
echo "$passed passed, $failed failed ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
[ "$failed" -eq 0 ] || { fake_logs; exit 1; }
