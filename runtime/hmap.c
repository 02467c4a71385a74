/*
 * hmap.c - see hmap.h.
 */
#include "hmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct hmap_entry {
  struct hmap_entry *next;
  uint64_t hash;
  size_t klen;
  _Alignas(16) unsigned char data[]; /* payload, then the key */
};

static uint64_t g_seed;
static pthread_once_t g_seed_once = PTHREAD_ONCE_INIT;

static void init_seed(void) {
  uint64_t s = 0;
  if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
    s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
  g_seed = s;
}

static uint64_t hash(const void *key, size_t n) {
  const unsigned char *p = key;
  uint64_t h = 0xcbf29ce484222325ull ^ g_seed;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static struct hmap_entry *entry_of(const struct hmap *m, void *payload) {
  (void)m;
  return (struct hmap_entry *)((unsigned char *)payload - offsetof(struct hmap_entry, data));
}

int hmap_init(struct hmap *m, size_t payload) {
  pthread_once(&g_seed_once, init_seed);
  m->nbuckets = 64;
  m->count = 0;
  m->payload = round16(payload);
  m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
  return m->buckets ? 0 : -1;
}

void hmap_free(struct hmap *m, void (*drop)(void *payload)) {
  for (size_t i = 0; i < m->nbuckets; i++) {
    struct hmap_entry *e = m->buckets[i];
    while (e) {
      struct hmap_entry *next = e->next;
      if (drop) drop(e->data);
      free(e);
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = NULL;
  m->nbuckets = m->count = 0;
}

void *hmap_find(const struct hmap *m, const void *key, size_t klen) {
  uint64_t h = hash(key, klen);
  for (struct hmap_entry *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next)
    if (e->hash == h && e->klen == klen &&
        memcmp(e->data + m->payload, key, klen) == 0)
      return e->data;
  return NULL;
}

static void grow(struct hmap *m) {
  size_t n = m->nbuckets * 2;
  struct hmap_entry **b = calloc(n, sizeof *b);
  if (!b) return;             /* keep the longer chains */
  for (size_t i = 0; i < m->nbuckets; i++) {
    struct hmap_entry *e = m->buckets[i];
    while (e) {
      struct hmap_entry *next = e->next;
      e->next = b[e->hash & (n - 1)];
      b[e->hash & (n - 1)] = e;
      e = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = n;
}

void *hmap_insert(struct hmap *m, const void *key, size_t klen, bool *created) {
  void *found = hmap_find(m, key, klen);
  if (found) {
    if (created) *created = false;
    return found;
  }
  struct hmap_entry *e = calloc(1, sizeof *e + m->payload + klen);
  if (!e) return NULL;
  e->hash = hash(key, klen);
  e->klen = klen;
  memcpy(e->data + m->payload, key, klen);
  size_t i = e->hash & (m->nbuckets - 1);
  e->next = m->buckets[i];
  m->buckets[i] = e;
  m->count++;
  if (m->count > m->nbuckets) grow(m);
  if (created) *created = true;
  return e->data;
}

void hmap_remove(struct hmap *m, void *payload) {
  struct hmap_entry *e = entry_of(m, payload);
  struct hmap_entry **pp = &m->buckets[e->hash & (m->nbuckets - 1)];
  while (*pp && *pp != e) pp = &(*pp)->next;
  if (!*pp) return;
  *pp = e->next;
  m->count--;
  free(e);
}

/* Removes the entries of bucket i for which pred holds. */
static void sweep_bucket(struct hmap *m, size_t i,
                         bool (*pred)(void *payload, void *ctx), void *ctx) {
  struct hmap_entry **pp = &m->buckets[i];
  while (*pp) {
    struct hmap_entry *e = *pp;
    if (pred(e->data, ctx)) {
      *pp = e->next;
      m->count--;
      free(e);
    } else {
      pp = &e->next;
    }
  }
}

void hmap_sweep(struct hmap *m, bool (*pred)(void *payload, void *ctx),
                void *ctx) {
  for (size_t i = 0; i < m->nbuckets; i++)
    sweep_bucket(m, i, pred, ctx);
}

void hmap_sweep_some(struct hmap *m, bool (*pred)(void *payload, void *ctx),
                     void *ctx, size_t *cursor, size_t max_buckets) {
  for (size_t n = 0; n < max_buckets && n < m->nbuckets; n++)
    sweep_bucket(m, (*cursor)++ & (m->nbuckets - 1), pred, ctx);
}

void hmap_each(struct hmap *m, void (*fn)(void *payload, void *ctx), void *ctx) {
  for (size_t i = 0; i < m->nbuckets; i++)
    for (struct hmap_entry *e = m->buckets[i]; e; e = e->next) fn(e->data, ctx);
}
