/*
 * ledger.c - see ledger.h.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "backend.h"
#include "log.h"
#include "names.h"
#include "rtime.h"

void ledger_init(struct ledger *l, const struct hl_ruleset *rs, struct decide *d,
                 struct store *st, struct queue *q, struct metrics *m, struct safety *sf) {
  l->rs = rs;
  l->safety = sf;
  l->decide = d;
  l->store = st;
  l->queue = q;
  l->metrics = m;
  l->journal = NULL;
  atomic_init(&l->next_id, 1);
}

uint64_t ledger_new_id(struct ledger *l) {
  uint64_t id = atomic_fetch_add(&l->next_id, 1);
  if (l->journal) journal_reserve_id(l->journal, id);
  return id;
}

/* ---- logging ------------------------------------------------------------- */

void ledger_log_alert(struct log_line *ll, const struct alert *a) {
  log_str(ll, "alertname", a->alertname);
  log_str(ll, "fingerprint", a->fingerprint);
  log_str(ll, "startsAt", a->starts_at);
  log_str(ll, "status", a->status == HL_STATUS_RESOLVED ? "resolved" : "firing");
}

static void log_steps(struct log_line *ll, const struct hl_ruleset *rs,
                      const struct remediation *r, bool all, bool params) {
  for (uint32_t i = 0; i < r->nsteps && (all || i == 0); i++) {
    const struct rem_step *st = &r->steps[i];
    char kind[REM_KIND_MAX], key[16];
    if (r->nsteps > 1) {
      snprintf(key, sizeof key, "step%u", i + 1);
      log_obj_begin(ll, key);
    }
    log_str(ll, "action", rem_kind_name(st->kind, kind));
    log_str(ll, "target", st->target);
    log_str(ll, "backend",
            st->backend < rs->nbackends ? rs->backends[st->backend].name : "default");
    if (r->nsteps > 1) log_obj_end(ll);
    if (params && st->nparams) {
      char pkey[16];
      snprintf(pkey, sizeof pkey, r->nsteps > 1 ? "params%u" : "params", i + 1);
      log_obj_begin(ll, pkey);
      for (uint32_t k = 0; k < st->nparams; k++)
        log_str(ll, st->params[k].name, st->params[k].value);
      log_obj_end(ll);
    }
  }
}

void ledger_log_decision(const struct ledger *l, const struct alert *a, int32_t rule,
                         const char *decision, const struct remediation *r,
                         const char *reason) {
  struct log_line ll;
  log_begin(&ll, LOGL_INFO, "decision");
  if (!ll.active) return;
  log_str(&ll, "decision", decision);
  ledger_log_alert(&ll, a);
  if (rule >= 0) log_str(&ll, "rule", l->rs->rules[rule].name);
  if (r) log_int(&ll, "remediation", (long long)r->id);
  log_str(&ll, "reason", reason);
  if (r) {
    if (r->dry_run) log_bool(&ll, "dry_run", true);
    log_steps(&ll, l->rs, r, false, true);
  }
  log_end(&ll);
}

void ledger_log_remediation(const struct ledger *l, const struct remediation *r,
                            const char *msg, enum rem_state st, const char *reason,
                            bool params) {
  struct log_line ll;
  log_begin(&ll, LOGL_INFO, msg);
  if (!ll.active) return;
  log_int(&ll, "remediation", (long long)r->id);
  log_str(&ll, "rule", r->rule_name);
  log_str(&ll, "alertname", r->alertname);
  log_str(&ll, "fingerprint", r->fingerprint);
  log_str(&ll, "state", rem_state_name(st));
  log_str(&ll, "reason", reason);
  log_steps(&ll, l->rs, r, true, params);
  log_end(&ll);
}

/* ---- deciding -------------------------------------------------------------- */

/* Lock held (decide's). Records an accepted r: journaled before it is
 * queued, so its state records follow it; the journal record undone if
 * the queue then refuses it. */
