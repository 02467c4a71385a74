#!/usr/bin/env bash
# healerc_hostile.sh - healerc on inputs too big to commit: 10 MiB of
# garbage, of NULs, of errors, of correct rules; unterminated strings and
# comments over 10 MiB; a million open parentheses; 100,000-byte lines.
#
# tests/diag/make-hostile.sh writes them into a temporary directory. For each
# input healerc must: exit with the expected status (never crash or hang),
# print nothing on stdout, keep stderr bounded (the error cap, and the echoed
# source line shown as a window, not 100 KB), end with the count line, trip
# no sanitizer (run.sh runs this with the ASan + UBSan build), and finish
# within HOSTILE_TIMEOUT seconds (default 60, generous for ASan).
set -u
cd "$(dirname "$0")/../.."
HEALERC=${HEALERC:-bin/healerc}
LIMIT=${HOSTILE_TIMEOUT:-60}
MAX_STDERR=$((64 * 1024)) # bytes: 50 errors of a few short lines each
MAX_LINE=1024             # bytes per stderr line
# A sanitizer exits 1 by default, like a rule error: make it distinct.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86"

t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
nerr=$(tests/diag/make-hostile.sh "$t/in") || { echo "FAIL make-hostile.sh"; exit 1; }
fails=0
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

# run NAME WANT_RC [healerc args...]: runs `healerc check ARGS in/NAME.heal`
# and checks everything common to all inputs. Leaves stderr in $t/err.
run() {
  local name=$1 want=$2; shift 2
  local f="$t/in/$name.heal" start end rc
  start=$(date +%s.%N)
  timeout "$LIMIT" "$HEALERC" check "$@" "$f" >"$t/out" 2>"$t/err"; rc=$?
  end=$(date +%s.%N)
  printf '%-32s exit %3d  %6.2fs  stderr %6d bytes\n' "$name" "$rc" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(stat -c %s "$t/err")"
  if [ "$rc" -eq 124 ]; then fail "$name" "did not finish within ${LIMIT}s"; return; fi
  if grep -q 'Sanitizer\|runtime error:' "$t/err"; then
    fail "$name" "sanitizer report:"; grep -m 20 -A 10 'Sanitizer\|runtime error:' "$t/err" | cut -c 1-200
    return
  fi
  [ "$rc" -eq "$want" ] || fail "$name" "exit status $rc, want $want"
  [ -s "$t/out" ] && fail "$name" "wrote to stdout: $(head -c 200 "$t/out")"
  local size; size=$(stat -c %s "$t/err")
  [ "$size" -le "$MAX_STDERR" ] || fail "$name" "stderr is $size bytes, want at most $MAX_STDERR"
  local longest; longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$t/err")
  [ "$longest" -le "$MAX_LINE" ] || fail "$name" "a stderr line is $longest bytes, want at most $MAX_LINE"
  if [ "$want" -eq 0 ]; then
    [ "$size" -eq 0 ] || fail "$name" "output on a clean file: $(head -c 300 "$t/err")"
  else
    tail -n 1 "$t/err" | grep -Eq '^([0-9]+ warnings? and )?[0-9]+ errors? generated\.$' ||
      fail "$name" "last line is not the error count: $(tail -n 1 "$t/err" | cut -c 1-200)"
    grep -q ':[0-9]*:[0-9]*: error: ' "$t/err" ||
      fail "$name" "no positioned error: $(head -c 300 "$t/err")"
  fi
}

run garbage-10mb 1
run nul-10mb 1
run errors-10mb 1
grep -qx "$nerr errors generated." "$t/err" ||
  fail errors-10mb "want '$nerr errors generated.', got '$(tail -n 1 "$t/err")'"
grep -q 'too many errors' "$t/err" || fail errors-10mb "no 'too many errors' line"
[ "$(grep -c ': error: ' "$t/err")" -eq 50 ] ||
  fail errors-10mb "want 50 errors printed (the default cap), got $(grep -c ': error: ' "$t/err")"
run valid-10mb 0
run unterminated-string-10mb 1
[ "$(grep -c ': error: ' "$t/err")" -eq 1 ] || fail unterminated-string-10mb "want exactly one error"
run unterminated-comment-10mb 1
[ "$(grep -c ': error: ' "$t/err")" -eq 1 ] || fail unterminated-comment-10mb "want exactly one error"
grep -q 'unterminated-comment-10mb.heal:1:1: error: ' "$t/err" ||
  fail unterminated-comment-10mb "error not at the opening /* (1:1)"
run deep-nesting-1m 1
run longline-100k 1
grep -q 'longline-100k.heal:1:99998: error: ' "$t/err" ||
  fail longline-100k "error not at 1:99998 (the 45d of the cooldown)"
run longname-100k 1
run longstring-100k 1
grep -q 'longstring-100k.heal:1:39: error: ' "$t/err" ||
  fail longstring-100k "error not at the opening quote (1:39)"
# --max-errors 0 lifts the cap: every error of a 10 MiB garbage file is
# printed, still without a crash (output is not bounded here).
timeout "$LIMIT" "$HEALERC" check --max-errors 0 "$t/in/garbage-10mb.heal" >/dev/null 2>"$t/err"; rc=$?
if grep -q 'Sanitizer\|runtime error:' "$t/err"; then fail "garbage-10mb --max-errors 0" "sanitizer report"
elif [ "$rc" -ne 1 ]; then fail "garbage-10mb --max-errors 0" "exit status $rc, want 1"; fi

[ "$fails" -eq 0 ]
