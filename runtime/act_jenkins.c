/*
 * act_jenkins.c - the Jenkins action kind; see act_jenkins.h.
 */
#include "act_jenkins.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "duration.h"
#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "rtime.h"

#define MAX_SEGS 64
#define JOB_MAX 1024
#define BUILDS_SCANNED "{0,100}"

static int64_t g_poll_min = ACT_JENKINS_POLL_MIN_MS;
static int64_t g_poll_max = ACT_JENKINS_POLL_MAX_MS;

void act_jenkins_set_poll(int64_t min_ms, int64_t max_ms) {
  g_poll_min = min_ms > 0 ? min_ms : ACT_JENKINS_POLL_MIN_MS;
  g_poll_max = max_ms > 0 ? max_ms : ACT_JENKINS_POLL_MAX_MS;
  if (g_poll_max < g_poll_min)
    g_poll_max = g_poll_min;
}

enum phase {
  PH_TRIGGER,  /* not (known to be) queued yet */
  PH_QUEUED,   /* following queue item queue_id */
  PH_BUILDING, /* following build number build */
  PH_DONE
};

struct jk {
  const struct backend *be;       /* borrowed from the backend table */
  const char *url, *user, *token; /* borrowed from be */
  char job[JOB_MAX];              /* scratch the segments point into */
  const char *segs[MAX_SEGS];     /* "job" "a" "job" "b" */
  size_t nsegs;
  char tag[BACKEND_TAG_MAX];
  enum phase phase;
  bool maybe_sent; /* a trigger may have reached Jenkins unseen */
  bool crumb_tried;
  char crumb[320];  /* "Jenkins-Crumb: <value>", or "" */
  char cookie[520]; /* "Cookie: <session>" of the crumb, or "" */
  long queue_id;
  long build;
  char build_url[512];
  char resume[600];         /* resume token: "queue:N" / "build:B URL" */
  struct action_pace pace;  /* polling */
  struct httpc_response rs; /* reused for every request */
};

/* ---- pure helpers -------------------------------------------------------- */

int act_jenkins_job_segments(const char *job, char *scratch, size_t scratchlen,
                             const char **segs, size_t maxsegs) {
  if (!job || !*job || strlen(job) >= scratchlen)
    return -1;
  memcpy(scratch, job, strlen(job) + 1);
  size_t n = 0;
  char *p = scratch;
  for (;;) {
    char *slash = strchr(p, '/');
    if (slash)
      *slash = '\0';
    if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
      return -1;
    if (n + 2 > maxsegs)
      return -1;
    segs[n++] = "job";
    segs[n++] = p;
    if (!slash)
      break;
    p = slash + 1;
  }
  return (int)n;
}

long act_jenkins_queue_id(const char *location) {
  if (!location)
    return -1;
  const char *p = NULL;
  for (const char *s = location; (s = strstr(s, "/queue/item/")); s++)
    p = s;
  if (!p)
    return -1;
  p += strlen("/queue/item/");
  if (!isdigit((unsigned char)*p))
    return -1;
  long id = 0;
  for (; isdigit((unsigned char)*p); p++) {
    if (id > 100000000000L)
      return -1;
    id = id * 10 + (*p - '0');
  }
  if (*p == '/')
    p++;
  return *p ? -1 : id;
}

/* ---- requests ------------------------------------------------------------ */

/* Sends one request to path (job segments first when with_job) and fills
 * j->rs. Returns 0 when Jenkins answered, -1 otherwise (transport error,
 * or a URL that cannot be built: then j->rs.cls is PERMANENT). */
