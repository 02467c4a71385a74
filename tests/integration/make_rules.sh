#!/usr/bin/env bash
# The build honours the rule set: which tables bin/healer was linked with is
# part of what it depends on. `make RULES=x` then `make` links the default
# rules again (it used to say "Nothing to be done" and keep x's digest), the
# same RULES twice does nothing the second time, and `make run` builds
# healerc too. Uses the normal build (bin/, build/) and leaves it as it was
# found: linked with the default rules.
set -u
cd "$(dirname "$0")/../.."
unset MAKEFLAGS MFLAGS MAKELEVEL
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
digest() { bin/healer --version | sed -n 's/.*digest \([0-9a-f]*\).*/\1/p'; }
OTHER=tests/integration/full_path.heal

make -s bin/healer >/dev/null || { echo "FAIL default build"; exit 1; }
base=$(digest)
[ -n "$base" ] || fail "no digest in healer --version"

make -s RULES=$OTHER bin/healer >/dev/null || fail "make RULES=$OTHER"
other=$(digest)
[ "$other" != "$base" ] || fail "RULES=$OTHER did not change the digest ($other)"
make -q RULES=$OTHER bin/healer || fail "the same RULES twice rebuilds"

make -q bin/healer && fail "plain make after RULES=x is 'up to date'"
make -s bin/healer >/dev/null || fail "make after RULES=x"
[ "$(digest)" = "$base" ] || fail "plain make kept digest $(digest), want $base"
make -q bin/healer || fail "plain make twice rebuilds"

# make run builds both binaries before it starts healer (dry run of make).
make -n run 2>/dev/null | grep -q 'bin/healer bin/healerc' || fail "make run does not build bin/healerc"

[ "$fails" -eq 0 ] && echo "make_rules: ok"
exit $((fails > 0))
