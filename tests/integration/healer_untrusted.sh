#!/usr/bin/env bash
# untrusted.sh - untrusted bytes stay whole: a NUL in a label name or value
# or a fingerprint is a 400 that says where (never cut at the NUL, so
# env="dev\u0000prod" cannot pass for env="dev" and two fingerprints cannot
# collapse into one); a repeated key keeps its last value (Go's
# encoding/json); startsAt must be RFC 3339, and two spellings of one
# instant are one occurrence.
. "$(dirname "$0")/lib.bash"
start_healer --dry-run
P=/api/v1/alertmanager

nul() { # LABELS FINGERPRINT WANT_PATH WHAT
  post_json $P "$(payload "$(alert firing "$1" "$2")")"
  expect_code 400 "$4"
  local e
  e=$(json_get "j['error']")
  [[ "$e" == *"$3: holds a NUL character"* ]] || fail "$4: error '$e' does not name $3"
}
nul '{"alertname":"HealerTest","instance":"n1:9100\u0000evil"}' nul1 'alerts[0].labels.instance' 'NUL in a value'
nul '{"alertname":"HealerTest","inst\u0000ance":"n1:9100"}' nul2 'alerts[0].labels.inst\u0000ance' 'NUL in a name'
nul '{"alertname":"HealerTest","instance":"n1:9100"}' 'fp\u0000a' 'alerts[0].fingerprint' 'NUL in a fingerprint'
nul '{"alertname":"HealerTest","instance":"n1:9100"}' 'fp\u0000b' 'alerts[0].fingerprint' 'NUL in a second fingerprint'
# A raw NUL byte as well as the escape.
printf '%s' "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1:9100RAWNUL"}' raw)")" |
  python3 -c 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().replace(b"RAWNUL", b"\0x"))' >"$TMP/raw.json"
req POST $P -H 'Content-Type: application/json' --data-binary @"$TMP/raw.json"
expect_code 400 "raw NUL byte"
[[ "$(json_get "j['error']")" == *"alerts[0].labels.instance: holds a NUL"* ]] || fail "raw NUL: $BODY"
# An escaped backslash before u0000 is text, not a NUL.
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"n1\\u0000:9100"}' bs)")"
expect_code 202 "escaped backslash"

# A repeated label keeps its last value.
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"first:1","instance":"last:9100"}' dup)")"
expect_code 202 "repeated label"
expect_json "j['queued']" 1 "repeated label queued"
wait_until 20 sh -c "curl -s '$BASE/api/v1/remediations?limit=20' | grep -q '\"fingerprint\":\"dup\"'" ||
  fail "no remediation for the repeated label"
req GET '/api/v1/remediations?limit=20'
python3 - "$TMP/body" <<'PY' || fail "repeated label did not keep the last value: $BODY"
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["remediations"] if r["fingerprint"] == "dup"][0]
assert r["action"]["params"]["node"] == "last", r
PY

# startsAt: RFC 3339 only, compared as instants.
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"t1:9100"}' when 'yesterday')")"
expect_code 400 "startsAt not RFC 3339"
[[ "$(json_get "j['error']")" == *"alerts[0].startsAt: expected an RFC 3339 time"* ]] || fail "startsAt message: $BODY"
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"t1:9100"}' when '2026-11-27T10:00:00Z')")"
expect_code 202 "first spelling"
expect_json "j['queued'], j['duplicates']" "1 0" "first spelling"
for spelling in '2026-11-27T10:00:00.000Z' '2026-11-27T11:00:00+01:00' '2026-11-27t10:00:00.000000000z'; do
  post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"t1:9100"}' when "$spelling")")"
  expect_code 202 "spelling $spelling"
  expect_json "j['queued'], j['duplicates']" "0 1" "$spelling is the same occurrence"
done
post_json $P "$(payload "$(alert firing '{"alertname":"HealerTest","instance":"t1:9100"}' when '2026-11-27T10:00:00.001Z')")"
expect_json "j['queued'], j['duplicates']" "1 0" "another instant is another occurrence"
req GET /healthz
expect_code 200 "still serving"
stop_healer
echo "PASS $TEST_NAME"
