/*
 * notify_pagerduty.c - PagerDuty Events API v2 (api-contracts.md section 7).
 *
 * POST <url>/v2/enqueue, url defaulting to https://events.pagerduty.com:
 *   failure, timeout  {"routing_key","event_action":"trigger","dedup_key",
 *                      "payload":{summary,source,severity:"critical",class,
 *                      component,custom_details},"links":[...],"client"}
 *   success           {"routing_key","event_action":"resolve","dedup_key"}
 * dedup_key = "healer/<fingerprint>/<startsAt>", so a retried or repeated
 * event pages once (the Events API is idempotent per dedup_key). 202 is
 * success; 429 and 5xx are retried; 400 is not.
 *
 * The routing key is the secret: it is only ever in the request body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify.h"
#include "rtime.h"

#define DEFAULT_URL "https://events.pagerduty.com"
#define DEDUP_MAX 255

/* The affected host, as PagerDuty's payload.source wants: a parameter
 * that names one, else "healer". */
static const char *source_of(const struct remediation *r) {
  static const char *const names[] = {"node", "host", "hostname", "instance",
                                      "server"};
  for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
    for (uint32_t s = 0; s < r->nsteps; s++)
      for (uint32_t k = 0; k < r->steps[s].nparams; k++)
        if (strcasecmp(r->steps[s].params[k].name, names[n]) == 0 &&
            r->steps[s].params[k].value[0])
          return r->steps[s].params[k].value;
  return "healer";
}

enum httpc_class notify_pagerduty_send(struct notify_attempt *a) {
  const struct notify_event *ev = a->ev;
  const struct remediation *r = ev->rem;
  const char *key = backend_field(a->be, "routing_key");
  const char *url = backend_field(a->be, "url");
  if (!url || !*url)
    url = DEFAULT_URL;
  if (!key) {
    notify_detailf(a, "pagerduty: no routing key");
    return HTTPC_PERMANENT;
  }
  struct buf dedup, body, summary;
  buf_init(&dedup);
  buf_init(&body);
  buf_init(&summary);
  if (ev->dedup_key)
    buf_puts(&dedup, ev->dedup_key);
  else
    buf_printf(&dedup, "healer/%s/%s", r->fingerprint, r->starts_at);
  notify_cut_utf8(&dedup, DEDUP_MAX);
  bool resolve = ev->outcome == REM_SUCCEEDED;
  buf_puts(&body, "{\"routing_key\":");
  buf_json_str(&body, key);
  buf_printf(&body, ",\"event_action\":\"%s\",\"dedup_key\":",
             resolve ? "resolve" : "trigger");
  buf_json_str(&body, dedup.data ? dedup.data : "healer");
  if (!resolve) {
    char dur[RTIME_BUFSZ], ts[RTIME_BUFSZ];
    notify_summary(ev, &summary, 1000);
    buf_puts(&body, ",\"payload\":{\"summary\":");
    buf_json_str(&body, summary.data ? summary.data : "healer");
    buf_puts(&body, ",\"source\":");
    buf_json_str(&body, source_of(r));
    buf_puts(&body, ",\"severity\":\"critical\",\"timestamp\":");
    buf_json_str(&body, rtime_format(ev->ended_ms, ts));
    buf_puts(&body, ",\"class\":");
    buf_json_str(&body, r->alertname);
    buf_puts(&body, ",\"component\":");
    buf_json_str(&body, r->rule_name);
    buf_puts(&body, ",\"custom_details\":{\"rule\":");
    buf_json_str(&body, r->rule_name);
    buf_printf(&body,
               ",\"remediation\":%llu,\"outcome\":", (unsigned long long)r->id);
    buf_json_str(&body, rem_state_name(ev->outcome));
    buf_puts(&body, ",\"reason\":");
    buf_json_str(&body, ev->reason ? ev->reason : "");
    buf_puts(&body, ",\"duration\":");
    buf_json_str(&body, notify_duration(ev, dur));
    buf_puts(&body, ",\"fingerprint\":");
    buf_json_str(&body, r->fingerprint);
    buf_puts(&body, ",\"parameters\":{");
    bool first = true;
    for (uint32_t s = 0; s < r->nsteps; s++)
      for (uint32_t k = 0; k < r->steps[s].nparams; k++) {
        if (!first)
          buf_putc(&body, ',');
        buf_json_str(&body, r->steps[s].params[k].name);
        buf_putc(&body, ':');
        buf_json_str(&body, r->steps[s].params[k].value);
        first = false;
      }
    buf_puts(&body, "}}}");
    if (ev->link && *ev->link &&
        (strncmp(ev->link, "http://", 7) == 0 ||
         strncmp(ev->link, "https://", 8) == 0)) {
      buf_puts(&body, ",\"links\":[{\"href\":");
      buf_json_str(&body, ev->link);
      buf_puts(&body, ",\"text\":\"Build\"}]");
    }
    buf_puts(&body, ",\"client\":\"healer\"");
  }
  buf_putc(&body, '}');

  enum httpc_class cls;
  char err[HTTPC_ERR_MAX];
  static const char *const path[] = {"v2", "enqueue"};
  char *u = httpc_url(url, path, 2, NULL, 0, err, sizeof err);
  if (!u || body.oom || dedup.oom || summary.oom) {
    notify_detailf(a, "pagerduty: %s", u ? "out of memory" : err);
    cls = u ? HTTPC_RETRY : HTTPC_PERMANENT;
  } else {
    struct httpc_request rq = {
        .method = HTTPC_POST,
        .url = u,
        .content_type = "application/json",
        .body = body.data,
        .body_len = body.len,
        .timeout_ms = NOTIFY_REQUEST_TIMEOUT_MS,
        .hist = a->be->requests,
    };
    if (httpc_do(a->hc, &rq, &a->rs) == 0 && a->rs.status >= 200 &&
        a->rs.status < 300) {
      notify_detailf(a, "%s %.200s", resolve ? "resolved" : "triggered",
                     dedup.data);
      cls = HTTPC_OK;
    } else {
      cls = notify_failed(a, "pagerduty");
    }
  }
  free(u);
  buf_free(&dedup);
  buf_free(&body);
  buf_free(&summary);
  return cls;
}
