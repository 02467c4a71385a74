/*
 * act_k8s_node.c - node work: `kubernetes cordon`, `kubernetes drain` and
 * `kubernetes evict` (api-contracts.md 3.5).
 *
 *   cordon  PATCH /api/v1/nodes/{node} {"spec":{"unschedulable":true}}
 *           (merge patch; idempotent: a cordoned node stays cordoned)
 *   drain   cordon; list the node's pods (GET /api/v1/pods?fieldSelector=
 *           spec.nodeName={node}&limit=500, following metadata.continue);
 *           skip DaemonSet-owned and mirror pods; evict each of the others
 *           (POST .../pods/{pod}/eviction, policy/v1); a 429 (a
 *           PodDisruptionBudget says not now) is tried again every 5 s, as
 *           kubectl does, until the rule's timeout; then wait until each
 *           pod is gone (404, or another pod of that name: a new UID)
 *   evict   the same for one named pod; 404 = already gone = success
 *
 * Nothing here sleeps: each poll() sends what is due (evictions whose
 * retry time came, looks at pods being deleted) and sets run->next_poll_ms
 * to the earliest next thing to do.
 *
 * Resume token (drain): "cordoned" once the cordon is confirmed; a drain
 * resumed with it lists and evicts again without patching the node again.
 * Pods already being deleted (deletionTimestamp set: evicted before a
 * restart) are waited for, not evicted again. Cordon and evict keep no
 * token: repeating them is harmless, so they are simply started again.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_k8s.h"
#include "log.h"
#include "rtime.h"

#define NS_MAX 64
#define NAME_MAX_ 254
#define UID_MAX 64
#define PODS_MAX 10000

enum pod_state { POD_EVICT, POD_WAIT, POD_GONE };

struct pod {
  char ns[NS_MAX];
  char name[NAME_MAX_];
  char uid[UID_MAX];
  enum pod_state st;
  int64_t next_ms;   /* when to evict again, or to look again */
  unsigned blocked;  /* 429s so far */
  bool evicted;      /* healer's eviction was accepted */
};

enum phase { PH_CORDON, PH_LIST, PH_EVICT, PH_DONE };

struct nodeop {
  struct k8s k;
  uint8_t kind;            /* HL_ACT_K8S_CORDON, _DRAIN or _EVICT */
  const char *node;        /* borrowed from the step */
  long grace;              /* gracePeriodSeconds, or -1: the pod's own */
  enum phase phase;
  struct pod *pods;
  size_t npods, cap;
  size_t skipped;          /* DaemonSet and mirror pods */
  char blocked_by[96];     /* the last pod a PDB held, for reasons */
  struct action_pace pace; /* transient errors */
};

static const char *op_word(uint8_t kind) {
  return kind == HL_ACT_K8S_CORDON  ? "cordon"
         : kind == HL_ACT_K8S_DRAIN ? "drain"
                                    : "evict";
}

static void log_event(const struct action_run *run, const struct nodeop *o,
                      const char *msg, const struct pod *p) {
  struct log_line l;
  log_begin(&l, LOGL_INFO, msg);
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  if (o->node)
    log_str(&l, "node", o->node);
  if (p) {
    log_str(&l, "namespace", p->ns);
    log_str(&l, "pod", p->name);
  }
  log_end(&l);
}

static struct pod *add_pod(struct nodeop *o) {
  if (o->npods == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    if (cap > PODS_MAX)
      return NULL;
    struct pod *np = realloc(o->pods, cap * sizeof *np);
    if (!np)
      return NULL;
    o->pods = np;
    o->cap = cap;
  }
  struct pod *p = &o->pods[o->npods++];
  memset(p, 0, sizeof *p);
  return p;
}

