/*
 * act_k8s_job.c - `kubernetes job PREFIX`: create a batch/v1 Job and follow
 * it to its Complete or Failed condition (api-contracts.md 3.3, 3.4).
 *
 *   create  POST /apis/batch/v1/namespaces/{ns}/jobs with
 *           metadata.generateName = PREFIX (a "-" added when missing) and
 *           the label healer.io/remediation=<tag> (backend_rem_tag) on the
 *           Job and its pods; from `image` (+ `command`, `args`) or from
 *           the PodTemplate named by `template` (GET /api/v1/namespaces/
 *           {ns}/podtemplates/{name}); undeclared parameters become the
 *           container's environment. 409 (a generated name taken): POST
 *           again, up to 3 times; 422: fail with details.causes.
 *   follow  GET .../jobs/{name} until a condition Complete or Failed is
 *           "True" (conditions, not pod counts); the result goes through
 *           action_result_ok(run, "Complete" / "Failed").
 *   cancel  DELETE .../jobs/{name}?propagationPolicy=Foreground (batch/v1
 *           would orphan the pods otherwise).
 *
 * A create may have reached the server unseen (no answer, 502/504, a retry
 * or a restart before the token was journaled): before posting again, the
 * Job labelled with the remediation's tag is looked for (GET .../jobs?
 * labelSelector=healer.io/remediation=<tag>) and followed when found, so
 * one remediation never makes two Jobs. Resume token: "job:<name>".
 *
 * Defaults: backoff_limit 2, active_deadline = the time left to the rule's
 * timeout (so Kubernetes stops the pods when healer stops watching), ttl
 * 3600 s after it finished (time to read its logs).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_k8s.h"
#include "backend.h"
#include "log.h"
#include "rtime.h"

#define JOB_NAME_MAX 254
#define DEFAULT_BACKOFF_LIMIT 2
#define DEFAULT_TTL_S 3600
#define CREATE_TRIES 3

enum phase { PH_CREATE, PH_FOLLOW, PH_DONE };

struct kjob {
  struct k8s k;
  const char *ns;            /* borrowed from the step */
  char tag[BACKEND_TAG_MAX]; /* the label value that finds it again */
  char name[JOB_NAME_MAX];   /* once created */
  enum phase phase;
  bool maybe_sent;           /* a create may have reached the server */
  struct action_pace pace;
  char resume[JOB_NAME_MAX + 8];
};

/* Parameters that are not environment variables. */
static const char *const declared[] = {
#define HL_PARAM(action, name, flags) #action "\0" name,
#include "actions.def"
};

static bool is_declared(const char *name) {
  for (size_t i = 0; i < sizeof declared / sizeof declared[0]; i++) {
    const char *a = declared[i], *n = a + strlen(a) + 1;
    if (strcmp(a, "K8S_JOB") == 0 && strcmp(n, name) == 0)
      return true;
  }
  return false;
}

static void log_event(const struct action_run *run, const struct kjob *j,
                      const char *msg, const char *result) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "namespace", j->ns);
  if (j->name[0])
    log_str(&l, "job", j->name);
  if (result)
    log_str(&l, "result", result);
  log_end(&l);
}

static void to_follow(struct action_run *run, struct kjob *j,
                      const char *name) {
  snprintf(j->name, sizeof j->name, "%s", name);
  j->phase = PH_FOLLOW;
  j->maybe_sent = false;
  snprintf(j->resume, sizeof j->resume, "job:%s", j->name);
  action_set_token(run, j->resume, NULL);
  action_schedule(run, &j->pace);
}

/* ---- the Job's body ------------------------------------------------------ */

/* A command or args parameter: a JSON array of strings ('["sh","-c","x y"]')
 * or words separated by blanks. NULL when it is not an array of strings. */
