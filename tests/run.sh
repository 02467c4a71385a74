#!/usr/bin/env bash
# run.sh - runs every test of healer and ends with "N passed, N failed".
#
# Called by `make test` after it has built, into build/san, healerc, healer
# and the cmocka test binaries with ASan + UBSan. Each test prints one line,
# PASS or FAIL and its name; a failure is followed by its evidence.
#
#   tests/run.sh [FILTER]    run only the tests whose name contains FILTER
set -u
cd "$(dirname "$0")/.."

SAN_DIR=${SAN_DIR:-build/san}
export HEALERC=${HEALERC:-$SAN_DIR/bin/healerc}
export HEALER=${HEALER:-$SAN_DIR/bin/healer}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=TAP
filter=${1:-}
passed=0
failed=0
failures=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() {
  failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 40 | sed 's/^/    /'
  return 0
}
want() { [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]; }

# cmocka binaries report each case in TAP: "ok N - name" / "not ok N - name".
run_cmocka() {
  local bin=$1 group out rc
  group=$(basename "$bin")
  want "$group" || return 0
  out=$(timeout 300 "$bin" 2>"$tmp/stderr"); rc=$?
  local cases=0
  while IFS= read -r line; do
    case "$line" in
      "ok "*) cases=$((cases + 1)); pass "$group: ${line#ok * - }" ;;
      "not ok "*) cases=$((cases + 1)); fail "$group: ${line#not ok * - }" "$(cat "$tmp/stderr")" ;;
    esac
  done <<< "$out"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok' <<< "$out"; then
    fail "$group: exit status $rc" "$(tail -n 30 "$tmp/stderr")"
  elif [ "$cases" -eq 0 ]; then
    fail "$group: ran no test case" "$out"
  fi
}

echo "== unit tests"
for bin in "$SAN_DIR"/tests/unit/test_* "$SAN_DIR"/tests/runtime/test_* "$SAN_DIR"/tests/codegen/test_*; do
  [ -x "$bin" ] && [ -f "$bin" ] && run_cmocka "$bin"
done