static int jk_request(struct action_run *run, struct jk *j, enum httpc_method m,
                      bool with_job, const char *const *extra, size_t nextra,
                      const struct httpc_kv *q, size_t nq, const char *form,
                      unsigned flags, bool cancelling) {
  const char *segs[MAX_SEGS + 8];
  size_t n = 0;
  if (with_job)
    for (size_t i = 0; i < j->nsegs; i++)
      segs[n++] = j->segs[i];
  for (size_t i = 0; i < nextra && n < sizeof segs / sizeof segs[0]; i++)
    segs[n++] = extra[i];
  char err[HTTPC_ERR_MAX];
  char *url = httpc_url(j->url, segs, n, q, nq, err, sizeof err);
  struct httpc *hc = action_client(run);
  if (!url || !hc) {
    httpc_response_free(&j->rs);
    httpc_response_init(&j->rs);
    j->rs.cls = url ? HTTPC_RETRY : HTTPC_PERMANENT;
    snprintf(j->rs.error, sizeof j->rs.error, "%s",
             url ? "out of memory" : err);
    free(url);
    return -1;
  }
  const char *hdrs[2];
  size_t nh = 0;
  if (j->crumb[0] && m == HTTPC_POST)
    hdrs[nh++] = j->crumb;
  if (j->cookie[0])
    hdrs[nh++] = j->cookie; /* the crumb's web session */
  struct httpc_request rq = {
      .method = m,
      .url = url,
      .content_type =
          m == HTTPC_POST ? "application/x-www-form-urlencoded" : NULL,
      .body = form,
      .body_len = form ? strlen(form) : 0,
      .headers = hdrs,
      .nheaders = nh,
      .auth = j->user && j->token ? HTTPC_AUTH_BASIC : HTTPC_AUTH_NONE,
      .user = j->user,
      .secret = j->token,
      .timeout_ms = action_request_timeout(run, cancelling),
      .flags = flags,
      .hist = j->be->requests,
  };
  int rc = httpc_do(hc, &rq, &j->rs);
  free(url);
  return rc;
}

/* What a status means from Jenkins (the kit adds the common ones). */
static const char *status_hint(long status) {
  switch (status) {
  case 400:
    return "bad request; is the job parameterized?";
  case 409:
    return "job is disabled";
  case 500:
    return "Jenkins error";
  case 503:
    return "Jenkins unavailable";
  default:
    return NULL;
  }
}

/* How reasons name the step: "jenkins job 'X'" (then the kit adds
 * ": <what>: HTTP 401 (hint): excerpt" or the transport error). */
static const char *who(const struct action_run *run, char *out, size_t n) {
  snprintf(out, n, "jenkins job '%s'",
           run->step->target ? run->step->target : "?");
  return out;
}

static void log_event(const struct action_run *run, const struct jk *j,
                      const char *msg) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "job", run->step->target);
  if (j->queue_id > 0)
    log_int(&l, "queue_item", j->queue_id);
  if (j->build > 0)
    log_int(&l, "build", j->build);
  if (j->build_url[0])
    log_str(&l, "url", j->build_url);
  log_end(&l);
}

/* Publishes progress: the resume token, and the link humans open. */
static void progress(struct action_run *run, struct jk *j) {
  if (j->phase == PH_BUILDING)
    snprintf(j->resume, sizeof j->resume, "build:%ld %.500s", j->build,
             j->build_url);
  else
    snprintf(j->resume, sizeof j->resume, "queue:%ld", j->queue_id);
  action_set_token(run, j->resume, j->build_url);
}

/* The trigger is confirmed: queue item qid. */
static void to_queued(struct action_run *run, struct jk *j, long qid) {
  j->queue_id = qid;
  j->phase = PH_QUEUED;
  j->maybe_sent = false;
  progress(run, j);
  log_event(run, j, "jenkins_queued");
}

/* The build started (url may be NULL). */
static void to_building(struct action_run *run, struct jk *j, long number,
                        const char *url) {
  j->build = number;
  snprintf(j->build_url, sizeof j->build_url, "%s", url ? url : "");
  j->phase = PH_BUILDING;
  j->maybe_sent = false;
  progress(run, j);
  log_event(run, j, "jenkins_build");
}

/* Asks for a crumb (GET /crumbIssuer/api/json) and keeps the session
 * cookie it is bound to (Jenkins >= 2.176.2). 0 with j->crumb (and
 * j->cookie) set, or -1 with j->rs describing the failure. */
static int fetch_crumb(struct action_run *run, struct jk *j, bool cancelling) {
  static const char *const path[] = {"crumbIssuer", "api", "json"};
  if (jk_request(run, j, HTTPC_GET, false, path, 3, NULL, 0, NULL, 0,
                 cancelling) < 0)
    return -1;
  if (j->rs.status != 200) {
    if (j->rs.cls == HTTPC_OK)
      j->rs.cls = HTTPC_PERMANENT;
    return -1;
  }
  cJSON *o = action_json(&j->rs);
  const char *field = action_json_str(o, "crumbRequestField"),
             *crumb = action_json_str(o, "crumb");
  int rc = -1;
  if (field && crumb && strlen(field) + strlen(crumb) + 3 < sizeof j->crumb &&
      !strpbrk(field, "\r\n:") && !strpbrk(crumb, "\r\n")) {
    size_t nf = strlen(field), nc = strlen(crumb);
    memcpy(j->crumb, field, nf);
    memcpy(j->crumb + nf, ": ", 2);
    memcpy(j->crumb + nf + 2, crumb, nc + 1);
    if (j->rs.cookies[0]) {
      memcpy(j->cookie, "Cookie: ", 8);
      memcpy(j->cookie + 8, j->rs.cookies, strlen(j->rs.cookies) + 1);
    }
    rc = 0;
  } else {
    j->rs.cls = HTTPC_PERMANENT;
    snprintf(j->rs.error, sizeof j->rs.error, "unusable crumb issuer answer");
    j->rs.status = 0;
  }
  cJSON_Delete(o);
  return rc;
}