static cJSON *argv_of(const char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '[') {
    cJSON *a = cJSON_Parse(s);
    const cJSON *e;
    bool ok = cJSON_IsArray(a);
    cJSON_ArrayForEach(e, a) ok = ok && cJSON_IsString(e);
    if (!ok) {
      cJSON_Delete(a);
      return NULL;
    }
    return a;
  }
  cJSON *a = cJSON_CreateArray();
  char word[1024];
  while (*s) {
    size_t n = 0;
    while (*s && *s != ' ' && *s != '\t') {
      if (n + 1 < sizeof word)
        word[n++] = *s;
      s++;
    }
    word[n] = '\0';
    if (n)
      cJSON_AddItemToArray(a, cJSON_CreateString(word));
    while (*s == ' ' || *s == '\t')
      s++;
  }
  return a;
}

static void add_labels(cJSON *meta, const char *tag) {
  cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
  if (!cJSON_IsObject(labels)) {
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "labels");
    labels = cJSON_AddObjectToObject(meta, "labels");
  }
  cJSON_DeleteItemFromObjectCaseSensitive(labels, ACT_K8S_LABEL_MANAGED);
  cJSON_DeleteItemFromObjectCaseSensitive(labels, ACT_K8S_LABEL_REM);
  cJSON_AddStringToObject(labels, ACT_K8S_LABEL_MANAGED, "healer");
  cJSON_AddStringToObject(labels, ACT_K8S_LABEL_REM, tag);
}

/* A number parameter, its default when absent; -2 when malformed. */
static long num_param(const struct action_run *run, const char *name,
                      long dflt) {
  const char *v = k8s_param(run, name);
  if (!v || !*v)
    return dflt;
  long n = act_k8s_number(v);
  return n < 0 ? -2 : n;
}

/* The Job to create, or NULL with run->reason set. template is the pod
 * template to start from (taken), or NULL for an inline image. */
