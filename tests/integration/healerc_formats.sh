#!/usr/bin/env bash
# healerc for CI tools: --color (auto on a terminal, NO_COLOR, always,
# never), --format json and sarif on every file of tests/diag/ (each line
# or log well-formed, every code known and listed in dsl/LANGUAGE.md, SARIF's
# required properties present), and the usage errors of both options.
# The exact output is golden (tests/diag/*.json.expected, *.sarif.expected).
set -u
cd "$(dirname "$0")/../.."
HEALERC=${HEALERC:-bin/healerc}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
src=tests/diag/diag-color-always.heal
esc=$'\033['

# ---- colour -------------------------------------------------------------------
# on_tty CMD...: runs CMD with stdout and stderr on a pseudo-terminal.
on_tty() { script -qec "$(printf '%q ' "$@")" /dev/null; }
colored() { # colored NAME WANT(0|1) CMD...
  local name=$1 want=$2 got=0; shift 2
  "$@" >"$t/col" 2>&1
  grep -qF "$esc" "$t/col" && got=1
  [ "$got" -eq "$want" ] || bad "colour: $name: coloured=$got, want $want"
}
if command -v script >/dev/null; then
  colored "auto on a terminal" 1 env -u NO_COLOR bash -c "$(declare -f on_tty); on_tty $HEALERC check $src"
  colored "auto, NO_COLOR=1" 0 env NO_COLOR=1 bash -c "$(declare -f on_tty); on_tty $HEALERC check $src"
  colored "auto, NO_COLOR empty" 1 env NO_COLOR= bash -c "$(declare -f on_tty); on_tty $HEALERC check $src"
  colored "never on a terminal" 0 env -u NO_COLOR bash -c "$(declare -f on_tty); on_tty $HEALERC check --color=never $src"
  colored "always, NO_COLOR=1" 1 env NO_COLOR=1 bash -c "$(declare -f on_tty); on_tty $HEALERC check --color always $src"
else
  bad "colour: no 'script' to make a terminal (util-linux)"
fi
colored "auto into a pipe" 0 env -u NO_COLOR "$HEALERC" check "$src"
colored "json on a terminal" 0 env -u NO_COLOR bash -c "$(declare -f on_tty); on_tty $HEALERC check --format json $src"

