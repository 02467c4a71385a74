#!/usr/bin/env bash
# footprint.sh - the static binary next to the dynamic one: file size, what
# the static size is made of, shared libraries, and idle RSS.
#
#   bench/footprint.sh        builds `make` and `make static` first (cached)
#
# Sizes: bin/healer as `make` leaves it (-O2 -g, not stripped), the same
# stripped (HEALER.md §6 target: under 1 MB), and bin/healer-static
# (stripped). "Made of": the static link map (build/static/bin/healer.map),
# bytes of code and data per input archive or object (.bss, debug and
# other non-loaded sections left out), so the rows add up to about the
# stripped size.
#
# Idle RSS: each binary started with the example rules, --dry-run (no
# backend is called, no secret read), on 127.0.0.1 with an ephemeral port
# and a fresh state directory; after /readyz answers, a few webhooks and
# a GET of each endpoint (so the paths are touched), then 3 s idle; VmRSS
# and RssAnon from /proc (target: under 8 MB), median of 3 starts.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory -s -j2 all >/dev/null
make --no-print-directory -s static >/dev/null 2>&1
DYN=bin/healer STATIC=bin/healer-static MAP=build/static/bin/healer.map
TMP=$(mktemp -d)
PID=
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

strip --strip-all -o "$TMP/healer.stripped" "$DYN"
bytes() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
nlibs=$(ldd "$DYN" | grep -c '=>' || true)
libs_bytes=$(ldd "$DYN" | awk '/=>/ { print $3 }' | xargs -r readlink -f | xargs -r stat -L -c %s |
  awk '{ s += $1 } END { print s + 0 }')

echo "## Size"
echo
echo "| binary | bytes | MiB | shared libraries |"
echo "| --- | ---: | ---: | --- |"
printf '| `bin/healer` (as built, -g) | %d | %s | %d (%s MiB on disk) |\n' "$(bytes "$DYN")" \
  "$(mib "$(bytes "$DYN")")" "$nlibs" "$(mib "$libs_bytes")"
printf '| `bin/healer` stripped | %d | %s | the same |\n' "$(bytes "$TMP/healer.stripped")" \
  "$(mib "$(bytes "$TMP/healer.stripped")")"
printf '| `bin/healer-static` (stripped) | %d | %s | none |\n' "$(bytes "$STATIC")" "$(mib "$(bytes "$STATIC")")"
echo

echo "## What the static binary is made of (link map)"
echo
python3 - "$MAP" <<'PY'
import collections, os, re, sys
skip = re.compile(r"^\.(bss|tbss|debug|comment|note|gnu\.warning|stab|symtab|strtab|shstrtab)")
group = collections.Counter()
out_sec, in_map, pending = None, False, None
for line in open(sys.argv[1], errors="replace"):
    if not in_map:
        in_map = line.startswith("Linker script and memory map")
        continue
    line = line.rstrip("\n")
    if line and not line[0].isspace():
        out_sec = line.split()[0]
        continue
    m = re.match(r"^ (\.\S+)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$", line)
    if not m:
        m1 = re.match(r"^ (\.\S+)\s*$", line)
        pending = m1.group(1) if m1 else None
        continue
    sec = m.group(1) or pending
    pending = None
    if not sec or skip.match(out_sec or "") or skip.match(sec):
        continue
    src = m.group(3).strip()
    am = re.search(r"([^/]+\.a)\(", src)
    if am:
        name = am.group(1)
    elif "/runtime/" in src:
        name = "healer runtime/*.o"
    elif "/generated/" in src or "rules" in os.path.basename(src):
        name = "the rules (generated/rules.c)"
    elif src.endswith(".o"):
        name = "C runtime start files (crt*.o)"
    else:
        continue
    group[name] += int(m.group(2), 16)
total = sum(group.values())
print("| from | KiB | share |")
print("| --- | ---: | ---: |")
for name, n in group.most_common():
    if n * 200 < total:
        continue
    print("| %s | %d | %.0f %% |" % (name, n / 1024, 100.0 * n / total))
rest = sum(n for n in group.values() if n * 200 < total)
if rest:
    print("| others (each under 0.5 %%) | %d | %.0f %% |" % (rest / 1024, 100.0 * rest / total))
print("| **total** | **%d** | |" % (total / 1024))
PY
echo

# rss BIN: "VmRSS RssAnon" in KiB of BIN idle after a little traffic.
rss() {
  local bin=$1 port i
  rm -rf "$TMP/state" "$TMP/port"
  "$bin" --dry-run --listen 127.0.0.1:0 --port-file "$TMP/port" --state-dir "$TMP/state" \
    --log-level warn >/dev/null 2>&1 &
  PID=$!
  for i in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
  port=$(cat "$TMP/port")
  for i in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  for i in 1 2 3 4 5; do
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary \
      "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"healer\",\"groupKey\":\"g\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"NodeDiskPressure\",\"env\":\"dev\",\"instance\":\"n$i:9100\"},\"annotations\":{},\"startsAt\":\"2026-01-01T00:00:00Z\",\"fingerprint\":\"f00000000000000$i\"}]}" \
      "http://127.0.0.1:$port/api/v1/alertmanager"
  done
  for p in /healthz /readyz /metrics /api/v1/rules /api/v1/remediations; do
    curl -s -o /dev/null "http://127.0.0.1:$port$p"
  done
  sleep 3
  awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r, a }' "/proc/$PID/status"
  kill "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
}
median() { sort -n | sed -n 2p; }

echo "## Idle memory (KiB; median of 3 starts)"
echo
echo "| binary | VmRSS | RssAnon |"
echo "| --- | ---: | ---: |"
for b in "$DYN" "$STATIC"; do
  : >"$TMP/rss"
  for _ in 1 2 3; do rss "$b" >>"$TMP/rss"; done
  printf '| `%s` | %s | %s |\n' "$b" "$(cut -d' ' -f1 "$TMP/rss" | median)" "$(cut -d' ' -f2 "$TMP/rss" | median)"
done
echo
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(ldd --version | head -n 1 | awk '{ print $NF }'), gcc $(gcc -dumpfullversion)."
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)."