static bool crumb_refused(const struct httpc_response *rs) {
  return rs->status == 403 && rs->body.data &&
         strstr(rs->body.data, "No valid crumb");
}

/* A POST that fetches a crumb and tries once more when Jenkins asks for
 * one. Returns as jk_request(). */
static int jk_post(struct action_run *run, struct jk *j, bool with_job,
                   const char *const *extra, size_t nextra,
                   const struct httpc_kv *q, size_t nq, const char *form,
                   unsigned flags, bool cancelling) {
  int rc = jk_request(run, j, HTTPC_POST, with_job, extra, nextra, q, nq, form,
                      flags, cancelling);
  if (rc == 0 && crumb_refused(&j->rs) && !j->crumb_tried) {
    j->crumb_tried = true;
    if (fetch_crumb(run, j, cancelling) < 0)
      return -1;
    rc = jk_request(run, j, HTTPC_POST, with_job, extra, nextra, q, nq, form,
                    flags, cancelling);
  }
  return rc;
}

/* ---- finding a trigger that may have been lost --------------------------- */

static bool has_tag(const cJSON *actions, const char *tag) {
  const cJSON *a;
  cJSON_ArrayForEach(a, actions) {
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(a, "parameters")) {
      const char *n = action_json_str(p, "name"), *v = action_json_str(p, "value");
      if (n && v && strcmp(n, ACT_JENKINS_TAG_PARAM) == 0 &&
          strcmp(v, tag) == 0)
        return true;
    }
  }
  return false;
}

enum found { FOUND, NOT_FOUND, NO_TAG_PARAM, FIND_ERROR };

/* Looks for the remediation's tag among the queued items, then the job's
 * recent builds (in that order, so an item that leaves the queue between
 * the two requests is still seen). */
static enum found find_tagged(struct action_run *run, struct jk *j,
                              bool cancelling) {
  static const char *const queue_path[] = {"queue", "api", "json"};
  const struct httpc_kv qtree = {"tree",
                                 "items[id,actions[parameters[name,value]]]"};
  if (jk_request(run, j, HTTPC_GET, false, queue_path, 3, &qtree, 1, NULL, 0,
                 cancelling) < 0 ||
      j->rs.status != 200)
    return FIND_ERROR;
  cJSON *o = action_json(&j->rs);
  if (!o)
    return FIND_ERROR;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "items")) {
    if (has_tag(cJSON_GetObjectItemCaseSensitive(it, "actions"), j->tag) &&
        action_json_long(it, "id") > 0) {
      to_queued(run, j, action_json_long(it, "id"));
      cJSON_Delete(o);
      return FOUND;
    }
  }
  cJSON_Delete(o);

  static const char *const job_api[] = {"api", "json"};
  const struct httpc_kv btree = {
      "tree", "builds[number,url,queueId,actions[parameters[name,value]]"
              "]" BUILDS_SCANNED ",property[parameterDefinitions[name]]"};
  if (jk_request(run, j, HTTPC_GET, true, job_api, 2, &btree, 1, NULL, 0,
                 cancelling) < 0 ||
      j->rs.status != 200)
    return FIND_ERROR;
  o = action_json(&j->rs);
  if (!o)
    return FIND_ERROR;
  enum found res = NO_TAG_PARAM;
  const cJSON *b;
  cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(o, "builds")) {
    if (has_tag(cJSON_GetObjectItemCaseSensitive(b, "actions"), j->tag) &&
        action_json_long(b, "number") > 0) {
      j->queue_id = action_json_long(b, "queueId");
      to_building(run, j, action_json_long(b, "number"), action_json_str(b, "url"));
      res = FOUND;
      break;
    }
  }
  if (res != FOUND) {
    const cJSON *prop, *def;
    cJSON_ArrayForEach(prop, cJSON_GetObjectItemCaseSensitive(o, "property")) {
      cJSON_ArrayForEach(
          def, cJSON_GetObjectItemCaseSensitive(prop, "parameterDefinitions")) {
        const char *n = action_json_str(def, "name");
        if (n && strcmp(n, ACT_JENKINS_TAG_PARAM) == 0)
          res = NOT_FOUND;
      }
    }
  }
  cJSON_Delete(o);
  return res;
}

