/*
 * engine.c - see engine.h.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#include "action.h"
#include "log.h"
#include "plan.h"
#include "rtime.h"

/* decide's hold: the pause switch and the breakers. */
static const char *hold(void *ctx, uint32_t rule, int64_t now_ms, char *why, size_t n) {
  return safety_hold(ctx, rule, now_ms, why, n);
}

int engine_init(struct engine *e, const struct hl_ruleset *rs,
                const struct engine_config *cfg, char *err, size_t errlen) {
  memset(e, 0, sizeof *e);
  e->rs = rs;
  e->dry_run = cfg->dry_run;
  e->start_delay_ms = cfg->start_delay_ms;
  atomic_init(&e->running, 0);
  atomic_init(&e->ready, false);
  atomic_init(&e->draining, false);
  if (match_init(&e->rules, rs, err, errlen) < 0) return -1;
  e->init_stage = 1;
  if (queue_init(&e->queue, cfg->queue_size) < 0) goto nomem;
  e->init_stage = 2;
  if (store_init(&e->store, cfg->history) < 0) goto nomem;
  e->init_stage = 3;
  if (decide_init(&e->decide, rs, cfg->dedupe_ttl_ms, cfg->dedupe_max,
                  cfg->cooldown_max) < 0)
    goto nomem;
  e->init_stage = 4;
  if (metrics_init(&e->metrics, rs, rtime_now_ms()) < 0) goto nomem;
  e->init_stage = 5;
  if (safety_init(&e->safety, rs) < 0) goto nomem;
  e->init_stage = 6;
  ledger_init(&e->ledger, rs, &e->decide, &e->store, &e->queue, &e->metrics, &e->safety);
  e->decide.hold = hold;
  e->decide.hold_ctx = &e->safety;
  return 0;
nomem:
  snprintf(err, errlen, "out of memory");
  engine_free(e);
  return -1;
}

void engine_free(struct engine *e) {
  /* Whatever is still queued belongs to the queue: drop it. */
  if (e->init_stage >= 2)
    for (struct queue_item *it; (it = queue_try_pop(&e->queue));) {
      struct remediation *r = rem_of_item(it);
      if (e->init_stage >= 4) decide_finished(&e->decide, r);
      rem_unref(r);
    }
  if (e->init_stage >= 6) safety_free(&e->safety);
  if (e->init_stage >= 5) metrics_free(&e->metrics);
  if (e->init_stage >= 4) decide_free(&e->decide);
  if (e->init_stage >= 3) store_free(&e->store);
  if (e->init_stage >= 2) queue_destroy(&e->queue);
  if (e->init_stage >= 1) match_free(&e->rules);
  e->init_stage = 0;
}

/* ---- deciding on a plan --------------------------------------------------- */

static const char *dry_reason(uint8_t dry) {
  switch (dry) {
  case REM_DRY_GLOBAL: return "dry-run (--dry-run)";
  case REM_DRY_RULE: return "dry-run (the rule says dry-run)";
  case REM_DRY_UNIMPLEMENTED: return "dry-run (action kind not implemented in this build)";
  default: return "";
  }
}

/* ---- one alert ------------------------------------------------------------ */

enum step_result {
  STEP_DONE,                  /* decided (queued, duplicate, suppressed) */
  STEP_FULL,                  /* the queue is full or closed, or the
                                 journal failed: stop here */
  STEP_NOMEM
};

/* A rule that matched but did not render: recorded skipped, with why. */
static void skip_step(struct engine *e, const struct plan_step *st, const struct alert *a,
                      int64_t now_ms, struct ingest_result *res) {
  ledger_skip(&e->ledger, a, &st->d, 0, "skipped", st->why,
              st->skip == PLAN_SKIP_NO_BACKEND ? SUP_NO_BACKEND : SUP_MISSING_LABEL, now_ms);
  res->skipped++;
}

/* A rule that matched and rendered: the remediation it would run goes
 * through the ledger's admission (dedupe, the hold, cooldown, limit,
 * budget) to the queue, or is recorded as why not. */
/* Whether this build runs every step of rule (plans do not know: the tools
 * plan on the same tables without any action kind linked in). */
static bool implemented(const struct hl_ruleset *rs, const struct hl_rule *rule) {
  for (uint32_t s = 0; s < rule->nsteps; s++)
    if (!action_ops_for(rs->steps[rule->first_step + s].action)) return false;
  return true;
}

