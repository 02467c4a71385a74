/*
 * plan.c - see plan.h.
 */
#include "plan.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "names.h"
#include "render.h"

/* ---- the steps of a plan ------------------------------------------------- */

/* A new zeroed step at the end of p->steps, which grows in the arena
 * (doubling; the old array is left there). NULL when out of memory. */
static struct plan_step *push_step(struct plan *p, size_t *cap, struct bump *arena,
                                   enum plan_kind kind, uint32_t rule) {
  if (p->nsteps == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    struct plan_step *s = bump_alloc(arena, ncap * sizeof *s);
    if (!s) return NULL;
    if (p->nsteps) memcpy(s, p->steps, p->nsteps * sizeof *s);
    p->steps = s;
    *cap = ncap;
  }
  struct plan_step *st = &p->steps[p->nsteps++];
  memset(st, 0, sizeof *st);
  st->kind = kind;
  st->rule = rule;
  return st;
}

static const char *arena_strdup(struct bump *arena, const char *s) {
  return bump_strndup(arena, s, strlen(s));
}

/* ---- rendering a rule ---------------------------------------------------- */

/* Whether the remediation runs in dry-run, as far as the rules say; the
 * daemon adds REM_DRY_UNIMPLEMENTED for a kind its build lacks. */
static uint8_t dry_run_of(const struct hl_rule *rule, unsigned flags) {
  if (flags & PLAN_DRY_RUN) return REM_DRY_GLOBAL;
  if (rule->flags & HL_RULE_DRY_RUN) return REM_DRY_RULE;
  return REM_DRY_NO;
}

/* Why draft() could not render a rule for an alert. */
struct skip {
  char reason[REM_REASON_MAX];  /* "missing label cluster" */
  enum plan_skip kind;
};

static enum render_status absent(struct skip *why, const struct render_missing *m) {
  snprintf(why->reason, sizeof why->reason, "missing %s %s", m->kind, m->name);
  why->kind = PLAN_SKIP_MISSING;
  return RENDER_ABSENT;
}

/* A step's backend picked per alert (hl_step.backend_expr): the index of
 * the declared backend of its kind that the rendered name names. */
static enum render_status pick_backend(const struct hl_ruleset *rs,
                                       const struct hl_step *hs,
                                       const struct alert *a, struct bump *arena,
                                       uint32_t *index, struct skip *why) {
  const char *name;
  struct render_missing m = {NULL, NULL};
  enum render_status rc = render_expr(rs, hs->backend_expr, a, arena, &name, &m);
  if (rc == RENDER_ABSENT) return absent(why, &m);
  if (rc != RENDER_OK) return rc;
  uint8_t kind = hl_action_backend(hs->action);
  *index = hl_backend_find(rs, kind, name);
  if (*index != HL_NONE) return RENDER_OK;
  snprintf(why->reason, sizeof why->reason, "no %s backend '%.100s'",
           hl_backend_word(kind), name);
  why->kind = PLAN_SKIP_NO_BACKEND;
  return RENDER_ABSENT;
}

/* A cooldown or limit key, scoped to the rule: "<rule index>\x1f<key>";
 * without a `per` expression a cooldown's key is the rendered parameters.
 * Sets *out (in the arena). */
static enum render_status render_key(const struct hl_ruleset *rs, uint32_t ri,
                                     struct hl_expr ex, bool by_params,
                                     const struct rem_draft *d, struct bump *arena,
                                     struct buf *k, const char **out, struct skip *why) {
  buf_reset(k);
  buf_uint(k, ri);
  buf_putc(k, '\x1f');
  if (ex.count) {
    const char *v;
    struct render_missing m = {NULL, NULL};
    enum render_status rc = render_expr(rs, ex, d->alert, arena, &v, &m);
    if (rc != RENDER_OK) return rc == RENDER_ABSENT ? absent(why, &m) : rc;
    buf_puts(k, v);
  } else if (by_params) {
    for (uint32_t s = 0; s < d->nsteps; s++)
      for (uint32_t p = 0; p < d->steps[s].nparams; p++) {
        buf_uint(k, s);
        buf_putc(k, '\x1f');
        buf_puts(k, d->steps[s].params[p].name);
        buf_putc(k, '\x1f');
        buf_puts(k, d->steps[s].params[p].value);
        buf_putc(k, '\x1e');
      }
  }
  *out = k->oom ? NULL : bump_strndup(arena, k->data, k->len);
  return *out ? RENDER_OK : RENDER_NOMEM;
}

