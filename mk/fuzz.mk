# fuzz.mk - the libFuzzer target over healerc (clang; see FUZZ=1 in Makefile).
#
#   make fuzz                 run it for FUZZ_SECONDS (default 60) on a copy
#                             of the seed corpus (tests/fuzz/corpus + every
#                             .heal file under rules/ and tests/)
#   make fuzz FUZZ_SECONDS=600

FUZZ_SECONDS ?= 60

# Always re-entered: the objects it links are built by a sub-make in the
# FUZZ=1 configuration, which this make cannot see as prerequisites.
build/fuzz/fuzz_healerc: tests/fuzz/fuzz_healerc.c FORCE
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-objs
	clang -std=c11 -Icore -Idsl -Icompiler -Ibuild/fuzz/dsl -g -O1 \
	  -fsanitize=fuzzer,address,undefined -o $@ $< \
	  $(filter-out build/fuzz/compiler/main.o,$(patsubst %.c,build/fuzz/%.o,$(DSL_SRC) $(COMP_SRC))) \
	  build/fuzz/dsl/parser.o build/fuzz/dsl/lexer.o build/fuzz/core/libcore.a $(PCRE_LIBS)

fuzz-objs: $(HEALERC_LIB_OBJ) $(CORE_LIB)

fuzz: build/fuzz/fuzz_healerc
	@scripts/deps.sh test
	@mkdir -p tests/fuzz/corpus-run
	@cp -n tests/fuzz/corpus/* rules/*.heal tests/diag/*.heal tests/codegen/*.heal tests/fuzz/corpus-run/ 2>/dev/null || true
	build/fuzz/fuzz_healerc -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	  -timeout=10 -rss_limit_mb=2048 tests/fuzz/corpus-run
	@echo "fuzzing found nothing in $(FUZZ_SECONDS)s (new inputs kept in tests/fuzz/corpus-run)"

.PHONY: fuzz fuzz-objs FORCE
FORCE:
