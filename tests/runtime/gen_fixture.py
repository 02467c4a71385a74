#!/usr/bin/env python3
"""gen_fixture.py - writes fixture_rules.c, the hand-specified rules table
that the runtime's unit tests and the integration binary (healer-fixture)
link instead of healerc's output.

The rules are described below in a compact form and laid out here exactly as
core/abi.h specifies (postfix expressions, index sorted by alert name), so the
tests do not depend on healerc. Run it after changing RULES:

    python3 tests/runtime/gen_fixture.py > tests/runtime/fixture_rules.c
"""

FILE = "tests/runtime/fixture.heal"

# Expressions: ('lab', name) ('ann', name) ('lit', s) ('field', FIELD)
# ('call', FUNC, args...) ('cat', parts...) ('def', value, default)
L = lambda n: ('lab', n)
A = lambda n: ('ann', n)
S = lambda s: ('lit', s)

WINDOWS = [
    dict(name="business_hours", tz="Europe/Berlin", days=0b0111110, start=9 * 60,
         end=18 * 60, frm=0, to=0),
    dict(name="year_end_freeze", tz="UTC", days=0x7f, start=0, end=0,
         frm=20261220, to=20270104),
    dict(name="night", tz="America/New_York", days=0x7f, start=22 * 60, end=6 * 60,
         frm=0, to=0),
]

BACKENDS = [dict(name="ci", kind="JENKINS", fields=[("url", "LITERAL", "http://127.0.0.1:1"),
                                                    ("user", "LITERAL", "healer"),
                                                    ("token", "ENV", "CI_TOKEN")]),
            # Clusters that per_cluster picks by label; us-2 is of another kind.
            dict(name="eu-1", kind="KUBERNETES", fields=[]),
            dict(name="eu-1-b", kind="KUBERNETES", fields=[]),
            dict(name="us-2", kind="JENKINS", fields=[("url", "LITERAL", "http://127.0.0.1:1")])]