/* ---- start --------------------------------------------------------------- */

static struct jk *jk_new(struct action_run *run) {
  const struct backend *be = action_backend(
      run, HL_BK_JENKINS, true, NULL, "Jenkins",
      "HEALER_JENKINS_URL (and HEALER_JENKINS_USER, HEALER_JENKINS_TOKEN_FILE)");
  if (!be)
    return NULL;
  const char *url = backend_field(be, "url");
  struct jk *j = calloc(1, sizeof *j);
  if (!j) {
    action_reasonf(run, "out of memory");
    return NULL;
  }
  int n = act_jenkins_job_segments(run->step->target, j->job, sizeof j->job,
                                   j->segs, MAX_SEGS);
  if (n < 0) {
    action_reasonf(run, "invalid Jenkins job name '%s'",
            run->step->target ? run->step->target : "");
    free(j);
    return NULL;
  }
  j->nsegs = (size_t)n;
  j->be = be;
  j->url = url;
  j->user = backend_field(be, "user");
  j->token = backend_field(be, "token");
  backend_rem_tag(run->rem, j->tag);
  action_pace_init(&j->pace, g_poll_min, g_poll_max);
  httpc_response_init(&j->rs);
  /* Started again without its state (a worker retry that dropped it, or a
   * remediation resumed after a restart): look before triggering. */
  j->maybe_sent = run->attempt > 0;
  return j;
}

/* ACTION_RETRY or ACTION_FAILED after a failed request, with the reason
 * and, for RETRY, the earliest retry time when the server named one. */
static enum action_status failed(struct action_run *run, struct jk *j,
                                 const char *what) {
  char w[JOB_MAX + 16];
  return action_failed(run, j->be, who(run, w, sizeof w), what, &j->rs,
                       status_hint);
}

