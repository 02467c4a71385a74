/*
 * act_spinnaker.c - the Spinnaker kind; see act_spinnaker.h.
 */
#include "act_spinnaker.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "rtime.h"

#define SECRET_MAX 8192 /* a bearer token (a JWT) or a password */
#define CTAG_MAX (BACKEND_TAG_MAX + 16)

static int64_t g_poll_min = ACT_SPINNAKER_POLL_MIN_MS;
static int64_t g_poll_max = ACT_SPINNAKER_POLL_MAX_MS;
static int64_t g_cancel_wait = ACT_SPINNAKER_CANCEL_WAIT_MS;

void act_spinnaker_set_poll(int64_t min_ms, int64_t max_ms) {
  g_poll_min = min_ms > 0 ? min_ms : ACT_SPINNAKER_POLL_MIN_MS;
  g_poll_max = max_ms > 0 ? max_ms : ACT_SPINNAKER_POLL_MAX_MS;
  if (g_poll_max < g_poll_min)
    g_poll_max = g_poll_min;
}

void act_spinnaker_set_cancel_wait(int64_t ms) {
  g_cancel_wait = ms > 0 ? ms : ACT_SPINNAKER_CANCEL_WAIT_MS;
}

enum phase {
  PH_TRIGGER, /* not (known to be) triggered yet */
  PH_FOLLOW,  /* following execution id */
  PH_DONE
};

struct sp {
  const struct backend *be;   /* borrowed from the backend table */
  const char *url;            /* borrowed from be */
  const char *app;            /* borrowed from the step's parameters */
  bool bearer;                /* token (else basic when user is set) */
  char tag[BACKEND_TAG_MAX];  /* the remediation's */
  char ctag[CTAG_MAX];        /* the step's correlationId */
  enum phase phase;
  bool maybe_sent;            /* a trigger may have reached Gate unseen */
  int not_found;              /* 404s in a row while following */
  char id[ACT_SPINNAKER_ID_MAX];
  char resume[ACT_SPINNAKER_ID_MAX + 8]; /* "exec:<id>" */
  char link[ACTION_LINK_MAX]; /* the execution at Gate */
  struct action_pace pace;
  struct httpc_response rs;   /* reused for every request */
};

/* ---- pure helpers -------------------------------------------------------- */

/* Orca's completed set: the HL_RESULT names of SPINNAKER (actions.def). */
static const struct {
  uint8_t kind;
  const char *name;
} results[] = {
#define HL_RESULT(action, name, success) {HL_ACT_##action, name},
#include "actions.def"
};

bool act_spinnaker_completed(const char *status) {
  if (!status)
    return false;
  for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
    if (results[i].kind == HL_ACT_SPINNAKER &&
        strcmp(results[i].name, status) == 0)
      return true;
  return false;
}

static bool id_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static int copy_id(const char *s, char *id, size_t idlen) {
  size_t n = strlen(s);
  if (!n || n >= idlen)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!id_char(s[i]))
      return -1;
  memcpy(id, s, n + 1);
  return 0;
}

int act_spinnaker_ref_id(const char *ref, char *id, size_t idlen) {
  if (!ref)
    return -1;
  const char *p = strstr(ref, "/pipelines/");
  if (!p)
    return -1;
  for (const char *s = p; (s = strstr(s + 1, "/pipelines/"));)
    p = s;
  return copy_id(p + strlen("/pipelines/"), id, idlen);
}

int act_spinnaker_parse_token(const char *token, char *id, size_t idlen) {
  if (!token || strncmp(token, "exec:", 5) != 0)
    return -1;
  return copy_id(token + 5, id, idlen);
}

const char *act_spinnaker_token(const struct action_run *run) {
  const struct sp *s = run->state;
  return s && s->resume[0] ? s->resume : NULL;
}

const char *act_spinnaker_correlation(const struct action_run *run,
                                      char *out, size_t outlen) {
  char tag[BACKEND_TAG_MAX];
  size_t step = 1;
  if (run->rem->steps && run->step >= run->rem->steps &&
      run->step < run->rem->steps + run->rem->nsteps)
    step = (size_t)(run->step - run->rem->steps) + 1;
  snprintf(out, outlen, "%s-s%zu", backend_rem_tag(run->rem, tag), step);
  return out;
}

