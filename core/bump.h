/*
 * bump.h - a bump allocator: many small allocations, released all at once.
 *
 * Used for everything that lives as long as one webhook request: the cJSON
 * tree, the decoded alerts, rendered parameters. In core/ with render.c,
 * which allocates its results in one. (healerc's arena, dsl/ast.c, is a
 * different contract: zeroed memory and no NULL returns.)
 *
 * Ownership: the arena owns every byte it hands out. bump_reset() makes all
 * of them invalid at once and keeps one block for reuse; bump_free()
 * releases everything. An arena is not thread-safe: it belongs to one
 * request (or one test) at a time.
 */
#ifndef HEALER_BUMP_H
#define HEALER_BUMP_H

#include <stddef.h>

struct bump_block;

struct bump {
  struct bump_block *head;    /* newest block first; NULL until first use */
  size_t first_size;          /* size of the first block (0: default) */
};

/* An empty arena; allocates nothing until the first bump_alloc(). */
void bump_init(struct bump *a, size_t first_size);

/* n bytes aligned for any type, not zeroed; NULL when out of memory. */
void *bump_alloc(struct bump *a, size_t n);

/* A NUL-terminated copy of s[0..n); NULL when out of memory. */
char *bump_strndup(struct bump *a, const char *s, size_t n);

/* Invalidates every allocation; keeps the largest block (up to a cap). */
void bump_reset(struct bump *a);

/* Releases every block. The arena may be used again (as after bump_init). */
void bump_free(struct bump *a);

#endif