/* Renders the rule's steps (their backends picked per alert included) and
 * keys into d. Returns RENDER_OK, or RENDER_ABSENT with *why set (d then
 * holds what did render), or RENDER_NOMEM. */
static enum render_status draft(const struct hl_ruleset *rs, uint32_t ri,
                                const struct alert *a, unsigned flags,
                                struct bump *arena, struct rem_draft *d,
                                struct skip *why) {
  const struct hl_rule *rule = &rs->rules[ri];
  memset(d, 0, sizeof *d);
  d->rule = ri;
  d->rule_name = rule->name;
  d->alert = a;
  d->dry_run = dry_run_of(rule, flags);
  struct rem_step *steps = rule->nsteps ? bump_alloc(arena, rule->nsteps * sizeof *steps) : NULL;
  if (rule->nsteps && !steps) return RENDER_NOMEM;
  d->steps = steps;
  for (uint32_t s = 0; s < rule->nsteps; s++) {
    const struct hl_step *hs = &rs->steps[rule->first_step + s];
    struct rem_step *st = &steps[s];
    st->kind = hs->action;
    st->backend = hs->backend;
    st->target = hs->target;
    st->succeed_on = hs->succeed_on;
    st->nparams = 0;
    st->params = NULL;
    d->nsteps = s + 1;
    if (hs->backend_expr.count) {
      enum render_status rc = pick_backend(rs, hs, a, arena, &st->backend, why);
      if (rc != RENDER_OK) return rc;
    }
    st->params = hs->nparams ? bump_alloc(arena, hs->nparams * sizeof *st->params) : NULL;
    if (hs->nparams && !st->params) return RENDER_NOMEM;
    for (uint32_t k = 0; k < hs->nparams; k++) {
      const struct hl_param *p = &rs->params[hs->first_param + k];
      const char *v;
      struct render_missing m = {NULL, NULL};
      enum render_status rc = render_expr(rs, p->value, a, arena, &v, &m);
      if (rc == RENDER_ABSENT) return absent(why, &m);
      if (rc != RENDER_OK) return rc;
      st->params[k].name = p->name;
      st->params[k].value = v;
      st->nparams = k + 1;
    }
  }
  if (!rule->cooldown_ms && !rule->limit) return RENDER_OK;
  struct buf k;
  buf_init(&k);
  enum render_status rc = RENDER_OK;
  if (rule->cooldown_ms)
    rc = render_key(rs, ri, rule->cooldown_key, true, d, arena, &k, &d->cooldown_key, why);
  if (rc == RENDER_OK && rule->limit)
    rc = render_key(rs, ri, rule->limit_key, false, d, arena, &k, &d->limit_key, why);
  buf_free(&k);
  return rc;
}

/* ---- one alert ------------------------------------------------------------ */

/* Why a regex could not be evaluated, for the log and the history. */
static void error_reason(const struct hl_ruleset *rs, const struct match_iter *it,
                         uint32_t failed, const struct match_md *md, char *why,
                         size_t n) {
  char err[160];
  match_error(md, err, sizeof err);
  if (it->error != HL_NONE) {
    snprintf(why, n, "alert name =~ \"%.64s\" could not be evaluated (%s): not remediated",
             rs->name_patterns[it->error].regex, err);
    return;
  }
  const struct hl_matcher *m = &rs->matchers[failed];
  snprintf(why, n, "%s %.64s %s \"%.64s\" could not be evaluated (%s): not remediated",
           m->on == HL_ON_LABEL ? "label" : "annotation", m->name,
           m->op == HL_MATCH_RE ? "=~" : "!~", m->value, err);
}