static enum decide_verdict accept(struct ledger *l, struct remediation *r,
                                  struct decide_info *info, const struct decide_ticket *t) {
  if (l->journal && queue_len(l->queue) >= l->queue->cap) return DECIDE_QUEUE_FULL;
  if (l->journal && journal_append_accept(l->journal, r, t->cooldown_until_ms, &info->lsn) < 0)
    return DECIDE_JOURNAL;
  rem_ref(r);                 /* the queue's */
  enum queue_status qs = queue_push_held(l->queue, &r->qi);
  if (qs == QUEUE_OK) return DECIDE_QUEUED;
  rem_unref(r);
  if (l->journal) journal_append_abort(l->journal, r->id, &info->lsn);
  return qs == QUEUE_FULL ? DECIDE_QUEUE_FULL : DECIDE_CLOSED;
}

enum decide_verdict ledger_admit(struct ledger *l, const struct alert *a,
                                 struct remediation *r, int64_t now_ms,
                                 struct decide_info *info) {
  struct decide_ticket t;
  decide_lock(l->decide);
  enum decide_verdict v = decide_reserve(l->decide, r, now_ms, info, &t);
  if (v == DECIDE_QUEUED) v = accept(l, r, info, &t);
  if (v == DECIDE_QUEUED) decide_commit(l->decide, r, now_ms, &t);
  else decide_undo(l->decide, &t);
  decide_unlock(l->decide);
  if (v != DECIDE_QUEUED) return v;
  store_add(l->store, r);
  metrics_created(l->metrics, r->rule);
  ledger_log_decision(l, a, (int32_t)r->rule, "queued", r, r->reason);
  queue_release(l->queue, &r->qi);  /* now a worker may start it */
  return v;
}

uint64_t ledger_seen(struct ledger *l, uint32_t rule, const struct alert *a,
                     uint64_t other_id, int64_t now_ms) {
  uint64_t lsn = 0;
  if (l->journal)             /* keeps the dedupe key alive across restarts */
    lsn = journal_note_seen(l->journal, rule, a->fingerprint, a->starts_at, a->status,
                            now_ms);
  char reason[64];
  snprintf(reason, sizeof reason, "already remediated as #%llu",
           (unsigned long long)other_id);
  metrics_suppressed(l->metrics, rule, SUP_DUPLICATE);
  ledger_log_decision(l, a, (int32_t)rule, "duplicate", NULL, reason);
  return lsn;
}

void ledger_skip(struct ledger *l, const struct alert *a, const struct rem_draft *d,
                 uint64_t id, const char *decision, const char *reason,
                 enum metrics_suppress sup, int64_t now_ms) {
  metrics_suppressed(l->metrics, d->rule, sup);
  struct remediation *r = rem_new(d, id ? id : ledger_new_id(l), REM_SKIPPED, reason, now_ms);
  if (r) {
    if (l->journal) journal_append_finished(l->journal, r, NULL);
    store_add(l->store, r);
    metrics_outcome(l->metrics, d->rule, REM_SKIPPED);
  }
  ledger_log_decision(l, a, (int32_t)d->rule, decision, r, reason);
  rem_unref(r);
}

int ledger_cancel_queued(struct ledger *l, uint32_t rule, const struct alert *a,
                         int64_t now_ms, uint64_t *lsn) {
  decide_lock(l->decide);
  struct remediation *r = decide_in_flight(l->decide, rule, a->fingerprint, a->starts_at,
                                           now_ms);
  if (r && queue_remove(l->queue, &r->qi)) {   /* the queue's reference is now ours */
    store_set_state(l->store, r, REM_CANCELLED,
                    "cancelled: the alert resolved before it started", now_ms);
    decide_release(l->decide, r);
  } else {
    r = NULL;
  }
  decide_unlock(l->decide);
  if (!r) return 0;
  int rc = 1;
  if (l->journal) {
    struct journal_state js = {r->id, REM_CANCELLED, r->reason, now_ms, -1, NULL, true, false};
    uint64_t at = 0;
    if (journal_append_state(l->journal, &js, &at) < 0) rc = -1;
    if (at > *lsn) *lsn = at;
  }
  metrics_suppressed(l->metrics, rule, SUP_RESOLVED);
  metrics_outcome(l->metrics, rule, REM_CANCELLED);
  ledger_log_decision(l, a, (int32_t)rule, "cancelled", r, r->reason);
  rem_unref(r);
  return rc;
}

/* ---- running ---------------------------------------------------------------- */

bool ledger_take(struct ledger *l, struct remediation *r, int64_t now_ms) {
  if (store_begin(l->store, r, now_ms)) return true;
  decide_finished(l->decide, r);  /* cancelled while it was being popped */
  return false;
}

