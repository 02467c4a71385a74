/*
 * ast.c - the arena behind the syntax tree, the program, and
 * parse_source(), which runs the scanner and parser over one source file.
 *
 * The arena hands out zeroed memory aligned for any type, from blocks of
 * BLOCK_SIZE bytes (a larger request gets a block of its own). Nothing is
 * freed before arena_free(). Out of memory is fatal: the compiler cannot go
 * on without its tree, so arena_alloc() never returns NULL.
 */
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag_sink.h"
#include "parser.h"

#define BLOCK_SIZE (64 * 1024)
#define ALIGN alignof(max_align_t)

struct arena_block {
  struct arena_block *next; /* older block */
  size_t size, used;        /* bytes in data, bytes handed out */
  max_align_t data[];       /* aligned for anything */
};

static void out_of_memory(void) {
  fputs("healerc: out of memory\n", stderr);
  abort();
}

static struct arena_block *new_block(size_t size) {
  struct arena_block *b;
  if (size > SIZE_MAX - sizeof *b)
    out_of_memory();
  b = calloc(1, sizeof *b + size);
  if (!b)
    out_of_memory();
  b->size = size;
  return b;
}

void *arena_alloc(struct arena *a, size_t n) {
  struct arena_block *b = a->head;
  if (n > SIZE_MAX - ALIGN)
    out_of_memory();
  n = n ? (n + ALIGN - 1) / ALIGN * ALIGN : ALIGN;
  if (b && b->size - b->used >= n) {
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
  }
  if (n > BLOCK_SIZE / 4) {
    /* A big request gets its own block, behind the current one so the
     * current one's free space is not lost. */
    struct arena_block *big = new_block(n);
    big->used = n;
    if (b) {
      big->next = b->next;
      b->next = big;
    } else {
      a->head = big;
    }
    return big->data;
  }
  b = new_block(BLOCK_SIZE);
  b->next = a->head;
  a->head = b;
  b->used = n;
  return b->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX)
    out_of_memory();
  char *p = arena_alloc(a, n + 1);
  if (n)
    memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *arena_strdup(struct arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}

void arena_free(struct arena *a) {
  struct arena_block *b = a->head;
  while (b) {
    struct arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}

void program_init(struct program *p, struct diag *d) {
  memset(p, 0, sizeof *p);
  p->diag = d;
  p->rules_tail = &p->rules;
  p->backends_tail = &p->backends;
  p->windows_tail = &p->windows;
}

void program_free(struct program *p) {
  arena_free(&p->arena);
  p->sources = NULL;
  p->nsources = 0;
  p->rules = NULL;
  p->backends = NULL;
  p->windows = NULL;
  p->rules_tail = &p->rules;
  p->backends_tail = &p->backends;
  p->windows_tail = &p->windows;
}

/* The scanner takes an int length, and locations are 32-bit offsets. */
#define MAX_PARSE_BYTES ((size_t)INT_MAX - 16)

int parse_source(struct program *p, uint32_t file) {
  struct diag *d = p->diag;
  const struct source *src = &p->sources[file];
  unsigned before = diag_error_count(d);
  if (src->len > MAX_PARSE_BYTES) {
    diag_file_error(d, src->path, "file is too large to parse (%zu bytes)",
                    src->len);
    return (int)(diag_error_count(d) - before);
  }
  struct pstate ps;
  memset(&ps, 0, sizeof ps);
  ps.p = p;
  ps.d = d;
  ps.src = src;
  ps.file = file;
  ps.err_end = UINT32_MAX;
  ps.since_error = 1000;
  if (lex_open(&ps) != 0) {
    diag_file_error(d, src->path, "cannot start the scanner: out of memory");
    return (int)(diag_error_count(d) - before);
  }
  yyparse(&ps);
  lex_close(&ps);
  return (int)(diag_error_count(d) - before);
}