# Diagnostics: tests/diag/NAME.heal with NAME.expected = exact stderr of
# `healerc check NAME.heal` (run from the repo root); NAME.args holds extra
# arguments. Exit status must be 1 when an error is expected, else 0.
# NAME.json.expected and NAME.sarif.expected, where present, are the exact
# stdout of the same run with --format json / sarif (stderr empty, the same
# exit status).
echo "== diagnostics (golden)"
for src in tests/diag/*.heal; do
  [ -f "$src" ] || continue
  name="diag: $(basename "$src" .heal)"
  want "$name" || continue
  exp=${src%.heal}.expected
  args=()
  [ -f "${src%.heal}.args" ] && read -r -a args < "${src%.heal}.args"
  "$HEALERC" check "${args[@]}" "$src" >"$tmp/out" 2>"$tmp/err"; rc=$?
  want_rc=0
  sed 's/\x1b\[[0-9;]*m//g' "$exp" 2>/dev/null | grep -q ': error: \|^healerc: error' && want_rc=1
  if [ ! -f "$exp" ]; then
    fail "$name" "missing $exp"
  elif ! diff -u "$exp" "$tmp/err" >"$tmp/diff"; then
    fail "$name" "$(cat "$tmp/diff")"
  elif [ "$rc" -ne "$want_rc" ]; then
    fail "$name" "exit status $rc, expected $want_rc"
  elif [ -s "$tmp/out" ]; then
    fail "$name" "unexpected stdout: $(head -c 300 "$tmp/out")"
  else
    pass "$name"
  fi
  for fmt in json sarif; do
    fexp=${src%.heal}.$fmt.expected
    [ -f "$fexp" ] || continue
    "$HEALERC" check "${args[@]}" --format "$fmt" "$src" >"$tmp/out" 2>"$tmp/err"; frc=$?
    if ! diff -u "$fexp" "$tmp/out" >"$tmp/diff"; then
      fail "$name: $fmt" "$(cat "$tmp/diff")"
    elif [ "$frc" -ne "$want_rc" ]; then
      fail "$name: $fmt" "exit status $frc, expected $want_rc"
    elif [ -s "$tmp/err" ]; then
      fail "$name: $fmt" "unexpected stderr: $(head -c 300 "$tmp/err")"
    else
      pass "$name: $fmt"
    fi
  done
done

# Generated code: tests/codegen/NAME.heal with NAME.c.expected.
echo "== generated code (golden)"
for src in tests/codegen/*.heal; do
  [ -f "$src" ] || continue
  name="codegen: $(basename "$src" .heal)"
  want "$name" || continue
  exp=${src%.heal}.c.expected
  if ! "$HEALERC" compile "$src" -o "$tmp/out.c" 2>"$tmp/err"; then
    fail "$name" "$(cat "$tmp/err")"
  elif ! diff -u "$exp" "$tmp/out.c" >"$tmp/diff"; then
    fail "$name" "$(cat "$tmp/diff")"
  else
    pass "$name"
  fi
  for cc in gcc clang; do
    want "$name $cc" || continue
    if $cc -std=c11 -Wall -Wextra -Werror -pedantic -Icore -c -o "$tmp/out.o" "$tmp/out.c" 2>"$tmp/err"; then
      pass "$name: compiles with $cc -pedantic"
    else
      fail "$name: compiles with $cc -pedantic" "$(cat "$tmp/err")"
    fi
  done
done

# The example rules are clean, and generated/ is what healerc makes of them.
echo "== example rules and generated/"
if want "rules: check is clean"; then
  "$HEALERC" check rules/*.heal >"$tmp/out" 2>&1; rc=$?
  if [ "$rc" -eq 0 ] && [ ! -s "$tmp/out" ]; then pass "rules: check is clean"
  else fail "rules: check is clean" "exit $rc: $(cat "$tmp/out")"; fi
fi
if want "generated: up to date"; then
  if ! "$HEALERC" compile rules/*.heal -o "$tmp/rules.c" 2>"$tmp/err"; then
    fail "generated: up to date" "$(cat "$tmp/err")"
  elif ! diff -u generated/rules.c "$tmp/rules.c" >"$tmp/diff"; then
    fail "generated: up to date" "generated/rules.c is stale; run 'make regen' and commit it
$(cat "$tmp/diff")"
  else
    pass "generated: up to date"
  fi
fi

# The fuzz target replays its seeds and every .heal file of the repo.
echo "== fuzz seeds"
FUZZER=${FUZZER:-build/fuzz/fuzz_healerc}
if want "fuzz: seed replay" && [ -x "$FUZZER" ]; then
  if "$FUZZER" -runs=0 tests/fuzz/corpus/* rules/*.heal tests/diag/*.heal tests/codegen/*.heal >"$tmp/log" 2>&1; then
    pass "fuzz: seed replay"
  else
    fail "fuzz: seed replay" "$(tail -n 30 "$tmp/log")"
  fi
fi

# The runtime's fuzz targets (make fuzz-decode, fuzz-http, fuzz-tz,
# fuzz-journal) replay their seed corpora: the cases each was seeded with
# stay tested between fuzzing runs.
for spec in decode:tests/runtime/fuzz-corpus http:tests/runtime/fuzz-http \
            tz:tests/runtime/fuzz-tz journal:tests/runtime/fuzz-journal; do
  target=${spec%%:*} seeds=${spec#*:}
  bin=${FUZZ_DIR:-build/fuzz}/fuzz_$target
  want "fuzz: $target seed replay" && [ -x "$bin" ] || continue
  if "$bin" -runs=0 "$seeds"/* >"$tmp/log" 2>&1; then
    pass "fuzz: $target seed replay"
  else
    fail "fuzz: $target seed replay" "$(tail -n 30 "$tmp/log")"
  fi
done

# Shell tests: each script is one test, exit 0 = pass.
echo "== integration"
for t in tests/integration/*.sh; do
  [ -f "$t" ] || continue
  name="integration: $(basename "$t" .sh)"
  want "$name" || continue
  if timeout 600 bash "$t" >"$tmp/log" 2>&1; then
    pass "$name"
  else
    fail "$name" "$(tail -n 40 "$tmp/log")"
  fi
done

echo
if [ "$failed" -gt 0 ]; then
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
