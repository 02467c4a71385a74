#!/usr/bin/env bash
# static_root.sh - bin/healer-static (`make static`, the example rules) in an
# empty root: a directory holding only the binary, a CA bundle, /etc/hosts,
# the two time zones the rules' windows name and the secret files the rules
# read. chroot'ed there (root only), it takes a webhook and triggers
# DockerPruneNode on the fake Jenkins over HTTPS, reached by a name that only
# /etc/hosts knows and verified against the test CA: succeeded. Then with an
# /etc/resolv.conf naming a fake DNS server on loopback: a name only DNS
# knows resolves, and the /etc/hosts name still does. With another
# CA as SSL_CERT_FILE the same trigger fails on the certificate: peers are
# verified. The binary is static (file), ldd refuses it.
. "$(dirname "$0")/lib.bash"
. tests/fakes/lib.sh
DNS_PID=
trap 'fake_cleanup; [ -z "$DNS_PID" ] || kill "$DNS_PID" 2>/dev/null; cleanup' EXIT

[ "$(id -u)" -eq 0 ] || fail "needs root (chroot)"
STATIC=${HEALER_STATIC:-bin/healer-static}
[ -x "$STATIC" ] || fail "no $STATIC (make static)"
file -L "$STATIC" | grep -q 'statically linked' || fail "not static: $(file -L "$STATIC")"
file -L "$STATIC" | grep -q ', stripped' || fail "not stripped: $(file -L "$STATIC")"
if ldd "$STATIC" >"$TMP/ldd" 2>&1; then fail "ldd accepts it: $(cat "$TMP/ldd")"; fi