int ledger_begin(struct ledger *l, const struct remediation *r, uint32_t step,
                 const char *token) {
  if (!l->journal) return 0;
  struct journal_state s = {r->id, REM_RUNNING, "", rtime_now_ms(), (int32_t)step, token,
                            false, false};
  uint64_t lsn = 0;
  if (journal_append_state(l->journal, &s, &lsn) < 0) return -1;
  return journal_sync(l->journal, lsn);
}

void ledger_show(struct ledger *l, struct remediation *r, enum rem_state st,
                 const char *reason) {
  store_set_state(l->store, r, st, reason, rtime_now_ms());
}

void ledger_finish(struct ledger *l, struct remediation *r, enum rem_state st,
                   const char *reason, int64_t now_ms, unsigned flags) {
  bool unsent = flags & LEDGER_UNSENT;
  if (l->journal && (flags & LEDGER_JOURNAL)) {
    struct journal_state js = {r->id, st, reason, now_ms, -1, NULL, unsent, unsent};
    uint64_t lsn = 0;
    if (journal_append_state(l->journal, &js, &lsn) == 0 && (flags & LEDGER_SYNC))
      journal_sync(l->journal, lsn);
  }
  store_set_state(l->store, r, st, reason, now_ms);
  /* Never begun: neither dedupe nor cooldown holds the next resend back. */
  if (unsent) decide_forget(l->decide, r);
  else decide_finished(l->decide, r);
  metrics_outcome(l->metrics, r->rule, st);
  /* The decision line already carried the parameters. */
  ledger_log_remediation(l, r, st == REM_DRY_RUN ? "dry_run" : "remediation", st, reason,
                         false);
}

/* ---- remediations from the journal ------------------------------------------ */

/* The alert a journaled remediation was for (what rem_new() reads). */
static void alert_of(const struct journal_rem *jr, struct alert *a) {
  memset(a, 0, sizeof *a);
  a->status = jr->alert_status;
  a->alertname = jr->alertname;
  a->fingerprint = jr->fingerprint;
  a->starts_at = jr->starts_at;
  a->ends_at = "";
  a->generator_url = "";
}

struct remediation *ledger_rem_of(const struct hl_ruleset *rs, const struct journal_rem *jr) {
  if (jr->rule >= rs->nrules) return NULL;
  const struct hl_rule *hr = &rs->rules[jr->rule];
  uint32_t nsteps = jr->nsteps < hr->nsteps ? jr->nsteps : hr->nsteps;
  size_t np = 0;
  for (uint32_t s = 0; s < nsteps; s++) np += jr->steps[s].nparams;
  struct rem_step *steps = calloc(nsteps ? nsteps : 1, sizeof *steps);
  struct rem_param *params = calloc(np ? np : 1, sizeof *params);
  struct remediation *r = NULL;
  if (!steps || !params) goto out;
  struct rem_param *p = params;
  for (uint32_t s = 0; s < nsteps; s++) {
    const struct hl_step *hs = &rs->steps[hr->first_step + s];
    steps[s].kind = hs->action;
    steps[s].backend = hs->backend;
    if (hs->backend_expr.count) {
      /* Picked per alert when it was accepted: the journaled name, never
       * picked again (nor the default). A name that is gone (rebind fails
       * such a remediation first) gives an index no backend has. */
      steps[s].backend = hl_backend_find(rs, hl_action_backend(hs->action), jr->steps[s].backend);
      if (steps[s].backend == HL_NONE) steps[s].backend = rs->nbackends;
    }
    steps[s].target = hs->target;
    steps[s].succeed_on = hs->succeed_on;   /* as the rules say now */
    steps[s].params = p;
    uint32_t n = jr->steps[s].nparams < hs->nparams ? jr->steps[s].nparams : hs->nparams;
    steps[s].nparams = n;
    for (uint32_t k = 0; k < n; k++, p++) {
      p->name = rs->params[hs->first_param + k].name;
      p->value = jr->steps[s].params[k].value;
    }
  }
  struct alert a;
  alert_of(jr, &a);
  struct rem_draft d = {jr->rule, hr->name, &a, jr->dry_run, nsteps, steps,
                        jr->cooldown_key, jr->limit_key};
  r = rem_new(&d, jr->id, jr->state, jr->reason, jr->updated_ms);
  if (r) r->created_ms = jr->created_ms;
out:
  free(steps);
  free(params);
  return r;
}

