# static.mk - `make static`: bin/healer-static, one statically linked ELF.
#
#   make static                   bin/healer-static with generated/rules.c
#   make static RULES='x/*.heal'  the same rules choice as `make`
#
# scripts/static-deps.sh builds what Debian ships no usable static archive
# of (GnuTLS without p11-kit, libcurl HTTP(S)-only, cJSON) into
# build/static/prefix, once per source version; a sub-make with STATIC=1
# compiles healer into build/static/obj and links it with those and with
# Debian's own archives (PCRE2, libmicrohttpd, nettle, GMP, libtasn1), then
# strips it. glibc, not musl: see "The static binary" in README.md.
#
# glibc's linker warns that a static getaddrinfo needs the shared libraries
# of its version at run time; glibc 2.36 reads /etc/hosts and asks DNS
# without them (tests/integration/static_root.sh runs it in an empty root).

static:
	@scripts/deps.sh static
	@scripts/static-deps.sh
	@$(MAKE) --no-print-directory STATIC=1 static-bin

ifeq ($(STATIC),1)
static-bin: bin/healer-static
bin/healer-static: $(BIN)/healer
	@mkdir -p $(@D)
	strip --strip-all -o $@.tmp $<
	@mv $@.tmp $@
endif

.PHONY: static static-bin