static struct nodeop *nodeop_new(struct action_run *run) {
  struct nodeop *o = calloc(1, sizeof *o);
  if (!o) {
    action_reasonf(run, "out of memory");
    return NULL;
  }
  o->kind = run->step->kind;
  o->grace = -1;
  action_pace_init(&o->pace, act_k8s_poll_min, act_k8s_poll_max);
  char who[K8S_WHO_MAX];
  if (o->kind == HL_ACT_K8S_EVICT) {
    const char *ns = k8s_param(run, "namespace"), *pod = k8s_param(run, "pod");
    snprintf(who, sizeof who, "kubernetes evict pod %.60s/%.80s", ns ? ns : "?",
             pod ? pod : "?");
  } else {
    o->node = k8s_param(run, "node");
    snprintf(who, sizeof who, "kubernetes %s node '%.100s'", op_word(o->kind),
             o->node ? o->node : "?");
  }
  if (k8s_open(run, &o->k, who) < 0) {
    k8s_close(&o->k);
    free(o);
    return NULL;
  }
  if (o->kind != HL_ACT_K8S_EVICT && (!o->node || !*o->node)) {
    action_reasonf(run, "%s: no node name (parameter node is empty)", who);
    goto fail;
  }
  const char *g = k8s_param(run, "grace_period");
  if (g && *g) {
    o->grace = act_k8s_number(g);
    if (o->grace < 0) {
      action_reasonf(run, "%s: grace_period '%.20s' is not a number of seconds",
                     who, g);
      goto fail;
    }
  }
  if (o->kind == HL_ACT_K8S_EVICT) {
    const char *ns = k8s_param(run, "namespace"), *pod = k8s_param(run, "pod");
    if (!ns || !*ns || !pod || !*pod || strlen(ns) >= NS_MAX ||
        strlen(pod) >= NAME_MAX_) {
      action_reasonf(run, "%s: namespace and pod must be non-empty names", who);
      goto fail;
    }
    struct pod *p = add_pod(o);
    if (!p) {
      action_reasonf(run, "out of memory");
      goto fail;
    }
    snprintf(p->ns, sizeof p->ns, "%s", ns);
    snprintf(p->name, sizeof p->name, "%s", pod);
    p->st = POD_EVICT;
    o->phase = PH_LIST; /* looks at the pod first: its UID */
  }
  return o;
fail:
  k8s_close(&o->k);
  free(o);
  return NULL;
}

/* ---- cordon -------------------------------------------------------------- */

static enum action_status cordon(struct action_run *run, struct nodeop *o) {
  const char *const segs[] = {"api", "v1", "nodes", o->node};
  cJSON *b = cJSON_CreateObject();
  cJSON *spec = cJSON_AddObjectToObject(b, "spec");
  cJSON_AddTrueToObject(spec, "unschedulable");
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!body) {
    action_reasonf(run, "out of memory");
    return ACTION_RETRY;
  }
  int rc = k8s_request(run, &o->k, HTTPC_PATCH, segs, 4, NULL, 0,
                       "application/merge-patch+json", body, 0, false);
  free(body);
  if (rc < 0 || o->k.rs.status != 200)
    return k8s_failed(run, &o->k, "cordoning");
  log_event(run, o, "k8s_cordoned", NULL);
  return ACTION_SUCCEEDED;
}

/* ---- listing ------------------------------------------------------------- */