int plan_alert(const struct rules *r, const struct alert *a, int64_t now_ms,
               unsigned flags, struct bump *arena, struct match_md *md,
               struct plan *out) {
  const struct hl_ruleset *rs = r->rs;
  memset(out, 0, sizeof *out);
  out->alert = a;
  size_t cap = 0;
  struct match_iter it;
  uint32_t ri;
  match_iter_init(&it, r, a->alertname, md);
  while ((ri = match_iter_next(&it)) != HL_NONE) {
    uint32_t failed = 0;
    out->named++;
    enum match_result mr = it.error != HL_NONE ? MATCH_ERROR
                                               : match_rule(r, ri, a, now_ms, md, &failed);
    if (mr != MATCH_STATUS) out->tried++;
    if (mr == MATCH_ERROR) {
      /* Fail closed: neither this rule nor a later one (which may be the
       * catch-all the failed matcher was meant to keep the alert from)
       * remediates it. */
      char why[PLAN_WHY_MAX];
      error_reason(rs, &it, failed, md, why, sizeof why);
      struct plan_step *st = push_step(out, &cap, arena, PLAN_ERROR, ri);
      if (!st || !(st->why = arena_strdup(arena, why))) return -1;
      return 0;
    }
    if (mr != MATCH_OK) {
      if (flags & PLAN_MISSES) {
        struct plan_step *st = push_step(out, &cap, arena, PLAN_MISS, ri);
        if (!st) return -1;
        st->mr = mr;
        st->failed = failed;
      }
      continue;
    }
    struct rem_draft d;
    struct skip why;
    enum render_status rc = draft(rs, ri, a, flags, arena, &d, &why);
    if (rc == RENDER_NOMEM) return -1;
    struct plan_step *st = push_step(out, &cap, arena,
                                     rc == RENDER_OK ? PLAN_RUN : PLAN_SKIP, ri);
    if (!st) return -1;
    st->d = d;
    if (rc == RENDER_ABSENT) {
      st->skip = why.kind;
      if (!(st->why = arena_strdup(arena, why.reason))) return -1;
      continue;               /* not a match: try the next rule */
    }
    out->matched = true;
    if (!(rs->rules[ri].flags & HL_RULE_CONTINUE)) break;
  }
  return 0;
}

const char *plan_miss_reason(const struct hl_ruleset *rs,
                             const struct plan_step *st, char *buf, size_t n) {
  switch (st->mr) {
  case MATCH_STATUS: return "status";
  case MATCH_MATCHER: {
    static const char *const ops[] = {"=", "!=", "=~", "!~"};
    const struct hl_matcher *m = &rs->matchers[st->failed];
    snprintf(buf, n, "%s %s%s\"%s\" does not hold",
             m->on == HL_ON_LABEL ? "label" : "annotation", m->name, ops[m->op & 3],
             m->value);
    return buf;
  }
  case MATCH_OUTSIDE_WINDOW:
    snprintf(buf, n, "outside window %s", rs->windows[rs->rules[st->rule].during].name);
    return buf;
  case MATCH_IN_WINDOW:
    snprintf(buf, n, "inside window %s", rs->windows[rs->rules[st->rule].not_during].name);
    return buf;
  default: return "matched";
  }
}

const char *plan_no_match(const struct plan *p, char *buf, size_t n) {
  if (!p->named) snprintf(buf, n, "no rule for alert %.100s", p->alert->alertname);
  else snprintf(buf, n, "none of %u rules for %.100s matched", p->tried, p->alert->alertname);
  return buf;
}
