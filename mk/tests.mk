# tests.mk - the test binaries and `make test`.
#
# tests/unit/test_*.c      cmocka, linked with healerc's objects and the
#                          core (CORE_LIB)
# tests/runtime/test_*.c   cmocka, linked with the runtime's objects
#                          (RUNTIME_LIB_OBJ from runtime.mk),
#                          RUNTIME_TEST_OBJ (a rules table for tests) and
#                          the core
# tests/codegen/test_*.c   cmocka, linked with the tables healerc generates
#                          from tests/codegen/tables.heal

TEST_WARN := $(filter-out -Wmissing-prototypes,$(WARNINGS))

UNIT_TESTS    := $(patsubst %.c,$(B)/%,$(wildcard tests/unit/test_*.c))
RUNTIME_TESTS := $(patsubst %.c,$(B)/%,$(wildcard tests/runtime/test_*.c))
CODEGEN_TESTS := $(patsubst %.c,$(B)/%,$(wildcard tests/codegen/test_*.c))
# test_tables compares the tables built in memory with generated/rules.c.
TABLES_TEST   := $(B)/tests/unit/test_tables
UNIT_TESTS    := $(filter-out $(TABLES_TEST),$(UNIT_TESTS))

$(UNIT_TESTS): $(B)/tests/unit/%: tests/unit/%.c $(HEALERC_LIB_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(HEALERC_INC) $(CPPFLAGS) $(CFLAGS) $(TEST_WARN) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(PCRE_LIBS) $(CMOCKA_LIBS)

$(TABLES_TEST): tests/unit/test_tables.c $(HEALERC_LIB_OBJ) $(B)/generated/rules.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(HEALERC_INC) $(CPPFLAGS) $(CFLAGS) $(TEST_WARN) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(PCRE_LIBS) $(CMOCKA_LIBS)

# test_plan plans on the shipped rules' tables (generated/rules.c), not
# the fixture's: planning must be callable on what healerc generates.
PLAN_TEST     := $(B)/tests/runtime/test_plan
RUNTIME_TESTS := $(filter-out $(PLAN_TEST),$(RUNTIME_TESTS))

$(PLAN_TEST): tests/runtime/test_plan.c $(RUNTIME_LIB_OBJ) $(B)/generated/rules.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(RUNTIME_INC) $(CPPFLAGS) $(CFLAGS) $(TEST_WARN) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(RT_LIBS) $(CMOCKA_LIBS)

$(RUNTIME_TESTS): $(B)/tests/runtime/%: tests/runtime/%.c $(RUNTIME_LIB_OBJ) $(RUNTIME_TEST_OBJ) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(RUNTIME_INC) $(CPPFLAGS) $(CFLAGS) $(TEST_WARN) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(RT_LIBS) $(CMOCKA_LIBS)

$(B)/tests/codegen/tables.c: tests/codegen/tables.heal $(BIN)/healerc
	@mkdir -p $(@D)
	$(BIN)/healerc compile $< -o $@

$(B)/tests/codegen/tables.o: $(B)/tests/codegen/tables.c
	$(CC) $(CORE_INC) $(CFLAGS) -Wall -Wextra -Werror -pedantic -c -o $@ $<

$(CODEGEN_TESTS): $(B)/tests/codegen/%: tests/codegen/%.c $(B)/tests/codegen/tables.o
	@mkdir -p $(@D)
	$(CC) $(CORE_INC) $(CPPFLAGS) $(CFLAGS) $(TEST_WARN) -MMD -MP $(LDFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(CMOCKA_LIBS)

# Each test binary is compiled and linked in one step: -MMD writes its
# headers to BINARY.d, so a changed header (dsl/ast.h, say) rebuilds it;
# those become prerequisites too, hence the filter on what is linked.
-include $(addsuffix .d,$(UNIT_TESTS) $(TABLES_TEST) $(RUNTIME_TESTS) $(PLAN_TEST) $(CODEGEN_TESTS))

test-bins: $(UNIT_TESTS) $(TABLES_TEST) $(RUNTIME_TESTS) $(PLAN_TEST) $(CODEGEN_TESTS)

# The checked-in tables must be what healerc makes of rules/ today.
check-generated: $(BIN)/healerc
	@mkdir -p $(B)/regen
	$(BIN)/healerc compile $(DEFAULT_RULES) -o $(B)/regen/rules.c
	@diff -u generated/rules.c $(B)/regen/rules.c || \
	  { echo "generated/rules.c is stale: run 'make regen' and commit it" >&2; exit 1; }

regen: $(BIN)/healerc
	$(BIN)/healerc compile $(DEFAULT_RULES) -o generated/rules.c

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SAN=1 all test-bins
	@$(MAKE) --no-print-directory build/fuzz/fuzz_healerc
	@$(MAKE) --no-print-directory build/fuzz/fuzz_decode build/fuzz/fuzz_http \
	  build/fuzz/fuzz_tz build/fuzz/fuzz_journal
	@# bin/healer-static, for tests/integration/static_root.sh (cached in build/static)
	@$(MAKE) --no-print-directory static
	@SAN_DIR=build/san tests/run.sh

.PHONY: test-bins check-generated regen
