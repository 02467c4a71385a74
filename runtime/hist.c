/*
 * hist.c - see hist.h.
 */
#include "hist.h"

#include <time.h>

static const int64_t fast_us[] = {100,   250,    500,    1000,   2500,
                                  5000,  10000,  25000,  50000,  100000,
                                  250000, 500000, 1000000, 2500000};
static const char *const fast_le[] = {"0.0001", "0.00025", "0.0005", "0.001",
                                      "0.0025", "0.005",   "0.01",   "0.025",
                                      "0.05",   "0.1",     "0.25",   "0.5",
                                      "1",      "2.5"};
static const int64_t upstream_us[] = {5000,    10000,   25000,   50000,
                                      100000,  250000,  500000,  1000000,
                                      2500000, 5000000, 10000000, 30000000};
static const char *const upstream_le[] = {"0.005", "0.01", "0.025", "0.05",
                                          "0.1",   "0.25", "0.5",   "1",
                                          "2.5",   "5",    "10",    "30"};
static const int64_t long_us[] = {100000,   500000,    1000000,   5000000,
                                  10000000, 30000000,  60000000,  120000000,
                                  300000000, 600000000, 1800000000, 3600000000};
static const char *const long_le[] = {"0.1", "0.5", "1",   "5",   "10",   "30",
                                      "60",  "120", "300", "600", "1800", "3600"};

#define SET(id)                                                                \
  {sizeof id##_us / sizeof id##_us[0], id##_us, id##_le}
_Static_assert(sizeof fast_us / sizeof fast_us[0] == sizeof fast_le / sizeof fast_le[0] &&
                   sizeof fast_us / sizeof fast_us[0] <= HIST_BUCKETS_MAX,
               "fast buckets");
_Static_assert(sizeof upstream_us / sizeof upstream_us[0] ==
                       sizeof upstream_le / sizeof upstream_le[0] &&
                   sizeof upstream_us / sizeof upstream_us[0] <= HIST_BUCKETS_MAX,
               "upstream buckets");
_Static_assert(sizeof long_us / sizeof long_us[0] == sizeof long_le / sizeof long_le[0] &&
                   sizeof long_us / sizeof long_us[0] <= HIST_BUCKETS_MAX,
               "long buckets");

const struct hist_buckets hist_fast = SET(fast);
const struct hist_buckets hist_upstream = SET(upstream);
const struct hist_buckets hist_long = SET(long);

void hist_init(struct hist *h, const struct hist_buckets *b) {
  h->b = b;
  for (unsigned i = 0; i <= HIST_BUCKETS_MAX; i++) atomic_init(&h->counts[i], 0);
  atomic_init(&h->sum_us, 0);
}

void hist_observe_us(struct hist *h, int64_t us) {
  if (us < 0) us = 0;
  unsigned i = 0;
  while (i < h->b->n && us > h->b->us[i]) i++;
  atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->sum_us, (unsigned long long)us, memory_order_relaxed);
}

unsigned long long hist_count(const struct hist *h) {
  unsigned long long n = 0;
  for (unsigned i = 0; i <= h->b->n; i++)
    n += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
  return n;
}

void hist_render(struct buf *o, const char *name, const char *labels,
                 const struct hist *h) {
  const char *sep = labels[0] ? "," : "";
  unsigned long long cum = 0;
  for (unsigned i = 0; i <= h->b->n; i++) {
    cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
    buf_printf(o, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep,
               i < h->b->n ? h->b->le[i] : "+Inf", cum);
  }
  unsigned long long sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
  if (labels[0]) {
    buf_printf(o, "%s_sum{%s} %llu.%06llu\n", name, labels, sum / 1000000, sum % 1000000);
    buf_printf(o, "%s_count{%s} %llu\n", name, labels, cum);
  } else {
    buf_printf(o, "%s_sum %llu.%06llu\n", name, sum / 1000000, sum % 1000000);
    buf_printf(o, "%s_count %llu\n", name, cum);
  }
}

int64_t hist_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
