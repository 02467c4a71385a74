#!/usr/bin/env bash
# actions.sh - how long an action kind takes from an alert to its first
# request at the remote side, healer otherwise idle.
#
# healer (-O2, not dry-run, a journal under build/, so the fsync before the
# trigger is paid as in production) runs the rules below against the fakes
# of tests/fakes/. For each sample the driver posts one new alert to
# /api/v1/alertmanager, notes the time, waits for the kind's first request
# to reach its fake (the time the fake recorded it, same clock), then waits until
# the remediation has finished before the next sample, so every sample
# starts from idle workers. The kinds alternate sample by sample, so both
# see the same machine load. The baseline is the Jenkins kind (its trigger,
# POST buildWithParameters at the fake Jenkins) measured in the same run;
# each other kind is reported as a ratio of it.
#
# Prints one line per kind: samples, p50, p99 and max in ms, p50 ratio, and
# "fake ms": the fake's own time for that request. The fake notes a
# request's time once it has handled it, so every sample includes it; the
# driver measures it afterwards by sending the recorded request again over
# an open connection (median of 20 round trips), for each kind.
#
#   bench/actions.sh [SAMPLES_PER_KIND]      default 100
#
# The Kubernetes kinds talk to the fake API server over TLS (a test CA from
# tests/fakes/mkcerts.sh), as to a real one; the cordon is measured once
# more against a second fake over plain http, to show what TLS adds. A
# create (Job, Jenkins trigger, pipeline trigger) goes out on a fresh
# connection (HTTPC_NO_RESEND: never re-sent by libcurl on a reused one), so
# the Job pays a TLS handshake where a cordon may reuse a connection.
#
# To add a kind: a rule below (alert name Bench<Kind>), its fake below, and
# a row in KINDS of the driver (alert name, fake, and the request that
# counts as the first: method and path prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-100}
make --no-print-directory -s bin/healerc build/runtime/main.o build/core/libcore.a >/dev/null
make --no-print-directory -s $(ls runtime/*.c | sed 's|^runtime/\(.*\)\.c$|build/runtime/\1.o|') >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work" build/bench-actions
}
trap cleanup EXIT

cat >"$work/bench.heal" <<'EOF'
backend jenkins ci {
  url   = env("BENCH_JENKINS_URL")
  user  = "bot"
  token = env("BENCH_JENKINS_TOKEN")
}
backend spinnaker gate {
  url   = env("BENCH_GATE_URL")
  token = env("BENCH_GATE_TOKEN")
}
backend kubernetes k8s {
  url     = env("BENCH_K8S_URL")
  token   = env("BENCH_K8S_TOKEN")
  ca_file = env("BENCH_K8S_CA")
}
backend kubernetes k8s_http {
  url   = env("BENCH_K8S_HTTP_URL")
  token = env("BENCH_K8S_TOKEN")
}
rule bench_jenkins {
  when alert BenchJenkins
  labels n =~ ".+"
  run jenkins "bench" via ci
  with n = $n
}
rule bench_gate {
  when alert BenchGate
  labels n =~ ".+"
  run spinnaker "bench" via gate
  with application = "bench", n = $n
}
rule bench_k8s_cordon {
  when alert BenchK8sCordon
  labels n =~ ".+"
  run kubernetes cordon via k8s with node = "bench-node"
}
rule bench_k8s_cordon_http {
  when alert BenchK8sCordonHttp
  labels n =~ ".+"
  run kubernetes cordon via k8s_http with node = "bench-node"
}
rule bench_k8s_job {
  when alert BenchK8sJob
  labels n =~ ".+"
  run kubernetes job "bench" via k8s
  with namespace = "remediation", image = "busybox:1.36", command = "true", N = $n
}
EOF
bin/healerc compile "$work/bench.heal" -o "$work/rules.c"
cc -Icore -std=c11 -O2 -c -o "$work/rules.o" "$work/rules.c"
LIBS=$(make -s --no-print-directory print-rt-libs)
# shellcheck disable=SC2086
cc -o "$work/healer" build/runtime/*.o "$work/rules.o" build/core/libcore.a $LIBS

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fake() { # NAME SCRIPT ARGS...: starts tests/fakes/fake_NAME.py, prints its port
  local name=$1
  shift
  "$PY" "tests/fakes/fake_$name.py" --port 0 --port-file "$work/$name.port" \
    --max-requests 1000000 --max-seconds 3600 "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  [ -s "$work/$name.port" ] || { cat "$work/$name.log" >&2; exit 1; }
}
fake jenkins --user bot --token t0k --script \
  '{"jobs":{"bench":{"parameters":{"n":"","HEALER_REMEDIATION_ID":""},"build_seconds":0}}}'
fake gate --token t0k --script \
  '{"pipelines":{"bench/bench":{"timeline":[["RUNNING",0],["SUCCEEDED",null]]}}}'
bash tests/fakes/mkcerts.sh "$work/certs" >/dev/null
k8s_script='{"nodes":{"bench-node":{}},"job_behaviour":{"bench-":{"start_seconds":0,"run_seconds":0,"finalize_seconds":0}}}'
fake kubernetes --token t0k --tls-cert "$work/certs/server.crt" --tls-key "$work/certs/server.key" \
  --script "$k8s_script"
mv "$work/kubernetes.port" "$work/k8s.port"
fake kubernetes --token t0k --script "$k8s_script"
mv "$work/kubernetes.port" "$work/k8s_http.port"
export BENCH_K8S_URL=https://127.0.0.1:$(cat "$work/k8s.port") BENCH_K8S_TOKEN=t0k
export BENCH_K8S_CA=$work/certs/ca.crt
export BENCH_K8S_HTTP_URL=http://127.0.0.1:$(cat "$work/k8s_http.port")
export BENCH_JENKINS_URL=http://127.0.0.1:$(cat "$work/jenkins.port") BENCH_JENKINS_TOKEN=t0k
export BENCH_GATE_URL=http://127.0.0.1:$(cat "$work/gate.port") BENCH_GATE_TOKEN=t0k

rm -rf build/bench-actions
"$work/healer" --listen 127.0.0.1:0 --port-file "$work/healer.port" \
  --state-dir build/bench-actions --log-level warn >/dev/null 2>"$work/healer.log" &
pids+=($!)
for _ in $(seq 1 200); do [ -s "$work/healer.port" ] && break; sleep 0.05; done
[ -s "$work/healer.port" ] || { cat "$work/healer.log" >&2; exit 1; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" - "$samples" "$(cat "$work/healer.port")" "$(cat "$work/jenkins.port")" \
  "$(cat "$work/gate.port")" "$(cat "$work/k8s.port")" "$(cat "$work/k8s_http.port")" \
  "$work/certs/ca.crt" <<'PY'
import http.client, json, socket, ssl, statistics, sys, time, urllib.request

samples, hport, jport, gport, kport, khport, ca = sys.argv[1:8]
samples = int(samples)
tls = ssl.create_default_context(cafile=ca)
HTTPS = {kport}                        # the fakes that speak https
# kind, alert name, fake port, the first request (method, path prefix)
KINDS = [
    ("jenkins (baseline)", "BenchJenkins", jport, "POST", "/job/bench/buildWithParameters"),
    ("spinnaker", "BenchGate", gport, "POST", "/pipelines/bench/bench"),
    ("kubernetes cordon", "BenchK8sCordon", kport, "PATCH", "/api/v1/nodes/bench-node"),
    ("k8s cordon, http", "BenchK8sCordonHttp", khport, "PATCH", "/api/v1/nodes/bench-node"),
    ("kubernetes job", "BenchK8sJob", kport, "POST", "/apis/batch/v1/namespaces/remediation/jobs"),
]

def get(url):
    with urllib.request.urlopen(url, timeout=10, context=tls if url.startswith("https:") else None) as r:
        return json.loads(r.read())

def scheme(port):
    return "https" if port in HTTPS else "http"

def last_seq(port):
    reqs = get("%s://127.0.0.1:%s/_fake/requests" % (scheme(port), port))
    return reqs[-1]["seq"] if reqs else 0

def post_alert(name, n):
    alert = {"status": "firing", "labels": {"alertname": name, "n": str(n)},
             "annotations": {}, "startsAt": "2026-12-03T12:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
             "fingerprint": "%016x" % n}
    body = json.dumps({"version": "4", "status": "firing", "receiver": "healer",
                       "alerts": [alert], "groupLabels": {}, "commonLabels": {},
                       "commonAnnotations": {}, "externalURL": "", "groupKey": "{}",
                       "truncatedAlerts": 0}).encode()
    rq = urllib.request.Request("http://127.0.0.1:%s/api/v1/alertmanager" % hport, body,
                                {"Content-Type": "application/json"})
    t0 = time.time()
    with urllib.request.urlopen(rq, timeout=10) as r:
        assert r.status == 202, r.status
    return t0

def idle():
    """Until no remediation is queued or running."""
    for _ in range(3000):
        rems = get("http://127.0.0.1:%s/api/v1/remediations" % hport)["remediations"]
        if all(r["state"] not in ("queued", "running") for r in rems):
            return
        time.sleep(0.01)
    raise SystemExit("healer never went idle")

lat = {k[0]: [] for k in KINDS}
seen = {}                              # kind -> one first request, as the fake recorded it
n = 0
for i in range(samples + 3):           # the first 3 rounds warm up
    for kind, alert, port, method, prefix in KINDS:
        n += 1
        since = last_seq(port)
        t0 = post_alert(alert, n)
        first = None
        for _ in range(5000):
            reqs = get("%s://127.0.0.1:%s/_fake/requests?since=%d&method=%s&path_prefix=%s"
                       % (scheme(port), port, since, method, prefix))
            if reqs:
                first = reqs[0]["time"]
                seen[kind] = reqs[0]
                break
            time.sleep(0.002)
        if first is None:
            raise SystemExit("%s: no request reached the fake" % kind)
        idle()
        if i >= 3:
            lat[kind].append((first - t0) * 1000)

def handling_ms(port, r, times=20):
    """The fake's own time for the request r: the fake notes a request's
    time once it has handled it, so that is in every sample. r is sent
    again as recorded (method, path, headers, body) over a connection that
    is already open (no handshake in it); the median, over `times`, of the
    time from sending it to the time the fake recorded for it. (Not the
    round trip: the https fakes write a response in pieces, which Nagle and
    a delayed ACK hold up by 40 ms after the record.)"""
    skip = {"host", "content-length", "connection", "accept-encoding"}
    hdrs = {k: v for k, v in r["headers"].items() if k not in skip}
    target = r["path"] + ("?" + r["query"] if r["query"] else "")
    out = []
    for _ in range(times):
        since = last_seq(port)
        c = (http.client.HTTPSConnection("127.0.0.1", int(port), context=tls, timeout=10)
             if port in HTTPS else http.client.HTTPConnection("127.0.0.1", int(port), timeout=10))
        c.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # as libcurl does
        t0 = time.time()
        c.request(r["method"], target, body=r["body"].encode(), headers=hdrs)
        c.getresponse().read()
        c.close()
        rec = get("%s://127.0.0.1:%s/_fake/requests?since=%d" % (scheme(port), port, since))
        out.append((rec[0]["time"] - t0) * 1000)
    return statistics.median(out)

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

base = pct(lat[KINDS[0][0]], 50)
print("%-20s %7s %8s %8s %8s %7s %8s" % ("kind", "samples", "p50 ms", "p99 ms", "max ms",
                                         "ratio", "fake ms"))
for kind, _, port, *_ in KINDS:
    v = lat[kind]
    print("%-20s %7d %8.2f %8.2f %8.2f %7.2f %8.2f" % (kind, len(v), pct(v, 50), pct(v, 99), max(v),
                                                     pct(v, 50) / base, handling_ms(port, seen[kind])))
PY
