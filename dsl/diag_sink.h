/*
 * diag_sink.h - the diagnostics sink the front end reports through.
 *
 * The scanner, the parser and parse_source() report lexical and syntax
 * errors here, by position, and ask for "did you mean" candidates. They
 * hold a struct diag by pointer only: the sink itself, its formats and its
 * closing count belong to healerc's driver (compiler/diag.h, which includes
 * this header and implements it in compiler/diag.c). So dsl/ includes no
 * header of compiler/, and the dependency points one way at compile time:
 * the compiler uses the front end, and gives it somewhere to report.
 *
 * Every function borrows what it is given and keeps nothing of it.
 */
#ifndef HEALER_DIAG_SINK_H
#define HEALER_DIAG_SINK_H

#include <stdint.h>

#include "ast.h"

struct diag;

void diag_error(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warning(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A message about a file as a whole (cannot open, too large): no position,
 * no source line. Counts as an error. */
void diag_file_error(struct diag *d, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* How many errors have been reported so far (swallowed ones included). */
unsigned diag_error_count(const struct diag *d);

/* The closest candidate to word by edit distance, or NULL if none is close
 * enough to suggest (distance at most 1 for words of up to 4 characters,
 * otherwise at most a third of the word's length). candidates ends at NULL. */
const char *diag_suggest(const char *word, const char *const *candidates);

/* Line (1-based) and column (1-based, in bytes) of a byte offset. */
void diag_line_col(const struct source *src, uint32_t offset, unsigned *line,
                   unsigned *col);

#endif
