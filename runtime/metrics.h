/*
 * metrics.h - counters and gauges, in the Prometheus text format.
 *
 * Cardinality is fixed at start-up: per-rule series are arrays indexed by
 * rule, sized from the tables; label values come from the tables, never
 * from alerts. Counters are relaxed atomics, bumped from any thread;
 * histograms (hist.h) too: fixed buckets, no lock.
 *
 * Ownership: struct metrics owns its arrays (metrics_free()).
 */
#ifndef HEALER_METRICS_H
#define HEALER_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "buf.h"
#include "hist.h"
#include "journal.h"
#include "rem.h"
#include "safety.h"

#define METRICS_SUPPRESS(X) \
  X(DUPLICATE, "duplicate") \
  X(COOLDOWN, "cooldown") \
  X(RESOLVED, "resolved") \
  X(BUDGET, "budget") \
  X(LIMIT, "limit") \
  X(MISSING_LABEL, "missing_label") \
  X(NO_BACKEND, "no_backend") \
  X(PAUSED, "paused") \
  X(BREAKER, "breaker_open") \
  X(MATCH_ERROR, "match_error") \
  X(COOLDOWN_FULL, "cooldown_full")

enum metrics_suppress {
#define MX(id, name) SUP_##id,
  METRICS_SUPPRESS(MX)
#undef MX
  SUP__COUNT
};

/* HTTP status codes counted one by one; anything else is "other". */
#define METRICS_HTTP_CODES(X) \
  X(200) X(202) X(400) X(401) X(404) X(405) X(413) X(415) X(500) X(503)
#define METRICS_NHTTP 11

struct metrics {
  const struct hl_ruleset *rs; /* borrowed */
  atomic_ullong alerts[2];    /* received: [0] firing, [1] resolved */
  atomic_ullong unmatched;    /* alerts no rule matched */
  atomic_ullong payloads;     /* webhook payloads accepted */
  atomic_ullong *matches;     /* [rule] */
  atomic_ullong *created;     /* [rule] remediations queued */
  atomic_ullong *outcomes;    /* [rule * REM__COUNT + state], final states */
  atomic_ullong *suppressed;  /* [rule * SUP__COUNT + reason] */
  atomic_ullong http[METRICS_NHTTP];
  struct hist webhook[METRICS_NHTTP]; /* webhook handling, by status code */
  struct hist journal_commit; /* group commits (journal_config.commit_hist) */
  struct hist *durations;     /* [rule * REM__COUNT + state], final states */
  char (*kinds)[64];          /* [rule]: the rule's action kinds, "+"-joined */
  int64_t start_ms;
};

/* Point-in-time values the owner of each structure reports at scrape. */
struct metrics_gauges {
  size_t queue_depth, queue_capacity;
  size_t running;             /* remediations being run by workers */
  size_t dedupe_entries, cooldown_entries;
  size_t stored;              /* remediations listed by the store */
  int ready;
  int draining;
  struct safety *safety;      /* the pause switch and breakers; may be NULL */
  int64_t now_ms;
  bool journal;               /* a journal is open: js holds its figures
                                 (else the healer_journal_* series are left
                                 out) */
  struct journal_stats js;
};

int metrics_init(struct metrics *m, const struct hl_ruleset *rs, int64_t now_ms);
void metrics_free(struct metrics *m);

void metrics_alert(struct metrics *m, uint8_t status);
void metrics_match(struct metrics *m, uint32_t rule);
void metrics_created(struct metrics *m, uint32_t rule);
void metrics_outcome(struct metrics *m, uint32_t rule, enum rem_state st);
void metrics_suppressed(struct metrics *m, uint32_t rule, enum metrics_suppress why);
void metrics_http(struct metrics *m, unsigned code);
/* A webhook answered with code, us microseconds after it was routed. */
void metrics_webhook(struct metrics *m, unsigned code, int64_t us);
/* A remediation of rule that ended in st (a final state; others are
 * ignored) after running ms milliseconds. */
void metrics_duration(struct metrics *m, uint32_t rule, enum rem_state st,
                      int64_t ms);

void metrics_render(struct metrics *m, const struct metrics_gauges *g,
                    struct buf *out);

#endif
