/*
 * tool.h - what the rule tools (explain, test, replay) share: the rules
 * loaded and built into tables in memory, and words for what the daemon
 * would do.
 */
#ifndef HEALER_TOOL_H
#define HEALER_TOOL_H

#include <stdio.h>

#include "cli.h"
#include "codegen.h"
#include "rem.h"

struct tool_rules {
  struct cli_rules cr;
  struct codegen_tables t;
};

/* Loads and checks files (printing diagnostics as `healerc check` does)
 * and builds their tables. EXIT_OK, EXIT_RULES or EXIT_USAGE; call
 * tool_rules_free() in every case. */
int tool_rules_load(struct tool_rules *r, char *const *files, uint32_t nfiles);
void tool_rules_free(struct tool_rules *r);

/* "jenkins DockerPruneNode", "kubernetes drain": a step's action and
 * target, into out. */
const char *tool_step_words(const struct rem_step *st, char *out, size_t n);

/* Writes a value quoted as the rules write strings ("a\"b"). */
void tool_put_quoted(FILE *f, const char *s);

#endif
