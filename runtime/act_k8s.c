/*
 * act_k8s.c - the Kubernetes API client the kubernetes action kinds share;
 * see act_k8s.h.
 */
#include "act_k8s.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "rtime.h"

int64_t act_k8s_poll_min = ACT_K8S_POLL_MIN_MS;
int64_t act_k8s_poll_max = ACT_K8S_POLL_MAX_MS;
int64_t act_k8s_evict_retry = ACT_K8S_EVICT_RETRY_MS;

void act_k8s_set_poll(int64_t min_ms, int64_t max_ms, int64_t evict_retry_ms) {
  act_k8s_poll_min = min_ms > 0 ? min_ms : ACT_K8S_POLL_MIN_MS;
  act_k8s_poll_max = max_ms > 0 ? max_ms : ACT_K8S_POLL_MAX_MS;
  if (act_k8s_poll_max < act_k8s_poll_min)
    act_k8s_poll_max = act_k8s_poll_min;
  act_k8s_evict_retry =
      evict_retry_ms > 0 ? evict_retry_ms : ACT_K8S_EVICT_RETRY_MS;
}

static char sa_dir[256] = ACT_K8S_SA_DIR;
static char sa_ca[300] = ACT_K8S_SA_DIR "/ca.crt";

void act_k8s_set_sa_dir(const char *dir) {
  snprintf(sa_dir, sizeof sa_dir, "%s", dir ? dir : ACT_K8S_SA_DIR);
  snprintf(sa_ca, sizeof sa_ca, "%s/ca.crt", sa_dir);
}

/* ---- pure helpers -------------------------------------------------------- */

int act_k8s_in_cluster_url(const char *host, const char *port, char *out,
                           size_t outlen) {
  if (!host || !*host || !port || !*port)
    return -1;
  bool v6 = strchr(host, ':') != NULL && host[0] != '[';
  int n = snprintf(out, outlen, "https://%s%s%s:%s", v6 ? "[" : "", host,
                   v6 ? "]" : "", port);
  return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int act_k8s_selector_value(const char *v, char *out, size_t outlen) {
  size_t n = 0;
  for (; *v; v++) {
    bool esc = *v == '\\' || *v == ',' || *v == '=';
    if (n + (esc ? 2 : 1) >= outlen)
      return -1;
    if (esc)
      out[n++] = '\\';
    out[n++] = *v;
  }
  if (n >= outlen)
    return -1;
  out[n] = '\0';
  return 0;
}

long act_k8s_number(const char *s) {
  if (!s || !*s)
    return -1;
  long v = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 10)
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

void act_k8s_rfc3339(int64_t epoch_ms, char out[32]) {
  time_t t = (time_t)(epoch_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void act_k8s_causes(const cJSON *status, char *out, size_t outlen) {
  if (!outlen)
    return;
  out[0] = '\0';
  const cJSON *details = cJSON_GetObjectItemCaseSensitive(status, "details");
  const cJSON *c;
  size_t n = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(details, "causes")) {
    const char *field = action_json_str(c, "field");
    const char *msg = action_json_str(c, "message");
    if (!msg)
      msg = action_json_str(c, "reason");
    int w = snprintf(out + n, outlen - n, "%s%s%s%s", n ? "; " : "",
                     field ? field : "", field ? ": " : "", msg ? msg : "?");
    if (w < 0 || (size_t)w >= outlen - n)
      break;
    n += (size_t)w;
  }
}

/* ---- the cluster --------------------------------------------------------- */

int k8s_open(struct action_run *run, struct k8s *k, const char *who) {
  memset(k, 0, sizeof *k);
  httpc_response_init(&k->rs);
  snprintf(k->who, sizeof k->who, "%s", who);
  const struct backend *be = action_backend(
      run, HL_BK_KUBERNETES, false, who, "Kubernetes cluster",
      "HEALER_KUBE_URL (and HEALER_KUBE_TOKEN_FILE, HEALER_KUBE_CA_FILE), "
      "or run in a Pod");
  if (!be)
    return -1;
  k->be = be;
  const char *url = backend_field(be, "url");
  if (url) {
    snprintf(k->base, sizeof k->base, "%s", url);
  } else {
    /* In-cluster (api-contracts.md 3.1). */
    if (act_k8s_in_cluster_url(getenv("KUBERNETES_SERVICE_HOST"),
                               getenv("KUBERNETES_SERVICE_PORT"), k->base,
                               sizeof k->base) < 0) {
      action_reasonf(run, "%s: no Kubernetes API URL: the backend has no url "
                          "and KUBERNETES_SERVICE_HOST/_PORT are not set (not "
                          "in a Pod?)", who);
      return -1;
    }
    k->in_cluster = true;
  }
  size_t n = strlen(k->base);
  if (n && k->base[n - 1] == '/')
    k->base[n - 1] = '\0';
  k->ca_file = backend_field(be, "ca_file");
  if (!k->ca_file && k->in_cluster)
    k->ca_file = sa_ca;
  k->client_cert = backend_field(be, "client_cert");
  k->client_key = backend_field(be, "client_key");
  return 0;
}

void k8s_close(struct k8s *k) { httpc_response_free(&k->rs); }

const char *k8s_param(const struct action_run *run, const char *name) {
  for (uint32_t i = 0; i < run->step->nparams; i++)
    if (strcmp(run->step->params[i].name, name) == 0)
      return run->step->params[i].value;
  return NULL;
}

/* Reads a small file (a token) into out, one trailing newline dropped.
 * 0, or -1. */
static int read_small(const char *path, char *out, size_t outlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, out + n, outlen - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n >= outlen - 1) { /* too long for a token */
      close(fd);
      return -1;
    }
  }
  close(fd);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    n--;
  out[n] = '\0';
  return n && strlen(out) == n ? 0 : -1;
}

