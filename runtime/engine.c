/*
 * engine.c - see engine.h.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#include "action.h"
#include "backend.h"
#include "buf.h"
#include "log.h"
#include "plan.h"
#include "render.h"
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
  atomic_init(&e->next_id, 1);
  atomic_init(&e->running, 0);
  atomic_init(&e->ready, false);
  atomic_init(&e->draining, false);
  if (match_init(&e->rules, rs, err, errlen) < 0) return -1;
  e->init_stage = 1;
  if (queue_init(&e->queue, cfg->queue_size) < 0) goto nomem;
  e->init_stage = 2;
  if (store_init(&e->store, cfg->history) < 0) goto nomem;
  e->init_stage = 3;
  if (decide_init(&e->decide, rs, &e->queue, &e->store, cfg->dedupe_ttl_ms,
                  cfg->dedupe_max, cfg->cooldown_max) < 0)
    goto nomem;
  e->init_stage = 4;
  if (metrics_init(&e->metrics, rs, rtime_now_ms()) < 0) goto nomem;
  e->init_stage = 5;
  if (safety_init(&e->safety, rs) < 0) goto nomem;
  e->init_stage = 6;
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

/* ---- logging ------------------------------------------------------------- */

static void log_alert(struct log_line *l, const struct alert *a) {
  log_str(l, "alertname", a->alertname);
  log_str(l, "fingerprint", a->fingerprint);
  log_str(l, "startsAt", a->starts_at);
  log_str(l, "status", a->status == HL_STATUS_RESOLVED ? "resolved" : "firing");
}

static void log_steps(struct log_line *l, const struct hl_ruleset *rs,
                      const struct remediation *r, bool all, bool params) {
  for (uint32_t i = 0; i < r->nsteps && (all || i == 0); i++) {
    const struct rem_step *st = &r->steps[i];
    char kind[REM_KIND_MAX], key[16];
    if (r->nsteps > 1) {
      snprintf(key, sizeof key, "step%u", i + 1);
      log_obj_begin(l, key);
    }
    log_str(l, "action", rem_kind_name(st->kind, kind));
    log_str(l, "target", st->target);
    log_str(l, "backend",
            st->backend < rs->nbackends ? rs->backends[st->backend].name : "default");
    if (r->nsteps > 1) log_obj_end(l);
    if (params && st->nparams) {
      char pkey[16];
      snprintf(pkey, sizeof pkey, r->nsteps > 1 ? "params%u" : "params", i + 1);
      log_obj_begin(l, pkey);
      for (uint32_t k = 0; k < st->nparams; k++)
        log_str(l, st->params[k].name, st->params[k].value);
      log_obj_end(l);
    }
  }
}

static void log_decision(struct engine *e, const struct alert *a, int32_t rule,
                         const char *decision, const struct remediation *r,
                         const char *reason) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, "decision");
  if (!l.active) return;
  log_str(&l, "decision", decision);
  log_alert(&l, a);
  if (rule >= 0) log_str(&l, "rule", e->rs->rules[rule].name);
  if (r) log_int(&l, "remediation", (long long)r->id);
  log_str(&l, "reason", reason);
  if (r) {
    if (r->dry_run) log_bool(&l, "dry_run", true);
    log_steps(&l, e->rs, r, false, true);
  }
  log_end(&l);
}

void engine_log_remediation(struct engine *e, const struct remediation *r,
                            const char *msg, enum rem_state st,
                            const char *reason, bool params) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  if (!l.active) return;
  log_int(&l, "remediation", (long long)r->id);
  log_str(&l, "rule", r->rule_name);
  log_str(&l, "alertname", r->alertname);
  log_str(&l, "fingerprint", r->fingerprint);
  log_str(&l, "state", rem_state_name(st));
  log_str(&l, "reason", reason);
  log_steps(&l, e->rs, r, true, params);
  log_end(&l);
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

/* A new remediation id. With a journal it is reserved there first (see
 * journal.h, "Ids"), so no restart hands it out again; if the journal has
 * failed it is used all the same (the webhook gets 503 anyway). */