# ---- usage errors -----------------------------------------------------------------
usage() { # usage NAME TEXT CMD...: exit 2 and TEXT on stderr
  local name=$1 text=$2; shift 2
  "$@" >"$t/out" 2>"$t/err"; local rc=$?
  [ "$rc" -eq 2 ] || bad "usage: $name: exit $rc, want 2"
  grep -qF -- "$text" "$t/err" || bad "usage: $name: no '$text' in: $(cat "$t/err")"
}
usage "bad colour" "--color takes auto, always or never, not 'sometimes'" "$HEALERC" check --color=sometimes "$src"
usage "colour without value" "--color takes auto, always or never" "$HEALERC" check "$src" --color
usage "bad format" "--format takes text, json or sarif, not 'xml'" "$HEALERC" check --format xml "$src"
usage "json and -o -" "give -o a file" "$HEALERC" compile --format json rules/*.heal -o -
usage "unreadable file, json" "cannot read '$t/nope.heal'" "$HEALERC" check --format json "$t/nope.heal"
[ -s "$t/out" ] && bad "unreadable file, json: stdout not empty"

# ---- every file of the corpus, both formats -----------------------------------------
: > "$t/runs"
for f in tests/diag/*.heal; do
  args=()
  [ -f "${f%.heal}.args" ] && read -r -a args < "${f%.heal}.args"
  "$HEALERC" check "${args[@]}" "$f" >/dev/null 2>&1; rc=$?
  for fmt in json sarif; do
    "$HEALERC" check "${args[@]}" --format "$fmt" "$f" >"$t/$(basename "$f").$fmt" 2>"$t/err"; frc=$?
    [ "$frc" -eq "$rc" ] || bad "$f: --format $fmt exit $frc, text exit $rc"
    [ -s "$t/err" ] && bad "$f: --format $fmt wrote to stderr: $(head -c 200 "$t/err")"
  done
  printf '%s\t%s\n' "$f" "$rc" >> "$t/runs"
done
# A clean file: no JSON line, a SARIF log without results.
"$HEALERC" check --format json rules/*.heal > "$t/clean.json" || bad "clean json: exit $?"
[ -s "$t/clean.json" ] && bad "clean json: output $(head -c 200 "$t/clean.json")"
"$HEALERC" check --format sarif rules/*.heal > "$t/clean.sarif" || bad "clean sarif: exit $?"
printf '%s\t0\n' "clean" >> "$t/runs"
# An absolute path with a space: a percent-encoded file:// URI.
mkdir "$t/a dir"
cp tests/diag/format-several.heal "$t/a dir/x.heal"
"$HEALERC" check --format sarif "$t/a dir/x.heal" > "$t/abs.sarif"
printf '%s\t1\n' "abs" >> "$t/runs"

python3 - "$t" <<'PY' || fails=$((fails + 1))
import json, re, sys
t = sys.argv[1]
errors = []
def err(m): errors.append(m)

hdr = open("compiler/diag_codes.h").read()
known = set(re.findall(r'DIAG_CODE\(\s*"([a-z0-9-]+)"', hdr))
lang = open("dsl/LANGUAGE.md").read()
section = lang.split("#### Diagnostic codes", 1)[-1].split("\n#", 1)[0]
listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.M))
if len(known) < 40: err(f"only {len(known)} codes read from diag_codes.h")
for c in sorted(known - listed): err(f"code {c} is not listed in dsl/LANGUAGE.md")
for c in sorted(listed - known): err(f"dsl/LANGUAGE.md lists {c}, which healerc does not have")

def is_pos_int(v): return isinstance(v, int) and not isinstance(v, bool) and v >= 1

def check_region(where, r):
    for k in ("startLine", "startColumn", "endLine", "endColumn"):
        if not is_pos_int(r.get(k)): err(f"{where}: region.{k} = {r.get(k)!r}")
    if r.get("endLine", 0) < r.get("startLine", 0) or (
            r.get("endLine") == r.get("startLine") and r.get("endColumn", 0) < r.get("startColumn", 0)):
        err(f"{where}: region ends before it starts: {r}")

def check_location(where, loc):
    pl = loc.get("physicalLocation")
    if not isinstance(pl, dict): return err(f"{where}: no physicalLocation")
    al = pl.get("artifactLocation")
    if not isinstance(al, dict) or not isinstance(al.get("uri"), str) or not al["uri"]:
        return err(f"{where}: no artifactLocation.uri")
    if re.search(r"[^A-Za-z0-9\-._~/%:]", al["uri"]): err(f"{where}: uri not encoded: {al['uri']}")
    if "region" in pl: check_region(where, pl["region"])

def check_sarif(name, doc, want_results):
    # sarifLog: version and runs are required (SARIF 2.1.0, section 3.13).
    if doc.get("version") != "2.1.0": err(f"{name}: version {doc.get('version')!r}")
    if "sarif-schema-2.1.0.json" not in doc.get("$schema", ""): err(f"{name}: $schema")
    runs = doc.get("runs")
    if not isinstance(runs, list) or len(runs) != 1: return err(f"{name}: runs {runs!r:.80}")
    run = runs[0]
    # run: tool required; tool: driver required; driver: name required.
    drv = run.get("tool", {}).get("driver")
    if not isinstance(drv, dict) or drv.get("name") != "healerc": return err(f"{name}: tool.driver")
    if run.get("columnKind") not in ("utf16CodeUnits", "unicodeCodePoints"): err(f"{name}: columnKind")
    rules = drv.get("rules", [])
    ids = [r.get("id") for r in rules]
    for r in rules:
        if r.get("id") not in known: err(f"{name}: rule id {r.get('id')!r} unknown")
        if not isinstance(r.get("shortDescription", {}).get("text"), str): err(f"{name}: rule {r.get('id')} without shortDescription.text")
    if len(set(ids)) != len(ids): err(f"{name}: duplicate rule ids")
    results = run.get("results")
    if not isinstance(results, list): return err(f"{name}: results missing")
    if len(results) != want_results: err(f"{name}: {len(results)} results, want {want_results}")
    used = set()
    for i, res in enumerate(results):
        w = f"{name}: result {i}"
        # result: message required, with text.
        if not isinstance(res.get("message", {}).get("text"), str) or not res["message"]["text"]:
            err(f"{w}: message.text")
        if res.get("level") not in ("none", "note", "warning", "error"): err(f"{w}: level {res.get('level')!r}")
        ri = res.get("ruleIndex")
        if not isinstance(ri, int) or not 0 <= ri < len(rules) or rules[ri].get("id") != res.get("ruleId"):
            err(f"{w}: ruleIndex {ri!r} does not name ruleId {res.get('ruleId')!r}")
        used.add(res.get("ruleId"))
        locs = res.get("locations")
        if not isinstance(locs, list) or len(locs) != 1: err(f"{w}: locations"); continue
        check_location(w, locs[0])
        for j, rl in enumerate(res.get("relatedLocations", [])):
            check_location(f"{w} related {j}", rl)
            if not isinstance(rl.get("message", {}).get("text"), str): err(f"{w} related {j}: message.text")
            if rl.get("id") != j: err(f"{w} related {j}: id {rl.get('id')!r}")
    if used != set(ids): err(f"{name}: rules {sorted(ids)} but results use {sorted(used)}")
    return results

KEYS = {"file": str, "line": int, "column": int, "end_line": int, "end_column": int,
        "severity": str, "code": str, "message": str, "notes": list}
nfiles = nres = 0
for line in open(f"{t}/runs"):
    f, rc = line.rstrip("\n").split("\t")
    base = f.split("/")[-1]
    if f == "clean":
        check_sarif("clean", json.load(open(f"{t}/clean.sarif")), 0); continue
    if f == "abs":
        res = check_sarif("abs", json.load(open(f"{t}/abs.sarif")), 5)
        uri = res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] if res else ""
        if not (uri.startswith("file:///") and uri.endswith("/a%20dir/x.heal")): err(f"abs: uri {uri!r}")
        continue
    nfiles += 1
    objs = []
    for n, l in enumerate(open(f"{t}/{base}.json", encoding="utf-8"), 1):
        try: o = json.loads(l)
        except ValueError as e: err(f"{f}: json line {n}: {e}"); continue
        objs.append(o)
        for k, ty in KEYS.items():
            if k in ("line", "column", "end_line", "end_column") and "line" not in o and o.get("code") == "file":
                continue
            if not isinstance(o.get(k), ty): err(f"{f}: json line {n}: {k} = {o.get(k)!r}")
        if o.get("severity") not in ("error", "warning"): err(f"{f}: json line {n}: severity")
        if o.get("code") not in known: err(f"{f}: json line {n}: code {o.get('code')!r}: {o.get('message')}")
        for note in o.get("notes", []):
            if set(note) != {"file", "line", "column", "end_line", "end_column", "message"}:
                err(f"{f}: json line {n}: note keys {sorted(note)}")
    if (rc == "1") != any(o.get("severity") == "error" for o in objs):
        err(f"{f}: exit {rc} but errors in json: {[o.get('severity') for o in objs]}")
    nres += len(objs)
    try: doc = json.load(open(f"{t}/{base}.sarif", encoding="utf-8"))
    except ValueError as e: err(f"{f}: sarif: {e}"); continue
    res = check_sarif(f, doc, len(objs)) or []
    for o, r in zip(objs, res):
        if (o["code"], o["message"], o["severity"]) != (r.get("ruleId"), r["message"]["text"], r.get("level")):
            err(f"{f}: json and sarif disagree: {o['code']} / {r.get('ruleId')}")
if nfiles < 50 or nres < 200: err(f"only {nfiles} files and {nres} diagnostics checked")
for e in errors[:40]: print("FAIL", e)
print(f"{nfiles} files, {nres} diagnostics, {len(known)} codes checked")
sys.exit(1 if errors else 0)
PY

[ "$fails" -eq 0 ] && echo "ok" || { echo "$fails failure(s)"; exit 1; }
