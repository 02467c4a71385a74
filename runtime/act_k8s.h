/*
 * act_k8s.h - what the Kubernetes action kinds share (act_k8s.c): the
 * cluster a step talks to, one request with a freshly read bearer token,
 * the reasons people read, and a few pure helpers (unit-tested).
 *
 * The kinds (see docs/runtime.md, "Kubernetes"):
 *   act_k8s_job.c      kubernetes job              (act_ops_K8S_JOB)
 *   act_k8s_node.c     kubernetes cordon/drain/evict
 *   act_k8s_rollout.c  kubernetes rollout-restart  (act_ops_K8S_RESTART)
 *
 * The cluster (api-contracts.md 3.1): the step's backend (a declared
 * `backend kubernetes NAME`, or the default one from HEALER_KUBE_*). With
 * a url, that server, its ca_file, client_cert/client_key, and its token;
 * without one, in-cluster: https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT (IPv6 in brackets), the service account's token
 * and ca.crt. The token is read again for every request (a projected
 * token is rotated by the kubelet); on a 401 it is read once more and the
 * request sent again once.
 *
 * Ownership: a struct k8s lives inside a kind's state; it borrows the
 * backend table and owns its response buffer (k8s_close()).
 */
#ifndef HEALER_ACT_K8S_H
#define HEALER_ACT_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "httpc.h"

/* The service account's files when healer runs in a Pod. */
#define ACT_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* Label and annotation keys healer puts on what it creates. */
#define ACT_K8S_LABEL_REM "healer.io/remediation"
#define ACT_K8S_LABEL_MANAGED "app.kubernetes.io/managed-by"
/* kubectl waits this long between evictions a PodDisruptionBudget refused
 * (api-contracts.md 3.5). */
#define ACT_K8S_EVICT_RETRY_MS 5000
/* How often a pod being evicted, a Job or a rollout is looked at. */
#define ACT_K8S_POLL_MIN_MS 500
#define ACT_K8S_POLL_MAX_MS 5000

#define K8S_URL_MAX 512
#define K8S_WHO_MAX 256

struct k8s {
  const struct backend *be;    /* borrowed from the backend table */
  char base[K8S_URL_MAX];      /* https://host:port, no trailing slash */
  bool in_cluster;             /* no url: the service account's files */
  const char *ca_file;         /* borrowed (be or the static default) */
  const char *client_cert, *client_key;
  char who[K8S_WHO_MAX];       /* "kubernetes drain node 'n1'" */
  struct httpc_response rs;    /* reused for every request */
};

/* Resolves the step's cluster into k (who names the step in reasons).
 * 0, or -1 with run->reason saying what is missing. */
int k8s_open(struct action_run *run, struct k8s *k, const char *who);
void k8s_close(struct k8s *k);

/* One request: base + segs (each percent-encoded on its own) + query;
 * Accept: application/json; a JSON (or patch) body of type ctype. Fills
 * k->rs. Returns 0 when the server answered (any status), -1 otherwise
 * (k->rs.error says why; k->rs.cls is PERMANENT for a URL that cannot be
 * built or a token that cannot be read). flags: HTTPC_NO_RESEND for a
 * POST that creates. */
int k8s_request(struct action_run *run, struct k8s *k, enum httpc_method m,
                const char *const *segs, size_t nsegs,
                const struct httpc_kv *q, size_t nq, const char *ctype,
                const char *body, unsigned flags, bool cancelling);

/* After a failed request (no answer, or an error status): the reason
 * ("<who>: <what>: HTTP 403 (forbidden by RBAC): User ... cannot ...") and the
 * class, as action_failed(). 409 and 422 are permanent; a 422 names the
 * Status' details.causes. */
enum action_status k8s_failed(struct action_run *run, struct k8s *k,
                              const char *what);
/* A transient error while following: as action_poll_later(). */
enum action_status k8s_poll_later(struct action_run *run, struct k8s *k,
                                  struct action_pace *p, const char *what);

/* The step's parameter, or NULL. */
const char *k8s_param(const struct action_run *run, const char *name);

/* ---- pure helpers (unit-tested) ------------------------------------------ */

/* "https://HOST:PORT", with brackets around an IPv6 literal. 0, or -1 when
 * host or port is empty (client-go refuses in-cluster mode then) or it
 * does not fit. */
int act_k8s_in_cluster_url(const char *host, const char *port, char *out,
                           size_t outlen);

/* A value for a field selector ("spec.nodeName=" + this): '\\', ',' and
 * '=' escaped with a backslash, as fields.EscapeValue does. 0, or -1 when
 * it does not fit. */
int act_k8s_selector_value(const char *v, char *out, size_t outlen);

/* A whole non-negative decimal number (at most 10 digits), or -1. */
long act_k8s_number(const char *s);

/* Time in RFC 3339 (UTC, seconds): "2026-11-27T12:20:00Z". */
void act_k8s_rfc3339(int64_t epoch_ms, char out[32]);

/* "Invalid value ...: field: message; field: message" from a Status' details.causes
 * into out; "" when it has none. */
struct cJSON;
void act_k8s_causes(const struct cJSON *status, char *out, size_t outlen);

/* Where the service account's token and ca.crt are (tests). NULL: the
 * default. */
void act_k8s_set_sa_dir(const char *dir);
/* How often pods, Jobs and rollouts are looked at (tests: faster). 0: the
 * defaults. */
void act_k8s_set_poll(int64_t min_ms, int64_t max_ms, int64_t evict_retry_ms);
extern int64_t act_k8s_poll_min, act_k8s_poll_max, act_k8s_evict_retry;

#endif
