/*
 * hist.h - Prometheus histograms with fixed buckets, cheap to observe.
 *
 * An observation is a duration in microseconds: it finds its bucket by a
 * short linear scan over the (at most HIST_BUCKETS_MAX) upper bounds and
 * adds 1 to that bucket and the value to the sum, both relaxed atomics. No
 * lock and no allocation, from any thread. Buckets hold their own counts
 * (not cumulative); hist_render() accumulates them and takes _count from
 * the same reads, so a scrape's +Inf bucket always equals its _count.
 *
 * Ownership: a struct hist is plain memory (embed it, or calloc an array
 * and call hist_init() on each); the bucket set is borrowed and static.
 */
#ifndef HEALER_HIST_H
#define HEALER_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"

#define HIST_BUCKETS_MAX 14

/* Upper bounds, increasing: in microseconds and as Prometheus prints the
 * le label, in seconds. */
struct hist_buckets {
  unsigned n;
  const int64_t *us;
  const char *const *le;
};

/* Time spent in healer itself (a webhook, a journal commit): 100 µs..2.5 s. */
extern const struct hist_buckets hist_fast;
/* An HTTP request to a server healer calls: 5 ms..30 s (the client's
 * default total timeout). */
extern const struct hist_buckets hist_upstream;
/* A remediation, start to end: 100 ms..1 h. */
extern const struct hist_buckets hist_long;

struct hist {
  const struct hist_buckets *b;                  /* borrowed */
  atomic_ullong counts[HIST_BUCKETS_MAX + 1];    /* [n]: above the last bound */
  atomic_ullong sum_us;
};

void hist_init(struct hist *h, const struct hist_buckets *b);

/* Counts one observation of us microseconds (< 0 counts as 0). */
void hist_observe_us(struct hist *h, int64_t us);

/* Total observations so far. */
unsigned long long hist_count(const struct hist *h);

/* Writes name_bucket{labels,le="..."}, name_sum{labels} and
 * name_count{labels}: labels is "" or pre-escaped label pairs without
 * braces ("code=\"202\""). The HELP and TYPE lines are the caller's. */
void hist_render(struct buf *o, const char *name, const char *labels,
                 const struct hist *h);

/* Now on CLOCK_MONOTONIC, in microseconds: the clock to time with. */
int64_t hist_now_us(void);

#endif
