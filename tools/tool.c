/*
 * tool.c - what the rule tools share (see tool.h).
 */
#include "tool.h"

#include <stdio.h>
#include <string.h>

#include "decode.h"

int tool_rules_load(struct tool_rules *r, char *const *files, uint32_t nfiles) {
  memset(&r->t, 0, sizeof r->t);
  struct cli_diag_opts o;
  cli_diag_defaults(&o);
  int rc = cli_load(&r->cr, files, nfiles, &o);
  if (rc != EXIT_OK) return rc;
  if (codegen_tables(&r->cr.p, &r->t) != 0) {
    fprintf(stderr, "healerc: error: out of memory\n");
    return EXIT_USAGE;
  }
  decode_init();
  return EXIT_OK;
}

void tool_rules_free(struct tool_rules *r) {
  codegen_tables_free(&r->t);
  cli_rules_free(&r->cr);
}

const char *tool_step_words(const struct rem_step *st, char *out, size_t n) {
  char kind[REM_KIND_MAX];
  rem_kind_name(st->kind, kind);
  if (st->target) snprintf(out, n, "%s %s", kind, st->target);
  else snprintf(out, n, "%s", kind);
  return out;
}

void tool_put_quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
    else if (*c == '\n') fputs("\\n", f);
    else if (*c == '\t') fputs("\\t", f);
    else if (*c < 0x20 || *c == 0x7f) fprintf(f, "\\x%02x", *c);
    else fputc(*c, f);
  }
  fputc('"', f);
}