static bool daemonset_owned(const cJSON *meta) {
  const cJSON *ref;
  cJSON_ArrayForEach(ref,
                     cJSON_GetObjectItemCaseSensitive(meta, "ownerReferences")) {
    const char *kind = action_json_str(ref, "kind");
    if (kind && strcmp(kind, "DaemonSet") == 0 &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
      return true;
  }
  return false;
}

static bool mirror_pod(const cJSON *meta) {
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
  return cJSON_GetObjectItemCaseSensitive(ann, "kubernetes.io/config.mirror") !=
         NULL;
}

/* Lists the node's pods into o->pods (all pages). PENDING when done (the
 * next poll evicts), else as a failed request. */
static enum action_status list_pods(struct action_run *run, struct nodeop *o) {
  const char *const segs[] = {"api", "v1", "pods"};
  char sel[600], cont[1024] = "";
  /* A name with ',' or '=' would be read as more of the selector. */
  memcpy(sel, "spec.nodeName=", 14);
  if (act_k8s_selector_value(o->node, sel + 14, sizeof sel - 14) < 0) {
    action_reasonf(run, "%s: node name too long", o->k.who);
    return ACTION_FAILED;
  }
  o->npods = 0;
  o->skipped = 0;
  for (int page = 0; page < 100; page++) {
    struct httpc_kv q[3] = {{"fieldSelector", sel}, {"limit", "500"},
                            {"continue", cont}};
    if (k8s_request(run, &o->k, HTTPC_GET, segs, 3, q, cont[0] ? 3 : 2, NULL,
                    NULL, 0, false) < 0 ||
        o->k.rs.status != 200) {
      if (o->k.rs.cls == HTTPC_RETRY)
        return k8s_poll_later(run, &o->k, &o->pace, "listing the node's pods");
      return k8s_failed(run, &o->k, "listing the node's pods");
    }
    cJSON *list = action_json(&o->k.rs);
    if (!list) {
      action_reasonf(run, "%s: listing the node's pods: unreadable PodList",
                     o->k.who);
      action_schedule(run, &o->pace);
      return ACTION_PENDING;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items")) {
      const cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
      const char *name = action_json_str(meta, "name");
      const char *ns = action_json_str(meta, "namespace");
      if (!name || !ns)
        continue;
      if (daemonset_owned(meta) || mirror_pod(meta)) {
        o->skipped++;
        continue;
      }
      struct pod *p = add_pod(o);
      if (!p) {
        cJSON_Delete(list);
        action_reasonf(run, "%s: too many pods on the node", o->k.who);
        return ACTION_FAILED;
      }
      snprintf(p->ns, sizeof p->ns, "%s", ns);
      snprintf(p->name, sizeof p->name, "%s", name);
      const char *uid = action_json_str(meta, "uid");
      snprintf(p->uid, sizeof p->uid, "%s", uid ? uid : "");
      /* Already being deleted (evicted before a restart): wait for it. */
      p->st = cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp")
                  ? POD_WAIT
                  : POD_EVICT;
    }
    const char *c =
        action_json_str(cJSON_GetObjectItemCaseSensitive(list, "metadata"),
                        "continue");
    snprintf(cont, sizeof cont, "%s", c ? c : "");
    cJSON_Delete(list);
    if (!cont[0])
      break;
  }
  struct log_line l;
  log_begin(&l, LOGL_INFO, "k8s_drain_pods");
  log_int(&l, "remediation", (long long)run->rem->id);
  log_str(&l, "rule", run->rem->rule_name);
  log_str(&l, "fingerprint", run->rem->fingerprint);
  log_str(&l, "node", o->node);
  log_int(&l, "pods", (long long)o->npods);
  log_int(&l, "skipped", (long long)o->skipped);
  log_end(&l);
  o->phase = PH_EVICT;
  run->next_poll_ms = rtime_now_ms();
  action_reasonf(run, "%s: %zu pods to evict, %zu skipped (DaemonSet, mirror)",
                 o->k.who, o->npods, o->skipped);
  return ACTION_PENDING;
}

/* evict: the named pod's UID (so a new pod of that name counts as the old
 * one gone). */
static enum action_status look_at_pod(struct action_run *run,
                                      struct nodeop *o) {
  struct pod *p = &o->pods[0];
  const char *const segs[] = {"api", "v1", "namespaces", p->ns, "pods",
                              p->name};
  if (k8s_request(run, &o->k, HTTPC_GET, segs, 6, NULL, 0, NULL, NULL, 0,
                  false) < 0 ||
      (o->k.rs.status != 200 && o->k.rs.status != 404)) {
    if (o->k.rs.cls == HTTPC_RETRY)
      return k8s_poll_later(run, &o->k, &o->pace, "looking at the pod");
    return k8s_failed(run, &o->k, "looking at the pod");
  }
  if (o->k.rs.status == 404) {
    p->st = POD_GONE;
  } else {
    cJSON *pod = action_json(&o->k.rs);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
    const char *uid = action_json_str(meta, "uid");
    snprintf(p->uid, sizeof p->uid, "%s", uid ? uid : "");
    if (cJSON_GetObjectItemCaseSensitive(meta, "deletionTimestamp"))
      p->st = POD_WAIT;
    cJSON_Delete(pod);
  }
  o->phase = PH_EVICT;
  run->next_poll_ms = rtime_now_ms();
  return ACTION_PENDING;
}

/* ---- evicting ------------------------------------------------------------ */

static bool blocked_by_pdb(const struct httpc_response *rs) {
  cJSON *o = action_json(rs);
  bool pdb = false;
  const cJSON *c;
  cJSON_ArrayForEach(
      c, cJSON_GetObjectItemCaseSensitive(
             cJSON_GetObjectItemCaseSensitive(o, "details"), "causes")) {
    /* StatusCause.Type is "reason" in JSON. */
    const char *t = action_json_str(c, "reason");
    const char *t2 = action_json_str(c, "type");
    if ((t && strcmp(t, "DisruptionBudget") == 0) ||
        (t2 && strcmp(t2, "DisruptionBudget") == 0))
      pdb = true;
  }
  const char *m = action_json_str(o, "message");
  if (m && strstr(m, "disruption budget"))
    pdb = true;
  cJSON_Delete(o);
  return pdb;
}

/* POST .../pods/{pod}/eviction. PENDING (retry or wait), SUCCEEDED-like
 * progress in p->st, or FAILED for a permanent refusal. */
static enum action_status evict_one(struct action_run *run, struct nodeop *o,
                                    struct pod *p, int64_t now) {
  const char *const segs[] = {"api",  "v1",    "namespaces", p->ns,
                              "pods", p->name, "eviction"};
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "apiVersion", "policy/v1");
  cJSON_AddStringToObject(b, "kind", "Eviction");
  cJSON *meta = cJSON_AddObjectToObject(b, "metadata");
  cJSON_AddStringToObject(meta, "name", p->name);
  cJSON_AddStringToObject(meta, "namespace", p->ns);
  cJSON *del = cJSON_AddObjectToObject(b, "deleteOptions");
  if (o->grace >= 0) /* else omitted: the pod's own grace period (3.5) */
    cJSON_AddNumberToObject(del, "gracePeriodSeconds", (double)o->grace);
  char *body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
  if (!body) {
    p->next_ms = now + act_k8s_poll_min;
    return ACTION_PENDING;
  }
  int rc = k8s_request(run, &o->k, HTTPC_POST, segs, 7, NULL, 0,
                       "application/json", body, 0, false);
  free(body);
  long st = rc == 0 ? o->k.rs.status : 0;
  char what[NS_MAX + NAME_MAX_ + 16];
  snprintf(what, sizeof what, "pod %s/%s", p->ns, p->name);
  if (st >= 200 && st < 300) {
    p->st = POD_WAIT;
    p->evicted = true;
    p->next_ms = now + act_k8s_poll_min;
    log_event(run, o, "k8s_evicted", p);
    return ACTION_PENDING;
  }
  if (st == 404) { /* already gone */
    p->st = POD_GONE;
    return ACTION_PENDING;
  }
  if (st == 429) {
    p->blocked++;
    int64_t wait = act_k8s_evict_retry;
    if (o->k.rs.retry_after_ms > wait)
      wait = o->k.rs.retry_after_ms;
    p->next_ms = now + wait;
    bool pdb = blocked_by_pdb(&o->k.rs);
    snprintf(o->blocked_by, sizeof o->blocked_by, "%.90s", what);
    action_reasonf(run, "%s: %s: eviction blocked by %s (429), retrying",
                   o->k.who, what,
                   pdb ? "PodDisruptionBudget" : "API rate limiting");
    if (p->blocked == 1 || p->blocked % 12 == 0)
      log_event(run, o, pdb ? "k8s_evict_blocked_pdb" : "k8s_evict_throttled",
                p);
    return ACTION_PENDING;
  }
  if (st == 500 && o->k.rs.body.data &&
      strstr(o->k.rs.body.data, "more than one PodDisruptionBudget")) {
    action_reasonf(run, "%s: %s: the pod matches more than one "
                        "PodDisruptionBudget; the API server will not evict it",
                   o->k.who, what);
    return ACTION_FAILED;
  }
  if (o->k.rs.cls == HTTPC_RETRY) {
    char w[sizeof what + 16];
    snprintf(w, sizeof w, "evicting %s", what);
    action_http_reason(run, o->k.be, o->k.who, w, &o->k.rs, NULL);
    p->next_ms = now + (o->k.rs.retry_after_ms > 0 ? o->k.rs.retry_after_ms
                                                   : act_k8s_evict_retry);
    return ACTION_PENDING;
  }
  char w[sizeof what + 16];
  snprintf(w, sizeof w, "evicting %s", what);
  return k8s_failed(run, &o->k, w);
}

