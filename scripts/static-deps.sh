#!/usr/bin/env bash
# static-deps.sh - the libraries `make static` links, as static archives,
# under build/static/prefix (include/, lib/). Nothing outside build/ is
# written but the apt sources (see below).
#
#   scripts/static-deps.sh          build what is missing, print nothing else
#
# What comes from where (all Debian 12):
#   PCRE2, libmicrohttpd, nettle/hogweed, GMP, libtasn1
#       the static archives Debian ships (libpcre2-dev, libmicrohttpd-dev,
#       nettle-dev, libgmp-dev, libtasn1-6-dev); linked from /usr as they are.
#   GnuTLS
#       Debian's libgnutls.a needs p11-kit, which has no static archive, so
#       the gnutls28 source package is built without p11-kit, TPM, IDN or
#       compression. It is the one TLS stack, for libmicrohttpd (inbound)
#       and libcurl (outbound).
#   libcurl
#       the curl source package, HTTP and HTTPS only (GnuTLS), no LDAP, RTMP,
#       SSH, GSSAPI, IDN, PSL, HTTP/2, compression; the threaded resolver
#       (glibc's getaddrinfo, which reads /etc/hosts and asks DNS without
#       NSS modules in a static binary: tests/integration/static_root.sh).
#   cJSON
#       the cjson source package (Debian ships no static archive): cJSON.c
#       compiled into libcjson.a.
#
# Sources come from `apt-get source` into build/static/src; when apt has no
# deb-src entry, one is added (/etc/apt/sources.list.d/healer-deb-src.sources,
# the same archives and suites as the deb entries) and apt-get update runs.
# Each library is built once per source version and recipe (bump the
# *_RECIPE number below when its configure flags change): a stamp under
# build/static/stamps names both, so a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

S=$PWD/build/static
SRC=$S/src
PREFIX=$S/prefix
STAMPS=$S/stamps
LOG=$S/logs
JOBS=${JOBS:-$(nproc)}
mkdir -p "$SRC" "$PREFIX/lib" "$PREFIX/include" "$STAMPS" "$LOG"

say() { echo "static-deps: $*" >&2; }

# The source version apt would fetch for PKG (empty without deb-src).
src_version() {
  apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ { print $2 }' | sort -V | tail -n 1
}

ensure_deb_src() {
  [ -n "$(src_version cjson)" ] && return 0
  [ "$(id -u)" -eq 0 ] || { say "no deb-src entry in apt's sources; as root this script adds one"; exit 1; }
  local out=/etc/apt/sources.list.d/healer-deb-src.sources f
  say "adding deb-src entries ($out)"
  {
    echo "# Added by healer's scripts/static-deps.sh: source packages for 'make static'."
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] && [ "$f" != "$out" ] || continue
      # Copy each Debian stanza that has Types: deb, as deb-src.
      awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Types:[^\n]*deb([ \n]|$)/ && /debian/ {
             sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
    done
    if [ -f /etc/apt/sources.list ]; then
      # one-line format: deb [opts] URI suite components
      sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) \([^ ]*\) \(.*\)$/Types: deb-src\nURIs: \2\nSuites: \3\nComponents: \4\n/p' \
        /etc/apt/sources.list
    fi
  } >"$out.tmp"
  mv "$out.tmp" "$out"
  apt-get update -qq >&2
  [ -n "$(src_version cjson)" ] || { say "still no source packages after adding $out"; exit 1; }
}

