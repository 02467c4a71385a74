/*
 * act_k8s_rollout.c - `kubernetes rollout-restart`: restart a Deployment's
 * pods as `kubectl rollout restart` does, and follow the rollout to its end
 * (api-contracts.md 3.6).
 *
 *   look     GET /apis/apps/v1/namespaces/{ns}/deployments/{name}; a paused
 *            Deployment (spec.paused) is refused, as kubectl refuses it
 *   restart  PATCH it (strategic merge patch) with the pod template
 *            annotations kubectl.kubernetes.io/restartedAt = now (RFC 3339)
 *            and healer.io/remediation = <tag>; the answer's
 *            metadata.generation is the one to wait for
 *   follow   GET until observedGeneration >= that generation, and
 *            updatedReplicas >= spec.replicas, replicas <= updatedReplicas,
 *            availableReplicas >= updatedReplicas; a Progressing condition
 *            with reason ProgressDeadlineExceeded fails
 *
 * A second patch would restart the pods again, so a step started again
 * (a retry that lost the answer, a restart before the token was journaled)
 * first looks for its own tag in the template's annotations and follows
 * instead. Resume token: "generation:<N>".
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_k8s.h"
#include "backend.h"
#include "log.h"
#include "rtime.h"

#define RESTARTED_AT "kubectl.kubernetes.io/restartedAt"

enum phase { PH_RESTART, PH_FOLLOW, PH_DONE };

struct rollout {
  struct k8s k;
  const char *ns, *name;     /* borrowed from the step */
  char tag[BACKEND_TAG_MAX];
  enum phase phase;
  long generation;           /* the patched one */
  struct action_pace pace;
  char resume[48];
};

static void log_event(const struct action_run *run, const struct rollout *r,
                      const char *msg) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "namespace", r->ns);
  log_str(&l, "deployment", r->name);
  log_int(&l, "generation", r->generation);
  log_end(&l);
}

static void to_follow(struct action_run *run, struct rollout *r, long gen) {
  r->generation = gen;
  r->phase = PH_FOLLOW;
  snprintf(r->resume, sizeof r->resume, "generation:%ld", gen);
  action_set_token(run, r->resume, NULL);
  run->next_poll_ms = rtime_now_ms() + act_k8s_poll_min;
}

static int get_deployment(struct action_run *run, struct rollout *r) {
  const char *const segs[] = {"apis", "apps", "v1", "namespaces", r->ns,
                              "deployments", r->name};
  return k8s_request(run, &r->k, HTTPC_GET, segs, 7, NULL, 0, NULL, NULL, 0,
                     false);
}

static enum action_status restart(struct action_run *run, struct rollout *r) {
  if (get_deployment(run, r) < 0 || r->k.rs.status != 200)
    return k8s_failed(run, &r->k, "reading the Deployment");
  cJSON *d = action_json(&r->k.rs);
  const cJSON *meta = cJSON_GetObjectItemCaseSensitive(d, "metadata");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(d, "spec");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "paused"))) {
    cJSON_Delete(d);
    r->phase = PH_DONE;
    action_reasonf(run, "%s: the Deployment is paused; resume it first "
                        "(kubectl rollout resume), healer does not restart a "
                        "paused rollout", r->k.who);
    return ACTION_FAILED;
  }
  const char *mine = action_json_str(
      cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(spec, "template"), "metadata"),
          "annotations"),
      ACT_K8S_LABEL_REM);
  if (mine && strcmp(mine, r->tag) == 0) {
    /* Patched by this remediation already (the answer was lost). */
    long gen = action_json_long(meta, "generation");
    cJSON_Delete(d);
    to_follow(run, r, gen > 0 ? gen : 0);
    log_event(run, r, "k8s_rollout_found_earlier");
    action_reasonf(run, "%s: restarted earlier by this remediation; following",
                   r->k.who);
    return ACTION_PENDING;
  }
  cJSON_Delete(d);

  char now[32];
  act_k8s_rfc3339(rtime_now_ms(), now);
  cJSON *b = cJSON_CreateObject();
  cJSON *ann = cJSON_AddObjectToObject(
      cJSON_AddObjectToObject(
          cJSON_AddObjectToObject(cJSON_AddObjectToObject(b, "spec"),
                                  "template"),
          "metadata"),
      "annotations");
  cJSON_AddStringToObject(ann, RESTARTED_AT, now);
  cJSON_AddStringToObject(ann, ACT_K8S_LABEL_REM, r->tag);
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!body) {
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  const char *const segs[] = {"apis", "apps", "v1", "namespaces", r->ns,
                              "deployments", r->name};
  int rc = k8s_request(run, &r->k, HTTPC_PATCH, segs, 7, NULL, 0,
                       "application/strategic-merge-patch+json", body, 0,
                       false);
  free(body);
  if (rc < 0 || r->k.rs.status != 200)
    return k8s_failed(run, &r->k, "patching the pod template");
  cJSON *o = action_json(&r->k.rs);
  long gen = action_json_long(cJSON_GetObjectItemCaseSensitive(o, "metadata"),
                              "generation");
  cJSON_Delete(o);
  to_follow(run, r, gen > 0 ? gen : 0);
  log_event(run, r, "k8s_rollout_restarted");
  action_reasonf(run, "%s: restarted at %s", r->k.who, now);
  return ACTION_PENDING;
}

