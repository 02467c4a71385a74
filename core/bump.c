/*
 * bump.c - see bump.h.
 */
#include "bump.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUMP_ALIGN 16u
#define BUMP_DEFAULT (16u * 1024u)
#define BUMP_MAX_BLOCK (1u << 20)   /* growth stops doubling here */
#define BUMP_KEEP_MAX (4u << 20)    /* reset keeps a block up to this size */

struct bump_block {
  struct bump_block *next;    /* older block */
  size_t size;                /* usable bytes in data */
  size_t used;                /* bytes handed out */
  _Alignas(16) unsigned char data[];
};

void bump_init(struct bump *a, size_t first_size) {
  a->head = NULL;
  a->first_size = first_size ? first_size : BUMP_DEFAULT;
}

static struct bump_block *new_block(struct bump *a, size_t need) {
  size_t size = a->head ? a->head->size * 2 : a->first_size;
  if (size > BUMP_MAX_BLOCK) size = BUMP_MAX_BLOCK;
  if (size < need) size = need;
  if (size > SIZE_MAX - sizeof(struct bump_block)) return NULL;
  struct bump_block *b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->size = size;
  b->used = 0;
  b->next = a->head;
  a->head = b;
  return b;
}

void *bump_alloc(struct bump *a, size_t n) {
  if (n == 0) n = 1;
  if (n > SIZE_MAX - BUMP_ALIGN) return NULL;
  size_t rounded = (n + BUMP_ALIGN - 1) & ~(size_t)(BUMP_ALIGN - 1);
  struct bump_block *b = a->head;
  if (!b || b->size - b->used < rounded) {
    b = new_block(a, rounded);
    if (!b) return NULL;
  }
  void *p = b->data + b->used;
  b->used += rounded;
  return p;
}

char *bump_strndup(struct bump *a, const char *s, size_t n) {
  if (n == SIZE_MAX) return NULL;
  char *p = bump_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void bump_reset(struct bump *a) {
  struct bump_block *keep = NULL;
  for (struct bump_block *b = a->head; b; b = b->next)
    if (b->size <= BUMP_KEEP_MAX && (!keep || b->size > keep->size)) keep = b;
  struct bump_block *b = a->head;
  while (b) {
    struct bump_block *next = b->next;
    if (b != keep) free(b);
    b = next;
  }
  a->head = keep;
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
  }
}

void bump_free(struct bump *a) {
  struct bump_block *b = a->head;
  while (b) {
    struct bump_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}