# fetch PKG: unpacks the source package into $SRC/PKG-VERSION; prints that dir.
fetch() {
  local pkg=$1 ver dir
  ver=$(src_version "$pkg")
  [ -n "$ver" ] || { say "no source package $pkg"; exit 1; }
  local upstream=${ver#*:}
  upstream=${upstream%-*}
  dir=$SRC/$pkg-$upstream
  if [ ! -f "$SRC/.$pkg-$ver.unpacked" ]; then
    say "fetching source package $pkg $ver"
    rm -rf "$dir"
    (cd "$SRC" && apt-get source -qq "$pkg=$ver" >"$LOG/$pkg.fetch.log" 2>&1) ||
      { cat "$LOG/$pkg.fetch.log" >&2; exit 1; }
    touch "$SRC/.$pkg-$ver.unpacked"
  fi
  [ -d "$dir" ] || { say "source of $pkg not found at $dir"; exit 1; }
  echo "$dir"
}

# built NAME VERSION: true when that exact build is in $PREFIX.
built() { [ -f "$STAMPS/$1-$2" ]; }
stamp() { rm -f "$STAMPS/$1"-*; touch "$STAMPS/$1-$2"; }

# run NAME CMD...: CMD with its output in $LOG/NAME.log, shown on failure.
run() {
  local name=$1
  shift
  if ! "$@" >>"$LOG/$name.log" 2>&1; then
    say "$name failed: $*"
    tail -n 40 "$LOG/$name.log" >&2
    exit 1
  fi
}

export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
CFLAGS_DEPS="-O2 -g0 -ffunction-sections -fdata-sections"

CJSON_RECIPE=1
GNUTLS_RECIPE=1
CURL_RECIPE=2

ensure_deb_src

# ---- cJSON ------------------------------------------------------------------
ver=$(src_version cjson)+r$CJSON_RECIPE
if ! built cjson "$ver"; then
  dir=$(fetch cjson)
  say "building cJSON $ver"
  : >"$LOG/cjson.log"
  run cjson cc $CFLAGS_DEPS -std=c89 -c -o "$S/cJSON.o" "$dir/cJSON.c"
  rm -f "$PREFIX/lib/libcjson.a"
  run cjson ar rcs "$PREFIX/lib/libcjson.a" "$S/cJSON.o"
  mkdir -p "$PREFIX/include/cjson"
  cp "$dir/cJSON.h" "$PREFIX/include/cjson/"
  stamp cjson "$ver"
fi

# ---- GnuTLS ------------------------------------------------------------------
ver=$(src_version gnutls28)+r$GNUTLS_RECIPE
if ! built gnutls "$ver"; then
  dir=$(fetch gnutls28)
  say "building GnuTLS $ver (the longest step: a few minutes)"
  : >"$LOG/gnutls.log"
  rm -rf "$S/gnutls-build" && mkdir -p "$S/gnutls-build"
  # As debian/rules does: Debian's patches touch gl/Makefile.am and m4/, so
  # the build system is regenerated (gettext's 0.20 macros out, no gtk-doc).
  if [ ! -f "$dir/.healer-autoreconf" ]; then
    (cd "$dir" && grep -rl gettext-0.20 m4/ | xargs -r rm -f &&
       GTKDOCIZE="echo skipping gtkdocize" run gnutls autoreconf -fi) || exit 1
    touch "$dir/.healer-autoreconf"
  fi
  (cd "$S/gnutls-build" && run gnutls "$dir/configure" --prefix="$PREFIX" \
     --disable-shared --enable-static CFLAGS="$CFLAGS_DEPS" \
     --disable-doc --disable-manpages --disable-tools --disable-tests \
     --disable-cxx --disable-guile --disable-nls --disable-libdane \
     --disable-openssl-compatibility --disable-full-test-suite \
     --without-p11-kit --without-tpm --without-tpm2 --without-idn \
     --without-zlib --without-brotli --without-zstd \
     --with-included-unistring \
     --with-default-trust-store-file=/etc/ssl/certs/ca-certificates.crt)
  run gnutls make -C "$S/gnutls-build" -j"$JOBS"
  run gnutls make -C "$S/gnutls-build" install
  stamp gnutls "$ver"
fi

# ---- libcurl -----------------------------------------------------------------
ver=$(src_version curl)+r$CURL_RECIPE
if ! built curl "$ver"; then
  dir=$(fetch curl)
  say "building libcurl $ver (HTTP and HTTPS only)"
  : >"$LOG/curl.log"
  rm -rf "$S/curl-build" && mkdir -p "$S/curl-build"
  (cd "$S/curl-build" && run curl "$dir/configure" --prefix="$PREFIX" \
     --disable-shared --enable-static CFLAGS="$CFLAGS_DEPS" \
     PKG_CONFIG="pkg-config --static" LDFLAGS="-L$PREFIX/lib" \
     LIBS="-lhogweed -lnettle -ltasn1 -lgmp -lpthread" \
     --with-gnutls="$PREFIX" --without-openssl \
     --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path \
     --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps \
     --disable-rtsp --disable-dict --disable-telnet --disable-tftp --disable-pop3 \
     --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
     --disable-manual --disable-ntlm --disable-ntlm-wb --disable-kerberos-auth \
     --disable-negotiate-auth --disable-aws --disable-alt-svc --disable-dnsshuffle \
     --disable-netrc \
     --enable-threaded-resolver \
     --without-librtmp --without-libssh2 --without-libssh --without-wolfssh \
     --without-gssapi --without-libidn2 --without-libpsl --without-nghttp2 \
     --without-nghttp3 --without-ngtcp2 --without-quiche --without-msh3 \
     --without-hyper --without-brotli --without-zstd --without-zlib \
     --without-libgsasl)
  run curl make -C "$S/curl-build/lib" -j"$JOBS"
  run curl make -C "$S/curl-build/lib" install
  run curl make -C "$S/curl-build/include" install
  stamp curl "$ver"
fi