static enum action_status ro_start(struct action_run *run) {
  struct rollout *r = run->state;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) {
      action_reasonf(run, "out of memory");
      return ACTION_FAILED;
    }
    r->ns = k8s_param(run, "namespace");
    r->name = k8s_param(run, "deployment");
    char who[K8S_WHO_MAX];
    snprintf(who, sizeof who, "kubernetes rollout-restart deployment %.60s/%.80s",
             r->ns ? r->ns : "?", r->name ? r->name : "?");
    if (k8s_open(run, &r->k, who) < 0 || !r->ns || !*r->ns || !r->name ||
        !*r->name) {
      if (r->k.be)
        action_reasonf(run, "%s: needs a namespace and a deployment", who);
      k8s_close(&r->k);
      free(r);
      return ACTION_FAILED;
    }
    backend_rem_tag(run->rem, r->tag);
    action_pace_init(&r->pace, act_k8s_poll_min, act_k8s_poll_max);
    run->state = r;
    long gen = -1;
    if (run->resumed && strncmp(run->token, "generation:", 11) == 0)
      gen = act_k8s_number(run->token + 11);
    if (gen >= 0) {
      to_follow(run, r, gen);
      run->token_changed = false;
      run->next_poll_ms = rtime_now_ms();
      log_event(run, r, "k8s_rollout_resumed");
      return ACTION_PENDING;
    }
  }
  if (r->phase == PH_FOLLOW) {
    run->next_poll_ms = rtime_now_ms();
    return ACTION_PENDING;
  }
  if (r->phase == PH_DONE)
    return ACTION_FAILED;
  return restart(run, r);
}

/* The condition of type t, or NULL. */
static const cJSON *condition(const cJSON *status, const char *t) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status, "conditions")) {
    const char *ty = action_json_str(c, "type");
    if (ty && strcmp(ty, t) == 0)
      return c;
  }
  return NULL;
}

static enum action_status ro_poll(struct action_run *run) {
  struct rollout *r = run->state;
  if (!r) {
    action_reasonf(run, "kubernetes rollout-restart: poll before start");
    return ACTION_FAILED;
  }
  if (r->phase == PH_RESTART)
    return ro_start(run);
  if (r->phase != PH_FOLLOW)
    return ACTION_FAILED;
  if (get_deployment(run, r) < 0 || r->k.rs.status != 200) {
    if (r->k.rs.cls == HTTPC_RETRY)
      return k8s_poll_later(run, &r->k, &r->pace, "following the rollout");
    return k8s_failed(run, &r->k, "following the rollout");
  }
  cJSON *d = action_json(&r->k.rs);
  const cJSON *meta = cJSON_GetObjectItemCaseSensitive(d, "metadata");
  const cJSON *spec = cJSON_GetObjectItemCaseSensitive(d, "spec");
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(d, "status");
  long gen = action_json_long(meta, "generation");
  long observed = action_json_long(status, "observedGeneration");
  long want = action_json_long(spec, "replicas");
  if (want < 0)
    want = 1; /* the API's default */
  long replicas = action_json_long(status, "replicas");
  long updated = action_json_long(status, "updatedReplicas");
  long available = action_json_long(status, "availableReplicas");
  if (replicas < 0) replicas = 0;
  if (updated < 0) updated = 0;
  if (available < 0) available = 0;
  const cJSON *prog = condition(status, "Progressing");
  const char *why = action_json_str(prog, "reason");
  enum action_status res = ACTION_PENDING;
  if (observed >= gen && observed >= r->generation && why &&
      strcmp(why, "ProgressDeadlineExceeded") == 0) {
    r->phase = PH_DONE;
    action_reasonf(run, "%s: rollout failed: ProgressDeadlineExceeded "
                        "(%ld of %ld replicas updated, %ld available)",
                   r->k.who, updated, want, available);
    res = ACTION_FAILED;
  } else if (observed >= gen && observed >= r->generation && updated >= want &&
             replicas <= updated && available >= updated) {
    r->phase = PH_DONE;
    action_reasonf(run, "%s: rolled out: %ld replicas updated and available",
                   r->k.who, updated);
    log_event(run, r, "k8s_rollout_complete");
    res = ACTION_SUCCEEDED;
  } else {
    action_reasonf(run, "%s: rolling out: %ld of %ld updated, %ld available, "
                        "%ld old", r->k.who, updated, want, available,
                   replicas > updated ? replicas - updated : 0);
    action_schedule(run, &r->pace);
  }
  cJSON_Delete(d);
  return res;
}

/* Nothing to undo: a rollout in progress is left to its controller. */
static void ro_cancel(struct action_run *run) {
  struct rollout *r = run->state;
  if (!r)
    return;
  if (r->phase == PH_FOLLOW)
    action_reasonf(run, "rollout of %s/%s still in progress, left to its "
                        "controller", r->ns, r->name);
}

static void ro_release(struct action_run *run) {
  struct rollout *r = run->state;
  if (!r)
    return;
  k8s_close(&r->k);
  free(r);
  run->state = NULL;
}

const struct action_ops act_ops_K8S_RESTART = {
    .name = "kubernetes rollout-restart",
    .start = ro_start,
    .poll = ro_poll,
    .cancel = ro_cancel,
    .release = ro_release,
    .start_checks_earlier = true, /* looks for its tag before patching */
};
