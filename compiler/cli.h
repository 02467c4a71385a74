/*
 * cli.h - what healerc's commands share: option parsing, reading the rule
 * files, and the exit statuses.
 *
 * Each command is one function, `int cmd_NAME(int argc, char **argv)`, with
 * argv[0] the command's name; main.c dispatches on it. A command that reads
 * rules calls cli_load(), which reads, parses and checks every file and
 * prints every diagnostic the way `healerc check` does, so every command
 * refuses broken rules with the same messages.
 */
#ifndef HEALER_CLI_H
#define HEALER_CLI_H

#include <stdint.h>

#include "../dsl/ast.h"
#include "diag.h"

enum { EXIT_OK = 0, EXIT_RULES = 1, EXIT_USAGE = 2 };

/* How diagnostics are printed; cli_diag_defaults() gives `check`'s. */
struct cli_diag_opts {
  int werror;
  unsigned max_errors;
  enum diag_format format;
  int color;                  /* -1: auto, 0 never, 1 always */
};

void cli_diag_defaults(struct cli_diag_opts *o);

/* Parses the diagnostic options shared by every command that reads rules
 * (-Werror, --max-errors, --color, --format) at argv[*i]. Returns 1 when
 * it took the option (advancing *i past its value), 0 when argv[*i] is not
 * one of them, or -1 after printing a usage error. */
int cli_diag_option(int argc, char **argv, int *i, struct cli_diag_opts *o);

/* A checked rule set: the program and the diagnostics it was checked
 * with. Lives at one address (p.diag points at d). */
struct cli_rules {
  struct program p;
  struct diag d;
};

/* Reads, parses and checks files into r, printing every diagnostic.
 * Returns EXIT_OK, EXIT_RULES (errors, or warnings under -Werror) or
 * EXIT_USAGE (a file that cannot be read). Call cli_rules_free() in every
 * case. */
int cli_load(struct cli_rules *r, char *const *files, uint32_t nfiles,
             const struct cli_diag_opts *o);
void cli_rules_free(struct cli_rules *r);

/* Reads path whole into an arena-owned, NUL-terminated buffer. Returns 0,
 * or -1 with errno set (EFBIG when the file is over 64 MiB). */
int cli_read_file(struct arena *a, const char *path, struct source *src);

/* Prints "healerc: error: ..." and the pointer to --help; returns
 * EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The value of "--name=VALUE" or "--name VALUE" at argv[*i] (advancing *i
 * past a separate value), or NULL when argv[*i] is not --name or the value
 * is missing (then *missing is set). */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name,
                          int *missing);

/* The commands (main.c's table). */
int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_explain(int argc, char **argv);

#endif
