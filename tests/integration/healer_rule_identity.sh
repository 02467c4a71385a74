#!/usr/bin/env bash
# healer_rule_identity.sh - a one-line rule keeps its identity across a
# rules deploy that does not change it, end to end: an alert remediated,
# then the rule file edited (a comment and a new rule above it, its
# spacing and cooldown), healer rebuilt and restarted on the same
# --state-dir while Alertmanager resends: the resend is a duplicate and
# the cooldown still holds (before, the rule was renamed `card:1` ->
# `card:3` and remediated the same alert a second time). An edit to what
# the rule takes (a matcher) starts it afresh. A journal written when
# one-line rules were named `<stem>:<line>` binds by that former name.
. "$(dirname "$0")/lib.bash"

HEALERC=${HEALERC:-bin/healerc}
[ -x "$HEALERC" ] || fail "no healerc at $HEALERC"
RULES=$TMP/card.heal

# build: compiles $RULES (and $TMP/other.heal, if there is one) and links
# healer with it; sets NAME to the name of card.heal's one-line rule as
# healerc wrote it.
build() {
  local files=("$RULES")
  [ -f "$TMP/other.heal" ] && files+=("$TMP/other.heal")
  "$HEALERC" compile "${files[@]}" -o "$TMP/rules.c" 2>"$TMP/healerc.err" ||
    fail "healerc compile: $(cat "$TMP/healerc.err")"
  link_healer "$TMP/rules.c"
  NAME=$(python3 - "$TMP/rules.c" "$RULES" <<'PY'
import re, sys
src, heal = open(sys.argv[1]).read(), open(sys.argv[2]).read().split("\n")
rows = re.findall(r'\.name = "([^"]*)", \.file = "[^"]*card\.heal", \.line = (\d+),', src)
print(" ".join(n for n, line in rows if "HealerIdentity" in heal[int(line) - 1]))
PY
)
  [ "$(wc -w <<<"$NAME")" = 1 ] || fail "want one rule for HealerIdentity, got '$NAME'"
}
A1=$(alert firing '{"alertname":"HealerIdentity","instance":"n1","env":"dev"}' id1 2026-12-04T10:00:00Z)
A1_AGAIN=$(alert firing '{"alertname":"HealerIdentity","instance":"n1","env":"dev"}' id1 2026-12-04T11:00:00Z)

# --- 1. Remediated once under the first rules.
cat >"$RULES" <<'HEAL'
when alert HealerIdentity labels env="dev" run jenkins FixNode with node=$instance, cooldown 1h
HEAL
build
v1=$NAME
case $v1 in card\#????????) ;; *) fail "one-line rule named '$v1', want card#<8 hex digits>" ;; esac
start_healer --dry-run
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['queued']" 1 "first firing"
wait_until 10 grep -q "msg=dry_run .*rule=$v1 .*fingerprint=id1" "$TMP/healer.log" ||
  fail "id1 did not run under $v1"
stop_healer

# --- 2. A deploy that does not change what the rule takes or runs: a
# comment and another rule above it, its spacing and its cooldown edited.
cat >"$RULES" <<'HEAL'
# Node remediation (card 7)

when alert HealerOther run jenkins Other with node=$instance
when alert HealerIdentity   labels env="dev" run jenkins FixNode with node=$instance, cooldown 2h
HEAL
# ... and another rule file beside it.
printf 'when alert HealerThird run jenkins Third with node=$instance\n' >"$TMP/other.heal"
build
v2=$NAME
[ "$v2" = "$v1" ] || fail "the deploy renamed the rule: $v1 -> $v2"
start_healer --dry-run
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['duplicates'], j['queued']" "1 0" "Alertmanager's resend after the deploy"
# A new firing of the same alert within the cooldown is held back.
post_json /api/v1/alertmanager "$(payload "$A1_AGAIN")"
expect_json "j['queued'], j['suppressed']" "0 1" "a new firing within the cooldown"
stop_healer

# --- 3. An edit to what it takes is another rule: it starts afresh.
cat >"$RULES" <<'HEAL'
when alert HealerIdentity labels env=~"dev|test" run jenkins FixNode with node=$instance, cooldown 1h
HEAL
build
v3=$NAME
[ "$v3" != "$v1" ] || fail "a changed matcher kept the identity $v1"
start_healer --dry-run
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['queued']" 1 "the resend under a changed rule"
stop_healer

# --- 4. Upgrading: a journal that names the rule "card:1", as healers
# before rule identities did, binds to the rule on that line.
rm -rf "$TMP/state"
cat >"$RULES" <<'HEAL'
when alert HealerIdentity labels env="dev" run jenkins FixNode with node=$instance, cooldown 1h
HEAL
build
v4=$NAME
start_healer --dry-run
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['queued']" 1 "first firing (step 4)"
wait_until 10 grep -q "msg=dry_run .*rule=$v4 .*fingerprint=id1" "$TMP/healer.log" || fail "id1 did not run (step 4)"
stop_healer
# Rewrite the journal as an older healer would have written it: every
# rule name "card:1", no group commits, the checksums made right (CRC-32C).
python3 - "$TMP/state/journal.log" "$v4" <<'PY'
import sys
def crc32c(b):
    crc = 0xffffffff
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
path, name = sys.argv[1], sys.argv[2]
out = []
for line in open(path, "rb").read().split(b"\n")[:-1]:
    body = line[9:]
    if body.startswith(b'{"t":"grp"'):        # no group commits then
        continue
    body = body.replace(b',"grp":1', b"").replace(b'"%s"' % name.encode(), b'"card:1"')
    out.append(b"%08x %s" % (crc32c(body), body))
data = b"\n".join(out) + b"\n"
assert b'"card:1"' in data, "no rule name in the journal"
open(path, "wb").write(data)
PY
start_healer --dry-run
post_json /api/v1/alertmanager "$(payload "$A1")"
expect_json "j['duplicates'], j['queued']" "1 0" "a resend after the upgrade"
post_json /api/v1/alertmanager "$(payload "$A1_AGAIN")"
expect_json "j['queued'], j['suppressed']" "0 1" "the cooldown after the upgrade"
stop_healer
echo "PASS $TEST_NAME"