static uint64_t new_id(struct engine *e) {
  uint64_t id = atomic_fetch_add(&e->next_id, 1);
  if (e->journal) journal_reserve_id(e->journal, id);
  return id;
}

/* Records a remediation that will not run (skipped), with its reason,
 * under id (0: a new one). It is journaled for the history only: unsynced,
 * so the webhook never waits for it (a crash within a second may lose it
 * from the history). */
static void record_skipped(struct engine *e, const struct alert *a,
                           const struct rem_draft *d, uint64_t id, const char *decision,
                           const char *reason, int64_t now_ms) {
  struct remediation *r = rem_new(d, id ? id : new_id(e), REM_SKIPPED, reason, now_ms);
  if (r) {
    if (e->journal) journal_append_finished(e->journal, r, NULL);
    store_add(&e->store, r);
    metrics_outcome(&e->metrics, d->rule, REM_SKIPPED);
  }
  log_decision(e, a, (int32_t)d->rule, decision, r, reason);
  rem_unref(r);
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
  metrics_suppressed(&e->metrics, st->rule,
                     st->skip == PLAN_SKIP_NO_BACKEND ? SUP_NO_BACKEND : SUP_MISSING_LABEL);
  record_skipped(e, a, &st->d, 0, "skipped", st->why, now_ms);
  res->skipped++;
}

/* A rule that matched and rendered: the remediation it would run goes
 * through decide (dedupe, cooldown, limit, budget, the hold) to the queue. */
