/*
 * sim.c - the daemon's decisions on a virtual clock (see sim.h).
 *
 * The order of a step is the engine's (runtime/engine.c, run_step): a draft
 * becomes a remediation, decide_reserve() gives the verdict under the
 * decide lock, and an accepted one is committed. Where the ledger would
 * journal and queue, the simulation records the remediation as running.
 */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rem.h"

/* The daemon's defaults (runtime/config.c): --dedupe-ttl 24h,
 * --dedupe-max and --cooldown-max 100000. */
#define SIM_DEDUPE_TTL_MS (24 * 3600 * 1000LL)
#define SIM_TABLE_MAX 100000u

int sim_init(struct sim *s, const struct hl_ruleset *rs, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->rs = rs;
  s->next_id = 1;
  if (match_init(&s->rules, rs, err, errlen) != 0) return -1;
  if (decide_init(&s->decide, rs, SIM_DEDUPE_TTL_MS, SIM_TABLE_MAX, SIM_TABLE_MAX) != 0) {
    match_free(&s->rules);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->md = match_md_new();
  if (!s->md) {
    decide_free(&s->decide);
    match_free(&s->rules);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  bump_init(&s->arena, 1 << 14);
  return 0;
}

/* Ends the i-th running remediation as a worker would: it succeeded. */
static void finish(struct sim *s, size_t i) {
  struct remediation *r = s->running[i].r;
  decide_finished(&s->decide, r);
  rem_unref(r);
  s->running[i] = s->running[--s->nrunning];
}

static void finish_until(struct sim *s, int64_t now_ms) {
  for (size_t i = 0; i < s->nrunning;)
    if (s->running[i].end_ms <= now_ms) finish(s, i);
    else i++;
}

void sim_drain(struct sim *s) {
  while (s->nrunning) finish(s, s->nrunning - 1);
}

void sim_free(struct sim *s) {
  sim_drain(s);
  free(s->running);
  free(s->out);
  bump_free(&s->arena);
  match_md_free(s->md);
  decide_free(&s->decide);
  match_free(&s->rules);
  memset(s, 0, sizeof *s);
}

static struct sim_outcome *push_out(struct sim *s, enum sim_kind kind,
                                    const struct plan_step *st) {
  if (s->nout == s->capout) {
    size_t cap = s->capout ? s->capout * 2 : 8;
    struct sim_outcome *o = realloc(s->out, cap * sizeof *o);
    if (!o) return NULL;
    s->out = o;
    s->capout = cap;
  }
  struct sim_outcome *o = &s->out[s->nout++];
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->rule = st->rule;
  o->step = st;
  return o;
}

static int keep_running(struct sim *s, struct remediation *r, int64_t end_ms) {
  if (s->nrunning == s->caprunning) {
    size_t cap = s->caprunning ? s->caprunning * 2 : 16;
    struct sim_running *n = realloc(s->running, cap * sizeof *n);
    if (!n) return -1;
    s->running = n;
    s->caprunning = cap;
  }
  s->running[s->nrunning++] = (struct sim_running){r, end_ms};
  return 0;
}

/* A PLAN_RUN step put to decide, as the engine's run_step() does. */
static int admit(struct sim *s, const struct plan_step *st, int64_t now_ms) {
  struct sim_outcome *o = push_out(s, SIM_RUN, st);
  if (!o) return -1;
  struct remediation *r = rem_new(&st->d, s->next_id++, REM_QUEUED, NULL, now_ms);
  if (!r) return -1;
  struct decide_info info;
  struct decide_ticket t;
  memset(&info, 0, sizeof info);
  decide_lock(&s->decide);
  enum decide_verdict v = decide_reserve(&s->decide, r, now_ms, &info, &t);
  if (v == DECIDE_QUEUED) decide_commit(&s->decide, r, now_ms, &t);
  decide_unlock(&s->decide);
  if (v == DECIDE_QUEUED) {
    if (keep_running(s, r, now_ms + s->run_ms) != 0) {
      decide_finished(&s->decide, r);
      rem_unref(r);
      return -1;
    }
    if (s->run_ms == 0) finish_until(s, now_ms);
    return 0;
  }
  rem_unref(r);
  if (v == DECIDE_NOMEM) return -1;
  o->kind = SIM_SKIP;
  if (v == DECIDE_DUPLICATE) {
    o->skip = "duplicate";
    snprintf(o->why, sizeof o->why, "duplicate of remediation %llu",
             (unsigned long long)info.other_id);
    return 0;
  }
  const char *word = decide_skip_words(v, &s->rs->rules[st->rule], &info, o->why, sizeof o->why);
  o->skip = word ? word : "refused";
  return 0;
}

int sim_alert(struct sim *s, const struct alert *a, int64_t now_ms) {
  finish_until(s, now_ms);
  bump_reset(&s->arena);
  s->nout = 0;
  if (plan_alert(&s->rules, a, now_ms, PLAN_MISSES, &s->arena, s->md, &s->plan) != 0)
    return -1;
  for (size_t i = 0; i < s->plan.nsteps; i++) {
    const struct plan_step *st = &s->plan.steps[i];
    struct sim_outcome *o;
    switch (st->kind) {
    case PLAN_RUN:
      if (admit(s, st, now_ms) != 0) return -1;
      break;
    case PLAN_SKIP:
      if (!(o = push_out(s, SIM_SKIP, st))) return -1;
      o->skip = st->skip == PLAN_SKIP_MISSING ? "missing_label" : "no_backend";
      snprintf(o->why, sizeof o->why, "%s", st->why);
      break;
    case PLAN_ERROR:
      if (!(o = push_out(s, SIM_SKIP, st))) return -1;
      o->skip = "error";
      snprintf(o->why, sizeof o->why, "%s", st->why);
      break;
    case PLAN_MISS:
      if (st->mr != MATCH_OUTSIDE_WINDOW && st->mr != MATCH_IN_WINDOW) break;
      if (!(o = push_out(s, SIM_SKIP, st))) return -1;
      o->skip = st->mr == MATCH_OUTSIDE_WINDOW ? "outside window" : "in window";
      plan_miss_reason(s->rs, st, o->why, sizeof o->why);
      break;
    }
  }
  return 0;
}
