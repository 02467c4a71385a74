#!/usr/bin/env bash
# make install with PREFIX and DESTDIR: both binaries and the three man
# pages land under DESTDIR/PREFIX and nowhere else; each page renders with
# groff and man without a warning; every flag of `healer --help` and of
# `healerc --help` appears in its page, both pages give the exit statuses,
# and healer-rules(5) lists every diagnostic code.
set -u
cd "$(dirname "$0")/../.."
HEALER=${HEALER:-bin/healer}
HEALERC=${HEALERC:-bin/healerc}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
san=()
case $HEALER in build/san/*) san=(SAN=1) ;; esac   # the binaries the suite built

make -s --no-print-directory install "${san[@]}" DESTDIR="$t/root" PREFIX=/opt/h >"$t/log" 2>&1 ||
  { cat "$t/log"; bad "make install failed"; }
p=$t/root/opt/h
for f in bin/healer bin/healerc share/man/man1/healer.1 share/man/man1/healerc.1 \
         share/man/man5/healer-rules.5; do
  [ -f "$p/$f" ] || bad "not installed: $f"
done
[ -x "$p/bin/healer" ] && [ -x "$p/bin/healerc" ] || bad "binaries not executable"
"$p/bin/healerc" --version >/dev/null || bad "installed healerc does not run"
extra=$(cd "$t/root" && find . -type f | grep -v '^\./opt/h/' || true)
[ -z "$extra" ] || bad "installed outside PREFIX: $extra"

for f in "$p"/share/man/man1/healer.1 "$p"/share/man/man1/healerc.1 "$p"/share/man/man5/healer-rules.5; do
  n=$(basename "$f")
  groff -man -Tutf8 -ww -z "$f" >"$t/groff" 2>&1 || bad "$n: groff failed"
  [ -s "$t/groff" ] && bad "$n: groff warns: $(head -c 300 "$t/groff")"
  MANWIDTH=80 man -l "$f" 2>"$t/err" </dev/null | col -bx >"$t/$n.txt" || bad "$n: man -l failed"
  [ -s "$t/err" ] && bad "$n: man -l warns: $(head -c 300 "$t/err")"
  [ "$(wc -l < "$t/$n.txt")" -gt 20 ] || bad "$n: rendered to almost nothing"
done

# Every flag of --help appears in the rendered page (as the page prints it).
flags_in() { grep -oE -- '(^|[ ,|])--?[A-Za-z][A-Za-z-]*' | sed 's/^[ ,|]//' | sort -u; }
for pair in "healer:$HEALER:healer.1" "healerc:$HEALERC:healerc.1"; do
  IFS=: read -r name bin page <<< "$pair"
  "$bin" --help | flags_in > "$t/$name.flags"
  [ "$(wc -l < "$t/$name.flags")" -ge 5 ] || bad "$name: only $(wc -l < "$t/$name.flags") flags read from --help"
  while read -r flag; do
    grep -qF -- "$flag" "$t/$page.txt" || bad "$name: $flag is in --help but not in $page"
  done < "$t/$name.flags"
  # The exit statuses: a section, and each status with its meaning.
  grep -q '^EXIT STATUS' "$t/$page.txt" || bad "$page: no EXIT STATUS section"
  for st in 0 1 2; do
    grep -qE "^ +$st +[a-z]|^ +$st\$" "$t/$page.txt" || bad "$page: exit status $st not described"
  done
done
"$HEALERC" --help | grep -q '^exit status:' || bad "healerc --help: no exit status"
"$HEALER" --help | grep -q '^Exit status:' || bad "healer --help: no exit status"

# The rule language page lists every diagnostic code.
for c in $(grep -oE 'DIAG_CODE\("[a-z0-9-]+"' compiler/diag_codes.h | sed 's/.*("//; s/"//'); do
  grep -qE "^ +$c\$|^ +$c " "$t/healer-rules.5.txt" || bad "healer-rules.5: code $c missing"
done

[ "$fails" -eq 0 ] && echo ok || { echo "$fails failure(s)"; exit 1; }