# Each rule: name, alerts, matchers [(on, name, op, value)], steps
# [(kind, target, backend, [(param, expr)])], options. A step's backend is
# a name, None (the default), or an expression (picked per alert).
RULES = [
    dict(name="eq_continue", alerts=["Match"], matchers=[("LABEL", "env", "EQ", "prod")],
         flags=["CONTINUE"],
         steps=[("WEBHOOK", None, None, [("url", ('cat', S("http://hook/"), L("alertname")))])]),
    dict(name="re_rule", alerts=["Match"],
         matchers=[("LABEL", "instance", "RE", r"node\d+:9100|\[[0-9a-f:]+\]:9100")],
         steps=[("JENKINS", "infra/Job", "ci",
                 [("node", ('call', "HOST", L("instance"))),
                  ("cluster", ('def', L("cluster"), S("unknown")))])]),
    dict(name="ne_rule", alerts=["Match"],
         matchers=[("LABEL", "team", "NE", "db"), ("ANNOTATION", "summary", "NRE", "ignore.*")],
         steps=[("JENKINS", "Other", None, [("who", L("team"))])]),
    dict(name="fallback", alerts=["Match", "Other"], matchers=[],
         steps=[("JENKINS", "Fallback", None,
                 [("a", ('call', "LOWER", L("alertname"))),
                  ("b", ('call', "UPPER", ('def', A("summary"), S("none")))),
                  ("c", ('call', "TRIM_PREFIX", ('def', L("instance"), S("")), S("node"))),
                  ("d", ('call', "TRIM_SUFFIX", ('def', L("instance"), S("")), S(":9100"))),
                  ("e", ('call', "REPLACE", L("alertname"), S("a"), S("4"))),
                  ("f", ('cat', S("fp="), ('field', "FINGERPRINT"), S(" at "),
                         ('field', "STARTS_AT"), S(" "), ('field', "STATUS"), S(" "),
                         ('field', "ALERTNAME"), S(" "), ('field', "GENERATOR_URL"),
                         S(" "), ('field', "ENDS_AT")))])]),
    dict(name="cooldown_rule", alerts=["Cool", "HealerCooldown"], matchers=[],
         cooldown=3600000, cooldown_key=L("instance"),
         steps=[("JENKINS", "CoolJob", None, [("node", ('def', L("instance"), S("none")))])]),
    dict(name="cooldown_default", alerts=["CoolDefault"], matchers=[], cooldown=3600000,
         steps=[("JENKINS", "CoolDefaultJob", None, [("node", ('def', L("instance"), S("none")))])]),
    dict(name="dry_rule", alerts=["Dry"], matchers=[], flags=["DRY_RUN"],
         steps=[("K8S_CORDON", None, None, [("node", ('def', L("node"), S("n")))])]),
    dict(name="resolve_firing", alerts=["HealerResolve", "Resolve"], matchers=[],
         steps=[("JENKINS", "ResolveJob", None, [("fp", ('field', "FINGERPRINT"))])]),
    dict(name="resolved_only", alerts=["Resolve"], matchers=[], status="RESOLVED",
         steps=[("WEBHOOK", None, None, [("url", S("http://resolved/"))])]),
    dict(name="budget_rule", alerts=["Budget"], matchers=[], budget=2, budget_ms=3600000,
         steps=[("JENKINS", "B", None, [("x", ('def', L("instance"), S("x")))])]),
    dict(name="limit_rule", alerts=["Limit"], matchers=[], limit=1, limit_key=L("cluster"),
         steps=[("JENKINS", "L", None, [("c", ('def', L("cluster"), S("c"))),
                                          ("i", ('def', L("instance"), S("i")))])]),
    dict(name="window_rule", alerts=["Window"], matchers=[], during=0,
         steps=[("JENKINS", "W", None, [])]),
    dict(name="not_window_rule", alerts=["Window"], matchers=[], not_during=1,
         steps=[("JENKINS", "NW", None, [])]),
    dict(name="multi_step", alerts=["KubeNodeNotReady"],
         matchers=[("LABEL", "severity", "RE", "warning|critical"), ("LABEL", "node", "RE", ".+")],
         timeout=2700000, retries=2,
         steps=[("K8S_CORDON", None, None, [("node", L("node"))]),
                ("K8S_DRAIN", None, None, [("node", L("node")), ("grace_period", S("300"))]),
                ("SPINNAKER", "replace-node", None,
                 [("application", S("infra-nodes")),
                  ("reason", ('cat', L("alertname"), S(" since "), ('field', "STARTS_AT")))])]),
    dict(name="any_status", alerts=["Any"], matchers=[], status="ANY",
         steps=[("WEBHOOK", None, None, [("url", ('call', "REPLACE", L("alertname"), S("A"), S("B"))),
                                         ("status", ('field', "STATUS"))])]),
    # Integration tests (tests/integration/*.sh).
    dict(name="it_prune", alerts=["HealerTest"], matchers=[("LABEL", "instance", "RE", ".+")],
         steps=[("JENKINS", "infra/DockerPruneNode", None,
                 [("node", ('call', "HOST", L("instance"))),
                  ("cluster", ('def', L("cluster"), S("unknown"))),
                  ("value", ('def', L("value"), S("none")))])]),
    dict(name="it_missing", alerts=["HealerMissing"], matchers=[],
         steps=[("JENKINS", "NeedsNode", None, [("node", L("node"))])]),
    # via $cluster, then via "${cluster}-b"
    dict(name="per_cluster", alerts=["ClusterNode"], matchers=[],
         steps=[("K8S_CORDON", None, L("cluster"), [("node", ('def', L("node"), S("n")))]),
                ("K8S_DRAIN", None, ('cat', L("cluster"), S("-b")),
                 [("node", ('def', L("node"), S("n")))])]),
    # No `retry` clause (HL_RETRY_DEFAULT) and `retry 0`, on a kind the
    # worker test implements (test_worker.c); short backoffs.
    dict(name="retry_default", alerts=["RetryDefault"], matchers=[],
         retries="HL_RETRY_DEFAULT", backoff=20,
         steps=[("K8S_RESTART", None, None, [("namespace", S("ops")), ("deployment", S("web"))])]),
    dict(name="retry_zero", alerts=["RetryZero"], matchers=[], retries=0, backoff=20,
         steps=[("K8S_RESTART", None, None, [("namespace", S("ops")), ("deployment", S("web"))])]),
    # stop after 2 failures in 1h
    dict(name="it_breaker", alerts=["HealerBreaker"], matchers=[], breaker=(2, 3600000),
         steps=[("JENKINS", "BreakerJob", None, [("node", ('def', L("node"), S("n")))])]),
    # Alert-name patterns ("=~RE"), merged in source order with exact names.
    dict(name="pat_first", alerts=["PatA"], matchers=[("LABEL", "env", "EQ", "prod")],
         flags=["CONTINUE"], steps=[("JENKINS", "PatFirst", None, [])]),
    dict(name="pat_rule", alerts=["PatA", "=~Pat[A-Z]"], matchers=[],
         flags=["CONTINUE"], steps=[("JENKINS", "PatRule", None, [])]),
    dict(name="pat_slow", alerts=["=~(a|aa)+b"], matchers=[],
         steps=[("JENKINS", "PatSlow", None, [])]),
    dict(name="pat_last", alerts=["PatA", "PatQ"], matchers=[],
         steps=[("JENKINS", "PatLast", None, [])]),
]

