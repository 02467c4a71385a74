/*
 * match.c - see match.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "match.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "render.h"
#include "rtime.h"
#include "tz.h"

#define MATCH_LIMIT 1000000u  /* PCRE2 backtracking budget per match */

struct match_md {
  pcre2_match_data *md;
  int rc;                     /* of the last failed evaluation */
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int w = snprintf(err, n, "rules table: ");
  if (w > 0 && (size_t)w < n) vsnprintf(err + w, n - (size_t)w, fmt, ap);
  va_end(ap);
  return -1;
}

static bool range_ok(uint32_t first, uint32_t count, uint32_t total) {
  return first <= total && count <= total - first;
}

static bool index_ok(uint32_t i, uint32_t total) { return i == HL_NONE || i < total; }

/* Every index and count of the tables, before anything trusts them. */
static int validate(const struct hl_ruleset *rs, char *err, size_t n) {
  if (rs->abi_version != HL_ABI_VERSION)
    return fail(err, n, "written for ABI version %u, this runtime reads %u",
                rs->abi_version, HL_ABI_VERSION);
#define NEED(arr, cnt) \
  if ((cnt) && !(arr)) return fail(err, n, #arr " is NULL with %u entries", (cnt))
  NEED(rs->rules, rs->nrules);
  NEED(rs->alertnames, rs->nalertnames);
  NEED(rs->matchers, rs->nmatchers);
  NEED(rs->insns, rs->ninsns);
  NEED(rs->params, rs->nparams);
  NEED(rs->steps, rs->nsteps);
  NEED(rs->notifies, rs->nnotifies);
  NEED(rs->windows, rs->nwindows);
  NEED(rs->backends, rs->nbackends);
  NEED(rs->fields, rs->nfields);
  NEED(rs->index, rs->nindex);
  NEED(rs->index_rules, rs->nindex_rules);
  NEED(rs->name_patterns, rs->nname_patterns);
#undef NEED
  char why[160];
  for (uint32_t i = 0; i < rs->nrules; i++) {
    const struct hl_rule *r = &rs->rules[i];
    const char *name = r->name ? r->name : "?";
    if (!r->name || !r->file) return fail(err, n, "rule %u has no name or file", i);
    if (!range_ok(r->first_alert, r->nalerts, rs->nalertnames) ||
        !range_ok(r->first_matcher, r->nmatchers, rs->nmatchers) ||
        !range_ok(r->first_step, r->nsteps, rs->nsteps) ||
        !range_ok(r->first_notify, r->nnotify, rs->nnotifies) ||
        !range_ok(r->first_pattern, r->npatterns, rs->nname_patterns))
      return fail(err, n, "rule %s: a range is out of bounds", name);
    for (uint32_t k = 0; k < r->npatterns; k++)
      if (rs->name_patterns[r->first_pattern + k].rule != i)
        return fail(err, n, "rule %s: name pattern %u belongs to another rule", name,
                    r->first_pattern + k);
    if (r->status < HL_STATUS_FIRING || r->status > HL_STATUS_ANY)
      return fail(err, n, "rule %s: invalid status %u", name, r->status);
    if (!index_ok(r->during, rs->nwindows) || !index_ok(r->not_during, rs->nwindows))
      return fail(err, n, "rule %s: window index out of range", name);
    if (render_check(rs, r->cooldown_key, why, sizeof why) < 0 ||
        render_check(rs, r->limit_key, why, sizeof why) < 0)
      return fail(err, n, "rule %s: %s", name, why);
    if (r->budget && r->budget > 1000000)
      return fail(err, n, "rule %s: budget %u too large", name, r->budget);
  }
  for (uint32_t i = 0; i < rs->nalertnames; i++)
    if (!rs->alertnames[i]) return fail(err, n, "alertnames[%u] is NULL", i);
  for (uint32_t i = 0; i < rs->nmatchers; i++) {
    const struct hl_matcher *m = &rs->matchers[i];
    if (m->on > HL_ON_ANNOTATION || m->op > HL_MATCH_NRE || !m->name || !m->value)
      return fail(err, n, "matchers[%u] is invalid", i);
  }
  for (uint32_t i = 0; i < rs->nsteps; i++) {
    const struct hl_step *s = &rs->steps[i];
    if (s->action >= HL_ACT__COUNT || !index_ok(s->backend, rs->nbackends) ||
        !range_ok(s->first_param, s->nparams, rs->nparams) ||
        (s->backend_expr.count && s->backend != HL_NONE))
      return fail(err, n, "steps[%u] is invalid", i);
    if (render_check(rs, s->backend_expr, why, sizeof why) < 0)
      return fail(err, n, "steps[%u] backend: %s", i, why);
  }
  for (uint32_t i = 0; i < rs->nparams; i++) {
    if (!rs->params[i].name) return fail(err, n, "params[%u] has no name", i);
    if (rs->params[i].value.count == 0)
      return fail(err, n, "params[%u] (%s) has no value", i, rs->params[i].name);
    if (render_check(rs, rs->params[i].value, why, sizeof why) < 0)
      return fail(err, n, "params[%u] (%s): %s", i, rs->params[i].name, why);
  }
  for (uint32_t i = 0; i < rs->nnotifies; i++)
    if (!index_ok(rs->notifies[i].backend, rs->nbackends))
      return fail(err, n, "notifies[%u] is invalid", i);
  for (uint32_t i = 0; i < rs->nwindows; i++) {
    const struct hl_window *w = &rs->windows[i];
    if (!w->name || !w->tz || w->days > 0x7f || w->months > 0xfff ||
        !range_ok(w->first_time, w->ntimes, rs->nspans) ||
        !range_ok(w->first_mday, w->nmdays, rs->nspans) ||
        !range_ok(w->first_year, w->nyears, rs->nspans))
      return fail(err, n, "windows[%u] is invalid", i);
    for (uint32_t k = 0; k < w->ntimes; k++) {
      const struct hl_span *t = &rs->spans[w->first_time + k];
      if (t->lo < 0 || t->lo >= 1440 || t->hi < 0 || t->hi > 1440 || t->lo == t->hi)
        return fail(err, n, "windows[%u] has an invalid time range", i);
    }
    for (uint32_t k = 0; k < w->nmdays; k++) {
      const struct hl_span *d = &rs->spans[w->first_mday + k];
      if (d->lo == 0 || d->lo < -31 || d->lo > 31 || d->hi == 0 || d->hi < -31 ||
          d->hi > 31)
        return fail(err, n, "windows[%u] has an invalid day of the month", i);
    }
  }
  for (uint32_t i = 0; i < rs->nbackends; i++)
    if (!rs->backends[i].name ||
        !range_ok(rs->backends[i].first_field, rs->backends[i].nfields, rs->nfields))
      return fail(err, n, "backends[%u] is invalid", i);
  for (uint32_t i = 0; i < rs->nindex; i++) {
    const struct hl_index_entry *e = &rs->index[i];
    if (!e->alertname || !range_ok(e->first, e->count, rs->nindex_rules))
      return fail(err, n, "index[%u] is invalid", i);
    if (i && strcmp(rs->index[i - 1].alertname, e->alertname) >= 0)
      return fail(err, n, "index is not sorted at '%s'", e->alertname);
  }
  for (uint32_t i = 0; i < rs->nindex_rules; i++)
    if (rs->index_rules[i] >= rs->nrules)
      return fail(err, n, "index_rules[%u] out of range", i);
  for (uint32_t i = 0; i < rs->nname_patterns; i++) {
    const struct hl_name_pattern *p = &rs->name_patterns[i];
    if (p->rule >= rs->nrules || !p->regex ||
        (i && p->rule < rs->name_patterns[i - 1].rule))
      return fail(err, n, "name_patterns[%u] is invalid", i);
  }
  return 0;
}

/* regex anchored and compiled as regex_compile_anchored() does, with JIT
 * when available (*jit); NULL with PCRE2's message in msg. */
static pcre2_code *compile_anchored(const char *regex, bool *jit, char *msg, size_t msglen) {
  int code;
  size_t off;
  pcre2_code *re = regex_compile_anchored(regex, strlen(regex), &code, &off);
  if (!re) {
    PCRE2_UCHAR m[160];
    pcre2_get_error_message(code, m, sizeof m);
    snprintf(msg, msglen, "%s", (const char *)m);
    return NULL;
  }
  /* JIT is optional: without it pcre2_match() interprets. */
  *jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
  return re;
}

int match_init(struct rules *r, const struct hl_ruleset *rs, char *err,
               size_t errlen) {
  memset(r, 0, sizeof *r);
  r->rs = rs;
  if (validate(rs, err, errlen) < 0) return -1;
  if (rs->nmatchers && !(r->re = calloc(rs->nmatchers, sizeof *r->re))) goto nomem;
  if (rs->nmatchers && !(r->jit = calloc(rs->nmatchers, sizeof *r->jit))) goto nomem;
  if (rs->nwindows && !(r->tz = calloc(rs->nwindows, sizeof *r->tz))) goto nomem;
  pcre2_match_context *mctx = pcre2_match_context_create(NULL);
  if (!mctx) goto nomem;
  pcre2_set_match_limit(mctx, MATCH_LIMIT);
  r->mctx = mctx;
  char msg[160];
  for (uint32_t i = 0; i < rs->nmatchers; i++) {
    const struct hl_matcher *m = &rs->matchers[i];
    if (m->op != HL_MATCH_RE && m->op != HL_MATCH_NRE) continue;
    if (!(r->re[i] = compile_anchored(m->value, &r->jit[i], msg, sizeof msg))) {
      fail(err, errlen, "matcher %s%s'%s': %s", m->name,
           m->op == HL_MATCH_RE ? "=~" : "!~", m->value, msg);
      match_free(r);
      return -1;
    }
  }
  if (rs->nname_patterns &&
      (!(r->name_re = calloc(rs->nname_patterns, sizeof *r->name_re)) ||
       !(r->name_jit = calloc(rs->nname_patterns, sizeof *r->name_jit))))
    goto nomem;
  for (uint32_t i = 0; i < rs->nname_patterns; i++) {
    const struct hl_name_pattern *p = &rs->name_patterns[i];
    if (!(r->name_re[i] = compile_anchored(p->regex, &r->name_jit[i], msg, sizeof msg))) {
      fail(err, errlen, "rule %s: alert name =~ '%s': %s", rs->rules[p->rule].name,
           p->regex, msg);
      match_free(r);
      return -1;
    }
  }
  for (uint32_t i = 0; i < rs->nwindows; i++) {
    char why[256];
    r->tz[i] = tz_load(rs->windows[i].tz, why, sizeof why);
    if (!r->tz[i]) {
      fail(err, errlen, "window %s (%s:%u): %s", rs->windows[i].name,
           rs->windows[i].file ? rs->windows[i].file : "?", rs->windows[i].line, why);
      match_free(r);
      return -1;
    }
  }
  return 0;
nomem:
  fail(err, errlen, "out of memory");
  match_free(r);
  return -1;
}

void match_free(struct rules *r) {
  if (r->re)
    for (uint32_t i = 0; i < r->rs->nmatchers; i++) pcre2_code_free(r->re[i]);
  if (r->name_re)
    for (uint32_t i = 0; i < r->rs->nname_patterns; i++) pcre2_code_free(r->name_re[i]);
  if (r->tz)
    for (uint32_t i = 0; i < r->rs->nwindows; i++) tz_free(r->tz[i]);
  pcre2_match_context_free(r->mctx);
  free(r->re);
  free(r->jit);
  free(r->name_re);
  free(r->name_jit);
  free(r->tz);
  r->re = NULL;
  r->jit = NULL;
  r->name_re = NULL;
  r->name_jit = NULL;
  r->tz = NULL;
  r->mctx = NULL;
}

struct match_md *match_md_new(void) {
  struct match_md *m = malloc(sizeof *m);
  if (!m) return NULL;
  m->rc = 0;
  m->md = pcre2_match_data_create(1, NULL);
  if (!m->md) {
    free(m);
    return NULL;
  }
  return m;
}

void match_md_free(struct match_md *m) {
  if (!m) return;
  pcre2_match_data_free(m->md);
  free(m);
}

const struct hl_index_entry *match_lookup(const struct rules *r,
                                          const char *alertname) {
  const struct hl_ruleset *rs = r->rs;
  uint32_t lo = 0, hi = rs->nindex;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = strcmp(rs->index[mid].alertname, alertname);
    if (c == 0) return &rs->index[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

/* Whether the whole of v matches compiled regex re: 1 yes, 0 no, -1 when it
 * cannot be evaluated (md->rc says why). */
static int run_re(const struct rules *r, void *re, bool jit, const char *v,
                  struct match_md *md) {
  /* ASCII is valid UTF-8: the JIT entry point, which skips the per-call
   * checks, is safe. Anything else goes through pcre2_match(), which
   * rejects invalid UTF-8: an error, as a hit on the match limit is. */
  size_t n = 0;
  bool ascii = true;
  for (; v[n]; n++) ascii &= (unsigned char)v[n] < 0x80;
  int rc = ascii && jit ? pcre2_jit_match(re, (PCRE2_SPTR)v, n, 0, 0, md->md, r->mctx)
                        : pcre2_match(re, (PCRE2_SPTR)v, n, 0, 0, md->md, r->mctx);
  if (rc >= 0) return 1;
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  md->rc = rc;
  return -1;
}

void match_iter_init(struct match_iter *it, const struct rules *r, const char *alertname,
                     struct match_md *md) {
  it->r = r;
  it->alertname = alertname;
  it->md = md;
  it->ie = match_lookup(r, alertname);
  it->i = 0;
  it->p = 0;
  it->last = HL_NONE;
  it->error = HL_NONE;
}

/* The index entry's rules and the pattern rules are both in rule order:
 * merge them, evaluating a pattern only when the merge reaches its rule,
 * and give each rule once. */
uint32_t match_iter_next(struct match_iter *it) {
  const struct hl_ruleset *rs = it->r->rs;
  it->error = HL_NONE;
  for (;;) {
    uint32_t exact = it->ie && it->i < it->ie->count ? rs->index_rules[it->ie->first + it->i]
                                                     : HL_NONE;
    uint32_t pat = it->p < rs->nname_patterns ? rs->name_patterns[it->p].rule : HL_NONE;
    if (exact == HL_NONE && pat == HL_NONE) return HL_NONE;
    uint32_t ri;
    if (exact <= pat) {
      ri = exact;
      it->i++;
    } else {
      ri = pat;
      uint32_t pi = it->p++;
      if (ri == it->last) continue;
      int hit = run_re(it->r, it->r->name_re[pi], it->r->name_jit[pi], it->alertname, it->md);
      if (hit == 0) continue;
      if (hit < 0) it->error = pi;
    }
    if (ri == it->last) continue;
    it->last = ri;
    return ri;
  }
}

int match_matcher(const struct rules *r, uint32_t mi, const struct alert *a,
                  struct match_md *md) {
  const struct hl_matcher *m = &r->rs->matchers[mi];
  const char *v = m->on == HL_ON_LABEL ? alert_label(a, m->name)
                                       : alert_annotation(a, m->name);
  if (!v) v = "";             /* absent = "" as in Alertmanager */
  switch (m->op) {
  case HL_MATCH_EQ: return strcmp(v, m->value) == 0;
  case HL_MATCH_NE: return strcmp(v, m->value) != 0;
  default: {
    int rc = run_re(r, r->re[mi], r->jit[mi], v, md);
    if (rc < 0) return -1;
    bool hit = rc == 1;
    return m->op == HL_MATCH_RE ? hit : !hit;
  }
  }
}

/* Whether the local day `days` (since 1970-01-01) passes the day tests of
 * window w. Days of the month as Alertmanager's ContainsTime reads them
 * (timeinterval.go): a negative end counts from the end of the month, a
 * start past the month's end matches nothing, an end past it stops there. */
static bool day_in(const struct hl_ruleset *rs, const struct hl_window *w,
                   int64_t days) {
  int wday = (int)(((days % 7) + 11) % 7);   /* 1970-01-01 was a Thursday */
  if (w->days && !(w->days & (1u << wday))) return false;
  int64_t y;
  unsigned m, d;
  rtime_civil_from_days(days, &y, &m, &d);
  if (w->months && !(w->months & (1u << (m - 1)))) return false;
  if (w->nmdays) {
    int dim = m == 12 ? 31
                      : (int)(rtime_days_from_civil(y, m + 1, 1) - rtime_days_from_civil(y, m, 1));
    bool in = false;
    for (uint32_t k = 0; k < w->nmdays && !in; k++) {
      const struct hl_span *s = &rs->spans[w->first_mday + k];
      int lo = s->lo < 0 ? dim + s->lo + 1 : s->lo;
      int hi = s->hi < 0 ? dim + s->hi + 1 : s->hi;
      if (lo > dim) continue;
      if (hi > dim) hi = dim;
      in = (int)d >= lo && (int)d <= hi;
    }
    if (!in) return false;
  }
  if (w->nyears) {
    bool in = false;
    for (uint32_t k = 0; k < w->nyears && !in; k++) {
      const struct hl_span *s = &rs->spans[w->first_year + k];
      in = y >= s->lo && y <= s->hi;
    }
    if (!in) return false;
  }
  if (w->from_day || w->to_day) {
    uint32_t ymd = (uint32_t)(y * 10000 + m * 100 + d);
    if (w->from_day && ymd < w->from_day) return false;
    if (w->to_day && ymd > w->to_day) return false;
  }
  return true;
}

bool match_window(const struct rules *r, uint32_t wi, int64_t now_ms) {
  const struct hl_ruleset *rs = r->rs;
  const struct hl_window *w = &rs->windows[wi];
  int64_t t = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  int64_t local = t + tz_offset(r->tz[wi], t);
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int minute = (int)((local - days * 86400) / 60);
  if (!w->ntimes) return day_in(rs, w, days);
  /* A range that wraps past midnight belongs to the day it starts: with
   * `fri 22:00-06:00`, Saturday 02:00 is inside (Friday's night) and Friday
   * 02:00 is not. The other day tests are checked against that day too. */
  for (uint32_t k = 0; k < w->ntimes; k++) {
    const struct hl_span *s = &rs->spans[w->first_time + k];
    if (s->lo < s->hi) {
      if (minute >= s->lo && minute < s->hi && day_in(rs, w, days)) return true;
    } else {
      if (minute >= s->lo && day_in(rs, w, days)) return true;
      if (minute < s->hi && day_in(rs, w, days - 1)) return true;
    }
  }
  return false;
}

void match_error(const struct match_md *md, char *out, size_t outlen) {
  PCRE2_UCHAR msg[160];
  if (pcre2_get_error_message(md->rc, msg, sizeof msg / sizeof msg[0]) < 0)
    snprintf((char *)msg, sizeof msg, "error %d", md->rc);
  snprintf(out, outlen, "%s", (const char *)msg);
}

enum match_result match_rule(const struct rules *r, uint32_t ri,
                             const struct alert *a, int64_t now_ms,
                             struct match_md *md, uint32_t *failed) {
  const struct hl_rule *rule = &r->rs->rules[ri];
  if (!(rule->status & a->status)) return MATCH_STATUS;
  for (uint32_t k = 0; k < rule->nmatchers; k++) {
    int held = match_matcher(r, rule->first_matcher + k, a, md);
    if (held != 1) {
      if (failed) *failed = rule->first_matcher + k;
      return held < 0 ? MATCH_ERROR : MATCH_MATCHER;
    }
  }
  if (rule->during != HL_NONE && !match_window(r, rule->during, now_ms))
    return MATCH_OUTSIDE_WINDOW;
  if (rule->not_during != HL_NONE && match_window(r, rule->not_during, now_ms))
    return MATCH_IN_WINDOW;
  return MATCH_OK;
}