/* GET the pod: gone on 404 or a new UID. */
static void look_if_gone(struct action_run *run, struct nodeop *o,
                         struct pod *p, int64_t now) {
  const char *const segs[] = {"api", "v1", "namespaces", p->ns, "pods",
                              p->name};
  int rc = k8s_request(run, &o->k, HTTPC_GET, segs, 6, NULL, 0, NULL, NULL, 0,
                       false);
  p->next_ms = now + act_k8s_poll_min;
  if (rc < 0)
    return;
  if (o->k.rs.status == 404) {
    p->st = POD_GONE;
    return;
  }
  if (o->k.rs.status != 200)
    return;
  cJSON *pod = action_json(&o->k.rs);
  const char *uid = action_json_str(
      cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "uid");
  if (uid && p->uid[0] && strcmp(uid, p->uid) != 0)
    p->st = POD_GONE; /* a new pod of that name (a StatefulSet's) */
  cJSON_Delete(pod);
}

static enum action_status evict_round(struct action_run *run,
                                      struct nodeop *o) {
  int64_t now = rtime_now_ms();
  int64_t next = INT64_MAX;
  size_t left = 0, evicted = 0, waiting = 0;
  for (size_t i = 0; i < o->npods; i++) {
    struct pod *p = &o->pods[i];
    if (p->st != POD_GONE && p->next_ms <= now) {
      if (p->st == POD_EVICT) {
        enum action_status st = evict_one(run, o, p, now);
        if (st != ACTION_PENDING) {
          o->phase = PH_DONE;
          return st;
        }
      } else {
        look_if_gone(run, o, p, now);
      }
    }
    if (p->evicted)
      evicted++;
    if (p->st == POD_GONE)
      continue;
    left++;
    if (p->st == POD_WAIT)
      waiting++;
    if (p->next_ms < next)
      next = p->next_ms;
  }
  if (!left) {
    o->phase = PH_DONE;
    if (o->kind == HL_ACT_K8S_EVICT)
      action_reasonf(run, "%s: %s", o->k.who,
                     evicted ? "evicted and gone" : "already gone");
    else
      action_reasonf(run, "%s: drained: %zu pods evicted, %zu gone already, "
                          "%zu skipped (DaemonSet, mirror)",
                     o->k.who, evicted, o->npods - evicted, o->skipped);
    log_event(run, o, "k8s_drained", NULL);
    return ACTION_SUCCEEDED;
  }
  if (waiting == left)
    action_reasonf(run, "%s: waiting for %zu pod%s to go", o->k.who, left,
                   left == 1 ? "" : "s");
  run->next_poll_ms = next;
  return ACTION_PENDING;
}