out = []
insns, params, steps, matchers, alertnames, rules, notifies = [], [], [], [], [], [], []
patterns = []  # (rule, regex)


def emit(e):
    k = e[0]
    if k == 'lit':
        insns.append(("HL_OP_LIT", "0", e[1]))
    elif k == 'lab':
        insns.append(("HL_OP_LABEL", "0", e[1]))
    elif k == 'ann':
        insns.append(("HL_OP_ANNOTATION", "0", e[1]))
    elif k == 'field':
        insns.append(("HL_OP_FIELD", "HL_FIELD_" + e[1], None))
    elif k == 'call':
        for a in e[2:]:
            emit(a)
        insns.append(("HL_OP_CALL", "HL_FN_" + e[1], None))
    elif k == 'cat':
        for a in e[1:]:
            emit(a)
        insns.append(("HL_OP_CONCAT", str(len(e) - 1), None))
    elif k == 'def':
        emit(e[1])
        emit(e[2])
        insns.append(("HL_OP_DEFAULT", "0", None))


def expr(e):
    if e is None:
        return "{0, 0}"
    first = len(insns)
    emit(e)
    return "{%d, %d}" % (first, len(insns) - first)


def cstr(s):
    if s is None:
        return "NULL"
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


backend_index = {b["name"]: i for i, b in enumerate(BACKENDS)}
for i, r in enumerate(RULES):
    line = 10 * (i + 1)
    fa = len(alertnames)
    exact = [a for a in r["alerts"] if not a.startswith("=~")]
    alertnames.extend(exact)
    fpat = len(patterns)
    patterns.extend((i, a[2:]) for a in r["alerts"] if a.startswith("=~"))
    npat = len(patterns) - fpat
    fm = len(matchers)
    for on, name, op, value in r["matchers"]:
        matchers.append((on, op, name, value))
    fs = len(steps)
    for kind, target, backend, ps in r["steps"]:
        fp = len(params)
        for pname, pe in ps:
            params.append((pname, None))
        # expressions after the param slots are reserved
        for j, (pname, pe) in enumerate(ps):
            params[fp + j] = (pname, expr(pe))
        picked = isinstance(backend, tuple)
        steps.append((kind, "%d" % backend_index[backend] if backend and not picked else "HL_NONE",
                      target, fp, len(ps), expr(backend) if picked else "{0, 0}"))
    flags = " | ".join("HL_RULE_" + f for f in r.get("flags", [])) or "0"
    ck = expr(r.get("cooldown_key"))
    lk = expr(r.get("limit_key"))
    rules.append(dict(
        name=r["name"], line=line, flags=flags, status="HL_STATUS_" + r.get("status", "FIRING"),
        fa=fa, na=len(exact), fpat=fpat if npat else 0, npat=npat, fm=fm, nm=len(r["matchers"]), fs=fs, ns=len(r["steps"]),
        cooldown=r.get("cooldown", 0), ck=ck, timeout=r.get("timeout", 0),
        retries=str(r.get("retries", 0)), backoff=r.get("backoff", 0),
        limit=r.get("limit", 0), lk=lk,
        budget=r.get("budget", 0), budget_ms=r.get("budget_ms", 0),
        during=str(r["during"]) if "during" in r else "HL_NONE",
        not_during=str(r["not_during"]) if "not_during" in r else "HL_NONE",
        breaker=r.get("breaker", (0, 0))))

index = {}
for i, r in enumerate(RULES):
    for a in r["alerts"]:
        if not a.startswith("=~"):
            index.setdefault(a, []).append(i)
names = sorted(index, key=lambda s: s.encode())
index_rules = []
entries = []
for n in names:
    entries.append((n, len(index_rules), len(index[n])))
    index_rules.extend(index[n])

