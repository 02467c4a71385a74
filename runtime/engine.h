/*
 * engine.h - one alert at a time: plan, decide, queue, record.
 *
 * The engine owns the runtime's shared state (compiled rules, queue,
 * store, decide tables, metrics) and turns a decoded payload into
 * decisions. It runs on the HTTP threads and never blocks on work: the
 * only waits are the short critical sections of decide, store and queue.
 *
 * For each alert of a payload, on its own labels:
 *   - a resolved alert first cancels the queued, not yet started firing
 *     remediations of its (rule, fingerprint, startsAt);
 *   - the rules naming its alertname are tried in source order; the first
 *     that matches (status, matchers, windows) and whose parameters render
 *     wins, unless it says `continue`; a rule with an absent parameter is
 *     recorded as skipped ("missing label X") and the next rule is tried,
 *     and so is one whose backend, picked per alert (`via $cluster`),
 *     names no declared backend of the step's kind ("no kubernetes
 *     backend 'X'");
 *   - the winner goes through decide (dedupe, cooldown, limit, budget) and
 *     the queue; each decision is one log line.
 * Which rule wins and what it would run is plan_alert()'s answer (plan.h,
 * pure); the engine acts on it.
 *
 * Ownership: engine_init() borrows the ruleset; engine_free() releases
 * everything else. The scratch arena given to engine_ingest() is borrowed
 * and only allocated from (the caller resets it).
 */
#ifndef HEALER_ENGINE_H
#define HEALER_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "bump.h"
#include "decide.h"
#include "journal.h"
#include "ledger.h"
#include "match.h"
#include "metrics.h"
#include "queue.h"
#include "safety.h"
#include "store.h"

struct engine_config {
  bool dry_run;               /* --dry-run: nothing is called */
  int64_t start_delay_ms;     /* hold-off before a worker may start one */
  size_t queue_size;
  size_t history;             /* finished remediations kept for the API */
  int64_t dedupe_ttl_ms;
  size_t dedupe_max;
  size_t cooldown_max;        /* cooldown keys at most (0: no cap) */
};

struct engine {
  const struct hl_ruleset *rs; /* borrowed */
  struct rules rules;
  struct queue queue;
  struct store store;
  struct decide decide;
  struct metrics metrics;
  struct safety safety;       /* the pause switch and the breakers */
  struct ledger ledger;       /* every change of a remediation goes through it */
  bool dry_run;
  int64_t start_delay_ms;
  atomic_size_t running;      /* remediations a worker is running */
  atomic_bool ready;          /* serving (set once started) */
  atomic_bool draining;       /* shutting down: no new webhooks */
  struct journal *journal;    /* borrowed; NULL: nothing is journaled */
  unsigned init_stage;        /* how far engine_init() got */
};

struct ingest_result {
  size_t alerts;              /* evaluated */
  size_t queued;              /* remediations accepted */
  size_t duplicates;          /* resends of accepted remediations */
  size_t suppressed;          /* cooldown, limit or budget */
  size_t skipped;             /* missing labels */
  size_t unmatched;           /* firing alerts no rule matched */
  size_t cancelled;           /* queued remediations cancelled (resolved) */
  size_t resolved;            /* resolved alerts */
  size_t unprocessed;         /* not evaluated: queue full or closed */
  bool queue_full;            /* answer 503: Alertmanager retries */
  bool closed;                /* draining */
  bool journal_failed;        /* not durable: answer 503 */
  uint64_t lsn;               /* journal position engine_commit() syncs */
};

int engine_init(struct engine *e, const struct hl_ruleset *rs,
                const struct engine_config *cfg, char *err, size_t errlen);
void engine_free(struct engine *e);

/* Journals every accepted remediation and state change in j (borrowed,
 * outlives the engine's use of it). Call before restoring or serving. */
void engine_set_journal(struct engine *e, struct journal *j);

/* Rebuilds the state j replayed (ledger_restore(), with the engine's
 * start delay). Before the workers start. 0, or -1 with err. */
int engine_restore(struct engine *e, struct journal *j, uint64_t next_id,
                   char *err, size_t errlen);

/* Evaluates every alert of p at now_ms and journals what it accepted,
 * without waiting for the journal: res->lsn is how far engine_commit()
 * must sync before the webhook may be answered. Returns 0, or -1 when out
 * of memory (res says how far it got). */
int engine_evaluate(struct engine *e, const struct payload *p,
                    struct bump *scratch, int64_t now_ms,
                    struct ingest_result *res);

/* Makes what an evaluation journaled durable (one fdatasync shared with
 * concurrent callers); sets res->journal_failed when it cannot. Blocks on
 * the disk; nothing to do without a journal or when res->lsn is 0. */
void engine_commit(struct engine *e, struct ingest_result *res);

/* engine_evaluate() then engine_commit(). */
int engine_ingest(struct engine *e, const struct payload *p,
                  struct bump *scratch, int64_t now_ms,
                  struct ingest_result *res);

/* Fills g for /metrics (the journal's figures too, when there is one). */
void engine_gauges(struct engine *e, struct metrics_gauges *g);

/* Whether healer takes webhooks, for /readyz: NULL when it does, else
 * why not: "draining" (shutting down), "journal_failed" (nothing can be
 * recorded: why gets journal_failure()'s message) or "starting". why (n
 * bytes, n > 0) is "" unless the journal failed. Any thread. */
const char *engine_unready(struct engine *e, char *why, size_t n);

#endif