/* ---- the ops ------------------------------------------------------------- */

static enum action_status node_poll(struct action_run *run);

static enum action_status node_start(struct action_run *run) {
  struct nodeop *o = run->state;
  if (!o) {
    o = nodeop_new(run);
    if (!o)
      return ACTION_FAILED;
    run->state = o;
    /* Resumed after the cordon was confirmed: not patched again. */
    if (o->kind == HL_ACT_K8S_DRAIN && run->resumed &&
        strcmp(run->token, "cordoned") == 0) {
      o->phase = PH_LIST;
      action_reasonf(run, "%s: resumed: listing the pods again", o->k.who);
      log_event(run, o, "k8s_drain_resumed", NULL);
    }
  }
  if (o->phase == PH_CORDON) {
    enum action_status st = cordon(run, o);
    if (st != ACTION_SUCCEEDED)
      return st;
    if (o->kind == HL_ACT_K8S_CORDON) {
      o->phase = PH_DONE;
      action_reasonf(run, "%s: cordoned (spec.unschedulable=true)", o->k.who);
      return ACTION_SUCCEEDED;
    }
    action_set_token(run, "cordoned", NULL);
    o->phase = PH_LIST;
  }
  if (o->phase == PH_DONE) {
    action_reasonf(run, "%s: already finished", o->k.who);
    return ACTION_FAILED;
  }
  return node_poll(run);
}

