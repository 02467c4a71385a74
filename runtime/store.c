/*
 * store.c - see store.h.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "rtime.h"

int store_init(struct store *s, size_t history) {
  memset(s, 0, sizeof *s);
  s->history = history;
  return pthread_mutex_init(&s->mu, NULL) == 0 ? 0 : -1;
}

void store_free(struct store *s) {
  struct remediation *r = s->newest;
  while (r) {
    struct remediation *older = r->older;
    r->in_store = false;
    rem_unref(r);
    r = older;
  }
  s->newest = s->oldest = NULL;
  s->count = s->finished = 0;
  pthread_mutex_destroy(&s->mu);
}

/* Drops the oldest finished remediations beyond the history (lock held). */
static void evict(struct store *s) {
  struct remediation *r = s->oldest;
  while (s->finished > s->history && r) {
    struct remediation *newer = r->newer;
    if (rem_state_final(r->state)) {
      if (r->older) r->older->newer = r->newer;
      else s->oldest = r->newer;
      if (r->newer) r->newer->older = r->older;
      else s->newest = r->older;
      r->in_store = false;
      s->count--;
      s->finished--;
      rem_unref(r);
    }
    r = newer;
  }
}

void store_add(struct store *s, struct remediation *r) {
  rem_ref(r);
  pthread_mutex_lock(&s->mu);
  r->older = s->newest;
  r->newer = NULL;
  if (s->newest) s->newest->newer = r;
  else s->oldest = r;
  s->newest = r;
  r->in_store = true;
  s->count++;
  if (rem_state_final(r->state)) {
    s->finished++;
    evict(s);
  }
  pthread_mutex_unlock(&s->mu);
}

enum rem_state store_set_state(struct store *s, struct remediation *r,
                               enum rem_state st, const char *reason,
                               int64_t now_ms) {
  pthread_mutex_lock(&s->mu);
  enum rem_state was = r->state;
  if (!rem_state_final(was)) {
    r->state = st;
    r->updated_ms = now_ms;
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
    if (rem_state_final(st) && r->in_store) {
      s->finished++;
      evict(s);
    }
  }
  pthread_mutex_unlock(&s->mu);
  return was;
}

bool store_begin(struct store *s, struct remediation *r, int64_t now_ms) {
  pthread_mutex_lock(&s->mu);
  bool ok = r->state == REM_QUEUED;
  if (ok) {
    r->state = REM_RUNNING;
    r->updated_ms = now_ms;
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

enum rem_state store_get_state(struct store *s, struct remediation *r,
                               char reason[REM_REASON_MAX]) {
  pthread_mutex_lock(&s->mu);
  enum rem_state st = r->state;
  if (reason) memcpy(reason, r->reason, REM_REASON_MAX);
  pthread_mutex_unlock(&s->mu);
  return st;
}

size_t store_count(struct store *s) {
  pthread_mutex_lock(&s->mu);
  size_t n = s->count;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static void step_json(const struct hl_ruleset *rs, const struct rem_step *st,
                      struct buf *out) {
  char kind[REM_KIND_MAX];
  buf_puts(out, "{\"kind\":");
  buf_json_str(out, rem_kind_name(st->kind, kind));
  buf_puts(out, ",\"target\":");
  buf_json_str(out, st->target);
  buf_puts(out, ",\"backend\":");
  buf_json_str(out, st->backend < rs->nbackends ? rs->backends[st->backend].name
                                                : "default");
  buf_puts(out, ",\"params\":{");
  for (uint32_t k = 0; k < st->nparams; k++) {
    if (k) buf_putc(out, ',');
    buf_json_str(out, st->params[k].name);
    buf_putc(out, ':');
    buf_json_str(out, st->params[k].value);
  }
  buf_puts(out, "}}");
}

void store_rem_json(const struct hl_ruleset *rs, const struct remediation *r,
                    struct buf *out) {
  char t1[RTIME_BUFSZ], t2[RTIME_BUFSZ];
  buf_printf(out, "{\"id\":%llu,\"rule\":", (unsigned long long)r->id);
  buf_json_str(out, r->rule_name);
  buf_puts(out, ",\"alertname\":");
  buf_json_str(out, r->alertname);
  buf_puts(out, ",\"fingerprint\":");
  buf_json_str(out, r->fingerprint);
  buf_puts(out, ",\"startsAt\":");
  buf_json_str(out, r->starts_at);
  buf_puts(out, ",\"status\":");
  buf_json_str(out, r->alert_status == HL_STATUS_RESOLVED ? "resolved" : "firing");
  buf_puts(out, ",\"action\":");
  if (r->nsteps) step_json(rs, &r->steps[0], out);
  else buf_puts(out, "null");
  buf_puts(out, ",\"steps\":[");
  for (uint32_t i = 0; i < r->nsteps; i++) {
    if (i) buf_putc(out, ',');
    step_json(rs, &r->steps[i], out);
  }
  buf_printf(out, "],\"dry_run\":%s,\"state\":", r->dry_run ? "true" : "false");
  buf_json_str(out, rem_state_name(r->state));
  buf_puts(out, ",\"reason\":");
  buf_json_str(out, r->reason);
  buf_printf(out, ",\"created\":\"%s\",\"updated\":\"%s\"}",
             rtime_format(r->created_ms, t1), rtime_format(r->updated_ms, t2));
}

void store_render_json(struct store *s, const struct hl_ruleset *rs,
                       struct buf *out, size_t limit) {
  pthread_mutex_lock(&s->mu);
  buf_printf(out, "{\"count\":%zu,\"remediations\":[", s->count < limit ? s->count : limit);
  size_t n = 0;
  for (struct remediation *r = s->newest; r && n < limit; r = r->older, n++) {
    if (n) buf_putc(out, ',');
    store_rem_json(rs, r, out);
  }
  buf_puts(out, "]}");
  pthread_mutex_unlock(&s->mu);
}