static cJSON *job_body(struct action_run *run, struct kjob *j,
                       cJSON *template) {
  long backoff = num_param(run, "backoff_limit", DEFAULT_BACKOFF_LIMIT);
  int64_t left_s = (run->deadline_ms - rtime_now_ms() + 999) / 1000;
  long deadline = num_param(run, "active_deadline", left_s > 0 ? (long)left_s : 1);
  long ttl = num_param(run, "ttl", DEFAULT_TTL_S);
  const char *bad = backoff == -2 ? "backoff_limit"
                    : deadline == -2 ? "active_deadline"
                    : ttl == -2      ? "ttl"
                                     : NULL;
  if (bad) {
    action_reasonf(run, "%s: parameter %s is not a whole number", j->k.who, bad);
    cJSON_Delete(template);
    return NULL;
  }
  if (deadline == 0)
    deadline = 1; /* activeDeadlineSeconds must be positive */
  char prefix[128];
  const char *t = run->step->target ? run->step->target : "healer";
  snprintf(prefix, sizeof prefix, "%.100s%s", t,
           t[0] && t[strlen(t) - 1] == '-' ? "" : "-");

  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "apiVersion", "batch/v1");
  cJSON_AddStringToObject(b, "kind", "Job");
  cJSON *meta = cJSON_AddObjectToObject(b, "metadata");
  cJSON_AddStringToObject(meta, "generateName", prefix);
  cJSON_AddStringToObject(meta, "namespace", j->ns);
  add_labels(meta, j->tag);
  cJSON *ann = cJSON_AddObjectToObject(meta, "annotations");
  cJSON_AddStringToObject(ann, "healer.io/rule",
                          run->rem->rule_name ? run->rem->rule_name : "");
  cJSON_AddStringToObject(ann, "healer.io/alertname",
                          run->rem->alertname ? run->rem->alertname : "");
  cJSON_AddStringToObject(ann, "healer.io/fingerprint",
                          run->rem->fingerprint ? run->rem->fingerprint : "");
  cJSON *spec = cJSON_AddObjectToObject(b, "spec");
  cJSON_AddNumberToObject(spec, "backoffLimit", (double)backoff);
  cJSON_AddNumberToObject(spec, "activeDeadlineSeconds", (double)deadline);
  cJSON_AddNumberToObject(spec, "ttlSecondsAfterFinished", (double)ttl);

  cJSON *tmpl = template ? template : cJSON_CreateObject();
  cJSON_AddItemToObject(spec, "template", tmpl);
  cJSON *tmeta = cJSON_GetObjectItemCaseSensitive(tmpl, "metadata");
  if (!cJSON_IsObject(tmeta)) {
    cJSON_DeleteItemFromObjectCaseSensitive(tmpl, "metadata");
    tmeta = cJSON_AddObjectToObject(tmpl, "metadata");
  }
  add_labels(tmeta, j->tag);
  cJSON *pspec = cJSON_GetObjectItemCaseSensitive(tmpl, "spec");
  if (!cJSON_IsObject(pspec)) {
    cJSON_DeleteItemFromObjectCaseSensitive(tmpl, "spec");
    pspec = cJSON_AddObjectToObject(tmpl, "spec");
  }
  /* Never: each failure is a new pod, counted against backoffLimit; a
   * template's Always is not allowed for Jobs. */
  const char *rp = action_json_str(pspec, "restartPolicy");
  if (!rp || strcmp(rp, "Always") == 0) {
    cJSON_DeleteItemFromObjectCaseSensitive(pspec, "restartPolicy");
    cJSON_AddStringToObject(pspec, "restartPolicy", "Never");
  }
  const char *sa = k8s_param(run, "service_account");
  if (sa && *sa) {
    cJSON_DeleteItemFromObjectCaseSensitive(pspec, "serviceAccountName");
    cJSON_AddStringToObject(pspec, "serviceAccountName", sa);
  }
  const char *node = k8s_param(run, "node");
  if (node && *node) {
    cJSON_DeleteItemFromObjectCaseSensitive(pspec, "nodeName");
    cJSON_AddStringToObject(pspec, "nodeName", node);
  }
  cJSON *containers = cJSON_GetObjectItemCaseSensitive(pspec, "containers");
  if (!template) {
    containers = cJSON_AddArrayToObject(pspec, "containers");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(containers, c);
    cJSON_AddStringToObject(c, "name", "remediation");
    cJSON_AddStringToObject(c, "image", k8s_param(run, "image"));
    static const char *const argvs[][2] = {{"command", "command"},
                                           {"args", "args"}};
    for (size_t i = 0; i < 2; i++) {
      const char *v = k8s_param(run, argvs[i][0]);
      if (!v || !*v)
        continue;
      cJSON *a = argv_of(v);
      if (!a) {
        action_reasonf(run, "%s: parameter %s is neither words nor a JSON "
                            "array of strings", j->k.who, argvs[i][0]);
        cJSON_Delete(b);
        return NULL;
      }
      cJSON_AddItemToObject(c, argvs[i][1], a);
    }
  }
  /* Undeclared parameters: environment variables of every container. */
  cJSON *c;
  cJSON_ArrayForEach(c, containers) {
    cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
    if (!cJSON_IsArray(env)) {
      cJSON_DeleteItemFromObjectCaseSensitive(c, "env");
      env = cJSON_AddArrayToObject(c, "env");
    }
    for (uint32_t i = 0; i < run->step->nparams; i++) {
      const struct rem_param *p = &run->step->params[i];
      if (is_declared(p->name))
        continue;
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "name", p->name);
      cJSON_AddStringToObject(e, "value", p->value ? p->value : "");
      cJSON_AddItemToArray(env, e);
    }
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", "HEALER_REMEDIATION_ID");
    cJSON_AddStringToObject(e, "value", j->tag);
    cJSON_AddItemToArray(env, e);
  }
  return b;
}

/* The PodTemplate's template (a new tree), or NULL with the status of the
 * failure in the return value. */