static enum step_result run_step(struct engine *e, const struct plan_step *st,
                                 const struct alert *a, int64_t now_ms,
                                 struct ingest_result *res) {
  uint32_t ri = st->rule;
  const struct hl_rule *rule = &e->rs->rules[ri];
  struct rem_draft draft = st->d;
  const struct rem_draft *d = &draft;
  if (draft.dry_run == REM_DRY_NO && !implemented(e->rs, rule))
    draft.dry_run = REM_DRY_UNIMPLEMENTED;
  struct remediation *r =
      rem_new(d, ledger_new_id(&e->ledger), REM_QUEUED, dry_reason(d->dry_run), now_ms);
  if (!r) return STEP_NOMEM;
  r->qi.ready_ms = e->start_delay_ms ? now_ms + e->start_delay_ms : 0;
  struct decide_info info;
  enum decide_verdict v = ledger_admit(&e->ledger, a, r, now_ms, &info);
  char reason[REM_REASON_MAX];
  const char *decision = NULL;  /* a skip, when set: why in reason */
  enum metrics_suppress sup = SUP_COOLDOWN;
  enum step_result out = STEP_DONE;
  switch (v) {
  case DECIDE_QUEUED:
    if (info.lsn > res->lsn) res->lsn = info.lsn;
    res->queued++;
    break;
  case DECIDE_DUPLICATE: {
    uint64_t lsn = ledger_seen(&e->ledger, ri, a, info.other_id, now_ms);
    if (lsn > res->lsn) res->lsn = lsn;
    res->duplicates++;
    break;
  }
  case DECIDE_JOURNAL:
    ledger_log_decision(&e->ledger, a, (int32_t)ri, "journal_failed", NULL,
                        "the journal cannot record it: Alertmanager will retry");
    res->journal_failed = true;
    out = STEP_FULL;
    break;
  case DECIDE_QUEUE_FULL:
  case DECIDE_CLOSED:
    ledger_log_decision(&e->ledger, a, (int32_t)ri,
                        v == DECIDE_CLOSED ? "draining" : "queue_full", NULL,
                        v == DECIDE_CLOSED ? "shutting down: not accepting work"
                                           : "queue full: Alertmanager will retry");
    if (v == DECIDE_CLOSED) res->closed = true;
    else res->queue_full = true;
    out = STEP_FULL;
    break;
  case DECIDE_NOMEM:
    out = STEP_NOMEM;
    break;
  default:
    decision = decide_skip_words(v, rule, &info, reason, sizeof reason);
    sup = v == DECIDE_HELD ? (strcmp(decision, "paused") == 0 ? SUP_PAUSED : SUP_BREAKER)
          : v == DECIDE_LIMIT      ? SUP_LIMIT
          : v == DECIDE_BUDGET     ? SUP_BUDGET
          : v == DECIDE_TABLE_FULL ? SUP_COOLDOWN_FULL
                                   : SUP_COOLDOWN;
    break;
  }
  if (decision) {
    ledger_skip(&e->ledger, a, d, r->id, decision, reason, sup, now_ms);
    res->suppressed++;
  }
  rem_unref(r);
  return out;
}