/* Standard base64 with padding (what java.util.Base64 decodes). */
static void base64(struct buf *b, const char *s) {
  static const char al[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    buf_putc(b, al[(v >> 18) & 63]);
    buf_putc(b, al[(v >> 12) & 63]);
    buf_putc(b, i + 1 < n ? al[(v >> 6) & 63] : '=');
    buf_putc(b, i + 2 < n ? al[v & 63] : '=');
  }
}

/* ---- requests ------------------------------------------------------------ */

/* Replaces every occurrence of secret in s with "***". */
static void redact(char *s, const char *secret) {
  size_t n = secret ? strlen(secret) : 0;
  if (n < 4)
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

/* The secret to send: the token (bearer) or the password (basic), as its
 * file holds it now. "" when there is none. */
static void current_secret(const struct sp *s, char *out, size_t outlen) {
  out[0] = '\0';
  if (backend_field_fresh(s->be, s->bearer ? "token" : "password", out,
                          outlen) < 0)
    out[0] = '\0';
}

/* Sends one request to base + segs (+ query) and fills s->rs. Returns 0
 * when Gate answered, -1 otherwise (transport error, or a URL that cannot
 * be built: then s->rs.cls is PERMANENT). */
static int sp_request(struct action_run *run, struct sp *s,
                      enum httpc_method m, const char *const *segs,
                      size_t nsegs, const struct httpc_kv *q, size_t nq,
                      const char *body, unsigned flags, bool cancelling) {
  char err[HTTPC_ERR_MAX];
  char *url = httpc_url(s->url, segs, nsegs, q, nq, err, sizeof err);
  struct httpc *hc = action_client(run);
  if (!url || !hc) {
    httpc_response_free(&s->rs);
    httpc_response_init(&s->rs);
    s->rs.cls = url ? HTTPC_RETRY : HTTPC_PERMANENT;
    snprintf(s->rs.error, sizeof s->rs.error, "%s",
             url ? "out of memory" : err);
    free(url);
    return -1;
  }
  char *secret = malloc(SECRET_MAX);
  if (!secret) {
    free(url);
    httpc_response_free(&s->rs);
    httpc_response_init(&s->rs);
    s->rs.cls = HTTPC_RETRY;
    snprintf(s->rs.error, sizeof s->rs.error, "out of memory");
    return -1;
  }
  current_secret(s, secret, SECRET_MAX);
  const char *user = backend_field(s->be, "user");
  static const char *const hdrs[] = {"Accept: application/json"};
  struct httpc_request rq = {
      .method = m,
      .url = url,
      .content_type = body ? "application/json" : NULL,
      .body = body,
      .body_len = body ? strlen(body) : 0,
      .headers = hdrs,
      .nheaders = 1,
      .auth = s->bearer && secret[0] ? HTTPC_AUTH_BEARER
              : user && secret[0]    ? HTTPC_AUTH_BASIC
                                     : HTTPC_AUTH_NONE,
      .user = user,
      .secret = secret,
      .timeout_ms = action_request_timeout(run, cancelling),
      .flags = flags,
      .ca_file = backend_field(s->be, "ca_file"),
      .client_cert = backend_field(s->be, "client_cert"),
      .client_key = backend_field(s->be, "client_key"),
      .hist = s->be->requests,
  };
  int rc = httpc_do(hc, &rq, &s->rs);
  wipe(secret, SECRET_MAX);
  free(secret);
  free(url);
  return rc;
}

/* What a status means from Gate (4.5; the kit adds the common ones). */
static const char *trigger_hint(long status) {
  switch (status) {
  case 400:
    return "rejected: a required parameter missing, or the pipeline disabled";
  case 403:
    return "permission denied: does the user have EXECUTE on the application?";
  case 404:
    return "no such application or pipeline";
  case 415:
    return "unsupported media type";
  default:
    return NULL;
  }
}

static const char *follow_hint(long status) {
  return status == 403 ? "permission denied on the application" : NULL;
}

/* How reasons name the step: "spinnaker pipeline 'app/name'". */
static const char *who(const struct action_run *run, const struct sp *s,
                       char *out, size_t n) {
  snprintf(out, n, "spinnaker pipeline '%.60s/%.80s'", s->app ? s->app : "?",
           run->step->target ? run->step->target : "?");
  return out;
}

/* The reason's secrets out: the backend's (the kit) and the current ones. */
static void redact_current(struct action_run *run, const struct sp *s) {
  char *secret = malloc(SECRET_MAX);
  if (!secret)
    return;
  current_secret(s, secret, SECRET_MAX);
  redact(run->reason, secret);
  wipe(secret, SECRET_MAX);
  free(secret);
}

static enum action_status failed(struct action_run *run, struct sp *s,
                                 const char *what, action_hint_fn hint) {
  char w[200];
  enum action_status st =
      action_failed(run, s->be, who(run, s, w, sizeof w), what, &s->rs, hint);
  redact_current(run, s);
  return st;
}

static enum action_status poll_later(struct action_run *run, struct sp *s,
                                     const char *what) {
  char w[200];
  enum action_status st = action_poll_later(
      run, &s->pace, s->be, who(run, s, w, sizeof w), what, &s->rs,
      follow_hint);
  redact_current(run, s);
  return st;
}

static void log_event(const struct action_run *run, const struct sp *s,
                      const char *msg, const char *status) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "application", s->app);
  log_str(&l, "pipeline", run->step->target);
  log_str(&l, "correlation_id", s->ctag);
  if (s->id[0])
    log_str(&l, "execution", s->id);
  if (status)
    log_str(&l, "status", status);
  log_end(&l);
}