static enum action_status fetch_template(struct action_run *run,
                                         struct kjob *j, cJSON **out) {
  const char *name = k8s_param(run, "template");
  *out = NULL;
  const char *const segs[] = {"api", "v1", "namespaces", j->ns, "podtemplates",
                              name};
  if (k8s_request(run, &j->k, HTTPC_GET, segs, 6, NULL, 0, NULL, NULL, 0,
                  false) < 0 ||
      j->k.rs.status != 200) {
    char what[300];
    snprintf(what, sizeof what, "reading PodTemplate '%.200s'", name);
    return k8s_failed(run, &j->k, what);
  }
  cJSON *o = action_json(&j->k.rs);
  cJSON *t = cJSON_DetachItemFromObjectCaseSensitive(o, "template");
  cJSON_Delete(o);
  if (!cJSON_IsObject(t) ||
      !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(t, "spec"), "containers"))) {
    cJSON_Delete(t);
    action_reasonf(run, "%s: PodTemplate '%.100s' has no template.spec.containers",
                   j->k.who, name);
    return ACTION_FAILED;
  }
  *out = t;
  return ACTION_SUCCEEDED;
}

/* ---- finding an earlier create ------------------------------------------- */

enum found { FOUND, NOT_FOUND, FIND_ERROR };

static enum found find_labelled(struct action_run *run, struct kjob *j,
                                bool cancelling) {
  const char *const segs[] = {"apis", "batch", "v1", "namespaces", j->ns,
                              "jobs"};
  char sel[BACKEND_TAG_MAX + 64];
  snprintf(sel, sizeof sel, "%s=%s", ACT_K8S_LABEL_REM, j->tag);
  const struct httpc_kv q = {"labelSelector", sel};
  if (k8s_request(run, &j->k, HTTPC_GET, segs, 6, &q, 1, NULL, NULL, 0,
                  cancelling) < 0 ||
      j->k.rs.status != 200)
    return FIND_ERROR;
  cJSON *o = action_json(&j->k.rs);
  if (!o)
    return FIND_ERROR;
  enum found res = NOT_FOUND;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "items")) {
    const char *name = action_json_str(
        cJSON_GetObjectItemCaseSensitive(it, "metadata"), "name");
    if (name && strlen(name) < JOB_NAME_MAX) {
      to_follow(run, j, name);
      res = FOUND;
      break;
    }
  }
  cJSON_Delete(o);
  return res;
}

/* ---- start --------------------------------------------------------------- */

static struct kjob *kjob_new(struct action_run *run) {
  struct kjob *j = calloc(1, sizeof *j);
  if (!j) {
    action_reasonf(run, "out of memory");
    return NULL;
  }
  char who[K8S_WHO_MAX];
  j->ns = k8s_param(run, "namespace");
  snprintf(who, sizeof who, "kubernetes job '%.60s' in namespace '%.60s'",
           run->step->target ? run->step->target : "?", j->ns ? j->ns : "?");
  if (k8s_open(run, &j->k, who) < 0) {
    k8s_close(&j->k);
    free(j);
    return NULL;
  }
  const char *image = k8s_param(run, "image"),
             *template = k8s_param(run, "template");
  if (!j->ns || !*j->ns || (!(image && *image) && !(template && *template))) {
    action_reasonf(run, "%s: needs a namespace and an image or a template", who);
    k8s_close(&j->k);
    free(j);
    return NULL;
  }
  backend_rem_tag(run->rem, j->tag);
  action_pace_init(&j->pace, act_k8s_poll_min, act_k8s_poll_max);
  return j;
}