static enum action_status node_poll(struct action_run *run) {
  struct nodeop *o = run->state;
  if (!o) {
    action_reasonf(run, "kubernetes: poll before start");
    return ACTION_FAILED;
  }
  switch (o->phase) {
  case PH_CORDON:
    return node_start(run);
  case PH_LIST:
    return o->kind == HL_ACT_K8S_EVICT ? look_at_pod(run, o)
                                       : list_pods(run, o);
  case PH_EVICT:
    return evict_round(run, o);
  case PH_DONE:
    break;
  }
  return ACTION_FAILED;
}

/* On the rule's timeout: nothing to undo (kubectl leaves a node it could
 * not drain cordoned too); the reason says what was left. */
static void node_cancel(struct action_run *run) {
  struct nodeop *o = run->state;
  if (!o)
    return;
  size_t left = 0;
  const struct pod *first = NULL;
  for (size_t i = 0; i < o->npods; i++)
    if (o->pods[i].st != POD_GONE) {
      left++;
      if (!first || (o->pods[i].blocked && !first->blocked))
        first = &o->pods[i];
    }
  if (o->kind == HL_ACT_K8S_CORDON || o->phase == PH_CORDON)
    action_reasonf(run, "%s: not cordoned", o->k.who);
  else if (o->kind == HL_ACT_K8S_EVICT)
    action_reasonf(run, "pod %s %s", first ? first->name : "?",
                   first && first->blocked
                       ? "not evicted: blocked by PodDisruptionBudget"
                       : "not gone yet");
  else if (first)
    action_reasonf(run, "node '%.60s' left cordoned, %zu pod%s not gone "
                        "(%s/%s%s)",
                   o->node, left, left == 1 ? "" : "s", first->ns, first->name,
                   first->blocked ? ": blocked by PodDisruptionBudget" : "");
  else
    action_reasonf(run, "node '%.60s' left cordoned", o->node);
  log_event(run, o, "k8s_drain_timed_out", first);
}

static void node_release(struct action_run *run) {
  struct nodeop *o = run->state;
  if (!o)
    return;
  k8s_close(&o->k);
  free(o->pods);
  free(o);
  run->state = NULL;
}

/* Repeating any of them is harmless (a cordon is idempotent, a drain lists
 * again, an evicted pod answers 404), so a step interrupted before its
 * first answer is simply started again. */
const struct action_ops act_ops_K8S_CORDON = {
    .name = "kubernetes cordon",
    .start = node_start,
    .poll = node_poll,
    .cancel = node_cancel,
    .release = node_release,
    .start_checks_earlier = true,
};
const struct action_ops act_ops_K8S_DRAIN = {
    .name = "kubernetes drain",
    .start = node_start,
    .poll = node_poll,
    .cancel = node_cancel,
    .release = node_release,
    .start_checks_earlier = true,
};
const struct action_ops act_ops_K8S_EVICT = {
    .name = "kubernetes evict",
    .start = node_start,
    .poll = node_poll,
    .cancel = node_cancel,
    .release = node_release,
    .start_checks_earlier = true,
};
