# healer - alert-driven auto-remediation.
#
#   make            install what is missing, build bin/healerc and bin/healer
#   make test       install what is missing, run every test (ASan + UBSan
#                   build) and print "N passed, N failed"
#   make run        start healer on 127.0.0.1:9095 with rules/ in dry-run
#   make RULES='path/*.heal'   build healer with other rules (a later plain
#                   `make` goes back to rules/)
#   make regen      rewrite generated/ from rules/ (review the diff)
#   make fuzz       run the parser fuzzer for FUZZ_SECONDS (default 60)
#   make install    bin/healer, bin/healerc and the man pages into
#                   $(DESTDIR)$(PREFIX) (default /usr/local; mk/install.mk)
#
# Build products go to build/ (objects, flex/bison output) and bin/.
# SAN=1 builds everything with AddressSanitizer and UBSan into build/san/.
#
#   make static     bin/healer-static: one statically linked, stripped ELF
#                   (RULES= honoured), libraries from Debian (mk/static.mk)

CC       ?= cc
VERSION  := 0.1.0

# Warning flags for hand-written code, grouped by what they catch.
WARN_BASE  := -Wall -Wextra -Werror
# Declarations: every exported function has a prototype in a header.
WARN_DECL  := -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
# Types and conversions that hide bugs.
WARN_TYPES := -Wshadow -Wpointer-arith -Wcast-qual -Wwrite-strings \
              -Wformat=2 -Wundef -Wvla
WARNINGS   := $(WARN_BASE) $(WARN_DECL) $(WARN_TYPES)
# flex and bison output is not ours to fix: same -Werror, fewer checks.
WARN_GEN   := -Wall -Wextra -Werror -Wno-unused-function -Wno-sign-compare \
              -Wno-unused-parameter

STD      := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT      ?= -O2 -g
PKGS     := libpcre2-8 libmicrohttpd libcjson libcurl gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PCRE_LIBS  := $(shell pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)
RT_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lpcre2-8 -lmicrohttpd -lcjson -lcurl -lgnutls) -lpthread -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

ifeq ($(FUZZ),1)
  # libFuzzer build of healerc's objects, for `make fuzz` (mk/fuzz.mk).
  CC       := clang
  B        := build/fuzz
  BIN      := build/fuzz/bin
  SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
  OPT      := -O1 -g
else ifeq ($(SAN),1)
  B        := build/san
  BIN      := build/san/bin
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  OPT      := -O1 -g
else ifeq ($(STATIC),1)
  # The static binary's objects (mk/static.mk; `make static` sets this).
  B        := build/static/obj
  BIN      := build/static/bin
  SANFLAGS :=
else
  B        := build
  BIN      := bin
  SANFLAGS :=
endif

CPPFLAGS := -DHEALER_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
CFLAGS   := $(STD) $(OPT) $(SANFLAGS)
LDFLAGS  := $(SANFLAGS)

ifeq ($(STATIC),1)
  # Archives built by scripts/static-deps.sh first, then Debian's (.a only).
  STATIC_PREFIX := build/static/prefix
  PKG_CFLAGS := -I$(STATIC_PREFIX)/include $(PKG_CFLAGS)
  CPPFLAGS := -DHEALER_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
  CFLAGS   += -ffunction-sections -fdata-sections
  # The link map says what the binary's size is made of (bench/footprint.sh).
  LDFLAGS  := -static -Wl,--gc-sections -Wl,-Map=$(BIN)/healer.map -L$(STATIC_PREFIX)/lib
  RT_LIBS  := -lcurl -lmicrohttpd -lgnutls -lhogweed -lnettle -lgmp -ltasn1 \
              -lpcre2-8 -lcjson -lpthread -lm
  PCRE_LIBS := -lpcre2-8
endif