/* Returns 0, 1 when the queue is full or closed, -1 when out of memory. */
static int one_alert(struct engine *e, const struct alert *a, struct bump *arena,
                     struct match_md *md, int64_t now_ms,
                     struct ingest_result *res) {
  metrics_alert(&e->metrics, a->status);
  struct match_iter it;
  uint32_t ri;
  size_t cancelled = 0;
  if (a->status == HL_STATUS_RESOLVED) {
    res->resolved++;
    match_iter_init(&it, &e->rules, a->alertname, md);
    while ((ri = match_iter_next(&it)) != HL_NONE) {
      if (it.error != HL_NONE) continue;   /* it could not have run */
      int rc = ledger_cancel_queued(&e->ledger, ri, a, now_ms, &res->lsn);
      if (rc == 0) continue;
      if (rc < 0) res->journal_failed = true;
      cancelled++;
      res->cancelled++;
    }
  }
  struct plan plan;
  unsigned flags = (e->dry_run ? PLAN_DRY_RUN : 0) | (log_enabled(LOGL_DEBUG) ? PLAN_MISSES : 0);
  if (plan_alert(&e->rules, a, now_ms, flags, arena, md, &plan) < 0) return -1;
  bool matched = false;
  for (size_t i = 0; i < plan.nsteps; i++) {
    const struct plan_step *st = &plan.steps[i];
    const char *rule_name = e->rs->rules[st->rule].name;
    switch (st->kind) {
    case PLAN_ERROR: {
      metrics_suppressed(&e->metrics, st->rule, SUP_MATCH_ERROR);
      struct log_line l;
      log_begin(&l, LOGL_WARN, "decision");
      log_str(&l, "decision", "match_error");
      ledger_log_alert(&l, a);
      log_str(&l, "rule", rule_name);
      log_str(&l, "reason", st->why);
      log_end(&l);
      res->skipped++;
      return 0;
    }
    case PLAN_MISS:
      if (st->mr != MATCH_STATUS) {
        char why[256];
        struct log_line l;
        log_begin(&l, LOGL_DEBUG, "no match");
        ledger_log_alert(&l, a);
        log_str(&l, "rule", rule_name);
        log_str(&l, "reason", plan_miss_reason(e->rs, st, why, sizeof why));
        log_end(&l);
      }
      break;
    case PLAN_SKIP:
      metrics_match(&e->metrics, st->rule);
      skip_step(e, st, a, now_ms, res);
      break;
    case PLAN_RUN: {
      metrics_match(&e->metrics, st->rule);
      enum step_result sr = run_step(e, st, a, now_ms, res);
      if (sr == STEP_NOMEM) return -1;
      if (sr == STEP_FULL) return 1;
      matched = true;
      break;
    }
    }
  }
  if (matched) return 0;
  if (a->status == HL_STATUS_RESOLVED) {
    if (!cancelled)
      ledger_log_decision(&e->ledger, a, -1, "resolved", NULL, "nothing queued to cancel");
    return 0;
  }
  res->unmatched++;
  atomic_fetch_add_explicit(&e->metrics.unmatched, 1, memory_order_relaxed);
  char why[160];
  ledger_log_decision(&e->ledger, a, -1, "no_match", NULL, plan_no_match(&plan, why, sizeof why));
  return 0;
}

int engine_evaluate(struct engine *e, const struct payload *p,
                    struct bump *scratch, int64_t now_ms,
                    struct ingest_result *res) {
  memset(res, 0, sizeof *res);
  struct match_md *md = match_md_new();
  if (!md) return -1;
  int rc = 0;
  atomic_fetch_add_explicit(&e->metrics.payloads, 1, memory_order_relaxed);
  for (size_t i = 0; i < p->nalerts; i++) {
    int r = one_alert(e, &p->alerts[i], scratch, md, now_ms, res);
    if (r != 0) {             /* this alert and the rest are not done */
      res->unprocessed = p->nalerts - i;
      rc = r < 0 ? -1 : 0;
      break;
    }
    res->alerts++;
  }
  match_md_free(md);
  return rc;
}

void engine_commit(struct engine *e, struct ingest_result *res) {
  /* One fsync for the whole payload, shared with concurrent callers. */
  if (e->journal && res->lsn && journal_sync(e->journal, res->lsn) < 0)
    res->journal_failed = true;
}

int engine_ingest(struct engine *e, const struct payload *p,
                  struct bump *scratch, int64_t now_ms,
                  struct ingest_result *res) {
  int rc = engine_evaluate(e, p, scratch, now_ms, res);
  engine_commit(e, res);
  return rc;
}

void engine_set_journal(struct engine *e, struct journal *j) {
  e->journal = j;
  e->ledger.journal = j;
  safety_set_journal(&e->safety, j);
}

int engine_restore(struct engine *e, struct journal *j, uint64_t next_id,
                   char *err, size_t errlen) {
  return ledger_restore(&e->ledger, j, next_id, e->start_delay_ms, err, errlen);
}

const char *engine_unready(struct engine *e, char *why, size_t n) {
  if (n) *why = '\0';
  if (atomic_load(&e->draining)) return "draining";
  if (e->journal && journal_failure(e->journal, why, n)) return "journal_failed";
  if (!atomic_load(&e->ready)) return "starting";
  return NULL;
}

void engine_gauges(struct engine *e, struct metrics_gauges *g) {
  struct decide_stats ds;
  decide_stats(&e->decide, &ds);
  g->queue_depth = queue_len(&e->queue);
  g->queue_capacity = e->queue.cap;
  g->running = atomic_load(&e->running);
  g->dedupe_entries = ds.dedupe;
  g->cooldown_entries = ds.cooldown;
  g->stored = store_count(&e->store);
  g->ready = atomic_load(&e->ready);
  g->draining = atomic_load(&e->draining);
  g->safety = &e->safety;
  g->now_ms = rtime_now_ms();
  g->journal = e->journal != NULL;
  if (e->journal) journal_stats(e->journal, &g->js);
  else memset(&g->js, 0, sizeof g->js);
}
