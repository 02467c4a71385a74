/*
 * action_kit.c - what every action kind does the same way; see the kit
 * section of action.h.
 */
#include "action.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "httpc.h"
#include "names.h"
#include "rtime.h"

void action_reasonf(struct action_run *run, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(run->reason, sizeof run->reason, fmt, ap);
  va_end(ap);
}

const struct backend *action_backend(struct action_run *run, uint8_t kind,
                                     bool need_url, const char *who,
                                     const char *what, const char *how) {
  const struct backend *be = backend_get(kind, run->step->backend);
  if (be && be->usable && (!need_url || backend_field(be, "url")))
    return be;
  const char *sep = who ? ": " : "";
  if (!who)
    who = "";
  if (run->step->backend == HL_NONE)
    action_reasonf(run, "%s%sno %s configured: set %s", who, sep, what, how);
  else
    action_reasonf(run, "%s%s%s backend '%s' is not configured", who, sep,
                   hl_backend_word(kind),
                   run->rs && run->step->backend < run->rs->nbackends
                       ? run->rs->backends[run->step->backend].name
                       : "?");
  return NULL;
}

struct httpc *action_client(struct action_run *run) {
  return run->client ? run->client : httpc_thread();
}

int64_t action_request_timeout(const struct action_run *run, bool cancelling) {
  if (cancelling)
    return ACTION_CANCEL_TIMEOUT_MS;
  int64_t left = run->deadline_ms - rtime_now_ms();
  if (left < ACTION_MIN_REQUEST_MS)
    left = ACTION_MIN_REQUEST_MS;
  return left < HTTPC_TIMEOUT_MS ? left : 0;
}

struct cJSON *action_json(const struct httpc_response *rs) {
  if (!rs->body.data || !rs->body.len)
    return NULL;
  return cJSON_ParseWithLengthOpts(rs->body.data, rs->body.len, NULL, 0);
}

const char *action_json_str(const struct cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

long action_json_long(const struct cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

/* At most 100 printable bytes of s's first line into out. */
static void first_line(const char *s, char *out, size_t outlen) {
  while (*s == ' ' || *s == '\n' || *s == '\r')
    s++;
  size_t n = 0;
  while (s[n] && s[n] != '\n' && s[n] != '\r' && n + 1 < outlen && n < 100)
    n++;
  for (size_t i = 0; i < n; i++)
    out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
  out[n] = '\0';
}

void action_body_excerpt(const struct httpc_response *rs, char *out,
                         size_t outlen) {
  out[0] = '\0';
  if (!rs->body.data || !outlen)
    return;
  if (strncasecmp(rs->content_type, "text/plain", 10) == 0) {
    first_line(rs->body.data, out, outlen);
  } else if (strncasecmp(rs->content_type, "application/json", 16) == 0) {
    cJSON *o = action_json(rs);
    const char *m = action_json_str(o, "message");
    if (m)
      first_line(m, out, outlen);
    cJSON_Delete(o);
  }
}

static const char *common_hint(long status) {
  switch (status) {
  case 401:
    return "credentials rejected";
  case 403:
    return "permission denied";
  case 404:
    return "not found";
  case 405:
    return "method not allowed";
  case 429:
    return "rate limited";
  case 502:
  case 504:
    return "bad gateway";
  case 503:
    return "unavailable";
  default:
    return NULL;
  }
}

void action_http_reason(struct action_run *run, const struct backend *be,
                        const char *who, const char *what,
                        const struct httpc_response *rs, action_hint_fn hint) {
  if (rs->status) {
    char ex[128];
    action_body_excerpt(rs, ex, sizeof ex);
    const char *h = hint ? hint(rs->status) : NULL;
    if (!h)
      h = common_hint(rs->status);
    action_reasonf(run, "%s: %s: HTTP %ld%s%s%s%s%s", who, what, rs->status,
                   h ? " (" : "", h ? h : "", h ? ")" : "", ex[0] ? ": " : "",
                   ex);
  } else {
    action_reasonf(run, "%s: %s: %s", who, what,
                   rs->error[0] ? rs->error : "request failed");
  }
  if (be)
    backend_redact(be, run->reason);
}

enum action_status action_failed(struct action_run *run,
                                 const struct backend *be, const char *who,
                                 const char *what,
                                 const struct httpc_response *rs,
                                 action_hint_fn hint) {
  action_http_reason(run, be, who, what, rs, hint);
  if (rs->cls == HTTPC_RETRY) {
    run->next_poll_ms =
        rs->retry_after_ms >= 0 ? rtime_now_ms() + rs->retry_after_ms : 0;
    return ACTION_RETRY;
  }
  return ACTION_FAILED;
}

void action_pace_init(struct action_pace *p, int64_t min_ms, int64_t max_ms) {
  p->min = min_ms > 0 ? min_ms : 1;
  p->max = max_ms > p->min ? max_ms : p->min;
  p->interval = p->min;
}

void action_schedule(struct action_run *run, struct action_pace *p) {
  run->next_poll_ms = rtime_now_ms() + p->interval;
  p->interval += p->interval / 2;
  if (p->interval > p->max)
    p->interval = p->max;
}

enum action_status action_poll_later(struct action_run *run,
                                     struct action_pace *p,
                                     const struct backend *be,
                                     const char *who, const char *what,
                                     const struct httpc_response *rs,
                                     action_hint_fn hint) {
  action_http_reason(run, be, who, what, rs, hint);
  action_schedule(run, p);
  if (rs->retry_after_ms > 0 &&
      rtime_now_ms() + rs->retry_after_ms > run->next_poll_ms)
    run->next_poll_ms = rtime_now_ms() + rs->retry_after_ms;
  return ACTION_PENDING;
}

void action_set_token(struct action_run *run, const char *token,
                      const char *link) {
  snprintf(run->token, sizeof run->token, "%s", token);
  run->token_changed = true;
  if (link)
    snprintf(run->link, sizeof run->link, "%s", link);
}

bool action_pause_until(struct action_run *run, int64_t at_ms) {
  if (run->wait)
    return run->wait(run->wait_ctx, at_ms);
  rtime_sleep_ms(at_ms - rtime_now_ms());
  return true;
}