# The rules built into healer. Default: the checked-in generated/rules.c,
# verified against rules/ by `make test`. Another RULES glob is compiled into
# build/ instead, leaving generated/ alone.
RULES    ?=
DEFAULT_RULES := $(sort $(wildcard rules/*.heal))

.PHONY: all binaries test run regen fuzz bench clean print-rt-libs
# Installs what is missing first (or prints the apt-get command), then
# builds in a sub-make, which sees the flags of the packages just installed.
all:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory binaries
# The runtime's link libraries, for tests and benchmarks that link healer with
# rules of their own (tests/integration/lib.bash, link_healer).
print-rt-libs:
	@echo $(RT_LIBS)

binaries: $(BIN)/healerc $(BIN)/healer

# ---- include paths, per area ----------------------------------------------
# Each area sees its own headers and the core's, nothing else: the compiler
# and the runtime cannot include each other's headers, the front end (dsl/)
# cannot include the compiler's, and the core (shared by both binaries)
# includes only itself. Generated tables see the core.
CORE_INC     := -Icore
DSL_INC      := -Icore -Idsl -I$(B)/dsl
HEALERC_INC  := -Icore -Idsl -Icompiler -I$(B)/dsl
RUNTIME_INC  := -Icore -Iruntime

# ---- core: compiled once per build tree, linked into both binaries ---------
CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(patsubst %.c,$(B)/%.o,$(CORE_SRC))
CORE_LIB := $(B)/core/libcore.a

$(CORE_OBJ): $(B)/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(CC) $(CORE_INC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# ---- healerc ---------------------------------------------------------------
DSL_SRC  := $(wildcard dsl/*.c)
COMP_SRC := $(wildcard compiler/*.c)
HEALERC_OBJ := $(patsubst %.c,$(B)/%.o,$(DSL_SRC) $(COMP_SRC)) \
               $(B)/dsl/parser.o $(B)/dsl/lexer.o
# Everything but main, for unit tests and the fuzzer (with CORE_LIB).
HEALERC_LIB_OBJ := $(filter-out $(B)/compiler/main.o,$(HEALERC_OBJ))

$(B)/dsl/parser.c $(B)/dsl/parser.h &: dsl/parser.y
	@mkdir -p $(@D)
	bison -Wall -Werror --defines=$(B)/dsl/parser.h -o $(B)/dsl/parser.c $<

# -Cf: uncompressed tables; 11% fewer instructions for `healerc check` than
# flex's default compressed tables (bench/RESULTS.md), for a larger scanner.
$(B)/dsl/lexer.c $(B)/dsl/lexer.h &: dsl/lexer.l $(B)/dsl/parser.h
	@mkdir -p $(@D)
	flex -Cf --header-file=$(B)/dsl/lexer.h -o $(B)/dsl/lexer.c $<

$(B)/dsl/parser.o: $(B)/dsl/parser.c $(B)/dsl/lexer.h
	$(CC) $(DSL_INC) $(CPPFLAGS) $(CFLAGS) $(WARN_GEN) -MMD -MP -c -o $@ $<
$(B)/dsl/lexer.o: $(B)/dsl/lexer.c $(B)/dsl/parser.h
	$(CC) $(DSL_INC) $(CPPFLAGS) $(CFLAGS) $(WARN_GEN) -MMD -MP -c -o $@ $<

# (&: each pair is one run of its tool, also under -j.)
# Hand-written sources may include the generated headers.
$(patsubst %.c,$(B)/%.o,$(DSL_SRC) $(COMP_SRC)): | $(B)/dsl/parser.h $(B)/dsl/lexer.h

$(patsubst %.c,$(B)/%.o,$(DSL_SRC)): $(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(DSL_INC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<
$(patsubst %.c,$(B)/%.o,$(COMP_SRC)): $(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(HEALERC_INC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

# healerc's rule tools (test, explain, replay): the compiler's front end
# joined to the runtime's decision core, so they decide with the daemon's
# own code (decode, plan, decide), on the tables built in memory. The only
# area that sees both sides' headers.
TOOLS_SRC := $(wildcard tools/*.c)
TOOLS_OBJ := $(patsubst %.c,$(B)/%.o,$(TOOLS_SRC))
TOOLS_INC := -Icore -Idsl -Icompiler -Iruntime -I$(B)/dsl
DECISION_OBJ := $(patsubst %,$(B)/runtime/%.o,decode plan decide rem hmap log)
CJSON_LIBS := $(shell pkg-config --libs libcjson 2>/dev/null || echo -lcjson)

$(TOOLS_OBJ): | $(B)/dsl/parser.h $(B)/dsl/lexer.h
$(TOOLS_OBJ): $(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(TOOLS_INC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

$(BIN)/healerc: $(HEALERC_OBJ) $(TOOLS_OBJ) $(DECISION_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PCRE_LIBS) $(CJSON_LIBS) -lpthread -lm

# Per-area fragments: runtime, tests, fuzz, bench.
include $(sort $(wildcard mk/*.mk))

# (Not the third-party trees `make static` builds under build/static.)
-include $(shell find $(B) \( -path build/static/src -o -path 'build/static/*-build' \) -prune \
            -o -name '*.d' -print 2>/dev/null)

clean:
	rm -rf build bin