/* Following execution id from now on: publishes the token and the link. */
static void to_follow(struct action_run *run, struct sp *s, const char *id) {
  snprintf(s->id, sizeof s->id, "%s", id);
  snprintf(s->resume, sizeof s->resume, "exec:%s", s->id);
  char base[ACTION_LINK_MAX - ACT_SPINNAKER_ID_MAX - 16];
  snprintf(base, sizeof base, "%s", s->url);
  size_t n = strlen(base);
  while (n && base[n - 1] == '/')
    base[--n] = '\0';
  snprintf(s->link, sizeof s->link, "%s/pipelines/%s", base, s->id);
  s->phase = PH_FOLLOW;
  s->maybe_sent = false;
  s->not_found = 0;
  action_set_token(run, s->resume, s->link);
}

/* ---- finding a trigger that may have been lost --------------------------- */

enum found { FOUND, NOT_FOUND, FIND_ERROR };

/* Looks the step's correlationId up among the application's executions
 * (4.5: gate ExecutionsController search, a subset match on the trigger). */
static enum found find_correlated(struct action_run *run, struct sp *s,
                                  bool cancelling) {
  cJSON *sub = cJSON_CreateObject();
  char *js = NULL;
  if (!sub || !cJSON_AddStringToObject(sub, "correlationId", s->ctag) ||
      !(js = cJSON_PrintUnformatted(sub))) {
    cJSON_Delete(sub);
    httpc_response_free(&s->rs);
    httpc_response_init(&s->rs);
    s->rs.cls = HTTPC_RETRY;
    snprintf(s->rs.error, sizeof s->rs.error, "out of memory");
    return FIND_ERROR;
  }
  cJSON_Delete(sub);
  struct buf b64;
  buf_init(&b64);
  base64(&b64, js);
  free(js);
  const char *const path[] = {"applications", s->app, "executions", "search"};
  const struct httpc_kv q[] = {{"trigger", b64.data ? b64.data : ""},
                               {"size", "5"}};
  int rc = sp_request(run, s, HTTPC_GET, path, 4, q, 2, NULL, 0, cancelling);
  buf_free(&b64);
  if (rc < 0 || s->rs.status != 200) {
    if (rc == 0 && s->rs.cls == HTTPC_OK)
      s->rs.cls = HTTPC_PERMANENT;
    return FIND_ERROR;
  }
  cJSON *o = action_json(&s->rs);
  if (!cJSON_IsArray(o)) {
    cJSON_Delete(o);
    s->rs.status = 0;
    s->rs.cls = HTTPC_RETRY;
    snprintf(s->rs.error, sizeof s->rs.error, "unreadable search answer");
    return FIND_ERROR;
  }
  enum found res = NOT_FOUND;
  const cJSON *ex;
  cJSON_ArrayForEach(ex, o) { /* newest first */
    const char *id = action_json_str(ex, "id");
    char idb[ACT_SPINNAKER_ID_MAX];
    const cJSON *trig = cJSON_GetObjectItemCaseSensitive(ex, "trigger");
    const char *cid = action_json_str(trig, "correlationId");
    /* The search matches case-insensitively or as a regex: check. */
    if (id && cid && strcmp(cid, s->ctag) == 0 &&
        copy_id(id, idb, sizeof idb) == 0) {
      to_follow(run, s, idb);
      res = FOUND;
      break;
    }
  }
  cJSON_Delete(o);
  return res;
}