static enum step_result run_step(struct engine *e, const struct plan_step *st,
                                 const struct alert *a, int64_t now_ms,
                                 struct ingest_result *res) {
  uint32_t ri = st->rule;
  const struct hl_rule *rule = &e->rs->rules[ri];
  const struct rem_draft *d = &st->d;
  struct remediation *r = rem_new(d, new_id(e), REM_QUEUED, dry_reason(d->dry_run), now_ms);
  if (!r) return STEP_NOMEM;
  r->qi.ready_ms = e->start_delay_ms ? now_ms + e->start_delay_ms : 0;
  struct decide_info info;
  enum decide_verdict v = decide_admit(&e->decide, r, now_ms, &info);
  char reason[REM_REASON_MAX], dur[RTIME_BUFSZ], dur2[RTIME_BUFSZ];
  enum step_result out = STEP_DONE;
  switch (v) {
  case DECIDE_QUEUED:
    if (info.lsn > res->lsn) res->lsn = info.lsn;
    store_add(&e->store, r);
    metrics_created(&e->metrics, ri);
    log_decision(e, a, (int32_t)ri, "queued", r, r->reason);
    queue_release(&e->queue, &r->qi);   /* now a worker may start it */
    res->queued++;
    break;
  case DECIDE_DUPLICATE:
    if (e->journal) {
      /* Keeps the dedupe key alive across restarts. The original may have
       * been accepted by a request still waiting for its sync (a second
       * Alertmanager's copy): answer after it. */
      uint64_t lsn = journal_note_seen(e->journal, ri, a->fingerprint, a->starts_at,
                                       a->status, now_ms);
      if (lsn > res->lsn) res->lsn = lsn;
    }
    snprintf(reason, sizeof reason, "already remediated as #%llu",
             (unsigned long long)info.other_id);
    metrics_suppressed(&e->metrics, ri, SUP_DUPLICATE);
    log_decision(e, a, (int32_t)ri, "duplicate", NULL, reason);
    res->duplicates++;
    break;
  case DECIDE_HELD: {
    bool paused = strcmp(info.why, "paused") == 0;
    metrics_suppressed(&e->metrics, ri, paused ? SUP_PAUSED : SUP_BREAKER);
    record_skipped(e, a, d, r->id, paused ? "paused" : "breaker_open", info.why, now_ms);
    res->suppressed++;
    break;
  }
  case DECIDE_COOLDOWN:
    snprintf(reason, sizeof reason, "cooldown: %s left",
             rtime_format_duration(info.wait_ms, dur));
    metrics_suppressed(&e->metrics, ri, SUP_COOLDOWN);
    record_skipped(e, a, d, r->id, "cooldown", reason, now_ms);
    res->suppressed++;
    break;
  case DECIDE_LIMIT:
    snprintf(reason, sizeof reason, "limit: %u of %u already in flight",
             info.inflight, rule->limit);
    metrics_suppressed(&e->metrics, ri, SUP_LIMIT);
    record_skipped(e, a, d, r->id, "limit", reason, now_ms);
    res->suppressed++;
    break;
  case DECIDE_BUDGET:
    snprintf(reason, sizeof reason, "budget: %u per %s used up, next in %s",
             rule->budget, rtime_format_duration((int64_t)rule->budget_ms, dur),
             rtime_format_duration(info.wait_ms, dur2));
    metrics_suppressed(&e->metrics, ri, SUP_BUDGET);
    record_skipped(e, a, d, r->id, "budget", reason, now_ms);
    res->suppressed++;
    break;
  case DECIDE_TABLE_FULL:
    metrics_suppressed(&e->metrics, ri, SUP_COOLDOWN_FULL);
    record_skipped(e, a, d, r->id, "cooldown_full", info.why, now_ms);
    res->suppressed++;
    break;
  case DECIDE_JOURNAL:
    log_decision(e, a, (int32_t)ri, "journal_failed", NULL,
                 "the journal cannot record it: Alertmanager will retry");
    res->journal_failed = true;
    out = STEP_FULL;
    break;
  case DECIDE_QUEUE_FULL:
  case DECIDE_CLOSED:
    log_decision(e, a, (int32_t)ri, v == DECIDE_CLOSED ? "draining" : "queue_full",
                 NULL, v == DECIDE_CLOSED ? "shutting down: not accepting work"
                                          : "queue full: Alertmanager will retry");
    if (v == DECIDE_CLOSED) res->closed = true;
    else res->queue_full = true;
    out = STEP_FULL;
    break;
  case DECIDE_NOMEM:
    out = STEP_NOMEM;
    break;
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
      struct remediation *r = decide_cancel_queued(
          &e->decide, ri, a->fingerprint, a->starts_at,
          "cancelled: the alert resolved before it started", now_ms);
      if (!r) continue;
      if (e->journal) {
        struct journal_state js = {r->id, REM_CANCELLED, r->reason, now_ms, -1, NULL, true, false};
        uint64_t lsn = 0;
        if (journal_append_state(e->journal, &js, &lsn) < 0) res->journal_failed = true;
        if (lsn > res->lsn) res->lsn = lsn;
      }
      cancelled++;
      res->cancelled++;
      metrics_suppressed(&e->metrics, ri, SUP_RESOLVED);
      metrics_outcome(&e->metrics, ri, REM_CANCELLED);
      log_decision(e, a, (int32_t)ri, "cancelled", r, r->reason);
      rem_unref(r);
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
      log_alert(&l, a);
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
        log_alert(&l, a);
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
      log_decision(e, a, -1, "resolved", NULL, "nothing queued to cancel");
    return 0;
  }
  res->unmatched++;
  atomic_fetch_add_explicit(&e->metrics.unmatched, 1, memory_order_relaxed);
  char why[160];
  log_decision(e, a, -1, "no_match", NULL, plan_no_match(&plan, why, sizeof why));
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
  e->decide.journal = j;
  safety_set_journal(&e->safety, j);
}

/* ---- restoring from the journal ---------------------------------------------- */

struct restore {
  struct engine *e;
  size_t queued, resumed, failed, finished;
};

static int restore_seen(void *ctx, const struct journal_dedupe *d) {
  struct restore *c = ctx;
  return decide_restore_seen(&c->e->decide, d->rule, d->fingerprint, d->starts_at,
                             d->alert_status, d->id, d->created_ms, d->last_seen_ms);
}

