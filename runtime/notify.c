/*
 * notify.c - see notify.h: which notifications to send, retries, records.
 */
#include "notify.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "names.h"
#include "rtime.h"

static struct notify_policy g_policy = {3, 1000, 10000, 30000};

static atomic_ullong g_counts[HL_BK__COUNT][2]; /* [kind][sent, failed] */

void notify_set_policy(const struct notify_policy *p) {
  struct notify_policy d = {3, 1000, 10000, 30000};
  if (p) {
    if (p->attempts)
      d.attempts = p->attempts;
    if (p->backoff_ms)
      d.backoff_ms = p->backoff_ms;
    if (p->backoff_cap_ms)
      d.backoff_cap_ms = p->backoff_cap_ms;
    if (p->max_wait_ms)
      d.max_wait_ms = p->max_wait_ms;
  }
  g_policy = d;
}

uint8_t notify_event_of(enum rem_state outcome) {
  switch (outcome) {
  case REM_SUCCEEDED:
    return HL_EV_SUCCESS;
  case REM_FAILED:
    return HL_EV_FAILURE;
  case REM_TIMED_OUT:
    return HL_EV_TIMEOUT;
  default:
    return 0;
  }
}

const char *notify_outcome_word(enum rem_state outcome) {
  switch (outcome) {
  case REM_SUCCEEDED:
    return "succeeded";
  case REM_FAILED:
    return "failed";
  case REM_TIMED_OUT:
    return "timed out";
  default:
    return rem_state_name(outcome);
  }
}

void notify_cut_utf8(struct buf *b, size_t max) {
  if (b->len <= max)
    return;
  size_t n = max;
  /* Back off continuation bytes so no sequence is split. */
  while (n > 0 && ((unsigned char)b->data[n] & 0xC0) == 0x80)
    n--;
  b->len = n;
  b->data[n] = '\0';
}

void notify_summary(const struct notify_event *ev, struct buf *out,
                    size_t max) {
  size_t start = out->len;
  const struct remediation *r = ev->rem;
  buf_printf(out, "healer: %s %s for %s", r->rule_name,
             notify_outcome_word(ev->outcome),
             r->alertname && *r->alertname ? r->alertname : "alert");
  bool first = true;
  for (uint32_t s = 0; s < r->nsteps; s++)
    for (uint32_t k = 0; k < r->steps[s].nparams; k++) {
      buf_puts(out, first ? " (" : ", ");
      buf_printf(out, "%s=%s", r->steps[s].params[k].name,
                 r->steps[s].params[k].value);
      first = false;
    }
  if (!first)
    buf_putc(out, ')');
  if (!out->oom && out->len - start > max) {
    size_t n = start + max;
    while (n > start && ((unsigned char)out->data[n] & 0xC0) == 0x80)
      n--;
    out->len = n;
    out->data[n] = '\0';
  }
}

const char *notify_duration(const struct notify_event *ev, char *out) {
  int64_t d = ev->ended_ms - ev->started_ms;
  return rtime_format_duration(d > 0 ? d : 0, out);
}

enum httpc_class notify_failed(struct notify_attempt *a, const char *what) {
  const struct httpc_response *rs = &a->rs;
  if (rs->status) {
    /* Plain-text and short JSON error bodies help ("channel_not_found",
     * Jira's errorMessages); control characters are dropped. */
    char ex[96] = "";
    if (rs->body.data) {
      size_t n = 0;
      for (const char *p = rs->body.data; *p && n + 1 < sizeof ex; p++)
        if (*p != '\r' && *p != '\n')
          ex[n++] = isprint((unsigned char)*p) ? *p : '?';
      ex[n] = '\0';
      if (strncasecmp(rs->content_type, "text/html", 9) == 0)
        ex[0] = '\0';
    }
    snprintf(a->detail, sizeof a->detail, "%s: HTTP %ld%s%.96s", what,
             rs->status, ex[0] ? ": " : "", ex);
  } else {
    snprintf(a->detail, sizeof a->detail, "%s: %.150s", what,
             rs->error[0] ? rs->error : "request failed");
  }
  backend_redact(a->be, a->detail);
  return rs->cls == HTTPC_OK ? HTTPC_PERMANENT : rs->cls;
}

void notify_detailf(struct notify_attempt *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->detail, sizeof a->detail, fmt, ap);
  va_end(ap);
  backend_redact(a->be, a->detail);
}

static bool plain_wait(void *ctx, int64_t until_ms) {
  (void)ctx;
  for (;;) {
    int64_t left = until_ms - rtime_now_ms();
    if (left <= 0)
      return true;
    rtime_sleep_ms(left);
  }
}

static enum httpc_class send_one(struct notify_attempt *a) {
  switch (a->n->kind) {
  case HL_BK_SLACK:
    return notify_slack_send(a);
  case HL_BK_JIRA:
    return notify_jira_send(a);
  case HL_BK_PAGERDUTY:
    return notify_pagerduty_send(a);
  default:
    snprintf(a->detail, sizeof a->detail, "no notifier for this kind");
    return HTTPC_PERMANENT;
  }
}

static void record(const struct notify_event *ev, const struct hl_notify *n,
                   const struct notify_result *r) {
  if (n->kind < HL_BK__COUNT)
    atomic_fetch_add_explicit(
        &g_counts[n->kind][r->status == NOTIFY_SENT ? 0 : 1], 1,
        memory_order_relaxed);
  struct log_line l;
  log_begin(&l, r->status == NOTIFY_SENT ? LOGL_INFO : LOGL_WARN,
            "notification");
  log_int(&l, "remediation", (long long)ev->rem->id);
  log_str(&l, "rule", ev->rem->rule_name);
  log_str(&l, "fingerprint", ev->rem->fingerprint);
  log_str(&l, "kind", n->kind < HL_BK__COUNT ? hl_backend_words[n->kind] : "?");
  log_str(&l, "backend", r->backend);
  log_str(&l, "target", n->target);
  log_str(&l, "outcome", rem_state_name(ev->outcome));
  log_str(&l, "status", r->status == NOTIFY_SENT ? "sent" : "failed");
  log_int(&l, "attempts", r->attempts);
  log_str(&l, "detail", r->detail);
  log_end(&l);
}