/* ---- start --------------------------------------------------------------- */

static const char *param(const struct rem_step *st, const char *name) {
  for (uint32_t i = 0; i < st->nparams; i++)
    if (strcmp(st->params[i].name, name) == 0)
      return st->params[i].value;
  return NULL;
}

static struct sp *sp_new(struct action_run *run) {
  const struct backend *be = action_backend(
      run, HL_BK_SPINNAKER, true, NULL, "Spinnaker",
      "HEALER_SPINNAKER_URL (and HEALER_SPINNAKER_TOKEN_FILE, or "
      "HEALER_SPINNAKER_USER and HEALER_SPINNAKER_PASSWORD_FILE)");
  if (!be)
    return NULL;
  const char *url = backend_field(be, "url");
  const char *user = backend_field(be, "user"),
             *pass = backend_field(be, "password"),
             *cert = backend_field(be, "client_cert"),
             *key = backend_field(be, "client_key");
  char d[256];
  if ((user == NULL) != (pass == NULL)) {
    action_reasonf(run, "%s: user and password go together",
                   backend_describe(be, d, sizeof d));
    return NULL;
  }
  if (key && !cert) {
    action_reasonf(run, "%s: client_key without client_cert",
                   backend_describe(be, d, sizeof d));
    return NULL;
  }
  const char *app = param(run->step, "application");
  if (!app || !*app || !run->step->target || !*run->step->target) {
    action_reasonf(run, "spinnaker: the step needs an application and a "
                        "pipeline name");
    return NULL;
  }
  struct sp *s = calloc(1, sizeof *s);
  if (!s) {
    action_reasonf(run, "out of memory");
    return NULL;
  }
  s->be = be;
  s->url = url;
  s->app = app;
  s->bearer = backend_field(be, "token") != NULL;
  backend_rem_tag(run->rem, s->tag);
  act_spinnaker_correlation(run, s->ctag, sizeof s->ctag);
  action_pace_init(&s->pace, g_poll_min, g_poll_max);
  httpc_response_init(&s->rs);
  /* Started again without its state (a retry, or resumed after a restart
   * without a token): look before triggering. */
  s->maybe_sent = run->attempt > 0 || run->resumed;
  return s;
}

/* The trigger map (4.1 "Trigger body shape"); NULL when out of memory. */
static char *trigger_body(const struct action_run *run, const struct sp *s) {
  cJSON *o = cJSON_CreateObject(), *params = cJSON_CreateObject();
  char *out = NULL;
  bool ok = o && params && cJSON_AddStringToObject(o, "type", "manual") &&
            cJSON_AddStringToObject(o, "user", "healer") &&
            cJSON_AddStringToObject(o, "correlationId", s->ctag);
  for (uint32_t i = 0; ok && i < run->step->nparams; i++) {
    const struct rem_param *p = &run->step->params[i];
    if (strcmp(p->name, "application") == 0 ||
        strcmp(p->name, ACT_SPINNAKER_TAG_PARAM) == 0)
      continue;
    ok = cJSON_AddStringToObject(params, p->name, p->value) != NULL;
  }
  ok = ok && cJSON_AddStringToObject(params, ACT_SPINNAKER_TAG_PARAM, s->tag);
  if (ok) {
    cJSON_AddItemToObject(o, "parameters", params);
    params = NULL;
    out = cJSON_PrintUnformatted(o);
  }
  cJSON_Delete(params);
  cJSON_Delete(o);
  return out;
}