static enum action_status trigger(struct action_run *run, struct jk *j) {
  struct buf form;
  buf_init(&form);
  for (uint32_t i = 0; i < run->step->nparams; i++) {
    const struct rem_param *p = &run->step->params[i];
    if (strcmp(p->name, ACT_JENKINS_TAG_PARAM) == 0)
      continue;
    httpc_form_add(&form, p->name, p->value);
  }
  httpc_form_add(&form, ACT_JENKINS_TAG_PARAM, j->tag);
  if (form.oom) {
    buf_free(&form);
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  static const char *const bwp[] = {"buildWithParameters"};
  int rc =
      jk_post(run, j, true, bwp, 1, NULL, 0, form.data, HTTPC_NO_RESEND, false);
  buf_free(&form);
  if (rc < 0) {
    if (j->rs.maybe_sent)
      j->maybe_sent = true;
    return failed(run, j,
                  j->crumb_tried && !j->crumb[0] ? "fetching a CSRF crumb"
                                                 : "trigger");
  }
  long st = j->rs.status;
  if (st >= 200 && st < 400) {
    long qid = act_jenkins_queue_id(j->rs.location);
    if (qid < 0) {
      action_reasonf(run,
              "jenkins job '%s': trigger answered HTTP %ld without a queue "
              "item Location",
              run->step->target, st);
      return ACTION_FAILED;
    }
    to_queued(run, j, qid);
    action_reasonf(run, "queued as item %ld", qid);
    action_schedule(run, &j->pace);
    return ACTION_PENDING;
  }
  if (st == 502 || st == 504)
    j->maybe_sent = true; /* a proxy: Jenkins may have it */
  return failed(run, j, "trigger");
}

int act_jenkins_parse_token(const char *token, long *queue_id, long *build,
                            char *url, size_t urllen) {
  char *end;
  *queue_id = *build = -1;
  if (urllen)
    url[0] = '\0';
  if (!token)
    return -1;
  if (strncmp(token, "queue:", 6) == 0) {
    long q = strtol(token + 6, &end, 10);
    if (end == token + 6 || *end || q <= 0)
      return -1;
    *queue_id = q;
    return 0;
  }
  if (strncmp(token, "build:", 6) == 0) {
    long b = strtol(token + 6, &end, 10);
    if (end == token + 6 || b <= 0 || (*end && *end != ' '))
      return -1;
    *build = b;
    if (*end == ' ' && urllen)
      snprintf(url, urllen, "%s", end + 1);
    return 0;
  }
  return -1;
}

const char *act_jenkins_token(const struct action_run *run) {
  const struct jk *j = run->state;
  return j && j->resume[0] ? j->resume : NULL;
}

static enum action_status jk_start(struct action_run *run);

enum action_status act_jenkins_resume(struct action_run *run,
                                      const char *token) {
  if (run->state)
    return jk_start(run);
  struct jk *j = jk_new(run);
  if (!j)
    return ACTION_FAILED;
  run->state = j;
  long qid, build;
  char url[sizeof j->build_url];
  if (act_jenkins_parse_token(token, &qid, &build, url, sizeof url) < 0) {
    /* Nothing usable: it may have been triggered, look before posting. */
    j->maybe_sent = true;
    return jk_start(run);
  }
  j->maybe_sent = false;
  if (build > 0) {
    j->build = build;
    snprintf(j->build_url, sizeof j->build_url, "%s", url);
    j->phase = PH_BUILDING;
  } else {
    j->queue_id = qid;
    j->phase = PH_QUEUED;
  }
  snprintf(j->resume, sizeof j->resume, "%s", token);
  log_event(run, j, "jenkins_resumed");
  action_reasonf(run, "resumed: following %s", token);
  run->next_poll_ms = rtime_now_ms();
  return ACTION_PENDING;
}

static enum action_status jk_start(struct action_run *run) {
  struct jk *j = run->state;
#ifdef ACTION_TOKEN_MAX
  if (!j && run->token[0]) /* resumed after a restart: follow, not trigger */
    return act_jenkins_resume(run, run->token);
#endif
  if (!j) {
    j = jk_new(run);
    if (!j)
      return ACTION_FAILED;
    run->state = j;
  }
  if (j->phase == PH_QUEUED || j->phase == PH_BUILDING) {
    run->next_poll_ms = rtime_now_ms();
    return ACTION_PENDING;
  }
  if (j->phase == PH_DONE)
    return ACTION_FAILED;
  if (j->maybe_sent) {
    switch (find_tagged(run, j, false)) {
    case FOUND:
      log_event(run, j, "jenkins_found_earlier_trigger");
      action_reasonf(run, "found the earlier trigger (tag %s)", j->tag);
      j->maybe_sent = false;
      run->next_poll_ms = rtime_now_ms();
      return ACTION_PENDING;
    case NOT_FOUND:
      j->maybe_sent = false;
      break;
    case NO_TAG_PARAM:
      action_reasonf(
          run,
          "jenkins job '%s': the trigger's outcome is unknown and the job does "
          "not "
          "declare the %s parameter, so healer cannot tell whether it started; "
          "not triggering again",
          run->step->target, ACT_JENKINS_TAG_PARAM);
      return ACTION_FAILED;
    case FIND_ERROR:
      return failed(run, j, "looking for an earlier trigger");
    }
  }
  return trigger(run, j);
}

/* ---- poll ---------------------------------------------------------------- */

/* A transient polling error: stay pending, retry later. */
static enum action_status poll_later(struct action_run *run, struct jk *j,
                                     const char *what) {
  char w[JOB_MAX + 16];
  return action_poll_later(run, &j->pace, j->be, who(run, w, sizeof w), what,
                           &j->rs, status_hint);
}

/* The job's build whose queueId is the item's (after the item expired). */
static bool build_of_queue_item(struct action_run *run, struct jk *j) {
  static const char *const job_api[] = {"api", "json"};
  const struct httpc_kv tree = {"tree",
                                "builds[number,url,queueId]" BUILDS_SCANNED};
  if (jk_request(run, j, HTTPC_GET, true, job_api, 2, &tree, 1, NULL, 0,
                 false) < 0 ||
      j->rs.status != 200)
    return false;
  cJSON *o = action_json(&j->rs);
  const cJSON *b;
  bool found = false;
  cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(o, "builds")) {
    if (action_json_long(b, "queueId") == j->queue_id && action_json_long(b, "number") > 0) {
      to_building(run, j, action_json_long(b, "number"), action_json_str(b, "url"));
      found = true;
      break;
    }
  }
  cJSON_Delete(o);
  return found;
}