struct remediation *ledger_history_of(const struct hl_ruleset *rs,
                                      const struct journal_rem *jr) {
  size_t np = 0;
  for (uint32_t s = 0; s < jr->nsteps; s++) np += jr->steps[s].nparams;
  struct rem_step *steps = calloc(jr->nsteps ? jr->nsteps : 1, sizeof *steps);
  struct rem_param *params = calloc(np ? np : 1, sizeof *params);
  struct remediation *r = NULL;
  if (!steps || !params) goto out;
  struct rem_param *p = params;
  for (uint32_t s = 0; s < jr->nsteps; s++) {
    const struct journal_step *js = &jr->steps[s];
    steps[s].kind = js->kind;
    steps[s].backend = HL_NONE;
    for (uint32_t b = 0; js->backend && b < rs->nbackends; b++)
      if (strcmp(rs->backends[b].name, js->backend) == 0) {
        steps[s].backend = b;
        break;
      }
    steps[s].target = js->target;
    steps[s].succeed_on = 0;  /* never runs again: the mask plays no part */
    steps[s].params = p;
    steps[s].nparams = js->nparams;
    for (uint32_t k = 0; k < js->nparams; k++, p++) {
      p->name = js->params[k].name;
      p->value = js->params[k].value;
    }
  }
  struct alert a;
  alert_of(jr, &a);
  struct rem_draft d = {jr->rule, jr->rule_name, &a, jr->dry_run, jr->nsteps, steps,
                        NULL, NULL};
  r = rem_new_copy(&d, jr->id, jr->state, jr->reason, jr->updated_ms);
  if (r) r->created_ms = jr->created_ms;
out:
  free(steps);
  free(params);
  return r;
}

/* ---- restoring ---------------------------------------------------------------- */

struct restore {
  struct ledger *l;
  int64_t start_delay_ms;
  size_t queued, resumed, failed, finished;
};

static int restore_seen(void *ctx, const struct journal_dedupe *d) {
  struct restore *c = ctx;
  return decide_restore_seen(c->l->decide, d->rule, d->fingerprint, d->starts_at,
                             d->alert_status, d->id, d->created_ms, d->last_seen_ms);
}

static int restore_cooldown(void *ctx, const struct journal_cooldown *cd) {
  struct restore *c = ctx;
  return decide_restore_cooldown(c->l->decide, cd->key, cd->until_ms, cd->owner_id);
}

static int restore_rem(void *ctx, const struct journal_rem *jr) {
  struct restore *c = ctx;
  struct ledger *l = c->l;
  struct remediation *r = ledger_rem_of(l->rs, jr);
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
  r->qi.ready_ms = !running && c->start_delay_ms ? jr->created_ms + c->start_delay_ms : 0;
  if (decide_restore_rem(l->decide, r, jr->last_seen_ms, jr->cooldown_until_ms) < 0) {
    rem_unref(r);
    return -1;
  }
  store_add(l->store, r);
  rem_ref(r);                 /* the queue's */
  if (queue_push(l->queue, &r->qi) != QUEUE_OK) {
    rem_unref(r);
    ledger_finish(l, r, REM_FAILED,
                  "failed: the queue was full when healer restarted (raise --queue-size)",
                  rtime_now_ms(), LEDGER_JOURNAL);
    c->failed++;
  } else {
    ledger_log_remediation(l, r, running ? "resuming" : "requeued",
                           running ? REM_RUNNING : REM_QUEUED,
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
  struct remediation *r = ledger_history_of(c->l->rs, jr);
  if (!r) return -1;
  store_add(c->l->store, r);
  rem_unref(r);
  c->finished++;
  return 0;
}

/* The pause switch and the breakers, as they were. */
static int restore_control(void *ctx, const char *key, const char *value) {
  struct restore *c = ctx;
  return c->l->safety ? safety_restore(c->l->safety, key, value) : 0;
}

int ledger_restore(struct ledger *l, struct journal *j, uint64_t next_id,
                   int64_t start_delay_ms, char *err, size_t errlen) {
  if (atomic_load(&l->next_id) < next_id) atomic_store(&l->next_id, next_id);
  struct restore c = {l, start_delay_ms, 0, 0, 0, 0};
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
