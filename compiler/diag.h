/*
 * diag.h - clang-style diagnostics for healerc.
 *
 * Every message healerc prints about a rule file goes through here:
 *
 *   rules/disk.heal:3:25: error: unknown action kind 'jenkns'; did you mean 'jenkins'?
 *       3 | when alert X run jenkns Job
 *         |                  ^~~~~~
 *
 * Line and column are 1-based; the column counts bytes, as gcc and clang do.
 * The caret line pads with one space per character (tabs kept), so carets
 * line up under UTF-8 text. Unprintable bytes and invalid UTF-8 in the
 * echoed source line are shown as '?'; a very long line is shown as a
 * window around the culprit.
 *
 * A note belongs to the error or warning before it and is printed right
 * after it ("note: first defined here"). With werror, warnings are reported
 * as errors ("error: ... [-Werror]"). After max_errors errors the sink prints
 * one "too many errors" line and swallows the rest (still counting them).
 *
 * Ordered mode (d->ordered = 1, as healerc sets it): diagnostics are held
 * and printed by diag_finish() sorted by file (in the order given) and
 * position, each with its notes, so the lexer's, the parser's and the
 * checker's findings read top to bottom; the max_errors cap then keeps the
 * first errors in that order. At most DIAG_HELD_MAX are held; past that
 * they are only counted. diag_file_error() prints at once in both modes.
 *
 * Formats (d->format, ordered mode only): DIAG_TEXT prints as above, with
 * ANSI colours when d->color is set. DIAG_JSON prints, in diag_finish(),
 * one JSON object per error or warning per line (JSON Lines), its notes
 * inside; DIAG_SARIF prints one SARIF 2.1.0 log. Both print every held
 * diagnostic (no max_errors cap) and no closing count. Each error and
 * warning carries a stable code (diag_code(), the table in diag_codes.h).
 *
 * The front end (dsl/) sees only the reporting half, dsl/diag_sink.h;
 * this header adds the sink itself, its set-up and its closing count.
 *
 * Ownership: the sink borrows the sources array and the FILE. In ordered
 * mode it owns the held messages and frees them in diag_finish().
 */
#ifndef HEALER_DIAG_H
#define HEALER_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#include "../dsl/ast.h"
#include "diag_sink.h"

#define DIAG_HELD_MAX 10000

struct diag_held;

enum diag_format {
  DIAG_TEXT,  /* clang-style lines, source and caret */
  DIAG_JSON,  /* one JSON object per diagnostic, one per line */
  DIAG_SARIF, /* one SARIF 2.1.0 log */
};

struct diag {
  FILE *out;                  /* borrowed; usually stderr */
  const struct source *sources; /* borrowed; indexed by loc.file */
  const uint32_t *nsources;   /* borrowed; read at print time */
  int werror;                 /* report warnings as errors */
  unsigned max_errors;        /* 0: no cap */
  unsigned errors, warnings;  /* counted, including swallowed ones */
  int muted;                  /* the cap was reached */
  int last_suppressed;        /* the previous error/warning was swallowed,
                                 so its notes are too */
  int ordered;                /* hold and sort; see above */
  struct diag_held *held;     /* ordered mode: the held messages (owned) */
  size_t nheld, held_cap;
  FILE *cur;                  /* ordered mode: the message being written
                                 (a memory stream), or NULL */
  int open;                   /* structured formats: the last held message
                                 takes the notes that follow */
  enum diag_format format;    /* DIAG_TEXT unless set (ordered mode only) */
  int color;                  /* DIAG_TEXT: ANSI colours */
  const char *tool_version;   /* DIAG_SARIF: the driver's version, borrowed */
};

void diag_init(struct diag *d, FILE *out, const struct source *sources,
               const uint32_t *nsources);

/* diag_error(), diag_warning(), diag_note(), diag_file_error(),
 * diag_error_count(), diag_suggest() and diag_line_col(): see
 * diag_sink.h. */

/* Prints the closing count ("2 errors generated.", "1 warning generated.",
 * "1 warning and 2 errors generated.") if anything was reported; prints
 * nothing on a clean run. Returns the number of errors. */
unsigned diag_finish(struct diag *d);

/* The stable code of a message's kind (diag_codes.h): the first entry with
 * a pattern matching the whole text, else DIAG_CODE_UNCLASSIFIED. Returns
 * a static string. */
const char *diag_code(const char *message);

#endif