static enum action_status trigger(struct action_run *run, struct sp *s) {
  char *body = trigger_body(run, s);
  if (!body) {
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  const char *const path[] = {"pipelines", s->app, run->step->target};
  int rc = sp_request(run, s, HTTPC_POST, path, 3, NULL, 0, body,
                      HTTPC_NO_RESEND, false);
  free(body);
  if (rc < 0) {
    if (s->rs.maybe_sent)
      s->maybe_sent = true;
    return failed(run, s, "trigger", trigger_hint);
  }
  long st = s->rs.status;
  if (st >= 200 && st < 300) {
    cJSON *o = action_json(&s->rs);
    char id[ACT_SPINNAKER_ID_MAX];
    int ok = act_spinnaker_ref_id(action_json_str(o, "ref"), id, sizeof id);
    cJSON_Delete(o);
    if (ok < 0) {
      action_reasonf(run,
                     "spinnaker pipeline '%.60s/%.80s': trigger answered HTTP "
                     "%ld without an execution ref",
                     s->app, run->step->target, st);
      s->phase = PH_DONE;
      return ACTION_FAILED;
    }
    to_follow(run, s, id);
    log_event(run, s, "spinnaker_triggered", NULL);
    action_reasonf(run, "triggered execution %s", s->id);
    action_schedule(run, &s->pace);
    return ACTION_PENDING;
  }
  if (st >= 500)
    s->maybe_sent = true; /* Gate may have reached Orca (4.5) */
  if (st >= 300 && st < 400) {
    action_reasonf(run,
                   "spinnaker pipeline '%.60s/%.80s': trigger answered HTTP "
                   "%ld (redirects are not followed: is the url Gate's API?)",
                   s->app, run->step->target, st);
    return ACTION_FAILED;
  }
  return failed(run, s, "trigger", trigger_hint);
}

static enum action_status sp_start(struct action_run *run);

static enum action_status resume(struct action_run *run, const char *token) {
  struct sp *s = sp_new(run);
  if (!s)
    return ACTION_FAILED;
  run->state = s;
  char id[ACT_SPINNAKER_ID_MAX];
  if (act_spinnaker_parse_token(token, id, sizeof id) < 0) {
    s->maybe_sent = true; /* nothing usable: look before triggering */
    return sp_start(run);
  }
  to_follow(run, s, id);
  run->token_changed = false; /* the journal has it already */
  log_event(run, s, "spinnaker_resumed", NULL);
  action_reasonf(run, "resumed: following execution %s", s->id);
  run->next_poll_ms = rtime_now_ms();
  return ACTION_PENDING;
}

static enum action_status sp_start(struct action_run *run) {
  struct sp *s = run->state;
  if (!s && run->token[0]) /* resumed after a restart: follow, not trigger */
    return resume(run, run->token);
  if (!s) {
    s = sp_new(run);
    if (!s)
      return ACTION_FAILED;
    run->state = s;
  }
  if (s->phase == PH_FOLLOW) {
    run->next_poll_ms = rtime_now_ms();
    return ACTION_PENDING;
  }
  if (s->phase == PH_DONE)
    return ACTION_FAILED;
  if (s->maybe_sent) {
    switch (find_correlated(run, s, false)) {
    case FOUND:
      log_event(run, s, "spinnaker_found_earlier_trigger", NULL);
      action_reasonf(run, "found the earlier trigger: execution %s", s->id);
      run->next_poll_ms = rtime_now_ms();
      return ACTION_PENDING;
    case NOT_FOUND:
      s->maybe_sent = false;
      break;
    case FIND_ERROR:
      if (s->rs.cls == HTTPC_PERMANENT) {
        /* Cannot tell whether it started: never risk a second one. */
        enum action_status st =
            failed(run, s, "looking for an earlier trigger", NULL);
        size_t n = strlen(run->reason);
        snprintf(run->reason + n, sizeof run->reason - n,
                 "; not triggering again");
        return st;
      }
      return failed(run, s, "looking for an earlier trigger", NULL);
    }
  }
  return trigger(run, s);
}

/* ---- poll ---------------------------------------------------------------- */

/* " (stage 'Deploy')": the first stage that ended with the execution's
 * status, for a failure's reason; "" when none. */
static void failed_stage(const cJSON *o, const char *status, char *out,
                         size_t n) {
  out[0] = '\0';
  const cJSON *st;
  cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(o, "stages")) {
    const char *ss = action_json_str(st, "status"),
               *name = action_json_str(st, "name");
    if (ss && name && strcmp(ss, status) == 0) {
      snprintf(out, n, " (stage '%.40s')", name);
      return;
    }
  }
}

