/*
 * hmap.h - a chained hash map from byte-string keys to fixed-size payloads.
 *
 * The dedupe, cooldown and concurrency tables of decide.c. The map owns its
 * entries: each holds a copy of the key and a zeroed payload of the size
 * given to hmap_init(); callers get and keep pointers to payloads, valid
 * until the entry is removed. The hash is FNV-1a 64 with a per-process
 * random seed. Not thread-safe: the owner locks.
 */
#ifndef HEALER_HMAP_H
#define HEALER_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_entry;

struct hmap {
  struct hmap_entry **buckets;
  size_t nbuckets;            /* a power of two */
  size_t count;
  size_t payload;             /* payload bytes per entry */
};

int hmap_init(struct hmap *m, size_t payload);

/* Releases every entry; drop (if not NULL) sees each payload first. */
void hmap_free(struct hmap *m, void (*drop)(void *payload));

void *hmap_find(const struct hmap *m, const void *key, size_t klen);

/* The payload for key, created (zeroed) if absent; *created says which.
 * NULL when out of memory. */
void *hmap_insert(struct hmap *m, const void *key, size_t klen, bool *created);

void hmap_remove(struct hmap *m, void *payload);

/* Removes every entry for which pred returns true (pred may release what
 * the payload points to). */
void hmap_sweep(struct hmap *m, bool (*pred)(void *payload, void *ctx),
                void *ctx);

/* Like hmap_sweep() over at most max_buckets buckets from *cursor, which
 * it advances (wrapping): bounded work per call for periodic sweeping. */
void hmap_sweep_some(struct hmap *m, bool (*pred)(void *payload, void *ctx),
                     void *ctx, size_t *cursor, size_t max_buckets);

/* Calls fn on every payload (no removal). */
void hmap_each(struct hmap *m, void (*fn)(void *payload, void *ctx), void *ctx);

#endif
