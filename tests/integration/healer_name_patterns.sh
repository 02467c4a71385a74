#!/usr/bin/env bash
# healer_name_patterns.sh - alert names by pattern, end to end: rules with
# `when alert =~ "RE"` compiled by healerc, linked with the runtime objects
# next to $HEALER, fed real webhooks in dry-run. Each alert is taken by the
# first rule in source order, whether it names the alert exactly or by
# pattern; patterns are anchored; an exact rule after a pattern that takes
# its name is reported as shadowed by healerc.
. "$(dirname "$0")/lib.bash"

HEALERC=${HEALERC:-bin/healerc}
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
cat >"$TMP/patterns.heal" <<'HEAL'
when alert KubePodCrashLooping labels env="dev" run jenkins DevOnly with pod=$pod ?? "none"
when alert =~ "KubePod(CrashLooping|NotReady)" run jenkins RestartPod with pod=$pod ?? "none"
when alert KubePodNotReady run jenkins Never with pod=$pod ?? "none"
when alert NodeDown, =~ 'Node(Lost|Unreachable)' run jenkins ReplaceNode with node=$instance ?? "none"
HEAL
"$HEALERC" compile "$TMP/patterns.heal" -o "$TMP/rules.c" 2>"$TMP/healerc.err" || fail "healerc compile: $(cat "$TMP/healerc.err")"
grep -Eq "patterns.heal:3:1: warning: rule 'patterns#[0-9a-f]{8}' can never match: the earlier rule 'patterns#[0-9a-f]{8}' always matches first" \
  "$TMP/healerc.err" || fail "no shadowing warning: $(cat "$TMP/healerc.err")"
link_healer "$TMP/rules.c"
start_healer --dry-run

post_json /api/v1/alertmanager "$(payload \
  "$(alert firing '{"alertname":"KubePodCrashLooping","env":"dev","pod":"p1"}' f1)" \
  "$(alert firing '{"alertname":"KubePodCrashLooping","env":"prod","pod":"p2"}' f2)" \
  "$(alert firing '{"alertname":"KubePodNotReady","pod":"p3"}' f3)" \
  "$(alert firing '{"alertname":"KubePodNotReadyX","pod":"p4"}' f4)" \
  "$(alert firing '{"alertname":"NodeLost","instance":"n1"}' f5)" \
  "$(alert firing '{"alertname":"NodeDown","instance":"n2"}' f6)" \
  "$(alert firing '{"alertname":"xNodeLost","instance":"n3"}' f7)")"
expect_code 202 "webhook"
expect_json "(j['queued'], j['unmatched'])" "5 2" "queued and unmatched"

check() {
  curl -s "$BASE/api/v1/remediations?limit=50" >"$TMP/rem.json"
  curl -s "$BASE/api/v1/rules" >"$TMP/rules.json"
  python3 - "$TMP/rem.json" "$TMP/rules.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["remediations"]
# One-line rules are named by their identity: find each one's line.
line = {x["name"]: int(x["source"].rsplit(":", 1)[1]) for x in json.load(open(sys.argv[2]))["rules"]}
got = sorted((x["fingerprint"], line[x["rule"]], x["action"]["target"], x["state"]) for x in r)
want = [("f1", 1, "DevOnly", "dry_run"),
        ("f2", 2, "RestartPod", "dry_run"),
        ("f3", 2, "RestartPod", "dry_run"),
        ("f5", 4, "ReplaceNode", "dry_run"),
        ("f6", 4, "ReplaceNode", "dry_run")]
sys.exit(0 if got == want else 1)
PY
}
wait_until 20 check || fail "remediations: $(cat "$TMP/rem.json")"
# The anchored patterns left these two alone, and said so.
grep -q 'no rule for alert KubePodNotReadyX' "$TMP/healer.log" ||
  fail "KubePodNotReadyX not logged as unmatched: $(grep -i KubePodNotReadyX "$TMP/healer.log" | head -3)"
grep -q 'no rule for alert xNodeLost' "$TMP/healer.log" || fail "xNodeLost not logged as unmatched"

# The rules API lists the patterns.
req GET /api/v1/rules
expect_code 200 "rules"
expect_json 'j["rules"][1]["alert_patterns"]' "['KubePod(CrashLooping|NotReady)']" "patterns of rule 2"
expect_json 'j["rules"][3]["alerts"] + j["rules"][3]["alert_patterns"]' "['NodeDown', 'Node(Lost|Unreachable)']" "names and patterns of rule 4"
stop_healer
echo "PASS $TEST_NAME"