static enum action_status poll_queue(struct action_run *run, struct jk *j) {
  char id[24];
  snprintf(id, sizeof id, "%ld", j->queue_id);
  const char *const path[] = {"queue", "item", id, "api", "json"};
  const struct httpc_kv tree = {"tree",
                                "id,cancelled,why,executable[number,url]"};
  if (jk_request(run, j, HTTPC_GET, false, path, 5, &tree, 1, NULL, 0, false) <
      0) {
    if (j->rs.cls == HTTPC_PERMANENT)
      return failed(run, j, "polling the queue");
    return poll_later(run, j, "polling the queue");
  }
  long st = j->rs.status;
  if (st == 404) {
    /* Left the queue more than ~5 minutes ago: find its build. */
    if (build_of_queue_item(run, j))
      return ACTION_PENDING;
    if (j->rs.cls == HTTPC_RETRY)
      return poll_later(run, j, "looking for the build");
    action_reasonf(run,
            "jenkins job '%s': queue item %ld disappeared and no recent build "
            "came from it",
            run->step->target, j->queue_id);
    return ACTION_FAILED;
  }
  if (j->rs.cls == HTTPC_RETRY)
    return poll_later(run, j, "polling the queue");
  if (st != 200)
    return failed(run, j, "polling the queue");
  cJSON *o = action_json(&j->rs);
  if (!o) {
    snprintf(j->rs.error, sizeof j->rs.error, "unreadable queue item JSON");
    j->rs.status = 0;
    return poll_later(run, j, "polling the queue");
  }
  const cJSON *cancelled = cJSON_GetObjectItemCaseSensitive(o, "cancelled");
  const cJSON *exe = cJSON_GetObjectItemCaseSensitive(o, "executable");
  enum action_status res = ACTION_PENDING;
  if (cJSON_IsTrue(cancelled)) {
    action_reasonf(run,
            "jenkins job '%s': queue item %ld was cancelled in Jenkins before "
            "it started",
            run->step->target, j->queue_id);
    j->phase = PH_DONE;
    res = ACTION_FAILED;
  } else if (cJSON_IsObject(exe) && action_json_long(exe, "number") > 0) {
    to_building(run, j, action_json_long(exe, "number"), action_json_str(exe, "url"));
  } else {
    const char *why = action_json_str(o, "why");
    action_reasonf(run, "queue item %ld waiting: %.140s", j->queue_id,
            why ? why : "-");
    action_schedule(run, &j->pace);
  }
  cJSON_Delete(o);
  return res;
}

static enum action_status poll_build(struct action_run *run, struct jk *j) {
  char num[24];
  snprintf(num, sizeof num, "%ld", j->build);
  const char *const path[] = {num, "api", "json"};
  const struct httpc_kv tree = {"tree", "number,url,building,result,duration"};
  if (jk_request(run, j, HTTPC_GET, true, path, 3, &tree, 1, NULL, 0, false) <
      0) {
    if (j->rs.cls == HTTPC_PERMANENT)
      return failed(run, j, "polling the build");
    return poll_later(run, j, "polling the build");
  }
  long st = j->rs.status;
  if (j->rs.cls == HTTPC_RETRY)
    return poll_later(run, j, "polling the build");
  if (st == 404) {
    action_reasonf(run, "jenkins job '%s': build #%ld not found (deleted?)",
            run->step->target, j->build);
    return ACTION_FAILED;
  }
  if (st != 200)
    return failed(run, j, "polling the build");
  cJSON *o = action_json(&j->rs);
  if (!o) {
    snprintf(j->rs.error, sizeof j->rs.error, "unreadable build JSON");
    j->rs.status = 0;
    return poll_later(run, j, "polling the build");
  }
  const char *u = action_json_str(o, "url");
  if (u && !j->build_url[0]) {
    snprintf(j->build_url, sizeof j->build_url, "%s", u);
    progress(run, j);
  }
  const cJSON *building = cJSON_GetObjectItemCaseSensitive(o, "building");
  const char *result = action_json_str(o, "result");
  enum action_status res = ACTION_PENDING;
  if (cJSON_IsFalse(building) && result) {
    /* result is only final once building is false. */
    res = action_result_ok(run, result) ? ACTION_SUCCEEDED : ACTION_FAILED;
    j->phase = PH_DONE;
    action_reasonf(run, "build #%ld %s%s%s%s", j->build, result,
            j->build_url[0] ? " (" : "", j->build_url,
            j->build_url[0] ? ")" : "");
    struct log_line l;
    log_begin(&l, LOGL_INFO, "jenkins_result");
    log_int(&l, "remediation", (long long)run->rem->id);
    log_str(&l, "rule", run->rem->rule_name);
    log_str(&l, "fingerprint", run->rem->fingerprint);
    log_str(&l, "job", run->step->target);
    log_int(&l, "build", j->build);
    log_str(&l, "result", result);
    log_end(&l);
  } else {
    action_reasonf(run, "build #%ld running", j->build);
    action_schedule(run, &j->pace);
  }
  cJSON_Delete(o);
  return res;
}

