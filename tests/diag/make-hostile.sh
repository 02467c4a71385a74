#!/usr/bin/env bash
# make-hostile.sh DIR - writes the big hostile inputs for healerc into DIR.
#
# These files are too big to commit (10 MiB, a 100,000-byte line), so
# tests/integration/healerc_hostile.sh generates them in a temporary
# directory on each run and checks how healerc copes. Output is
# deterministic: the "random" bytes come from a fixed linear congruential
# generator, so a failure reproduces with the same files.
#
#   garbage-10mb.heal        10 MiB of pseudo-random bytes (NULs included)
#   nul-10mb.heal            10 MiB of NUL bytes
#   errors-10mb.heal         ~10 MiB of rules, each with one error
#   valid-10mb.heal          ~10 MiB of correct rules (no output expected)
#   unterminated-string-10mb.heal   a string opened, 10 MiB of text, no end
#   unterminated-comment-10mb.heal  a /* comment opened, 10 MiB, no end
#   deep-nesting-1m.heal     1,000,000 '(' in a parameter value
#   longline-100k.heal       one rule on a line of 100,000 bytes, with an
#                            error at its end
#   longname-100k.heal       a 100,000-character name where a keyword belongs
#   longstring-100k.heal     an unterminated 100,000-character string
#
# Prints the number of rules in errors-10mb.heal (one error each) on stdout.
set -eu
dir=${1:?usage: make-hostile.sh DIR}
mkdir -p "$dir"
MIB=$((1024 * 1024))

# repeat FILE BYTES: grows FILE by doubling, then cuts it to BYTES.
repeat() {
  local f=$1 want=$2
  while [ "$(stat -c %s "$f")" -lt "$want" ]; do
    cat "$f" "$f" >"$f.2" && mv "$f.2" "$f"
  done
  head -c "$want" "$f" >"$f.2" && mv "$f.2" "$f"
}

# 64 KiB of pseudo-random bytes, repeated to 10 MiB.
hex=(); for i in $(seq 0 255); do hex[i]=$(printf '\\x%02x' "$i"); done
seed=12345 block=''
for ((i = 0; i < 65536; i++)); do
  seed=$(((seed * 1103515245 + 12345) & 0x7fffffff))
  block+=${hex[(seed >> 16) & 255]}
done
printf '%b' "$block" >"$dir/garbage-10mb.heal"
repeat "$dir/garbage-10mb.heal" $((10 * MIB))

head -c $((10 * MIB)) /dev/zero >"$dir/nul-10mb.heal"

# One error per rule (an unknown action kind), ~10 MiB.
n=0
{
  for ((i = 0; i < 1000; i++)); do
    printf 'when alert Alert%d run jenkns Job%d\n' "$i" "$i"
  done
} >"$dir/errors-block"
lines_per_block=1000
block_bytes=$(stat -c %s "$dir/errors-block")
copies=$(((10 * MIB + block_bytes - 1) / block_bytes))
: >"$dir/errors-10mb.heal"
for ((c = 0; c < copies; c++)); do
  sed "s/Alert/A${c}_/" "$dir/errors-block" >>"$dir/errors-10mb.heal"
  n=$((n + lines_per_block))
done
rm -f "$dir/errors-block"

# Correct rules, each for its own alert (so none shadows another), ~10 MiB.
{
  i=0
  while :; do
    printf 'rule r%d {\n  when alert Alert%d\n  labels instance =~ ".+"\n  run jenkins "infra/Job" with node = host($instance)\n  cooldown 5m\n}\n' "$i" "$i"
    i=$((i + 1))
    [ "$i" -lt 2000 ] || break
  done
} >"$dir/valid-block"
: >"$dir/valid-10mb.heal"
vb=$(stat -c %s "$dir/valid-block")
for ((c = 0; c < (10 * MIB + vb - 1) / vb; c++)); do
  sed "s/Alert\([0-9]*\)/A${c}_\1/; s/^rule r/rule r${c}_/" "$dir/valid-block" >>"$dir/valid-10mb.heal"
done
rm -f "$dir/valid-block"

# Unterminated string and comment over 10 MiB of text (no newline inside).
printf 'when alert A run jenkins "' >"$dir/unterminated-string-10mb.heal"
head -c $((10 * MIB)) /dev/zero | tr '\0' 'x' >>"$dir/unterminated-string-10mb.heal"
printf '/* ' >"$dir/unterminated-comment-10mb.heal"
yes 'when alert A run jenkins Job' | head -c $((10 * MIB)) >>"$dir/unterminated-comment-10mb.heal"

# A million open parentheses.
printf 'when alert A labels x =~ ".+" run jenkins Job with a = ' >"$dir/deep-nesting-1m.heal"
head -c 1000000 /dev/zero | tr '\0' '(' >>"$dir/deep-nesting-1m.heal"
printf '$x\n' >>"$dir/deep-nesting-1m.heal"

# A line of exactly 100,000 bytes (newline excluded), error at its end.
{
  line='when alert A run jenkins Job with p0 = "v"'
  i=1
  tail=', cooldown 45d'
  while [ $((${#line} + ${#tail} + 20)) -lt 100000 ]; do
    line+=", p$i = \"v\""
    i=$((i + 1))
  done
  pad=$((100000 - ${#line} - ${#tail} - 8))
  line+=", z = \"$(head -c "$pad" /dev/zero | tr '\0' 'v')\""
  line+=$tail
  printf '%s\n' "$line"
} >"$dir/longline-100k.heal"

{
  printf 'when alert A run jenkins Job '
  head -c 100000 /dev/zero | tr '\0' 'k'
  printf ' 5m\n'
} >"$dir/longname-100k.heal"

{
  printf 'when alert A run jenkins Job with x = "'
  head -c 100000 /dev/zero | tr '\0' 's'
  printf '\nwhen alert B run jenkins Job\n'
} >"$dir/longstring-100k.heal"

echo "$n"