static enum action_status create(struct action_run *run, struct kjob *j) {
  cJSON *template = NULL;
  const char *tn = k8s_param(run, "template");
  if (tn && *tn) {
    enum action_status st = fetch_template(run, j, &template);
    if (st != ACTION_SUCCEEDED)
      return st;
  }
  cJSON *b = job_body(run, j, template);
  if (!b)
    return ACTION_FAILED;
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!body) {
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  const char *const segs[] = {"apis", "batch", "v1", "namespaces", j->ns,
                              "jobs"};
  enum action_status res = ACTION_FAILED;
  for (int tries = 0; tries < CREATE_TRIES; tries++) {
    int rc = k8s_request(run, &j->k, HTTPC_POST, segs, 6, NULL, 0,
                         "application/json", body, HTTPC_NO_RESEND, false);
    long st = rc == 0 ? j->k.rs.status : 0;
    if (st == 409 && tries + 1 < CREATE_TRIES)
      continue; /* a generated name was taken: POST again (3.3) */
    if (st >= 200 && st < 300) {
      cJSON *o = action_json(&j->k.rs);
      const char *name = action_json_str(
          cJSON_GetObjectItemCaseSensitive(o, "metadata"), "name");
      if (name && strlen(name) < JOB_NAME_MAX) {
        to_follow(run, j, name);
        log_event(run, j, "k8s_job_created", NULL);
        action_reasonf(run, "created Job %s/%s", j->ns, j->name);
        res = ACTION_PENDING;
      } else {
        /* Created, but which? The label finds it on the next try. */
        j->maybe_sent = true;
        action_reasonf(run, "%s: create answered HTTP %ld without a name",
                       j->k.who, st);
        res = ACTION_RETRY;
      }
      cJSON_Delete(o);
      break;
    }
    if ((rc < 0 && j->k.rs.maybe_sent) || st == 502 || st == 504)
      j->maybe_sent = true; /* it may exist: look before posting again */
    res = k8s_failed(run, &j->k, "creating the Job");
    break;
  }
  free(body);
  return res;
}

static enum action_status job_start(struct action_run *run) {
  struct kjob *j = run->state;
  if (!j) {
    j = kjob_new(run);
    if (!j)
      return ACTION_FAILED;
    run->state = j;
    if (run->resumed && strncmp(run->token, "job:", 4) == 0 && run->token[4] &&
        strlen(run->token + 4) < JOB_NAME_MAX) {
      /* Resumed after a restart: follow the Job the token names. */
      to_follow(run, j, run->token + 4);
      run->token_changed = false;
      log_event(run, j, "k8s_job_resumed", NULL);
      action_reasonf(run, "resumed: following Job %s/%s", j->ns, j->name);
      run->next_poll_ms = rtime_now_ms();
      return ACTION_PENDING;
    }
    /* Started again without the earlier answer (a retry that lost its
     * state, a restart before the token was journaled). */
    j->maybe_sent = run->attempt > 0 || run->resumed;
  }
  if (j->phase == PH_FOLLOW) {
    run->next_poll_ms = rtime_now_ms();
    return ACTION_PENDING;
  }
  if (j->phase == PH_DONE)
    return ACTION_FAILED;
  if (j->maybe_sent) {
    switch (find_labelled(run, j, false)) {
    case FOUND:
      log_event(run, j, "k8s_job_found_earlier", NULL);
      action_reasonf(run, "found the Job created earlier: %s/%s", j->ns,
                     j->name);
      run->next_poll_ms = rtime_now_ms();
      return ACTION_PENDING;
    case NOT_FOUND:
      j->maybe_sent = false;
      break;
    case FIND_ERROR:
      return k8s_failed(run, &j->k, "looking for a Job created earlier");
    }
  }
  return create(run, j);
}

/* ---- poll ---------------------------------------------------------------- */

/* The condition of type t with status "True", or NULL. */
static const cJSON *condition(const cJSON *status, const char *t) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status, "conditions")) {
    const char *ty = action_json_str(c, "type"), *st = action_json_str(c, "status");
    if (ty && st && strcmp(ty, t) == 0 && strcmp(st, "True") == 0)
      return c;
  }
  return NULL;
}