#define TOKEN_MAX 16384

/* The bearer token as it is now, into tok; "" when none is configured.
 * 0, or -1 when it should exist but cannot be read. */
static int current_token(const struct k8s *k, char *tok, size_t n) {
  tok[0] = '\0';
  if (backend_field(k->be, "token"))
    return backend_field_fresh(k->be, "token", tok, n);
  if (k->in_cluster) {
    char path[300];
    snprintf(path, sizeof path, "%s/token", sa_dir);
    return read_small(path, tok, n);
  }
  return 0; /* a client certificate, or an open API (tests) */
}

static void wipe(char *s, size_t n) {
  volatile char *p = s;
  while (n--)
    *p++ = 0;
}

int k8s_request(struct action_run *run, struct k8s *k, enum httpc_method m,
                const char *const *segs, size_t nsegs,
                const struct httpc_kv *q, size_t nq, const char *ctype,
                const char *body, unsigned flags, bool cancelling) {
  char err[HTTPC_ERR_MAX];
  char *url = httpc_url(k->base, segs, nsegs, q, nq, err, sizeof err);
  struct httpc *hc = action_client(run);
  if (!url || !hc) {
    httpc_response_free(&k->rs);
    httpc_response_init(&k->rs);
    k->rs.cls = url ? HTTPC_RETRY : HTTPC_PERMANENT;
    snprintf(k->rs.error, sizeof k->rs.error, "%s", url ? "out of memory" : err);
    free(url);
    return -1;
  }
  static const char *const hdrs[] = {"Accept: application/json"};
  char *tok = malloc(TOKEN_MAX);
  int rc = -1;
  if (!tok) {
    httpc_response_free(&k->rs);
    httpc_response_init(&k->rs);
    k->rs.cls = HTTPC_RETRY;
    snprintf(k->rs.error, sizeof k->rs.error, "out of memory");
    goto out;
  }
  /* A 401 may be a token rotated between our read and the server's
   * check: read it again and send once more (api-contracts.md 3.7). */
  for (int tries = 0; tries < 2; tries++) {
    if (current_token(k, tok, TOKEN_MAX) < 0) {
      httpc_response_free(&k->rs);
      httpc_response_init(&k->rs);
      k->rs.cls = HTTPC_PERMANENT;
      snprintf(k->rs.error, sizeof k->rs.error,
               "cannot read the bearer token%s",
               k->in_cluster ? " of the service account" : " file");
      rc = -1;
      break;
    }
    struct httpc_request rq = {
        .method = m,
        .url = url,
        .content_type = body ? ctype : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .headers = hdrs,
        .nheaders = 1,
        .auth = tok[0] ? HTTPC_AUTH_BEARER : HTTPC_AUTH_NONE,
        .secret = tok[0] ? tok : NULL,
        .timeout_ms = action_request_timeout(run, cancelling),
        .flags = flags,
        .ca_file = k->ca_file,
        .client_cert = k->client_cert,
        .client_key = k->client_key,
        .hist = k->be->requests,
    };
    rc = httpc_do(hc, &rq, &k->rs);
    if (rc != 0 || k->rs.status != 401)
      break;
  }
  wipe(tok, TOKEN_MAX);
  free(tok);
out:
  free(url);
  return rc;
}

/* ---- reasons ------------------------------------------------------------- */

static const char *k8s_hint(long status) {
  switch (status) {
  case 401:
    return "token rejected, also after reading it again";
  case 403:
    return "forbidden by RBAC";
  case 404:
    return "not found";
  case 409:
    return "conflict";
  case 415:
    return "patch type not supported";
  case 422:
    return "invalid";
  case 429:
    return "too many requests";
  case 500:
    return "API server error";
  default:
    return NULL;
  }
}

enum action_status k8s_failed(struct action_run *run, struct k8s *k,
                              const char *what) {
  if (k->rs.status == 422) {
    cJSON *o = action_json(&k->rs);
    char causes[160];
    act_k8s_causes(o, causes, sizeof causes);
    const char *msg = action_json_str(o, "message");
    action_reasonf(run, "%s: %s: HTTP 422 (invalid): %s", k->who, what,
                   causes[0] ? causes : msg ? msg : "-");
    cJSON_Delete(o);
    backend_redact(k->be, run->reason);
    return ACTION_FAILED;
  }
  if (k->rs.status == 403) {
    /* 'nodes "n1" is forbidden: User "..." cannot patch resource "nodes"
     * ...': the part after "is forbidden: " says who may not do what, and
     * a reason is short. */
    cJSON *o = action_json(&k->rs);
    const char *msg = action_json_str(o, "message");
    const char *cut = msg ? strstr(msg, "is forbidden: ") : NULL;
    if (cut) {
      action_reasonf(run, "%s: %s: HTTP 403 (forbidden by RBAC): %s", k->who,
                     what, cut + 14);
      cJSON_Delete(o);
      backend_redact(k->be, run->reason);
      return ACTION_FAILED;
    }
    cJSON_Delete(o);
  }
  return action_failed(run, k->be, k->who, what, &k->rs, k8s_hint);
}

enum action_status k8s_poll_later(struct action_run *run, struct k8s *k,
                                  struct action_pace *p, const char *what) {
  return action_poll_later(run, p, k->be, k->who, what, &k->rs, k8s_hint);
}
