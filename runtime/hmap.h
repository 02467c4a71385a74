/*
 * hmap.h - a chained hash map from byte-string keys to fixed-size payloads.
 *
 * The dedupe, cooldown and concurrency tables of decide.c. The map owns its
 * entries: each holds a copy of the key and a zeroed payload of the size
 * given to hmap_init(); callers get and keep pointers to payloads, valid
 * until the entry is removed. Keys come from senders (label values), so
 * the hash is keyed: SipHash-2-4 under a 128-bit key drawn from
 * getrandom() once per process; without the key, nobody can choose keys
 * that collide. Not thread-safe: the owner locks.
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

/* SipHash-2-4 of data[0..n) under key (the map's hash, with its key). */
uint64_t hmap_siphash(const uint64_t key[2], const void *data, size_t n);

#endif
