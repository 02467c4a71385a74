/*
 * act_webhook.c - the webhook kind; see act_webhook.h.
 */
#include "act_webhook.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "httpc.h"
#include "log.h"
#include "rtime.h"

#define SECRET_MAX 8192
#define KEY_MAX (BACKEND_TAG_MAX + 16)

/* ---- pure helpers -------------------------------------------------------- */

static bool name_char(char c) {
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* The length of a placeholder name at s ending with close ("}" or "}}"),
 * or 0. */
static size_t placeholder(const char *s, const char *close) {
  size_t n = 0;
  while (name_char(s[n]))
    n++;
  return n && strncmp(s + n, close, strlen(close)) == 0 ? n : 0;
}

/* A parameter the remote side sees (not method or body). */
static bool open_param(const char *name) {
  return strcmp(name, "method") != 0 && strcmp(name, "body") != 0;
}

static const char *param_n(const struct rem_step *st, const char *name,
                           size_t n, bool open_only) {
  for (uint32_t i = 0; i < st->nparams; i++) {
    const char *p = st->params[i].name;
    if (strlen(p) == n && strncmp(p, name, n) == 0 &&
        (!open_only || open_param(p)))
      return st->params[i].value;
  }
  return NULL;
}

/* Characters a URL's path and query may hold as they are (RFC 3986
 * pchar, '/' and '?', and '%' for what the rule's author encoded). */
static bool url_char(unsigned char c) {
  return isalnum(c) || strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}

int act_webhook_path(const struct rem_step *step, struct buf *out, char *err,
                     size_t errlen) {
  const char *t = step->target ? step->target : "";
  for (const char *p = t; *p;) {
    size_t n = *p == '{' ? placeholder(p + 1, "}") : 0;
    if (n) {
      const char *v = param_n(step, p + 1, n, true);
      if (!v) {
        snprintf(err, errlen, "no parameter '%.*s' for {%.*s} in the path",
                 (int)n, p + 1, (int)n, p + 1);
        return -1;
      }
      if (!*v) {
        snprintf(err, errlen, "parameter '%.*s' is empty: it cannot fill "
                 "{%.*s} in the path", (int)n, p + 1, (int)n, p + 1);
        return -1;
      }
      httpc_escape(out, v);
      p += n + 2;
      continue;
    }
    char c[2] = {*p++, '\0'};
    if (url_char((unsigned char)c[0]))
      buf_putc(out, c[0]);
    else
      httpc_escape(out, c);
  }
  if (out->oom) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

bool act_webhook_header_ok(const char *line) {
  if (!line || strpbrk(line, "\r\n"))
    return false;
  const char *colon = strchr(line, ':');
  if (!colon || colon == line)
    return false;
  for (const char *p = line; p < colon; p++)
    if (!isgraph((unsigned char)*p))
      return false;
  return true;
}

/* The built-in fields of a body: alertname, fingerprint, status, rule,
 * remediation_id. NULL for another name. */
static const char *builtin(const struct action_run *run, const char *name,
                           size_t n, char tag[BACKEND_TAG_MAX]) {
  const struct remediation *r = run->rem;
#define IS(s) (n == strlen(s) && strncmp(name, s, n) == 0)
  if (IS("alertname"))
    return r->alertname ? r->alertname : "";
  if (IS("fingerprint"))
    return r->fingerprint ? r->fingerprint : "";
  if (IS("status"))
    return r->alert_status == HL_STATUS_RESOLVED ? "resolved" : "firing";
  if (IS("rule"))
    return r->rule_name ? r->rule_name : "";
  if (IS("remediation_id"))
    return backend_rem_tag(r, tag);
#undef IS
  return NULL;
}

static const char *const builtins[] = {"alertname", "fingerprint", "status",
                                       "rule", "remediation_id"};

/* The body without a `body` parameter: built-ins, then the parameters. */
static char *default_body(const struct action_run *run) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o != NULL;
  char tag[BACKEND_TAG_MAX];
  for (size_t i = 0; ok && i < sizeof builtins / sizeof builtins[0]; i++)
    ok = cJSON_AddStringToObject(
             o, builtins[i],
             builtin(run, builtins[i], strlen(builtins[i]), tag)) != NULL;
  const struct rem_step *st = run->step;
  for (uint32_t i = 0; ok && i < st->nparams; i++) {
    const struct rem_param *p = &st->params[i];
    if (!open_param(p->name))
      continue;
    cJSON *v = cJSON_CreateString(p->value);
    if (!v) {
      ok = false;
      break;
    }
    if (cJSON_HasObjectItem(o, p->name))
      cJSON_ReplaceItemInObjectCaseSensitive(o, p->name, v);
    else
      cJSON_AddItemToObject(o, p->name, v);
  }
  char *out = ok ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  return out;
}

/* The `body` template filled in: each {{name}} a JSON string literal. */
static char *fill_body(const struct action_run *run, const char *tpl,
                       char *err, size_t errlen) {
  struct buf b;
  buf_init(&b);
  char tag[BACKEND_TAG_MAX];
  for (const char *p = tpl; *p;) {
    size_t n = strncmp(p, "{{", 2) == 0 ? placeholder(p + 2, "}}") : 0;
    if (!n) {
      buf_putc(&b, *p++);
      continue;
    }
    const char *v = param_n(run->step, p + 2, n, true);
    if (!v)
      v = builtin(run, p + 2, n, tag);
    if (!v) {
      snprintf(err, errlen, "no parameter '%.*s' for {{%.*s}} in the body",
               (int)n, p + 2, (int)n, p + 2);
      buf_free(&b);
      return NULL;
    }
    cJSON *s = cJSON_CreateString(v);
    char *lit = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!lit) {
      b.oom = true;
      break;
    }
    buf_puts(&b, lit);
    free(lit);
    p += n + 4;
  }
  if (b.oom) {
    buf_free(&b);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  char *out = buf_steal(&b, NULL);
  if (!out)
    out = strdup("");
  cJSON *check = out ? cJSON_ParseWithLengthOpts(out, strlen(out), NULL, 0)
                     : NULL;
  if (!check) {
    snprintf(err, errlen, "the body is not JSON once filled in (a {{name}} "
             "becomes a quoted string: write it without quotes)");
    free(out);
    return NULL;
  }
  cJSON_Delete(check);
  return out;
}

char *act_webhook_body(const struct action_run *run, char *err,
                       size_t errlen) {
  const char *tpl = param_n(run->step, "body", 4, false);
  if (tpl)
    return fill_body(run, tpl, err, errlen);
  char *out = default_body(run);
  if (!out)
    snprintf(err, errlen, "out of memory");
  return out;
}

/* ---- the call ------------------------------------------------------------ */

static void redact(char *s, const char *secret) {
  size_t n = secret ? strlen(secret) : 0;
  if (n < 3)
    return;
  for (char *p; (p = strstr(s, secret));) {
    memcpy(p, "***", 3);
    memmove(p + 3, p + n, strlen(p + n) + 1);
  }
}

static void wipe(char *s, size_t n) {
  volatile char *p = s;
  while (n--)
    *p++ = 0;
}

/* The step's Idempotency-Key: "<tag>-s<step number>". */
static void idempotency_key(const struct action_run *run, char *out,
                            size_t outlen) {
  char tag[BACKEND_TAG_MAX];
  size_t step = 1;
  if (run->rem->steps && run->step >= run->rem->steps &&
      run->step < run->rem->steps + run->rem->nsteps)
    step = (size_t)(run->step - run->rem->steps) + 1;
  snprintf(out, outlen, "%s-s%zu", backend_rem_tag(run->rem, tag), step);
}

struct call {
  const struct backend *be;
  enum httpc_method method;
  const char *mname;
  char *token;  /* fresh, or "" */
  char *header; /* fresh "Name: value", or "" */
};

static const char *hint(long status) {
  return status == 422 ? "unprocessable: the receiver refused the body"
                       : NULL;
}

/* The reason without secrets: the backend's (the kit), the current token,
 * header line and header value. */
static void redact_call(struct action_run *run, const struct call *c) {
  redact(run->reason, c->token);
  redact(run->reason, c->header);
  const char *colon = strchr(c->header, ':');
  if (colon) {
    while (*++colon == ' ' || *colon == '\t')
      ;
    redact(run->reason, colon);
  }
}

/* An error answer's excerpt for JSON bodies that say "error" (the kit's
 * reads "message"), appended to the reason. */
static void add_error_member(struct action_run *run,
                             const struct httpc_response *rs) {
  char ex[128];
  action_body_excerpt(rs, ex, sizeof ex);
  if (ex[0] || !rs->status)
    return;
  cJSON *o = action_json(rs);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
  const char *m = cJSON_IsString(e) ? e->valuestring
                                    : action_json_str(e, "message");
  if (m) {
    size_t n = strlen(run->reason);
    snprintf(run->reason + n, sizeof run->reason - n, ": %.100s", m);
    for (char *p = run->reason + n; *p; p++)
      if (!isprint((unsigned char)*p))
        *p = '?';
  }
  cJSON_Delete(o);
}

static enum action_status call_once(struct action_run *run, struct call *c,
                               const char *url, const char *body) {
  char key[KEY_MAX], keyh[KEY_MAX + 20];
  idempotency_key(run, key, sizeof key);
  snprintf(keyh, sizeof keyh, "Idempotency-Key: %s", key);
  const char *hdrs[3] = {keyh, "Accept: application/json", NULL};
  size_t nh = 2;
  if (c->header[0])
    hdrs[nh++] = c->header;
  struct httpc *hc = action_client(run);
  if (!hc) {
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  struct httpc_request rq = {
      .method = c->method,
      .url = url,
      .content_type = body ? "application/json" : NULL,
      .body = body,
      .body_len = body ? strlen(body) : 0,
      .headers = hdrs,
      .nheaders = nh,
      .auth = c->token[0] ? HTTPC_AUTH_BEARER : HTTPC_AUTH_NONE,
      .secret = c->token,
      .timeout_ms = action_request_timeout(run, false),
      /* POST and PATCH are not idempotent by themselves: never let
       * libcurl re-send one on its own; the worker's retries carry the
       * key. */
      .flags = c->method == HTTPC_POST || c->method == HTTPC_PATCH
                   ? HTTPC_NO_RESEND
                   : 0,
      .ca_file = backend_field(c->be, "ca_file"),
      .hist = c->be->requests,
  };
  struct httpc_response rs;
  httpc_response_init(&rs);
  int rc = httpc_do(hc, &rq, &rs);
  char who[200];
  snprintf(who, sizeof who, "webhook %s '%.120s'", c->mname,
           run->step->target ? run->step->target : "");
  enum action_status st;
  if (rc == 0 && rs.status >= 200 && rs.status < 300) {
    action_reasonf(run, "%s: HTTP %ld", who, rs.status);
    st = ACTION_SUCCEEDED;
  } else if (rc == 0 && rs.status < 400) {
    action_reasonf(run, "%s: HTTP %ld (redirects are not followed)", who,
                   rs.status);
    st = ACTION_FAILED;
  } else {
    st = action_failed(run, c->be, who, "call", &rs, hint);
    add_error_member(run, &rs);
  }
  redact_call(run, c);
  struct log_line l;
  log_begin(&l, st == ACTION_SUCCEEDED ? LOGL_INFO : LOGL_WARN,
            "webhook_call");
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "method", c->mname);
  log_str(&l, "path", run->step->target);
  log_str(&l, "idempotency_key", key);
  if (rc == 0)
    log_int(&l, "status", rs.status);
  else
    log_str(&l, "error", rs.error);
  log_int(&l, "attempt", (long long)run->attempt + 1);
  log_end(&l);
  httpc_response_free(&rs);
  return st;
}

static const struct {
  const char *name;
  enum httpc_method m;
} methods[] = {{"GET", HTTPC_GET},     {"POST", HTTPC_POST},
               {"PUT", HTTPC_PUT},     {"PATCH", HTTPC_PATCH},
               {"DELETE", HTTPC_DELETE}};

static enum action_status wh_start(struct action_run *run) {
  const struct backend *be = action_backend(
      run, HL_BK_WEBHOOK, true, NULL, "webhook endpoint",
      "HEALER_WEBHOOK_URL (and HEALER_WEBHOOK_TOKEN_FILE or "
      "HEALER_WEBHOOK_HEADER_FILE)");
  if (!be)
    return ACTION_FAILED;
  const char *base = backend_field(be, "url");
  struct call c = {.be = be, .method = HTTPC_POST, .mname = "POST"};
  const char *m = param_n(run->step, "method", 6, false);
  if (m) {
    size_t i = 0;
    while (i < sizeof methods / sizeof methods[0] &&
           strcasecmp(methods[i].name, m) != 0)
      i++;
    if (i == sizeof methods / sizeof methods[0]) {
      action_reasonf(run, "webhook: method '%.20s' is not one of GET, POST, "
                          "PUT, PATCH, DELETE", m);
      return ACTION_FAILED;
    }
    c.method = methods[i].m;
    c.mname = methods[i].name;
  }
  bool has_tpl = param_n(run->step, "body", 4, false) != NULL;
  if (c.method == HTTPC_GET && has_tpl) {
    action_reasonf(run, "webhook: a GET has no body; drop 'body' or use "
                        "another method");
    return ACTION_FAILED;
  }
  char err[256];
  struct buf url;
  buf_init(&url);
  buf_puts(&url, base);
  while (url.len && url.data[url.len - 1] == '/')
    url.data[--url.len] = '\0';
  if (run->step->target && run->step->target[0] != '/' &&
      run->step->target[0])
    buf_putc(&url, '/');
  if (act_webhook_path(run->step, &url, err, sizeof err) < 0) {
    buf_free(&url);
    action_reasonf(run, "webhook '%.120s': %s", run->step->target, err);
    return ACTION_FAILED;
  }
  char *body = NULL;
  bool with_body = c.method == HTTPC_POST || c.method == HTTPC_PUT ||
                   c.method == HTTPC_PATCH ||
                   (c.method == HTTPC_DELETE && has_tpl);
  if (with_body && !(body = act_webhook_body(run, err, sizeof err))) {
    buf_free(&url);
    action_reasonf(run, "webhook '%.120s': %s", run->step->target, err);
    return ACTION_FAILED;
  }
  enum action_status st = ACTION_FAILED;
  c.token = malloc(SECRET_MAX);
  c.header = malloc(SECRET_MAX);
  if (!c.token || !c.header || url.oom) {
    action_reasonf(run, "out of memory");
    st = ACTION_RETRY;
    goto done;
  }
  if (backend_field_fresh(be, "token", c.token, SECRET_MAX) < 0)
    c.token[0] = '\0';
  if (backend_field_fresh(be, "header", c.header, SECRET_MAX) < 0)
    c.header[0] = '\0';
  if (c.header[0] && !act_webhook_header_ok(c.header)) {
    char d[256];
    action_reasonf(run, "%s: field header must be one 'Name: value' line "
                        "(no CR or LF)", backend_describe(be, d, sizeof d));
    goto done;
  }
  st = call_once(run, &c, url.data, body);
done:
  if (c.token)
    wipe(c.token, SECRET_MAX);
  if (c.header)
    wipe(c.header, SECRET_MAX);
  free(c.token);
  free(c.header);
  free(body);
  buf_free(&url);
  return st;
}

static enum action_status wh_poll(struct action_run *run) {
  action_reasonf(run, "webhook: nothing to follow");
  return ACTION_FAILED;
}

static void wh_cancel(struct action_run *run) { (void)run; }

const struct action_ops act_ops_WEBHOOK = {
    .name = "webhook",
    .start = wh_start,
    .poll = wh_poll,
    .cancel = wh_cancel,
    .release = NULL,
    /* A webhook is one call, never PENDING. Sending it again after a
     * restart or a lost reply is safe because every attempt of the step
     * carries the same Idempotency-Key (the remediation's tag and the
     * step): a receiver that honours it answers the repeat with the first
     * answer instead of acting twice. */
    .start_checks_earlier = true,
};