# A CA, and a server certificate for jenkins.healer.test signed by it.
PKI=$TMP/pki
bash tests/fakes/mkcerts.sh "$PKI" || fail "mkcerts.sh"
bash tests/fakes/mkcerts.sh "$TMP/other" || fail "mkcerts.sh (the other CA)"
cat >"$PKI/jk.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:jenkins.healer.test, DNS:jenkins-dns.healer.test
EOF
{ openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$PKI/jk.key" &&
  openssl req -new -config "$PKI/jk.cnf" -key "$PKI/jk.key" -subj /CN=jenkins.healer.test -out "$PKI/jk.csr" &&
  openssl x509 -req -in "$PKI/jk.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial 7 -days 2 \
    -extfile "$PKI/jk.cnf" -extensions ext -out "$PKI/jk.crt"; } >"$TMP/openssl.log" 2>&1 ||
  fail "server certificate: $(cat "$TMP/openssl.log")"

fake_start jk jenkins --user bot --token jk-static-token --tls-cert "$PKI/jk.crt" --tls-key "$PKI/jk.key" \
  --script '{"jobs":{"DockerPruneNode":{"parameters":{"node":"","HEALER_REMEDIATION_ID":""},"build_seconds":0.2}}}' ||
  fail "fake Jenkins did not start"
# The fake's control API has the same certificate: ask it by that name.
jk_get() {
  local port; port=$(fake_port jk)
  curl -sS --fail --max-time 10 --cacert "$PKI/ca.crt" --resolve "jenkins.healer.test:$port:127.0.0.1" \
    "https://jenkins.healer.test:$port$1"
}

# The root: nothing but these files.
ROOT=$TMP/root
mkdir -p "$ROOT/etc/ssl/certs" "$ROOT/usr/share/zoneinfo/Europe" "$ROOT/run/secrets" \
  "$ROOT/var/run/secrets/kubernetes.io/serviceaccount" "$ROOT/state"
cp "$STATIC" "$ROOT/healer"
cp "$PKI/ca.crt" "$ROOT/etc/ssl/certs/ca-certificates.crt"
cp "$TMP/other/ca.crt" "$ROOT/etc/ssl/other-ca.crt"
printf '127.0.0.1 jenkins.healer.test\n' >"$ROOT/etc/hosts"
cp /usr/share/zoneinfo/UTC "$ROOT/usr/share/zoneinfo/UTC"
cp /usr/share/zoneinfo/Europe/Berlin "$ROOT/usr/share/zoneinfo/Europe/Berlin"
printf 'jk-static-token\n' >"$ROOT/run/secrets/jenkins-token"
printf 'k8s-unused\n' >"$ROOT/var/run/secrets/kubernetes.io/serviceaccount/token"
( cd "$ROOT" && find . -type f | sort ) >"$TMP/files"
[ "$(grep -c '\.so' "$TMP/files")" = 0 ] || fail "shared objects in the root: $(cat "$TMP/files")"

export HEALER_JENKINS_URL=https://jenkins.healer.test:$(fake_port jk) HEALER_JENKINS_USER=bot
export HEALER_JENKINS_TOKEN_FILE=/run/secrets/jenkins-token
export HEALER_CI_JENKINS_URL=$HEALER_JENKINS_URL HEALER_PROD_EU_K8S_URL=https://k8s.healer.test:1
export HEALER_GATE_URL=https://gate.healer.test:1 HEALER_GATE_TOKEN=unused
# Notifiers the example rules name (none of their rules fires here).
export HEALER_SLACK_WEBHOOK=https://slack.healer.test:1/services/T/B/X
export HEALER_JIRA_URL=https://jira.healer.test:1 HEALER_JIRA_USER=u HEALER_JIRA_TOKEN=unused
export HEALER_PAGERDUTY_ROUTING_KEY=unused
unset HEALER_STATE_DIR SSL_CERT_FILE

chroot "$ROOT" /healer --check-config >"$TMP/check.out" 2>&1 ||
  fail "--check-config in the empty root: $(cat "$TMP/check.out")"

# start_root [ENV...] [-- ARGS...]: healer in the root, its port in PORT.
start_root() {
  local envs=() args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift && args=("$@")
  rm -f "$ROOT"/state/*
  env "${envs[@]}" chroot ${CHROOT_USER:+--userspec="$CHROOT_USER"} "$ROOT" /healer --listen 127.0.0.1:0 --port-file /state/port --state-dir /state \
    --log-format json "${args[@]}" >>"$TMP/healer.out" 2>>"$TMP/healer.log" &
  HEALER_PID=$!
  wait_until 30 test -s "$ROOT/state/port" || fail "healer in the root did not listen"
  PORT=$(cat "$ROOT/state/port")
  BASE="http://127.0.0.1:$PORT"
}
state_of() { # FINGERPRINT -> "state|reason" of its remediation
  curl -s --max-time 5 "$BASE/api/v1/remediations" |
    python3 -c 'import json,sys; print(" ".join(r["state"] + "|" + r.get("reason", "") for r in json.load(sys.stdin)["remediations"] if r["fingerprint"] == sys.argv[1]))' "$1"
}
finished() { state_of "$1" | grep -Eq '^(succeeded|failed|timed_out|cancelled)\|'; }
disk_alert() {
  post_json /api/v1/alertmanager "$(payload "$(alert firing "{\"alertname\":\"NodeDiskPressure\",\"env\":\"dev\",\"instance\":\"$2\"}" "$1")")"
  expect_code 202 "webhook ($1)"
}

start_root
disk_alert 5a71c00000000001 node-1:9100
wait_until 30 finished 5a71c00000000001 || fail "not finished: $(state_of 5a71c00000000001)"
state_of 5a71c00000000001 | grep -q '^succeeded|' || fail "remediation: $(state_of 5a71c00000000001)"
jk_get /_fake/state | python3 -c '
import json, sys
b = json.load(sys.stdin)["jobs"]["DockerPruneNode"]["builds"]
assert len(b) == 1 and b[0]["result"] == "SUCCESS", b
p = {x["name"]: x["value"] for a in b[0]["actions"] for x in a.get("parameters", [])}
assert p["node"] == "node-1:9100", p
' || fail "build: $(jk_get /_fake/state)"
stop_healer

# DNS: a fake server on a loopback address of its own, port 53 (resolv.conf
# takes no port), knowing only jenkins-dns.healer.test. glibc's static stub
# resolver asks it; /etc/hosts still answers for the other names, with no
# /etc/nsswitch.conf.
for _ in 1 2 3 4 5; do
  DNS_ADDR=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).53
  rm -f "$TMP/dns.ready"
  # "$PY", not the python3 function of lib.bash: a function sent to the
  # background runs in a subshell, and $! would be that subshell, not the
  # server (killing it left the server running after the test).
  "$PY" tests/fakes/fake_dns.py --listen "$DNS_ADDR" --ready-file "$TMP/dns.ready" \
    jenkins-dns.healer.test=127.0.0.1 2>>"$TMP/dns.log" &
  DNS_PID=$!
  wait_until 10 test -s "$TMP/dns.ready" && break
  kill "$DNS_PID" 2>/dev/null; DNS_PID=
done
[ -n "$DNS_PID" ] || fail "fake DNS did not start: $(tail -n 5 "$TMP/dns.log")"
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$DNS_ADDR" >"$ROOT/etc/resolv.conf"
start_root HEALER_JENKINS_URL="https://jenkins-dns.healer.test:$(fake_port jk)"
disk_alert 5a71c00000000003 node-3:9100
wait_until 30 finished 5a71c00000000003 || fail "not finished (DNS): $(state_of 5a71c00000000003)"
state_of 5a71c00000000003 | grep -q '^succeeded|' ||
  fail "by a name only DNS knows: $(state_of 5a71c00000000003); dns: $(tail -n 5 "$TMP/dns.log")"
grep -q 'query jenkins-dns.healer.test type 1: A' "$TMP/dns.log" || fail "DNS was not asked: $(cat "$TMP/dns.log")"
stop_healer
start_root
disk_alert 5a71c00000000004 node-4:9100
wait_until 30 finished 5a71c00000000004 || fail "not finished (hosts, with DNS): $(state_of 5a71c00000000004)"
state_of 5a71c00000000004 | grep -q '^succeeded|' ||
  fail "/etc/hosts with resolv.conf present: $(state_of 5a71c00000000004)"
stop_healer
kill "$DNS_PID" 2>/dev/null; DNS_PID=
dns_gone() { ! pgrep -f "fake_dns[.]py.*$TMP/dns[.]ready" >/dev/null; }
wait_until 5 dns_gone ||
  fail "the fake DNS server outlived its kill: $(pgrep -af "fake_dns[.]py.*$TMP")"
rm -f "$ROOT/etc/resolv.conf"

# Another CA: the handshake fails, nothing is triggered.
start_root SSL_CERT_FILE=/etc/ssl/other-ca.crt
disk_alert 5a71c00000000002 node-2:9100
wait_until 60 finished 5a71c00000000002 || fail "not finished (other CA): $(state_of 5a71c00000000002)"
state_of 5a71c00000000002 | grep -q '^failed|.*certificate\|^failed|.*SSL\|^failed|.*TLS' ||
  fail "with another CA: $(state_of 5a71c00000000002)"
[ "$(jk_get '/_fake/count?method=POST&path=/job/DockerPruneNode/buildWithParameters')" = 3 ] ||
  fail "a trigger got through with the wrong CA"
stop_healer

# Inbound HTTPS from the static binary too (its own GnuTLS build), as the
# unprivileged uid the container image uses (no /etc/passwd in the root).
cp "$PKI/server.crt" "$PKI/server.key" "$ROOT/etc/ssl/"
chown 65532:65532 "$ROOT/etc/ssl/server.key" "$ROOT/state"
CHROOT_USER=65532:65532 start_root -- --tls-cert-file /etc/ssl/server.crt --tls-key-file /etc/ssl/server.key
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" "https://127.0.0.1:$PORT/readyz")
[ "$code" = 200 ] || fail "HTTPS /readyz from the static binary: $code"
[ "$(stat -c %u "/proc/$HEALER_PID")" = 65532 ] || fail "not running as uid 65532"
stop_healer
grep -q jk-static-token "$TMP/healer.log" "$TMP/healer.out" && fail "token in the log"
echo "PASS $TEST_NAME"
