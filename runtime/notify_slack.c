/*
 * notify_slack.c - Slack incoming webhook (api-contracts.md section 5.1).
 *
 * POST <webhook> with Content-Type application/json and
 *   {"text": fallback, "blocks": [{"type":"section","text":{"type":"mrkdwn",
 *    "text": ...}}], "channel": "#x" (when the clause names one)}
 * Success is 200 (body "ok"). 429 carries Retry-After; 5xx are retried;
 * other 4xx ("channel_not_found", "no_service", ...) are not.
 *
 * The webhook URL is the secret: it appears in no message.
 */
#include <stdio.h>
#include <string.h>

#include "notify.h"
#include "rtime.h"

/* s for Slack mrkdwn: &, < and > escaped (so values cannot make links or
 * mentions), at most max bytes of s. */
static void mrkdwn(struct buf *b, const char *s, size_t max) {
  size_t start = b->len;
  for (; s && *s; s++) {
    if (b->len - start >= max) {
      buf_puts(b, "...");
      return;
    }
    switch (*s) {
    case '&':
      buf_puts(b, "&amp;");
      break;
    case '<':
      buf_puts(b, "&lt;");
      break;
    case '>':
      buf_puts(b, "&gt;");
      break;
    default:
      buf_putc(b, *s);
    }
  }
}

static void message(const struct notify_event *ev, struct buf *t) {
  const struct remediation *r = ev->rem;
  char dur[RTIME_BUFSZ];
  buf_puts(t, ev->outcome == REM_SUCCEEDED ? ":white_check_mark: " : ":x: ");
  buf_puts(t, "*healer: remediation ");
  buf_puts(t, notify_outcome_word(ev->outcome));
  buf_puts(t, "* (rule ");
  mrkdwn(t, r->rule_name, 200);
  buf_printf(t, ", remediation %llu)\n*Alert:* ", (unsigned long long)r->id);
  mrkdwn(t, r->alertname, 200);
  buf_puts(t, ", fingerprint ");
  mrkdwn(t, r->fingerprint, 64);
  buf_puts(t, ", since ");
  mrkdwn(t, r->starts_at, 64);
  bool first = true;
  for (uint32_t s = 0; s < r->nsteps; s++)
    for (uint32_t k = 0; k < r->steps[s].nparams; k++) {
      buf_puts(t, first ? "\n*Parameters:* " : ", ");
      mrkdwn(t, r->steps[s].params[k].name, 100);
      buf_putc(t, '=');
      mrkdwn(t, r->steps[s].params[k].value, 200);
      first = false;
    }
  buf_puts(t, "\n*Outcome:* ");
  buf_puts(t, notify_outcome_word(ev->outcome));
  buf_puts(t, " after ");
  buf_puts(t, notify_duration(ev, dur));
  if (ev->reason && *ev->reason) {
    buf_puts(t, ": ");
    mrkdwn(t, ev->reason, 400);
  }
  if (ev->link && *ev->link) {
    buf_puts(t, "\n<");
    mrkdwn(t, ev->link, 500);
    buf_puts(t, "|Build>");
  }
  notify_cut_utf8(t, 2900); /* a section's text is limited to 3000 */
}

enum httpc_class notify_slack_send(struct notify_attempt *a) {
  const char *hook = backend_field(a->be, "webhook");
  if (!hook) {
    notify_detailf(a, "slack: no webhook");
    return HTTPC_PERMANENT;
  }
  struct buf text, fallback, body;
  buf_init(&text);
  buf_init(&fallback);
  buf_init(&body);
  message(a->ev, &text);
  struct buf plain;
  buf_init(&plain);
  notify_summary(a->ev, &plain, 400);
  mrkdwn(&fallback, plain.data ? plain.data : "healer", 500);
  buf_free(&plain);
  buf_puts(&body, "{\"text\":");
  buf_json_str(&body, fallback.data ? fallback.data : "healer");
  buf_puts(&body, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":"
                  "\"mrkdwn\",\"text\":");
  buf_json_str(&body, text.data ? text.data : "healer");
  buf_puts(&body, "}}]");
  if (a->n->target && *a->n->target) {
    buf_puts(&body, ",\"channel\":");
    buf_json_str(&body, a->n->target);
  }
  buf_puts(&body, "}");
  enum httpc_class cls;
  if (text.oom || fallback.oom || body.oom) {
    notify_detailf(a, "slack: out of memory");
    cls = HTTPC_RETRY;
  } else {
    struct httpc_request rq = {
        .method = HTTPC_POST,
        .url = hook,
        .content_type = "application/json",
        .body = body.data,
        .body_len = body.len,
        .timeout_ms = NOTIFY_REQUEST_TIMEOUT_MS,
        .hist = a->be->requests,
    };
    if (httpc_do(a->hc, &rq, &a->rs) == 0 && a->rs.status == 200) {
      notify_detailf(a, "ok");
      cls = HTTPC_OK;
    } else {
      cls = notify_failed(a, "slack");
    }
  }
  buf_free(&text);
  buf_free(&fallback);
  buf_free(&body);
  return cls;
}
