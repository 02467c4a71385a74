#!/usr/bin/env bash
# compile.sh - how healerc's cost grows with the number of rules.
#
# Generates 1,000, 10,000 and 100,000 rules and prints, for each size, the
# mean wall time (hyperfine) and peak memory of `healerc check`, of `healerc compile`, and of
# `cc -O2 -c` on the generated C. The baseline, measured in the same run, is
# `wc -l` over the same file: reading the bytes once. Growth ratios show
# whether each cost is linear (10x the rules should cost about 10x).
#
#   bench/compile.sh [SIZES...]      default: 1000 10000 100000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
make --no-print-directory bin/healerc >/dev/null
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000 100000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A realistic mix: one-line rules and block rules with regexes, defaults,
# interpolation, several alert names, options and notifications.
gen() {
  local n=$1 i
  for ((i = 0; i < n; i++)); do
    if ((i % 2 == 0)); then
      printf 'when alert Alert%d labels env="prod", instance=~"node-%d-.+" run jenkins "team/Job%d" with node=host($instance), cluster=$cluster ?? "c%d", cooldown 30m\n' "$i" "$i" "$i" "$i"
    else
      printf 'rule r%d {\n  when alert Alert%d, Other%d\n  labels severity=~"warning|critical", team!="none", cluster=~".+"\n  run spinnaker "pipe-%d" with application="app%d", cluster=$cluster, reason="${alertname} on ${cluster}"\n  cooldown 1h per $cluster\n  retry 2 backoff 30s\n  timeout 20m\n  at most 5 per 1h\n  on failure notify slack "#t%d"\n}\n' "$i" "$i" "$i" "$i" "$i" "$i"
    fi
  done
}

# measure RUNS CMD...: prints "seconds peak_kib": the mean wall time over
# RUNS runs (hyperfine, after one warm-up) and the peak RSS of one run.
measure() {
  local runs=$1; shift
  /usr/bin/time -f '%M' -o "$work/mem" "$@" >/dev/null 2>"$work/err" || {
    echo "failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  hyperfine -N -w 1 -r "$runs" --export-json "$work/h.json" "$(printf '%q ' "$@")" >/dev/null 2>&1
  printf '%s %s\n' "$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$work/h.json")" "$(cat "$work/mem")"
}

printf '%-8s %-22s %10s %12s %10s\n' rules step seconds "peak MiB" growth
declare -A prev
prev_n=
for n in "${sizes[@]}"; do
  gen "$n" > "$work/r$n.heal"
  declare -A t
  runs=10; [ "$n" -ge 100000 ] && runs=3
  read -r t[base] m_base < <(measure "$runs" wc -l "$work/r$n.heal")
  read -r t[check] m_check < <(measure "$runs" bin/healerc check "$work/r$n.heal")
  read -r t[compile] m_compile < <(measure "$runs" bin/healerc compile "$work/r$n.heal" -o "$work/r$n.c")
  read -r t[cc] m_cc < <(measure 1 cc -O2 -Icore -c -o "$work/r$n.o" "$work/r$n.c")
  for step in base check compile cc; do
    case $step in
      base) m=$m_base; label="baseline (wc -l)" ;;
      check) m=$m_check; label="healerc check" ;;
      compile) m=$m_compile; label="healerc compile" ;;
      cc) m=$m_cc; label="cc -O2 -c generated" ;;
    esac
    growth=-
    if [ -n "$prev_n" ]; then
      growth=$(awk -v a="${t[$step]}" -v b="${prev[$step]}" -v x="$n" -v y="$prev_n" \
        'BEGIN { if (b > 0) printf "%.1fx/%.0fx", a / b, x / y; else print "-" }')
    fi
    printf '%-8s %-22s %10s %12.1f %10s\n' "$n" "$label" "${t[$step]}" "$(awk -v k="$m" 'BEGIN{print k/1024}')" "$growth"
    prev[$step]=${t[$step]}
  done
  ratio=$(awk -v a="${t[check]}" -v b="${t[base]}" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "n/a" }')
  echo "         check / baseline = $ratio"
  # Instructions do not depend on what else the machine is doing.
  if [ "$n" -le 10000 ]; then
    instr=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null bin/healerc check "$work/r$n.heal" 2>&1 |
      awk '/refs:/ { gsub(",", "", $NF); print $NF }')
    echo "         check: $(awk -v i="$instr" -v n="$n" 'BEGIN { printf "%.1f M instructions, %.0f per rule", i / 1e6, i / n }')"
  fi
  prev_n=$n
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(cc --version | head -n1)"
