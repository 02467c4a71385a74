/*
 * codegen.h - writes a checked program as the C tables of core/abi.h.
 *
 * The output is deterministic: the same sources give the same bytes (no
 * timestamps, no absolute paths beyond what the user passed). It starts with
 * a banner naming the generator and the sources, puts a comment on each row
 * pointing back to file:line, and expands HL_ABI_CHECK with the version it
 * was written for. It includes "abi.h" only, so it compiles with
 * -Icore -std=c11 -Wall -Wextra -Werror -pedantic under gcc and clang.
 */
#ifndef HEALER_CODEGEN_H
#define HEALER_CODEGEN_H

#include <stdio.h>

#include "../dsl/ast.h"
#include "abi.h"

/* Writes the tables to out. Returns 0, or -1 if a write failed (ferror). */
int codegen_emit(const struct program *p, FILE *out);

/* The digest of the sources (paths and bytes, in order), as 16 lowercase hex
 * digits plus NUL: FNV-1a 64. Also written into the tables. */
void codegen_digest(const struct program *p, char out[17]);

/* The tables codegen_emit() writes, built in memory instead, for healerc's
 * own commands that run the runtime's planning on the rules (test,
 * explain, replay): the same layout and indices, the strings copied into
 * the arena. Lives until codegen_tables_free(); does not borrow p. */
struct codegen_tables {
  struct hl_ruleset rs;
  struct arena arena;
  char digest[17];
  char generator[48];
};

/* Builds *out from a checked program. Returns 0, or -1 when out of memory
 * (errno ENOMEM; *out is then empty and needs no free). */
int codegen_tables(const struct program *p, struct codegen_tables *out);
void codegen_tables_free(struct codegen_tables *t);

#endif