static enum action_status jk_poll(struct action_run *run) {
  struct jk *j = run->state;
  if (!j) {
    action_reasonf(run, "jenkins: poll before start");
    return ACTION_FAILED;
  }
  if (j->phase == PH_TRIGGER)
    return jk_start(run);
  if (j->phase == PH_QUEUED) {
    enum action_status st = poll_queue(run, j);
    if (st != ACTION_PENDING || j->phase != PH_BUILDING)
      return st;
  }
  if (j->phase == PH_BUILDING)
    return poll_build(run, j);
  return ACTION_FAILED;
}

/* ---- cancel and release -------------------------------------------------- */

/* What Jenkins says of build j->build while it is being stopped. */
enum build_seen { BUILD_ENDED, BUILD_RUNNING, BUILD_UNKNOWN };

static enum build_seen build_seen(struct action_run *run, struct jk *j,
                                  char *result, size_t n) {
  char num[24];
  snprintf(num, sizeof num, "%ld", j->build);
  const char *const path[] = {num, "api", "json"};
  const struct httpc_kv tree = {"tree", "building,result"};
  if (jk_request(run, j, HTTPC_GET, true, path, 3, &tree, 1, NULL, 0, true) < 0)
    return BUILD_UNKNOWN;
  if (j->rs.status == 404)
    return BUILD_ENDED;                   /* gone: nothing left to stop */
  if (j->rs.status != 200)
    return BUILD_UNKNOWN;
  cJSON *o = action_json(&j->rs);
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "building");
  enum build_seen seen = cJSON_IsFalse(b)  ? BUILD_ENDED
                         : cJSON_IsTrue(b) ? BUILD_RUNNING
                                           : BUILD_UNKNOWN;
  const char *r = action_json_str(o, "result");
  snprintf(result, n, "%.32s", seen == BUILD_ENDED && r ? r : "");
  cJSON_Delete(o);
  return seen;
}

/* The backend's stop_grace, checked when the backend was loaded. */
static int64_t stop_grace(const struct backend *be) {
  int64_t ms;
  const char *v = backend_field(be, "stop_grace");
  return v && hl_parse_duration(v, &ms) == 0 ? ms : ACT_JENKINS_STOP_GRACE_MS;
}

/* Stops the running build, escalating as Jenkins allows for Pipeline runs
 * that outlive a stop (api-contracts.md 2.2, J7): POST stop, then term,
 * then kill, each given the backend's stop_grace to take effect, as
 * Jenkins' own UI does. It escalates only when Jenkins says the build is
 * still running: a build it cannot see is not killed blind. Freestyle
 * builds have no term or kill (404): then the build is left as it is. The
 * reason says how it ended, for the worker's "timed out" line. */
