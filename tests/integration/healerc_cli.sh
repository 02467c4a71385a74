#!/usr/bin/env bash
# healerc's command line: exit codes, help, version, I/O errors, and that
# compile never leaves a partial output file.
set -u
cd "$(dirname "$0")/../.."
HEALERC=${HEALERC:-bin/healerc}
t=$(mktemp -d)
trap 'chmod -R u+w "$t"; rm -rf "$t"' EXIT
fails=0
check() { # check NAME WANT_RC CMD... : runs CMD, compares its exit status
  local name=$1 want=$2; shift 2
  "$@" >"$t/out" 2>"$t/err"; local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; sed 's/^/  /' "$t/err" | head -5; fails=$((fails + 1))
  fi
}
has() { # has NAME FILE TEXT
  grep -qF -- "$3" "$2" || { echo "FAIL $1: no '$3' in $(basename "$2"): $(head -c 300 "$2")"; fails=$((fails + 1)); }
}

good=tests/fuzz/corpus/oneliner.heal   # self-contained
printf 'when alert A run jenkns Job\nwhen alert B run jenkins J with x=$y ??\n' > "$t/bad.heal"

check "help" 0 "$HEALERC" --help;            has "help" "$t/out" "usage: healerc check"
check "version" 0 "$HEALERC" --version;      has "version" "$t/out" "healerc "
check "no command" 2 "$HEALERC"
check "unknown command" 2 "$HEALERC" frobnicate rules/*.heal; has "unknown command" "$t/err" "unknown command 'frobnicate'"
check "unknown option" 2 "$HEALERC" check --frob "$good"; has "unknown option" "$t/err" "unknown option '--frob'"
check "no inputs" 2 "$HEALERC" check
check "compile without -o" 2 "$HEALERC" compile "$good"
check "check with -o" 2 "$HEALERC" check "$good" -o "$t/x.c"
check "missing input" 2 "$HEALERC" check "$t/nope.heal"; has "missing input" "$t/err" "cannot read '$t/nope.heal': No such file or directory"
mkdir "$t/dir"
check "directory input" 2 "$HEALERC" check "$t/dir"
check "clean rules" 0 "$HEALERC" check rules/*.heal
if [ -s "$t/out" ] || [ -s "$t/err" ]; then echo "FAIL clean rules: output on a clean check"; fails=$((fails + 1)); fi
check "bad rules" 1 "$HEALERC" check "$t/bad.heal"; has "bad rules" "$t/err" "generated."

# compile: output appears whole, or not at all.
check "compile ok" 0 "$HEALERC" compile rules/*.heal -o "$t/rules.c"
has "compile ok" "$t/rules.c" "hl_ruleset"
mode=$(umask 022; "$HEALERC" compile rules/*.heal -o "$t/mode.c" && stat -c %a "$t/mode.c")
[ "$mode" = 644 ] || { echo "FAIL output mode: $mode, want 644 under umask 022"; fails=$((fails + 1)); }
if ls "$t" | grep -q '\.tmp\.'; then echo "FAIL compile ok: temporary file left behind"; fails=$((fails + 1)); fi
check "compile errors write nothing" 1 "$HEALERC" compile "$t/bad.heal" -o "$t/bad.c"
if [ -e "$t/bad.c" ]; then echo "FAIL compile errors write nothing: $t/bad.c exists"; fails=$((fails + 1)); fi
cp "$t/rules.c" "$t/keep.c"
check "compile errors keep old output" 1 "$HEALERC" compile "$t/bad.heal" -o "$t/keep.c"
cmp -s "$t/rules.c" "$t/keep.c" || { echo "FAIL compile errors keep old output: file changed"; fails=$((fails + 1)); }
mkdir "$t/ro"; chmod a-w "$t/ro"
if [ "$(id -u)" -ne 0 ]; then
  check "unwritable output" 2 "$HEALERC" compile "$good" -o "$t/ro/out.c"; has "unwritable output" "$t/err" "cannot write"
fi
check "output dir missing" 2 "$HEALERC" compile "$good" -o "$t/no/such/dir/out.c"; has "output dir missing" "$t/err" "cannot write '$t/no/such/dir/out.c'"
check "compile to stdout" 0 "$HEALERC" compile "$good" -o -; has "compile to stdout" "$t/out" "hl_ruleset"

# Deterministic: same input, same bytes, wherever it runs.
"$HEALERC" compile rules/*.heal -o "$t/again.c"
cmp -s "$t/rules.c" "$t/again.c" || { echo "FAIL deterministic output"; fails=$((fails + 1)); }
if grep -q "$t" "$t/rules.c"; then echo "FAIL output names the temp dir"; fails=$((fails + 1)); fi

[ "$fails" -eq 0 ]
