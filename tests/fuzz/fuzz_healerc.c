/*
 * fuzz_healerc.c - libFuzzer target over healerc's scanner, parser, checks
 * and code generator.
 *
 * Each input is one .heal file. Diagnostics go to /dev/null; what is checked
 * is that no input crashes, leaks, trips UBSan or hangs. When the input has
 * no error, the tables are generated too (into /dev/null).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../compiler/check.h"
#include "../../compiler/codegen.h"
#include "../../compiler/diag.h"
#include "../../dsl/ast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;
  if (!sink)
    sink = fopen("/dev/null", "w");
  struct diag d;
  struct program p;
  program_init(&p, &d);
  p.sources = arena_alloc(&p.arena, sizeof *p.sources);
  p.sources[0].path = "fuzz.heal";
  p.sources[0].text = arena_strndup(&p.arena, (const char *)data, size);
  p.sources[0].len = size;
  p.nsources = 1;
  diag_init(&d, sink, p.sources, &p.nsources);
  d.max_errors = 50;
  d.ordered = 1;
  parse_source(&p, 0);
  check_program(&p);
  if (diag_finish(&d) == 0)
    codegen_emit(&p, sink);
  program_free(&p);
  return 0;
}
