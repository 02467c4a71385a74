#!/usr/bin/env bash
# deps.sh - make sure the Debian packages healer needs are installed.
#
#   scripts/deps.sh build   what `make` needs
#   scripts/deps.sh test    what `make test` needs (build + test tools)
#   scripts/deps.sh bench   what the benchmarks need (test + load tools)
#   scripts/deps.sh static  what `make static` needs (build + static archives)
#
# As root, installs what is missing with apt-get. Otherwise prints the exact
# command to run and fails.
set -eu

build_pkgs="gcc make pkg-config flex bison tzdata libpcre2-dev libmicrohttpd-dev libcjson-dev libcurl4-openssl-dev libgnutls28-dev"
test_pkgs="$build_pkgs libcmocka-dev clang libclang-rt-14-dev curl python3 prometheus-alertmanager prometheus openssl file util-linux systemd python3-yaml"
bench_pkgs="$test_pkgs wrk hyperfine valgrind time"
# `make static`: Debian's static archives and what builds the rest from source.
static_pkgs="$build_pkgs dpkg-dev binutils autoconf automake libtool autopoint gperf nettle-dev libgmp-dev libtasn1-6-dev"

case "${1:-build}" in
  build) want=$build_pkgs ;;
  test) want=$test_pkgs ;;
  bench) want=$bench_pkgs ;;
  static) want=$static_pkgs ;;
  *) echo "usage: $0 build|test|bench|static" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
else
  echo "missing Debian packages:$missing" >&2
  echo "run: sudo apt-get install -y$missing" >&2
  exit 1
fi