static void stop_build(struct action_run *run, struct jk *j) {
  static const char *const how[] = {"stop", "term", "kill"};
  static const char *const done[] = {"stopped", "terminated", "killed"};
  char num[24];
  snprintf(num, sizeof num, "%ld", j->build);
  int64_t stop_grace_ms = stop_grace(j->be);
  /* Looks after 250 ms (a stop usually takes), then less often. */
  int64_t check_max = stop_grace_ms / 10;
  if (check_max < 250) check_max = 250;
  if (check_max > 2000) check_max = 2000;
  for (size_t i = 0; i < sizeof how / sizeof how[0]; i++) {
    const char *const path[] = {num, how[i]};
    int rc = jk_post(run, j, true, path, 2, NULL, 0, NULL, 0, true);
    bool sent = rc == 0 && j->rs.status < 400;
    struct log_line l;
    log_begin(&l, sent ? LOGL_INFO : LOGL_WARN, "jenkins_stop");
    log_int(&l, "remediation", (long long)run->rem->id);
    log_str(&l, "rule", run->rem->rule_name);
    log_str(&l, "fingerprint", run->rem->fingerprint);
    log_str(&l, "job", run->step->target);
    log_int(&l, "build", j->build);
    log_str(&l, "how", how[i]);
    if (rc == 0)
      log_int(&l, "status", j->rs.status);
    else
      log_str(&l, "error", j->rs.error);
    log_end(&l);
    if (!sent) {
      if (i == 0)
        action_reasonf(run, "build #%ld: stop failed (%s)", j->build,
                rc == 0 ? "refused" : "no answer");
      else
        action_reasonf(run, "build #%ld still running after %s; %s %s", j->build,
                how[i - 1], how[i],
                rc == 0 && j->rs.status == 404 ? "not offered (not a Pipeline)"
                                               : "failed");
      return;
    }
    int64_t until = rtime_now_ms() + stop_grace_ms;
    int64_t check = 250;
    enum build_seen seen;
    do {
      int64_t next = rtime_now_ms() + check;
      check = check * 2 < check_max ? check * 2 : check_max;
      if (!action_pause_until(run, next < until ? next : until)) {
        action_reasonf(run, "build #%ld: %s sent; healer shut down before it ended",
                j->build, how[i]);
        return;
      }
      char result[40];
      seen = build_seen(run, j, result, sizeof result);
      if (seen == BUILD_ENDED) {
        /* ABORTED (or gone): the stop took; else it ended by itself. */
        if (!*result || strcmp(result, "ABORTED") == 0)
          action_reasonf(run, "build #%ld %s", j->build, done[i]);
        else
          action_reasonf(run, "build #%ld ended %s as it was being stopped", j->build,
                  result);
        return;
      }
    } while (rtime_now_ms() < until);
    if (seen != BUILD_RUNNING) {
      action_reasonf(run, "build #%ld: %s sent; Jenkins did not say whether it ended",
              j->build, how[i]);
      return;
    }
  }
  action_reasonf(run, "build #%ld still running after stop, term and kill", j->build);
}

static void jk_cancel(struct action_run *run) {
  struct jk *j = run->state;
  if (!j)
    return;
  if (j->phase == PH_TRIGGER && j->maybe_sent)
    find_tagged(run, j, true);
  if (j->phase == PH_QUEUED) {
    char id[24];
    snprintf(id, sizeof id, "%ld", j->queue_id);
    static const char *const path[] = {"queue", "cancelItem"};
    const struct httpc_kv q = {"id", id};
    int rc = jk_post(run, j, false, path, 2, &q, 1, NULL, 0, true);
    if (rc == 0 && j->rs.status >= 200 && j->rs.status < 400) {
      log_event(run, j, "jenkins_cancel_queued");
      action_reasonf(run, "queue item %ld cancelled", j->queue_id);
      j->phase = PH_DONE;
      return;
    }
    /* 404/500: the item has left the queue; a build may have started. */
    const char *const ipath[] = {"queue", "item", id, "api", "json"};
    const struct httpc_kv tree = {"tree", "executable[number,url]"};
    if (jk_request(run, j, HTTPC_GET, false, ipath, 5, &tree, 1, NULL, 0,
                   true) == 0 &&
        j->rs.status == 200) {
      cJSON *o = action_json(&j->rs);
      const cJSON *exe = cJSON_GetObjectItemCaseSensitive(o, "executable");
      if (cJSON_IsObject(exe) && action_json_long(exe, "number") > 0)
        to_building(run, j, action_json_long(exe, "number"), action_json_str(exe, "url"));
      cJSON_Delete(o);
    }
  }
  if (j->phase == PH_BUILDING) {
    stop_build(run, j);
    j->phase = PH_DONE;
  }
}

static void jk_release(struct action_run *run) {
  struct jk *j = run->state;
  if (!j)
    return;
  httpc_response_free(&j->rs);
  free(j);
  run->state = NULL;
}

const struct action_ops act_ops_JENKINS = {
    .name = "jenkins",
    .start = jk_start,
    .poll = jk_poll,
    .cancel = jk_cancel,
    .release = jk_release,
    .start_checks_earlier = true,   /* attempt > 0: looks for its tag before triggering */
};