/* Reads an execution's JSON: its status into status, and the reason's
 * detail (canceled by whom, the failing stage). 0, or -1 when the answer
 * is not an execution (empty 200: 4.1 S3). */
static int read_execution(struct sp *s, char *status, size_t slen,
                          char *detail, size_t dlen) {
  detail[0] = '\0';
  cJSON *o = action_json(&s->rs);
  const char *st = action_json_str(o, "status");
  if (!st || !*st) {
    cJSON_Delete(o);
    s->rs.status = 0;
    s->rs.cls = HTTPC_RETRY;
    snprintf(s->rs.error, sizeof s->rs.error,
             "execution answer without a status (empty 200?)");
    return -1;
  }
  snprintf(status, slen, "%.31s", st);
  if (strcmp(st, "CANCELED") == 0) {
    const char *by = action_json_str(o, "canceledBy"),
               *why = action_json_str(o, "cancellationReason");
    snprintf(detail, dlen, "%s%.32s%s%.60s", by ? " by " : "", by ? by : "",
             why ? ": " : "", why ? why : "");
  } else if (strcmp(st, "TERMINAL") == 0 || strcmp(st, "STOPPED") == 0 ||
             strcmp(st, "FAILED_CONTINUE") == 0) {
    failed_stage(o, strcmp(st, "FAILED_CONTINUE") == 0 ? "TERMINAL" : st,
                 detail, dlen);
  }
  cJSON_Delete(o);
  return 0;
}

/* GET the execution: 0 with its status, 1 for a 404, -1 otherwise. */
static int get_execution(struct action_run *run, struct sp *s, char *status,
                         size_t slen, char *detail, size_t dlen,
                         bool cancelling) {
  const char *const path[] = {"pipelines", s->id};
  if (sp_request(run, s, HTTPC_GET, path, 2, NULL, 0, NULL, 0, cancelling) <
      0)
    return -1;
  if (s->rs.status == 404)
    return 1;
  if (s->rs.status != 200) {
    if (s->rs.cls == HTTPC_OK)
      s->rs.cls = HTTPC_PERMANENT;
    return -1;
  }
  return read_execution(s, status, slen, detail, dlen);
}

static enum action_status sp_poll(struct action_run *run) {
  struct sp *s = run->state;
  if (!s) {
    action_reasonf(run, "spinnaker: poll before start");
    return ACTION_FAILED;
  }
  if (s->phase == PH_TRIGGER)
    return sp_start(run);
  if (s->phase != PH_FOLLOW)
    return ACTION_FAILED;
  char status[32], detail[120];
  int rc = get_execution(run, s, status, sizeof status, detail, sizeof detail,
                         false);
  if (rc == 1) {
    if (++s->not_found < ACT_SPINNAKER_404_TRIES)
      return poll_later(run, s, "following the execution");
    action_reasonf(run,
                   "spinnaker pipeline '%.60s/%.80s': execution %s not found "
                   "(%d answers 404)",
                   s->app, run->step->target, s->id, s->not_found);
    s->phase = PH_DONE;
    return ACTION_FAILED;
  }
  if (rc < 0) {
    if (s->rs.cls == HTTPC_PERMANENT)
      return failed(run, s, "following the execution", follow_hint);
    return poll_later(run, s, "following the execution");
  }
  s->not_found = 0;
  if (!act_spinnaker_completed(status)) {
    action_reasonf(run, "execution %s %s", s->id, status);
    action_schedule(run, &s->pace);
    return ACTION_PENDING;
  }
  bool ok = action_result_ok(run, status);
  s->phase = PH_DONE;
  action_reasonf(run, "execution %s %s%s", s->id, status, detail);
  log_event(run, s, "spinnaker_result", status);
  return ok ? ACTION_SUCCEEDED : ACTION_FAILED;
}