p = out.append
p("/* fixture_rules.c - written by tests/runtime/gen_fixture.py; do not edit. */")
p("/* The rules table of the runtime's tests, laid out as healerc would. */")
p("#include <stddef.h>\n")
p('#include "abi.h"\n')
p("HL_ABI_CHECK(6);\n")
p("static const char *const alertnames[] = {")
for a in alertnames:
    p("  %s," % cstr(a))
p("};\n")
p("static const struct hl_matcher matchers[] = {")
for on, op, name, value in matchers:
    p("  {HL_ON_%s, HL_MATCH_%s, %s, %s}," % (on, op, cstr(name), cstr(value)))
p("};\n")
p("static const struct hl_insn insns[] = {")
for i, (op, arg, s) in enumerate(insns):
    p("  /* %3d */ {%s, %s, %s}," % (i, op, arg, cstr(s)))
p("};\n")
p("static const struct hl_param params[] = {")
for name, e in params:
    p("  {%s, %s}," % (cstr(name), e))
p("};\n")
p("static const struct hl_step steps[] = {")
for kind, backend, target, fp, n, bx in steps:
    p("  {HL_ACT_%s, %s, %s, %d, %d, 0, %s}," % (kind, backend, cstr(target), fp, n, bx))
p("};\n")
spans = []
p("static const struct hl_window windows[] = {")
for w in WINDOWS:
    times = [(w["start"], w["end"])] if w["start"] != w["end"] else []
    p("  {%s, %s, %d, 0xfff, %d, %d, 0, 0, 0, 0, %d, %d, %s, 1}," % (
        cstr(w["name"]), cstr(w["tz"]), w["days"], len(spans), len(times),
        w["frm"], w["to"], cstr(FILE)))
    spans += times
p("};\n")
p("static const struct hl_span spans[] = {")
for lo, hi in spans:
    p("  {%d, %d}," % (lo, hi))
p("};\n")
fields = []
p("static const struct hl_backend_field fields[] = {")
for b in BACKENDS:
    for f in b["fields"]:
        p("  {%s, HL_SRC_%s, %s}," % (cstr(f[0]), f[1], cstr(f[2])))
p("};\n")
p("static const struct hl_backend backends[] = {")
nf = 0
for b in BACKENDS:
    p("  {%s, HL_BK_%s, %d, %d, %s, 2}," % (cstr(b["name"]), b["kind"], nf, len(b["fields"]), cstr(FILE)))
    nf += len(b["fields"])
p("};\n")
p("static const struct hl_notify notifies[] = {")
p("  {HL_EV_FAILURE, HL_BK_SLACK, HL_NONE, \"#sre\"},")
p("};\n")
p("static const struct hl_rule rules[] = {")
for r in rules:
    p("  {%s, NULL, %s, %d, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, 0, 0, %d, %s, %d, %s, %d, %d, %s, %d, %d, %s, %s, %d, %d}," % (
        cstr(r["name"]), cstr(FILE), r["line"], r["flags"], r["status"], r["fa"], r["na"], r["fpat"], r["npat"],
        r["fm"], r["nm"],
        r["fs"], r["ns"], r["cooldown"], r["ck"], r["timeout"], r["retries"], r["backoff"], r["limit"], r["lk"],
        r["budget"], r["budget_ms"], r["during"], r["not_during"], r["breaker"][0], r["breaker"][1]))
p("};\n")
p("static const struct hl_index_entry entries[] = {")
for n, f, c in entries:
    p("  {%s, %d, %d}," % (cstr(n), f, c))
p("};\n")
p("static const uint32_t index_rules[] = {")
p("  " + ", ".join(str(i) for i in index_rules) + ",")
p("};\n")
p("static const struct hl_name_pattern name_patterns[] = {")
for ri, regex in patterns:
    p("  {%d, %s}," % (ri, cstr(regex)))
p("};\n")
p("#define N(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))")
p("const struct hl_ruleset hl_ruleset = {")
p("  HL_ABI_VERSION, \"gen_fixture.py\", \"0123456789abcdef\",")
for arr in ["rules", "alertnames", "matchers", "insns", "params", "steps", "notifies",
            "windows", "spans", "backends", "fields", "entries", "index_rules",
            "name_patterns"]:
    p("  %s, N(%s)," % (arr, arr))
p("};")
print("\n".join(out))
