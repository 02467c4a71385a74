#!/usr/bin/env bash
# auth.sh - inbound auth: bearer and basic from files, 401 with
# WWW-Authenticate, health and metrics open unless --auth-all, secrets never
# in the log.
. "$(dirname "$0")/lib.bash"
P=/api/v1/alertmanager
BODY_OK=$(payload "$(alert firing '{"alertname":"HealerTest","instance":"a:1"}' fa)")

printf 'tok-3b7f9c\n' >"$TMP/token"
start_healer --dry-run --auth-bearer-file "$TMP/token"
post_json $P "$BODY_OK"
expect_code 401 "no credentials"
grep -qi '^www-authenticate: Bearer realm="healer"' <<<"$HEADERS" || fail "no WWW-Authenticate: $HEADERS"
[ "$(json_get "j['error']")" = "missing or wrong credentials" ] || fail "401 body: $BODY"
post_json $P "$BODY_OK" -H 'Authorization: Bearer tok-3b7f9'
expect_code 401 "short token"
post_json $P "$BODY_OK" -H 'Authorization: Bearer tok-3b7f9cX'
expect_code 401 "long token"
post_json $P "$BODY_OK" -H 'Authorization: Basic dG9rLTNiN2Y5Yw=='
expect_code 401 "wrong scheme"
post_json $P "$BODY_OK" -H 'Authorization: Bearer tok-3b7f9c'
expect_code 202 "right token"
req GET /api/v1/remediations
expect_code 401 "API without credentials"
req GET /api/v1/remediations -H 'Authorization: Bearer tok-3b7f9c'
expect_code 200 "API with credentials"
for p in /healthz /readyz /metrics; do
  req GET $p
  expect_code 200 "$p stays open"
done
# Under /api/ auth comes before 404 and 405: an anonymous client cannot
# tell a real endpoint from a made-up one. Outside it, 404 as before.
req GET /api/v1/nope
expect_code 401 "unknown API path without credentials"
req DELETE /api/v1/remediations
expect_code 401 "wrong method on an API path without credentials"
req POST /api/v1/rules/x/unknown
expect_code 401 "unknown rule action without credentials"
req GET /api/v1/nope -H 'Authorization: Bearer tok-3b7f9c'
expect_code 404 "unknown API path with credentials"
req DELETE /api/v1/remediations -H 'Authorization: Bearer tok-3b7f9c'
expect_code 405 "wrong method with credentials"
req GET /nope
expect_code 404 "unknown path outside /api/"
req POST /healthz
expect_code 405 "wrong method on an open path"
# Auth is checked before the body: a wrong token with a huge body is 401.
head -c 200000 /dev/zero | tr '\0' x >"$TMP/huge"
req POST $P -H 'Content-Type: application/json' --data-binary @"$TMP/huge"
expect_code 401 "401 before 413"
stop_healer   # first: its log thread has written every line
grep -q 'tok-3b7f9c' "$TMP/healer.log" && fail "the token appears in the log"

printf 'am:s3cr3t:with:colons\n' >"$TMP/basic"
start_healer --dry-run --auth-basic-file "$TMP/basic" --auth-all
post_json $P "$BODY_OK" -u 'am:s3cr3t:with:colons'
expect_code 202 "basic auth"
post_json $P "$BODY_OK" -u 'am:wrong'
expect_code 401 "basic auth, wrong password"
grep -qi '^www-authenticate: Basic realm="healer"' <<<"$HEADERS" || fail "no Basic challenge: $HEADERS"
post_json $P "$BODY_OK" -H "Authorization: Basic $(printf 'am:s3cr3t:with:colons' | base64 -w0)"
expect_code 202 "basic auth, header by hand"
post_json $P "$BODY_OK" -H "Authorization: Basic $(printf 'am:s3cr3t:with:colon' | base64 -w0)"
expect_code 401 "basic auth, password one byte short"
post_json $P "$BODY_OK" -H "Authorization: Basic $(printf 'am' | base64 -w0)"
expect_code 401 "basic auth without a colon"
post_json $P "$BODY_OK" -H 'Authorization: Basic !!!'
expect_code 401 "basic auth, not base64"
post_json $P "$BODY_OK" -H 'Authorization: Basic'
expect_code 401 "basic auth, no credentials"
req GET /metrics
expect_code 401 "--auth-all closes /metrics"
req GET /nope
expect_code 401 "--auth-all: unknown path without credentials"
req GET /nope -u 'am:s3cr3t:with:colons'
expect_code 404 "--auth-all: unknown path with credentials"
req GET /healthz -u 'am:s3cr3t:with:colons'
expect_code 200 "--auth-all with credentials"
stop_healer
grep -q 's3cr3t' "$TMP/healer.log" && fail "the password appears in the log"

# Bad auth configuration stops start-up with a clear message (exit 2).
"$HEALER_FIXTURE" --auth-bearer-file "$TMP/nope" --listen 127.0.0.1:0 2>"$TMP/err" && fail "started without its token file"
grep -q -- "--auth-bearer-file $TMP/nope: No such file" "$TMP/err" || fail "message: $(cat "$TMP/err")"
"$HEALER_FIXTURE" --auth-all --listen 127.0.0.1:0 2>"$TMP/err"
[ $? -eq 2 ] || fail "--auth-all alone should exit 2"
echo "PASS $TEST_NAME"