static int restore_cooldown(void *ctx, const struct journal_cooldown *cd) {
  struct restore *c = ctx;
  return decide_restore_cooldown(&c->e->decide, cd->key, cd->until_ms, cd->owner_id);
}

static int restore_rem(void *ctx, const struct journal_rem *jr) {
  struct restore *c = ctx;
  struct engine *e = c->e;
  struct remediation *r = journal_rem_new(e->rs, jr);
  if (!r) return -1;
  bool running = jr->state == REM_RUNNING;
  if (running) {
    /* Shown queued until a worker takes it and resumes it. */
    r->state = REM_QUEUED;
    snprintf(r->reason, sizeof r->reason, "resuming after a restart");
    r->resumed = true;
    r->resume_step = jr->step;
    r->started_ms = jr->started_ms;
    const char *tok = jr->step < jr->nsteps ? jr->steps[jr->step].token : NULL;
    if (tok && !(r->resume_token = strdup(tok))) {
      rem_unref(r);
      return -1;
    }
  }
  r->qi.ready_ms = !running && e->start_delay_ms ? jr->created_ms + e->start_delay_ms : 0;
  if (decide_restore_rem(&e->decide, r, jr->last_seen_ms, jr->cooldown_until_ms) < 0) {
    rem_unref(r);
    return -1;
  }
  store_add(&e->store, r);
  rem_ref(r);                 /* the queue's */
  if (queue_push(&e->queue, &r->qi) != QUEUE_OK) {
    rem_unref(r);
    const char *why = "failed: the queue was full when healer restarted (raise --queue-size)";
    int64_t now = rtime_now_ms();
    store_set_state(&e->store, r, REM_FAILED, why, now);
    struct journal_state js = {r->id, REM_FAILED, why, now, -1, NULL, false, false};
    journal_append_state(e->journal, &js, NULL);
    decide_finished(&e->decide, r);
    metrics_outcome(&e->metrics, r->rule, REM_FAILED);
    engine_log_remediation(e, r, "remediation", REM_FAILED, why, false);
    c->failed++;
  } else {
    engine_log_remediation(e, r, running ? "resuming" : "requeued", running ? REM_RUNNING : REM_QUEUED,
                           running ? (r->resume_token ? "following it again (resume token)"
                                                      : "its trigger was not confirmed")
                                   : "queued before the restart",
                           false);
    if (running) c->resumed++;
    else c->queued++;
  }
  rem_unref(r);
  return 0;
}

/* A finished remediation of the history: listed, as it ended, and nothing
 * else (it is not queued, decided on or counted again). */
static int restore_finished(void *ctx, const struct journal_rem *jr) {
  struct restore *c = ctx;
  struct remediation *r = journal_history_new(c->e->rs, jr);
  if (!r) return -1;
  store_add(&c->e->store, r);
  rem_unref(r);
  c->finished++;
  return 0;
}

/* The pause switch and the breakers, as they were. */
static int restore_control(void *ctx, const char *key, const char *value) {
  struct restore *c = ctx;
  return safety_restore(&c->e->safety, key, value);
}

int engine_restore(struct engine *e, struct journal *j, uint64_t next_id,
                   char *err, size_t errlen) {
  if (atomic_load(&e->next_id) < next_id) atomic_store(&e->next_id, next_id);
  struct restore c = {e, 0, 0, 0, 0};
  struct journal_visitor v = {restore_seen, restore_cooldown, restore_rem, restore_finished,
                              restore_control};
  if (journal_replay(j, &v, &c) != 0) {
    snprintf(err, errlen, "out of memory restoring the journal");
    return -1;
  }
  if (c.queued || c.resumed || c.failed || c.finished)
    log_printf(LOGL_INFO, "journal: %zu remediations re-queued, %zu to resume, %zu failed, "
               "%zu finished ones back in the history", c.queued, c.resumed, c.failed,
               c.finished);
  /* A full disk does not keep healer from starting: the journal has
   * failed, webhooks get 503 and journal_tick() writes this once it can. */
  journal_sync(j, JOURNAL_LSN_ALL);
  return 0;
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