static enum action_status job_poll(struct action_run *run) {
  struct kjob *j = run->state;
  if (!j) {
    action_reasonf(run, "kubernetes job: poll before start");
    return ACTION_FAILED;
  }
  if (j->phase == PH_CREATE)
    return job_start(run);
  if (j->phase != PH_FOLLOW)
    return ACTION_FAILED;
  const char *const segs[] = {"apis", "batch", "v1", "namespaces", j->ns,
                              "jobs", j->name};
  if (k8s_request(run, &j->k, HTTPC_GET, segs, 7, NULL, 0, NULL, NULL, 0,
                  false) < 0 ||
      j->k.rs.status != 200) {
    if (j->k.rs.status == 404) {
      j->phase = PH_DONE;
      action_reasonf(run, "Job %s/%s was deleted before it finished; outcome "
                          "unknown", j->ns, j->name);
      return ACTION_FAILED;
    }
    if (j->k.rs.cls == HTTPC_RETRY)
      return k8s_poll_later(run, &j->k, &j->pace, "following the Job");
    return k8s_failed(run, &j->k, "following the Job");
  }
  cJSON *o = action_json(&j->k.rs);
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
  const cJSON *done = condition(status, "Complete");
  const char *result = "Complete";
  if (!done) {
    done = condition(status, "Failed");
    result = "Failed";
  }
  enum action_status res = ACTION_PENDING;
  if (done) {
    j->phase = PH_DONE;
    const char *why = action_json_str(done, "reason");
    const char *msg = action_json_str(done, "message");
    res = action_result_ok(run, result) ? ACTION_SUCCEEDED : ACTION_FAILED;
    action_reasonf(run, "Job %s/%s %s%s%.40s%s%.60s", j->ns, j->name, result,
                   why ? ": " : "", why ? why : "", msg ? " (" : "",
                   msg ? msg : "");
    if (msg)
      strncat(run->reason, ")", sizeof run->reason - strlen(run->reason) - 1);
    log_event(run, j, "k8s_job_result", result);
  } else {
    long active = action_json_long(status, "active"),
         failed = action_json_long(status, "failed");
    action_reasonf(run, "Job %s/%s running (active %ld, failed %ld)", j->ns,
                   j->name, active > 0 ? active : 0, failed > 0 ? failed : 0);
    action_schedule(run, &j->pace);
  }
  cJSON_Delete(o);
  return res;
}

/* ---- cancel and release -------------------------------------------------- */

static void job_cancel(struct action_run *run) {
  struct kjob *j = run->state;
  if (!j)
    return;
  if (j->phase == PH_CREATE && j->maybe_sent)
    find_labelled(run, j, true);
  if (j->phase != PH_FOLLOW)
    return;
  const char *const segs[] = {"apis", "batch", "v1", "namespaces", j->ns,
                              "jobs", j->name};
  const struct httpc_kv q = {"propagationPolicy", "Foreground"};
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "apiVersion", "v1");
  cJSON_AddStringToObject(b, "kind", "DeleteOptions");
  cJSON_AddStringToObject(b, "propagationPolicy", "Foreground");
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  int rc = k8s_request(run, &j->k, HTTPC_DELETE, segs, 7, &q, 1,
                       "application/json", body, 0, true);
  free(body);
  long st = rc == 0 ? j->k.rs.status : 0;
  if ((st >= 200 && st < 300) || st == 404) {
    action_reasonf(run, "Job %s/%s deleted with its pods", j->ns, j->name);
    log_event(run, j, "k8s_job_deleted", NULL);
  } else {
    action_http_reason(run, j->k.be, "deleting the Job", j->name, &j->k.rs,
                       NULL);
  }
  j->phase = PH_DONE;
}

static void job_release(struct action_run *run) {
  struct kjob *j = run->state;
  if (!j)
    return;
  k8s_close(&j->k);
  free(j);
  run->state = NULL;
}

const struct action_ops act_ops_K8S_JOB = {
    .name = "kubernetes job",
    .start = job_start,
    .poll = job_poll,
    .cancel = job_cancel,
    .release = job_release,
    .start_checks_earlier = true, /* looks for its label before creating */
};
