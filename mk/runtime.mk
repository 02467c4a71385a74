# runtime.mk - bin/healer: the runtime (runtime/*.c) linked with one rules
# table, plus what the runtime's tests link.
#
#   make                      bin/healer with generated/rules.c (checked in)
#   make RULES='x/*.heal'     bin/healer with healerc's tables for those files,
#                             compiled into $(B)/rules.c (generated/ untouched)
#   make run                  build, then serve rules/ on 127.0.0.1:9095 in dry-run
#
# For tests (see mk/tests.mk and tests/run.sh):
#   RUNTIME_LIB_OBJ           every runtime object but main.o
#   RUNTIME_TEST_OBJ          the hand-written rules table of the unit tests
#                             (tests/runtime/fixture_rules.c)
#   $(BIN)/healer-fixture     healer linked with that table; the integration
#                             scripts (tests/integration/*.sh) run it. Built
#                             by `test-bins`.

RUNTIME_SRC     := $(wildcard runtime/*.c)
RUNTIME_OBJ     := $(patsubst %.c,$(B)/%.o,$(RUNTIME_SRC))
RUNTIME_LIB_OBJ := $(filter-out $(B)/runtime/main.o,$(RUNTIME_OBJ))
RUNTIME_TEST_OBJ := $(B)/tests/runtime/fixture_rules.o
# (Both link with CORE_LIB, the core's archive: see the Makefile.)

$(RUNTIME_OBJ): $(B)/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(RUNTIME_INC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -MMD -MP -c -o $@ $<

# Generated tables: the same -Werror, plus -pedantic (they must be plain C11).
TABLE_FLAGS := $(WARNINGS) -pedantic

ifeq ($(strip $(RULES)),)
  RULES_C   := generated/rules.c
  RULES_OBJ := $(B)/generated/rules.o
else
  RULES_C   := $(B)/rules.c
  RULES_OBJ := $(B)/rules.o
  # Recompile when the glob itself changes, not only the files it names.
  RULES_STAMP := $(B)/rules.glob
  $(shell mkdir -p $(B); echo '$(RULES)' | cmp -s - $(RULES_STAMP) || echo '$(RULES)' > $(RULES_STAMP))
  $(B)/rules.c: $(BIN)/healerc $(wildcard $(RULES)) $(RULES_STAMP)
	@mkdir -p $(@D)
	$(BIN)/healerc compile $(RULES) -o $@
endif

# Which tables bin/healer was linked with is part of what it depends on:
# `make` after `make RULES=x` links the default tables again, and the same
# RULES twice does nothing the second time.
RULES_SET := $(B)/rules.set
$(shell mkdir -p $(B); echo '$(RULES_OBJ) $(RULES)' | cmp -s - $(RULES_SET) || echo '$(RULES_OBJ) $(RULES)' > $(RULES_SET))

$(RULES_OBJ): $(RULES_C)
	@mkdir -p $(@D)
	$(CC) $(CORE_INC) $(CPPFLAGS) $(CFLAGS) $(TABLE_FLAGS) -MMD -MP -c -o $@ $<

# The checked-in tables, whatever RULES says (test_plan links them).
$(B)/generated/%.o: generated/%.c
	@mkdir -p $(@D)
	$(CC) $(CORE_INC) $(CPPFLAGS) $(CFLAGS) $(TABLE_FLAGS) -MMD -MP -c -o $@ $<

$(RUNTIME_TEST_OBJ): tests/runtime/fixture_rules.c
	@mkdir -p $(@D)
	$(CC) $(CORE_INC) $(CPPFLAGS) $(CFLAGS) $(TABLE_FLAGS) -MMD -MP -c -o $@ $<

$(BIN)/healer: $(RUNTIME_OBJ) $(RULES_OBJ) $(CORE_LIB) $(RULES_SET)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(RUNTIME_OBJ) $(RULES_OBJ) $(CORE_LIB) $(RT_LIBS)

$(BIN)/healer-fixture: $(RUNTIME_OBJ) $(RUNTIME_TEST_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(RT_LIBS)

# The integration scripts need the fixture binary.
test-bins: $(BIN)/healer-fixture

# Installs what is missing first (or says what to install), so `make run`
# works on a fresh machine; builds both binaries (the README uses healerc
# next); then serves rules/ in dry-run.
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory $(BIN)/healer $(BIN)/healerc
	$(BIN)/healer --listen 127.0.0.1:9095 --dry-run

# Only the runtime's tests, with ASan + UBSan:  make runtime-test
RUNTIME_TEST_BINS = $(patsubst %.c,build/san/%,$(wildcard tests/runtime/test_*.c))
runtime-test:
	@$(MAKE) --no-print-directory SAN=1 build/san/bin/healer-fixture $(RUNTIME_TEST_BINS)
	@fails=0; \
	for t in $(RUNTIME_TEST_BINS); do \
	  if $$t >/tmp/healer-unit.$$$$ 2>&1; then echo "PASS $$(basename $$t)"; \
	  else echo "FAIL $$(basename $$t)"; tail -n 20 /tmp/healer-unit.$$$$; fails=$$((fails + 1)); fi; \
	done; rm -f /tmp/healer-unit.$$$$; \
	for t in tests/integration/healer_*.sh; do \
	  HEALER=build/san/bin/healer timeout 600 bash $$t || fails=$$((fails + 1)); \
	done; \
	echo "$$fails failed"; [ $$fails -eq 0 ]

.PHONY: runtime-test

# What bench/ingest.sh links its match benchmark with (any B/RULES).
runtime-objs: $(RUNTIME_LIB_OBJ) $(RULES_OBJ) $(CORE_LIB)
.PHONY: runtime-objs

# libFuzzer over the decoder and the engine (clang):  make fuzz-decode
FUZZ_SECONDS ?= 60
FUZZ_RT_SRC := $(filter-out runtime/main.c,$(RUNTIME_SRC))
# The runtime's and the core's objects are built once with the fuzzer's
# instrumentation (build/fuzz/rt/) and linked into each target over it.
FUZZ_RT_OBJ := $(patsubst %.c,build/fuzz/rt/%.o,$(FUZZ_RT_SRC) $(CORE_SRC) tests/runtime/fixture_rules.c)
FUZZ_CC := clang $(STD) $(RUNTIME_INC) $(PKG_CFLAGS) -DHEALER_VERSION='"$(VERSION)"' -g -O1
build/fuzz/rt/core/%.o: core/%.c
	@mkdir -p $(@D)
	$(subst $(RUNTIME_INC),$(CORE_INC),$(FUZZ_CC)) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
build/fuzz/rt/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<
-include $(FUZZ_RT_OBJ:.o=.d)

build/fuzz/fuzz_decode build/fuzz/fuzz_http build/fuzz/fuzz_journal: \
    build/fuzz/fuzz_%: tests/runtime/fuzz_%.c $(FUZZ_RT_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(RT_LIBS)

fuzz-decode: build/fuzz/fuzz_decode
	@mkdir -p build/fuzz/decode-corpus
	build/fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  build/fuzz/decode-corpus tests/runtime/fuzz-corpus

# libFuzzer over the HTTP front end (raw bytes to a loopback connection to
# healer's own server) and over the time-zone reader:
#   make fuzz-http, make fuzz-tz [FUZZ_SECONDS=60]
# Seeds: tests/runtime/fuzz-http/ (the framing and auth cases) and every
# zone file of tests/runtime/fuzz-tz/ plus a few of the system's.
build/fuzz/fuzz_tz: tests/runtime/fuzz_tz.c core/tz.c core/rtime.c core/duration.c
	@mkdir -p $(@D)
	clang $(STD) $(CORE_INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $^

fuzz-http: build/fuzz/fuzz_http
	@mkdir -p build/fuzz/http-corpus
	build/fuzz/fuzz_http -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=20 \
	  build/fuzz/http-corpus tests/runtime/fuzz-http

# libFuzzer over the journal's start-up (replay, torn and damaged ends,
# --journal-recover):  make fuzz-journal [FUZZ_SECONDS=60]
# Seeds: tests/runtime/fuzz-journal/ (journals healer wrote, one from
# before group commits, damaged ones).
fuzz-journal: build/fuzz/fuzz_journal
	@mkdir -p build/fuzz/journal-corpus
	build/fuzz/fuzz_journal -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  build/fuzz/journal-corpus tests/runtime/fuzz-journal

TZ_SEEDS := $(wildcard /usr/share/zoneinfo/Europe/Berlin /usr/share/zoneinfo/America/New_York \
              /usr/share/zoneinfo/Australia/Lord_Howe /usr/share/zoneinfo/Asia/Kolkata \
              /usr/share/zoneinfo/Europe/Dublin)
fuzz-tz: build/fuzz/fuzz_tz
	@mkdir -p build/fuzz/tz-corpus
	@cp -n $(TZ_SEEDS) build/fuzz/tz-corpus/ 2>/dev/null || true
	build/fuzz/fuzz_tz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
	  build/fuzz/tz-corpus tests/runtime/fuzz-tz

.PHONY: fuzz-decode fuzz-http fuzz-tz fuzz-journal
