#!/usr/bin/env bash
# actions.sh - how long an action kind takes from an alert to its first
# request at the remote side, healer otherwise idle.
#
# healer (-O2, not dry-run, a journal under build/, so the fsync before the
# trigger is paid as in production) runs the rules below against the fakes
# of tests/fakes/. For each sample the driver posts one new alert to
# /api/v1/alertmanager, notes the time, waits for the kind's first request
# to reach its fake (the fake's receive time, same clock), then waits until
# the remediation has finished before the next sample, so every sample
# starts from idle workers. The kinds alternate sample by sample, so both
# see the same machine load. The baseline is the Jenkins kind (its trigger,
# POST buildWithParameters at the fake Jenkins) measured in the same run;
# each other kind is reported as a ratio of it.
#
# Prints one line per kind: samples, p50, p99 and max in ms, and p50 ratio.
#
#   bench/actions.sh [SAMPLES_PER_KIND]      default 100
#
# To add a kind: a rule below (alert name Bench<Kind>), its fake in
# start_fakes, and a row in KINDS of the driver (alert name, fake, and the
# request that counts as the first: method and path prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
samples=${1:-100}
make --no-print-directory -s bin/healerc build/runtime/main.o >/dev/null
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
EOF
bin/healerc compile "$work/bench.heal" -o "$work/rules.c"
cc -Idsl -std=c11 -O2 -c -o "$work/rules.o" "$work/rules.c"
LIBS=$(pkg-config --libs libpcre2-8 libmicrohttpd libcjson libcurl gnutls)
# shellcheck disable=SC2086
cc -o "$work/healer" build/runtime/*.o "$work/rules.o" $LIBS -lpthread -lm

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
  "$(cat "$work/gate.port")" <<'PY'
import json, sys, time, urllib.request

samples, hport, jport, gport = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# kind, alert name, fake port, the first request (method, path prefix)
KINDS = [
    ("jenkins (baseline)", "BenchJenkins", jport, "POST", "/job/bench/buildWithParameters"),
    ("spinnaker", "BenchGate", gport, "POST", "/pipelines/bench/bench"),
]

def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())

def last_seq(port):
    reqs = get("http://127.0.0.1:%s/_fake/requests" % port)
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
n = 0
for i in range(samples + 3):           # the first 3 rounds warm up
    for kind, alert, port, method, prefix in KINDS:
        n += 1
        since = last_seq(port)
        t0 = post_alert(alert, n)
        first = None
        for _ in range(5000):
            reqs = get("http://127.0.0.1:%s/_fake/requests?since=%d&method=%s&path_prefix=%s"
                       % (port, since, method, prefix))
            if reqs:
                first = reqs[0]["time"]
                break
            time.sleep(0.002)
        if first is None:
            raise SystemExit("%s: no request reached the fake" % kind)
        idle()
        if i >= 3:
            lat[kind].append((first - t0) * 1000)

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

base = pct(lat[KINDS[0][0]], 50)
print("%-20s %7s %8s %8s %8s %7s" % ("kind", "samples", "p50 ms", "p99 ms", "max ms", "ratio"))
for kind, *_ in KINDS:
    v = lat[kind]
    print("%-20s %7d %8.2f %8.2f %8.2f %7.2f" % (kind, len(v), pct(v, 50), pct(v, 99), max(v),
                                                pct(v, 50) / base))
PY