/* Sends one notification (row n) with the policy's retries; fills r. */
static void deliver(struct httpc *hc, const struct notify_event *ev,
                    const struct hl_notify *n, notify_wait_fn wait,
                    void *wait_ctx, struct notify_result *r) {
  struct notify_policy pol = g_policy;
  *r = (struct notify_result){.kind = n->kind, .status = NOTIFY_FAILED};
  const struct backend *be = backend_get(n->kind, n->backend);
  r->backend = n->backend == HL_NONE ? "default"
               : n->backend < ev->rs->nbackends
                   ? ev->rs->backends[n->backend].name
                   : "?";
  if (!be || !be->usable) {
    const char *w = n->kind < HL_BK__COUNT ? hl_backend_words[n->kind] : "?";
    if (n->backend == HL_NONE)
      snprintf(r->detail, sizeof r->detail,
               "no %s configured (default backend from HEALER_%s_*)", w,
               n->kind == HL_BK_PAGERDUTY ? "PAGERDUTY"
               : n->kind == HL_BK_JIRA    ? "JIRA"
                                          : "SLACK");
    else
      snprintf(r->detail, sizeof r->detail, "%s backend '%s' is not configured",
               w, r->backend);
  } else if (!hc) {
    snprintf(r->detail, sizeof r->detail, "no HTTP client (out of memory)");
  } else {
    struct notify_attempt a = {.hc = hc, .ev = ev, .n = n, .be = be};
    httpc_response_init(&a.rs);
    for (unsigned t = 0; t < pol.attempts; t++) {
      a.attempt = t;
      a.detail[0] = '\0';
      enum httpc_class cls = send_one(&a);
      r->attempts++;
      if (cls == HTTPC_OK) {
        r->status = NOTIFY_SENT;
        break;
      }
      if (cls == HTTPC_PERMANENT || t + 1 == pol.attempts)
        break;
      int64_t ms = httpc_backoff_ms(t, pol.backoff_ms, pol.backoff_cap_ms);
      if (a.rs.retry_after_ms > ms)
        ms = a.rs.retry_after_ms;
      if (ms > pol.max_wait_ms)
        ms = pol.max_wait_ms;
      if (!wait(wait_ctx, rtime_now_ms() + ms)) {
        size_t len = strlen(a.detail);
        snprintf(a.detail + len, sizeof a.detail - len,
                 " (gave up: shutting down)");
        break;
      }
    }
    memcpy(r->detail, a.detail, sizeof r->detail);
    httpc_response_free(&a.rs);
  }
  record(ev, n, r);
}

size_t notify_send(struct httpc *hc, const struct notify_event *ev,
                   notify_wait_fn wait, void *wait_ctx,
                   struct notify_result *res, size_t nres) {
  uint8_t bit = notify_event_of(ev->outcome);
  if (!bit || !ev->rs || ev->rem->rule >= ev->rs->nrules)
    return 0;
  if (!wait)
    wait = plain_wait;
  const struct hl_rule *rule = &ev->rs->rules[ev->rem->rule];
  size_t count = 0;
  for (uint32_t i = 0; i < rule->nnotify; i++) {
    const struct hl_notify *n = &ev->rs->notifies[rule->first_notify + i];
    if (!(n->events & bit))
      continue;
    struct notify_result r;
    deliver(hc, ev, n, wait, wait_ctx, &r);
    if (count < nres)
      res[count] = r;
    count++;
  }
  return count;
}

void notify_page(struct httpc *hc, const struct notify_event *ev,
                 notify_wait_fn wait, void *wait_ctx,
                 struct notify_result *res) {
  if (!wait)
    wait = plain_wait;
  struct hl_notify n = {HL_EV_FAILURE, HL_BK_PAGERDUTY, HL_NONE, NULL};
  const struct hl_rule *rule =
      ev->rem->rule < ev->rs->nrules ? &ev->rs->rules[ev->rem->rule] : NULL;
  for (uint32_t i = 0; rule && i < rule->nnotify; i++) {
    const struct hl_notify *rn = &ev->rs->notifies[rule->first_notify + i];
    if (rn->kind == HL_BK_PAGERDUTY) {
      n.backend = rn->backend;  /* the rule's own PagerDuty, if it names one */
      break;
    }
  }
  deliver(hc, ev, &n, wait, wait_ctx, res);
}

void notify_metrics_render(struct buf *out) {
  buf_puts(
      out,
      "# HELP healer_notifications_total Notifications after remediations, "
      "by kind and result (after retries).\n"
      "# TYPE healer_notifications_total counter\n");
  static const uint8_t kinds[] = {HL_BK_SLACK, HL_BK_JIRA, HL_BK_PAGERDUTY};
  for (size_t i = 0; i < sizeof kinds; i++)
    for (int s = 0; s < 2; s++)
      buf_printf(out,
                 "healer_notifications_total{kind=\"%s\",result=\"%s\"} %llu\n",
                 hl_backend_words[kinds[i]], s ? "failed" : "sent",
                 (unsigned long long)atomic_load_explicit(
                     &g_counts[kinds[i]][s], memory_order_relaxed));
}