/* ---- cancel and release -------------------------------------------------- */

static void sp_cancel(struct action_run *run) {
  struct sp *s = run->state;
  if (!s)
    return;
  if (s->phase == PH_TRIGGER && s->maybe_sent)
    find_correlated(run, s, true);
  if (s->phase != PH_FOLLOW)
    return;
  char why[160];
  snprintf(why, sizeof why, "healer: rule %.80s timed out (remediation %s)",
           run->rem->rule_name ? run->rem->rule_name : "?", s->tag);
  const char *const path[] = {"pipelines", s->id, "cancel"};
  const struct httpc_kv q = {"reason", why};
  int rc = sp_request(run, s, HTTPC_PUT, path, 3, &q, 1, NULL, 0, true);
  bool sent = rc == 0 && s->rs.status >= 200 && s->rs.status < 300;
  struct log_line l;
  log_begin(&l, sent ? LOGL_INFO : LOGL_WARN, "spinnaker_cancel");
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "pipeline", run->step->target);
  log_str(&l, "execution", s->id);
  if (rc == 0)
    log_int(&l, "status", s->rs.status);
  else
    log_str(&l, "error", s->rs.error);
  log_end(&l);
  s->phase = PH_DONE;
  if (!sent) {
    if (rc == 0)
      action_reasonf(run, "execution %s: cancel refused (HTTP %ld)", s->id,
                     s->rs.status);
    else
      action_reasonf(run, "execution %s: cancel failed (%s)", s->id,
                     s->rs.error);
    redact_current(run, s);
    return;
  }
  /* S4: RUNNING turns CANCELED later; a finished one keeps its status. */
  int64_t until = rtime_now_ms() + g_cancel_wait, check = 250;
  char status[32] = "", detail[120];
  while (rtime_now_ms() < until) {
    int64_t next = rtime_now_ms() + check;
    check = check * 2 < 2000 ? check * 2 : 2000;
    if (!action_pause_until(run, next < until ? next : until)) {
      action_reasonf(run, "execution %s: cancel sent; healer shut down before "
                          "it ended", s->id);
      return;
    }
    char st[32];
    int g = get_execution(run, s, st, sizeof st, detail, sizeof detail, true);
    if (g == 1) {
      action_reasonf(run, "execution %s canceled (gone)", s->id);
      return;
    }
    if (g < 0)
      continue;
    snprintf(status, sizeof status, "%s", st);
    if (act_spinnaker_completed(st)) {
      if (strcmp(st, "CANCELED") == 0)
        action_reasonf(run, "execution %s canceled", s->id);
      else
        action_reasonf(run, "execution %s ended %s as it was being canceled",
                       s->id, st);
      log_event(run, s, "spinnaker_result", st);
      return;
    }
  }
  action_reasonf(run, "execution %s: cancel sent; still %s after %lld ms",
                 s->id, status[0] ? status : "unknown",
                 (long long)g_cancel_wait);
}

static void sp_release(struct action_run *run) {
  struct sp *s = run->state;
  if (!s)
    return;
  httpc_response_free(&s->rs);
  free(s);
  run->state = NULL;
}

const struct action_ops act_ops_SPINNAKER = {
    .name = "spinnaker",
    .start = sp_start,
    .poll = sp_poll,
    .cancel = sp_cancel,
    .release = sp_release,
    /* attempt > 0 or resumed: looks its correlationId up before triggering */
    .start_checks_earlier = true,
};
