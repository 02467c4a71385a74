/*
 * hmap.c - see hmap.h.
 */
#include "hmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* 16 bytes before the payload: the low 32 bits of the hash choose the
 * bucket and are compared first; no key is near 4 GiB. */
struct hmap_entry {
  struct hmap_entry *next;
  uint32_t hash;
  uint32_t klen;
  _Alignas(8) unsigned char data[]; /* payload, then the key */
};

/* The key of the hash: 128 random bits, drawn once per process. */
static uint64_t g_key[2];
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void init_key(void) {
  unsigned char *p = (unsigned char *)g_key;
  size_t got = 0;
  while (got < sizeof g_key) {
    ssize_t n = getrandom(p + got, sizeof g_key - got, 0);
    if (n > 0) {
      got += (size_t)n;
    } else if (n < 0 && errno != EINTR) {
      /* No kernel entropy interface (never on Linux >= 3.17): a weaker key
       * from what differs per process and per start. */
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      g_key[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
      g_key[1] ^= (uint64_t)(uintptr_t)&ts ^ (uint64_t)ts.tv_sec;
      break;
    }
  }
}

static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

/* One SipRound (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012, section 2). */
static void sipround(uint64_t v[4]) {
  v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
  v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static uint64_t le64(const unsigned char *p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
  return w;
}

uint64_t hmap_siphash(const uint64_t key[2], const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
                   key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t m = le64(p + i, 8);
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
  }
  uint64_t last = ((uint64_t)n << 56) | le64(p + i, n - i);
  v[3] ^= last;
  sipround(v);
  sipround(v);
  v[0] ^= last;
  v[2] ^= 0xff;
  for (int r = 0; r < 4; r++) sipround(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t hash(const void *key, size_t n) { return (uint32_t)hmap_siphash(g_key, key, n); }

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

static struct hmap_entry *entry_of(const struct hmap *m, void *payload) {
  (void)m;
  return (struct hmap_entry *)((unsigned char *)payload - offsetof(struct hmap_entry, data));
}

int hmap_init(struct hmap *m, size_t payload) {
  pthread_once(&g_key_once, init_key);
  m->nbuckets = 64;
  m->count = 0;
  m->payload = round8(payload);
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
  uint32_t h = hash(key, klen);
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
  if (klen > UINT32_MAX) return NULL;
  struct hmap_entry *e = calloc(1, sizeof *e + m->payload + klen);
  if (!e) return NULL;
  e->hash = hash(key, klen);
  e->klen = (uint32_t)klen;
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
