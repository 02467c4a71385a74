/*
 * main.c - the healerc command line: the table of commands.
 *
 *   healerc check [options] FILE...
 *   healerc compile [options] FILE... -o OUT.c
 *
 * Exit status: 0 when the rules are fine, 1 when they have errors (or
 * warnings under -Werror), 2 for a usage or I/O problem. Diagnostics go to
 * stderr as text (coloured on a terminal, --color), or to stdout as JSON
 * Lines or one SARIF log (--format). Each command lives in its own file
 * (cmd_*.c) and shares cli.c's option parsing and rule loading.
 */
#include <stdio.h>
#include <string.h>

#include "abi.h"
#include "cli.h"

static const char usage_text[] =
    "usage: healerc check [options] FILE...\n"
    "       healerc compile [options] FILE... -o OUT.c\n"
    "       healerc --help | --version\n"
    "\n"
    "Checks .heal rule files and compiles them into the C tables that the\n"
    "healer runtime links.\n"
    "\n"
    "commands:\n"
    "  check            report every error and warning in FILEs; write nothing\n"
    "  compile          check, then write the tables to OUT.c ('-' for stdout)\n"
    "\n"
    "options:\n"
    "  -o OUT.c         output file of compile; written atomically\n"
    "  -Werror          treat warnings as errors\n"
    "  --max-errors N   stop printing after N errors (default 50, 0: no limit;\n"
    "                   text format only)\n"
    "  --color=WHEN     colour the text diagnostics: auto (default: when stderr\n"
    "                   is a terminal and NO_COLOR is unset or empty), always,\n"
    "                   never\n"
    "  --format=FORMAT  text (default: on stderr), json (one JSON object per\n"
    "                   diagnostic per line, on stdout) or sarif (one SARIF\n"
    "                   2.1.0 log, on stdout)\n"
    "  -h, --help       show this help\n"
    "  --version        show the version\n"
    "\n"
    "exit status:\n"
    "  0  no errors (warnings allowed, unless -Werror)\n"
    "  1  errors in the rules (or warnings under -Werror)\n"
    "  2  usage error, or a file that cannot be read or written\n"
    "\n"
    "environment: NO_COLOR (set and not empty: no colour under --color=auto)\n"
    "language reference: dsl/LANGUAGE.md, healer-rules(5)\n";

static const struct command {
  const char *name;
  int (*run)(int argc, char **argv);
} commands[] = {
    {"check", cmd_check},
    {"compile", cmd_compile},
    {"explain", cmd_explain},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int is_help(const char *a) {
  return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("%s", "no command given");
  const char *cmd = argv[1];
  if (is_help(cmd) || strcmp(cmd, "help") == 0) {
    fputs(usage_text, stdout);
    return EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0) {
    printf("healerc %s (table ABI %d)\n", HEALER_VERSION, HL_ABI_VERSION);
    return EXIT_OK;
  }
  for (size_t c = 0; c < NCOMMANDS; c++) {
    if (strcmp(cmd, commands[c].name) != 0)
      continue;
    for (int i = 2; i < argc; i++)
      if (is_help(argv[i])) {
        fputs(usage_text, stdout);
        return EXIT_OK;
      }
    return commands[c].run(argc - 1, argv + 1);
  }
  char known[256];
  size_t n = 0;
  for (size_t c = 0; c < NCOMMANDS && n < sizeof known; c++)
    n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", c ? ", " : "",
                          commands[c].name);
  return cli_usage_error("unknown command '%s'; expected one of %s", cmd, known);
}
