/*
 * test_kubernetes.c - the Kubernetes kinds (job, cordon, drain, evict,
 * rollout-restart) against the fake API server over https, verified with
 * a test CA, driven the way a worker drives them (start, poll, retry with
 * backoff, cancel on the deadline).
 *
 * Jobs: Complete, Failed (the condition's reason), never finishing (the
 * timeout deletes it with propagationPolicy=Foreground), a 503 then a 409
 * for a taken generated name, a lost reply to the create (no second Job).
 * Nodes: an eviction a PodDisruptionBudget refuses twice, and one it
 * refuses until the timeout; drain skips DaemonSet and mirror pods; cordon
 * twice. Auth: a token rotated between two calls; 401 and 403 permanent.
 * Rollouts: a paused Deployment refused, one followed to completion, one
 * failing with ProgressDeadlineExceeded. Escaping: a node name that needs
 * percent-encoding and selector escaping, a value with quotes and a
 * newline as a Job's environment variable. Resume: with a token the kind
 * follows and does not create; without one it finds its own Job.
 */
#include "fakes.h"

#include "abi.h"
#include "act_k8s.h"
#include "action.h"
#include "backend.h"
#include "httpc.h"
#include "log.h"
#include "rem.h"
#include "rtime.h"

#define T0 "2026-11-27T12:10:15.696335593Z"
#define TOKEN "kube-SECRET-token-4711"
#define TOKEN2 "kube-ROTATED-token-0815"
#define BAD_TOKEN "kube-WRONG-token-0000"

/* ---- a ruleset: the cluster with a good token and with a bad one --------- */

static struct hl_backend_field fields[] = {
    {"url", HL_SRC_ENV, "TEST_KUBE_URL"},
    {"token", HL_SRC_FILE, NULL},   /* set in main() */
    {"ca_file", HL_SRC_LITERAL, NULL},
    {"url", HL_SRC_ENV, "TEST_KUBE_URL"},
    {"token", HL_SRC_FILE, NULL},
    {"ca_file", HL_SRC_LITERAL, NULL},
};
static const struct hl_backend backends[] = {
    {"kube", HL_BK_KUBERNETES, 0, 3, "tests/kube.heal", 1},
    {"kube_bad", HL_BK_KUBERNETES, 3, 3, "tests/kube.heal", 6},
};
enum { B_GOOD, B_BAD };
/* One rule per kind, and a job on the bad backend. */
static const struct hl_step steps[] = {
    {HL_ACT_K8S_JOB, B_GOOD, "fix", 0, 0, 0, {0, 0}},
    {HL_ACT_K8S_CORDON, B_GOOD, NULL, 0, 0, 0, {0, 0}},
    {HL_ACT_K8S_DRAIN, B_GOOD, NULL, 0, 0, 0, {0, 0}},
    {HL_ACT_K8S_EVICT, B_GOOD, NULL, 0, 0, 0, {0, 0}},
    {HL_ACT_K8S_RESTART, B_GOOD, NULL, 0, 0, 0, {0, 0}},
    {HL_ACT_K8S_CORDON, B_BAD, NULL, 0, 0, 0, {0, 0}},
};
enum { R_JOB, R_CORDON, R_DRAIN, R_EVICT, R_RESTART, R_BAD };
#define RULE(n, i)                                                             \
  {.name = n,                                                                  \
   .file = "tests/kube.heal",                                                  \
   .line = 20 + i,                                                             \
   .status = HL_STATUS_FIRING,                                                 \
   .first_step = i,                                                            \
   .nsteps = 1,                                                                \
   .during = HL_NONE,                                                          \
   .not_during = HL_NONE}
static const struct hl_rule rules[] = {
    RULE("k_job", 0),   RULE("k_cordon", 1),  RULE("k_drain", 2),
    RULE("k_evict", 3), RULE("k_restart", 4), RULE("k_bad", 5)};
static const struct hl_ruleset test_rs = {
    .abi_version = HL_ABI_VERSION,
    .rules = rules,
    .nrules = 6,
    .steps = steps,
    .nsteps = 6,
    .backends = backends,
    .nbackends = 2,
    .fields = fields,
    .nfields = 6,
};

static struct fake kube;
static char token_file[64], bad_token_file[64];
static char tls_dir[64], ca_crt[128];

static void write_token(const char *path, const char *tok) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%s\n", tok);
  fclose(f);
}

static int each_setup(void **state) {
  (void)state;
  fake_reset(&kube);
  write_token(token_file, TOKEN);
  setenv("TEST_KUBE_URL", kube.url, 1);
  char err[1024];
  if (backend_load_all(&test_rs, false, err, sizeof err) != 0)
    fail_msg("backends: %s", err);
  return 0;
}

/* ---- remediations and the driver ----------------------------------------- */

static struct remediation *make_rem(uint32_t rule, uint64_t id,
                                    const char *target,
                                    struct rem_param *params, uint32_t n) {
  struct alert a = {.status = HL_STATUS_FIRING,
                    .alertname = "NodeUnhealthy",
                    .fingerprint = "738e04ac61a520a1",
                    .starts_at = T0};
  const struct hl_step *hs = &steps[rules[rule].first_step];
  struct rem_step st = {hs->action, hs->backend, target, n, params, 0};
  struct rem_draft d = {.rule = rule,
                        .rule_name = rules[rule].name,
                        .alert = &a,
                        .nsteps = 1,
                        .steps = &st};
  struct remediation *r = rem_new(&d, id, REM_RUNNING, NULL, rtime_now_ms());
  assert_non_null(r);
  return r;
}

struct outcome {
  enum rem_state st;
  unsigned starts;
  char reason[REM_REASON_MAX];
  char token[ACTION_TOKEN_MAX];
};

static void sleep_until(int64_t at) {
  int64_t left = at - rtime_now_ms();
  if (left > 0)
    fake_sleep_ms((long)left);
}

/* What a worker does with one step (worker.c run_steps). */
static struct outcome drive_run(struct action_run *run, uint32_t retries,
                                int64_t backoff_ms, int64_t timeout_ms) {
  struct outcome o = {REM_SUCCEEDED, 0, "", ""};
  const struct action_ops *ops = action_ops_for(run->step->kind);
  assert_non_null(ops);
  int64_t deadline = rtime_now_ms() + timeout_ms;
  run->deadline_ms = deadline;
  enum action_status st = ops->start(run);
  o.starts++;
  for (;;) {
    while (st == ACTION_PENDING) {
      int64_t at = run->next_poll_ms < deadline ? run->next_poll_ms : deadline;
      sleep_until(at);
      if (rtime_now_ms() >= deadline) {
        char how[sizeof run->reason];
        run->reason[0] = '\0';
        ops->cancel(run);
        snprintf(how, sizeof how, "%s", run->reason);
        snprintf(run->reason, sizeof run->reason, "timed out%s%.150s",
                 how[0] ? "; " : "", how);
        o.st = REM_TIMED_OUT;
        break;
      }
      st = ops->poll(run);
    }
    if (o.st != REM_SUCCEEDED || st != ACTION_RETRY || run->attempt >= retries)
      break;
    int64_t at =
        rtime_now_ms() + httpc_backoff_ms(run->attempt, backoff_ms, 30000);
    if (run->next_poll_ms > at)
      at = run->next_poll_ms;
    if (at >= deadline)
      break;
    sleep_until(at);
    run->attempt++;
    st = ops->start(run);
    o.starts++;
  }
  if (o.st == REM_SUCCEEDED && st != ACTION_SUCCEEDED)
    o.st = REM_FAILED;
  snprintf(o.reason, sizeof o.reason, "%s", run->reason);
  snprintf(o.token, sizeof o.token, "%s", run->token);
  if (ops->release)
    ops->release(run);
  assert_null(run->state);
  return o;
}

static struct outcome drive(struct remediation *r, uint32_t retries,
                            int64_t timeout_ms) {
  struct action_run run = {0};
  run.rs = &test_rs;
  run.rem = r;
  run.step = &r->steps[0];
  return drive_run(&run, retries, 50, timeout_ms);
}

/* ---- the fake's state ---------------------------------------------------- */

static cJSON *state(void) { return fake_json(&kube, "/_fake/state"); }

static int njobs(void) {
  cJSON *s = state();
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(s, "jobs"));
  cJSON_Delete(s);
  return n;
}

static int count(const char *q) { return fake_count(&kube, q); }

#define JOBS_PATH "/apis/batch/v1/namespaces/remediation/jobs"

static struct rem_param job_params[] = {{"namespace", "remediation"},
                                        {"image", "registry.example/fix:1"},
                                        {"command", "sh -c true"},
                                        {"active_deadline", "120"}};

/* The env entry called name in the first container of a Job, or NULL. */
static const char *job_env(const cJSON *job, const char *name) {
  const cJSON *c = cJSON_GetArrayItem(
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(
              cJSON_GetObjectItem(cJSON_GetObjectItem(job, "spec"), "template"),
              "spec"),
          "containers"),
      0);
  const cJSON *e;
  cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "env")) {
    const cJSON *n = cJSON_GetObjectItem(e, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
      return cJSON_GetObjectItem(e, "value")->valuestring;
  }
  return NULL;
}

/* ---- pure ---------------------------------------------------------------- */

static void test_helpers(void **state_) {
  (void)state_;
  char u[64];
  assert_int_equal(act_k8s_in_cluster_url("10.0.0.1", "443", u, sizeof u), 0);
  assert_string_equal(u, "https://10.0.0.1:443");
  assert_int_equal(act_k8s_in_cluster_url("fd00::1", "6443", u, sizeof u), 0);
  assert_string_equal(u, "https://[fd00::1]:6443");
  assert_int_equal(act_k8s_in_cluster_url("", "443", u, sizeof u), -1);
  assert_int_equal(act_k8s_in_cluster_url("h", NULL, u, sizeof u), -1);
  assert_int_equal(act_k8s_number("30"), 30);
  assert_int_equal(act_k8s_number("-1"), -1);
  assert_int_equal(act_k8s_number("3x"), -1);
  assert_int_equal(act_k8s_number("12345678901"), -1);
  char t[32];
  act_k8s_rfc3339(1795781400000LL, t);
  assert_string_equal(t, "2026-11-27T12:10:00Z");
  char sel[64];
  assert_int_equal(act_k8s_selector_value("a,b=c\\d", sel, sizeof sel), 0);
  assert_string_equal(sel, "a\\,b\\=c\\\\d");
  assert_int_equal(act_k8s_selector_value("0123456789", sel, 8), -1);
}

/* ---- jobs ---------------------------------------------------------------- */

static void test_job_complete(void **state_) {
  (void)state_;
  struct remediation *r = make_rem(R_JOB, 1, "fix", job_params, 4);
  struct outcome o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "Complete"));
  assert_int_equal(strncmp(o.token, "job:fix-", 8), 0);
  assert_int_equal(count("method=POST&path=" JOBS_PATH), 1);

  cJSON *reqs = fake_json(&kube, "/_fake/requests?method=POST");
  const cJSON *post = cJSON_GetArrayItem(reqs, 0);
  const cJSON *h = cJSON_GetObjectItem(post, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "authorization")->valuestring,
                      "Bearer " TOKEN);
  assert_non_null(cJSON_GetObjectItem(post, "tls"));
  cJSON_Delete(reqs);

  cJSON *s = state();
  const cJSON *job = cJSON_GetObjectItem(
      cJSON_GetArrayItem(cJSON_GetObjectItem(s, "jobs"), 0), "object");
  const cJSON *md = cJSON_GetObjectItem(job, "metadata");
  assert_string_equal(cJSON_GetObjectItem(md, "generateName")->valuestring,
                      "fix-");
  assert_string_equal(cJSON_GetObjectItem(md, "name")->valuestring, o.token + 4);
  char tag[BACKEND_TAG_MAX];
  backend_rem_tag(r, tag);
  const cJSON *labels = cJSON_GetObjectItem(md, "labels");
  assert_string_equal(
      cJSON_GetObjectItem(labels, ACT_K8S_LABEL_REM)->valuestring, tag);
  assert_string_equal(
      cJSON_GetObjectItem(labels, ACT_K8S_LABEL_MANAGED)->valuestring,
      "healer");
  const cJSON *spec = cJSON_GetObjectItem(job, "spec");
  assert_int_equal(cJSON_GetObjectItem(spec, "backoffLimit")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(spec, "activeDeadlineSeconds")->valueint,
                   120);
  const cJSON *pspec =
      cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "template"), "spec");
  assert_string_equal(
      cJSON_GetObjectItem(pspec, "restartPolicy")->valuestring, "Never");
  assert_string_equal(job_env(job, "HEALER_REMEDIATION_ID"), tag);
  assert_null(job_env(job, "image")); /* declared: not an env var */
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_job_failed(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"job_behaviour\":{\"fail-\":{\"outcome\":\"Failed\","
                     "\"reason\":\"BackoffLimitExceeded\",\"message\":"
                     "\"Job has reached the specified backoff limit\"}}}");
  struct remediation *r = make_rem(R_JOB, 2, "fail", job_params, 4);
  struct outcome o = drive(r, 2, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1); /* a result is not retried */
  assert_non_null(strstr(o.reason, "Failed: BackoffLimitExceeded"));
  assert_non_null(strstr(o.reason, "backoff limit"));
  assert_int_equal(njobs(), 1);
  rem_unref(r);
}

static void test_job_timeout_deletes(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"job_behaviour\":{\"hang-\":{\"outcome\":\"Never\"}}}");
  struct remediation *r = make_rem(R_JOB, 3, "hang", job_params, 4);
  struct outcome o = drive(r, 0, 1500);
  assert_int_equal(o.st, REM_TIMED_OUT);
  assert_non_null(strstr(o.reason, "deleted with its pods"));
  cJSON *s = state();
  const cJSON *dels = cJSON_GetObjectItem(s, "deletions");
  assert_int_equal(cJSON_GetArraySize(dels), 1);
  const cJSON *d = cJSON_GetArrayItem(dels, 0);
  assert_string_equal(cJSON_GetObjectItem(d, "policy")->valuestring,
                      "Foreground");
  assert_string_equal(cJSON_GetObjectItem(d, "name")->valuestring, o.token + 4);
  cJSON_Delete(s);
  cJSON *reqs = fake_json(&kube, "/_fake/requests?method=DELETE");
  const cJSON *q = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "query");
  assert_non_null(strstr(q->valuestring, "propagationPolicy=Foreground"));
  cJSON_Delete(reqs);
  rem_unref(r);
}

/* A 503 before the server saw it, then the retry's generated name is
 * taken (409): posted again under a new name; one Job of ours. */
static void test_job_409_retried(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"name_suffixes\":[\"zzzzz\"]}");
  struct remediation *first = make_rem(R_JOB, 4, "fix", job_params, 4);
  struct outcome o = drive(first, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_string_equal(o.token, "job:fix-zzzzz");
  rem_unref(first);

  fake_script(&kube, "{\"name_suffixes\":[\"zzzzz\"],\"faults\":[{\"status\":"
                     "503,\"count\":1,\"method\":\"POST\"}]}");
  struct remediation *r = make_rem(R_JOB, 5, "fix", job_params, 4);
  o = drive(r, 2, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(strncmp(o.token, "job:fix-", 8), 0);
  assert_string_not_equal(o.token, "job:fix-zzzzz");
  /* first's, the 503, the 409, the one that took */
  assert_int_equal(count("method=POST&path=" JOBS_PATH), 4);
  assert_int_equal(njobs(), 2);
  rem_unref(r);
}

/* The create reached the server, its answer did not: the retry finds the
 * Job by its label and follows it. */
static void test_job_lost_reply(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                     "\"method\":\"POST\",\"path\":\"" JOBS_PATH "\"}]}");
  struct remediation *r = make_rem(R_JOB, 6, "fix", job_params, 4);
  struct outcome o = drive(r, 3, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(count("method=POST&path=" JOBS_PATH), 1);
  assert_int_equal(njobs(), 1);
  assert_true(count("method=GET&path=" JOBS_PATH) >= 1); /* the label */
  cJSON *s = state();
  const cJSON *j = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "jobs"), 0);
  char want[80];
  snprintf(want, sizeof want, "job:%s",
           cJSON_GetObjectItem(j, "name")->valuestring);
  assert_string_equal(o.token, want);
  cJSON_Delete(s);
  rem_unref(r);
}

/* ---- nodes --------------------------------------------------------------- */

static struct rem_param evict_params[] = {{"namespace", "shop"},
                                          {"pod", "web-1"}};

static void test_evict_pdb(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"pdbs\":{\"web\":{\"block_count\":2}},\"pods\":["
                     "{\"name\":\"web-1\",\"namespace\":\"shop\","
                     "\"node\":\"n1\",\"pdb\":\"web\",\"owner\":{\"kind\":"
                     "\"ReplicaSet\",\"name\":\"web-5d\"}}]}");
  struct remediation *r = make_rem(R_EVICT, 10, NULL, evict_params, 2);
  struct outcome o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_non_null(strstr(o.reason, "evicted and gone"));
  cJSON *s = state();
  const cJSON *ev = cJSON_GetObjectItem(s, "evictions");
  assert_int_equal(cJSON_GetArraySize(ev), 3);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "code")->valueint,
                   429);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 2), "code")->valueint,
                   201);
  assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "pods"), "shop/web-1"));
  cJSON_Delete(s);
  rem_unref(r);

  /* Refused until the timeout: the reason names the budget. */
  fake_reset(&kube);
  fake_script(&kube, "{\"pdbs\":{\"web\":{\"block_count\":-1}},\"pods\":["
                     "{\"name\":\"web-1\",\"namespace\":\"shop\","
                     "\"node\":\"n1\",\"pdb\":\"web\"}]}");
  r = make_rem(R_EVICT, 11, NULL, evict_params, 2);
  o = drive(r, 0, 1200);
  assert_int_equal(o.st, REM_TIMED_OUT);
  assert_non_null(strstr(o.reason, "blocked by PodDisruptionBudget"));
  s = state();
  assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(s, "evictions")) >= 2);
  assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "pods"), "shop/web-1"));
  cJSON_Delete(s);
  rem_unref(r);
}

static struct rem_param node_params[] = {{"node", "n1"}};

static void test_drain_skips(void **state_) {
  (void)state_;
  fake_script(&kube,
              "{\"nodes\":{\"n1\":{},\"n2\":{}},\"pods\":["
              "{\"name\":\"web-1\",\"namespace\":\"shop\",\"node\":\"n1\","
              "\"owner\":{\"kind\":\"ReplicaSet\",\"name\":\"web-5d\"}},"
              "{\"name\":\"db-0\",\"namespace\":\"shop\",\"node\":\"n1\","
              "\"owner\":{\"kind\":\"StatefulSet\",\"name\":\"db\"}},"
              "{\"name\":\"fluentd-x\",\"namespace\":\"kube-system\","
              "\"node\":\"n1\",\"owner\":{\"kind\":\"DaemonSet\",\"name\":"
              "\"fluentd\"}},"
              "{\"name\":\"etcd-n1\",\"namespace\":\"kube-system\","
              "\"node\":\"n1\",\"mirror\":true},"
              "{\"name\":\"web-2\",\"namespace\":\"shop\",\"node\":\"n2\"}]}");
  struct remediation *r = make_rem(R_DRAIN, 20, NULL, node_params, 1);
  struct outcome o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_non_null(strstr(o.reason, "2 pods evicted"));
  assert_non_null(strstr(o.reason, "2 skipped"));
  assert_string_equal(o.token, "cordoned");
  cJSON *s = state();
  const cJSON *ev = cJSON_GetObjectItem(s, "evictions");
  assert_int_equal(cJSON_GetArraySize(ev), 2);
  const cJSON *e;
  cJSON_ArrayForEach(e, ev) {
    assert_string_equal(cJSON_GetObjectItem(e, "namespace")->valuestring,
                        "shop");
    assert_string_not_equal(cJSON_GetObjectItem(e, "pod")->valuestring,
                            "web-2");
  }
  const cJSON *pods = cJSON_GetObjectItem(s, "pods");
  assert_non_null(cJSON_GetObjectItem(pods, "kube-system/fluentd-x"));
  assert_non_null(cJSON_GetObjectItem(pods, "kube-system/etcd-n1"));
  assert_non_null(cJSON_GetObjectItem(pods, "shop/web-2"));
  assert_null(cJSON_GetObjectItem(pods, "shop/web-1"));
  const cJSON *n1 = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "nodes"), "n1");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(n1, "spec"),
                                               "unschedulable")));
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_cordon_idempotent(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"nodes\":{\"n1\":{}}}");
  for (int i = 0; i < 2; i++) {
    struct remediation *r = make_rem(R_CORDON, 30 + (uint64_t)i, NULL,
                                     node_params, 1);
    struct outcome o = drive(r, 0, 10000);
    assert_int_equal(o.st, REM_SUCCEEDED);
    assert_non_null(strstr(o.reason, "cordoned"));
    rem_unref(r);
  }
  assert_int_equal(count("method=PATCH&path=/api/v1/nodes/n1"), 2);
  cJSON *reqs = fake_json(&kube, "/_fake/requests?method=PATCH");
  const cJSON *h = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "content-type")->valuestring,
                      "application/merge-patch+json");
  cJSON_Delete(reqs);
  cJSON *s = state();
  const cJSON *n1 = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "nodes"), "n1");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(n1, "spec"),
                                               "unschedulable")));
  cJSON_Delete(s);
  /* A node that does not exist: 404, permanent. */
  struct rem_param none[] = {{"node", "n404"}};
  struct remediation *r = make_rem(R_CORDON, 32, NULL, none, 1);
  struct outcome o = drive(r, 2, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 404"));
  rem_unref(r);
}

/* ---- auth ---------------------------------------------------------------- */

static void test_token_rotated(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"nodes\":{\"n1\":{}}}");
  struct remediation *r = make_rem(R_CORDON, 40, NULL, node_params, 1);
  struct outcome o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  rem_unref(r);
  /* The kubelet rotates the projected token: new file, old one refused. */
  write_token(token_file, TOKEN2);
  fake_script(&kube, "{\"tokens\":[\"" TOKEN2 "\"]}");
  r = make_rem(R_CORDON, 41, NULL, node_params, 1);
  o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  rem_unref(r);
  cJSON *reqs = fake_json(&kube, "/_fake/requests?method=PATCH");
  assert_int_equal(cJSON_GetArraySize(reqs), 2);
  const cJSON *h = cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "authorization")->valuestring,
                      "Bearer " TOKEN2);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 1), "status")
                       ->valueint,
                   200);
  cJSON_Delete(reqs);
}

static void test_401_403(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"nodes\":{\"n1\":{}}}");
  /* 401: read again, sent once more, then permanent; the token not shown. */
  struct remediation *r = make_rem(R_BAD, 50, NULL, node_params, 1);
  struct outcome o = drive(r, 3, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 401 (token rejected"));
  assert_null(strstr(o.reason, BAD_TOKEN));
  assert_int_equal(count("method=PATCH"), 2);
  rem_unref(r);

  /* 403: RBAC says no; permanent, and the reason says what was refused. */
  fake_script(&kube, "{\"forbid\":[{\"verb\":\"patch\",\"resource\":"
                     "\"nodes\"}]}");
  r = make_rem(R_CORDON, 51, NULL, node_params, 1);
  o = drive(r, 3, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 403 (forbidden by RBAC): User "));
  if (!strstr(o.reason, "cannot patch resource \"nodes\""))
    fail_msg("reason: %s", o.reason);
  rem_unref(r);
}

/* No default cluster (no HEALER_KUBE_URL, not in a Pod): the step fails at
 * once and the reason says what to set, prefixed by what was attempted. */
static void test_no_cluster(void **state_) {
  (void)state_;
  struct remediation *r = make_rem(R_CORDON, 55, NULL, node_params, 1);
  r->steps[0].backend = HL_NONE;
  struct outcome o = drive(r, 1, 10000);
  assert_int_equal(o.st, REM_FAILED);
  if (!strstr(o.reason, "kubernetes cordon node 'n1': no Kubernetes cluster "
                        "configured: set HEALER_KUBE_URL"))
    fail_msg("reason: %s", o.reason);
  assert_int_equal(count("method=PATCH"), 0);
  rem_unref(r);
}

/* ---- rollouts ------------------------------------------------------------ */

static struct rem_param ro_params[] = {{"namespace", "shop"},
                                       {"deployment", "web"}};

static void test_rollout(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"deployments\":{\"shop/web\":{\"replicas\":3,"
                     "\"rollout_seconds\":0.6}}}");
  struct remediation *r = make_rem(R_RESTART, 60, NULL, ro_params, 2);
  struct outcome o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_non_null(strstr(o.reason, "rolled out: 3 replicas"));
  assert_string_equal(o.token, "generation:2");
  assert_int_equal(count("method=PATCH"), 1);
  cJSON *s = state();
  const cJSON *d =
      cJSON_GetObjectItem(cJSON_GetObjectItem(s, "deployments"), "shop/web");
  const cJSON *ann = cJSON_GetObjectItem(
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetObjectItem(d, "spec"), "template"),
          "metadata"),
      "annotations");
  assert_non_null(cJSON_GetObjectItem(ann, "kubectl.kubernetes.io/restartedAt"));
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_rollout_paused_and_deadline(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"deployments\":{\"shop/web\":{\"paused\":true}}}");
  struct remediation *r = make_rem(R_RESTART, 61, NULL, ro_params, 2);
  struct outcome o = drive(r, 2, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "paused"));
  assert_int_equal(count("method=PATCH"), 0);
  rem_unref(r);

  fake_reset(&kube);
  fake_script(&kube, "{\"deployments\":{\"shop/web\":{\"replicas\":2,"
                     "\"rollout_seconds\":0.4,"
                     "\"progress_deadline_exceeded\":true}}}");
  r = make_rem(R_RESTART, 62, NULL, ro_params, 2);
  o = drive(r, 2, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "ProgressDeadlineExceeded"));
  rem_unref(r);
}

/* ---- escaping ------------------------------------------------------------ */

#define ODD_NODE "edge node,7=a"

static void test_escaping(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"nodes\":{\"" ODD_NODE "\":{}},\"pods\":["
                     "{\"name\":\"web-1\",\"namespace\":\"shop\",\"node\":\""
                     ODD_NODE "\"},"
                     "{\"name\":\"web-2\",\"namespace\":\"shop\",\"node\":"
                     "\"edge node\"}]}");
  struct rem_param odd[] = {{"node", ODD_NODE}};
  struct remediation *r = make_rem(R_DRAIN, 70, NULL, odd, 1);
  struct outcome o = drive(r, 0, 10000);
  if (o.st != REM_SUCCEEDED)
    fail_msg("drain of '%s': %s", ODD_NODE, o.reason);
  assert_non_null(strstr(o.reason, "1 pods evicted"));
  assert_int_equal(count("method=PATCH&path=/api/v1/nodes/edge%2520node%252c7%253da"),
                   1);
  cJSON *s = state();
  const cJSON *ev = cJSON_GetObjectItem(s, "evictions");
  assert_int_equal(cJSON_GetArraySize(ev), 1);
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(ev, 0), "pod")->valuestring,
      "web-1");
  cJSON_Delete(s);
  rem_unref(r);

  /* A label value with quotes, a backslash and a newline as an env var. */
  struct rem_param p[] = {{"namespace", "remediation"},
                          {"image", "registry.example/fix:1"},
                          {"REASON", "disk \"full\"\\\non /var"}};
  r = make_rem(R_JOB, 71, "fix", p, 3);
  o = drive(r, 0, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  s = state();
  const cJSON *job = cJSON_GetObjectItem(
      cJSON_GetArrayItem(cJSON_GetObjectItem(s, "jobs"), 0), "object");
  assert_string_equal(job_env(job, "REASON"), "disk \"full\"\\\non /var");
  cJSON_Delete(s);
  rem_unref(r);
}

/* ---- resume -------------------------------------------------------------- */

static void test_resume(void **state_) {
  (void)state_;
  fake_script(&kube, "{\"job_behaviour\":{\"fix-\":{\"run_seconds\":0.8}}}");
  const struct action_ops *ops = action_ops_for(HL_ACT_K8S_JOB);
  struct remediation *r = make_rem(R_JOB, 80, "fix", job_params, 4);
  struct action_run run = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&run), ACTION_PENDING);
  assert_true(run.token_changed);
  char token[ACTION_TOKEN_MAX];
  snprintf(token, sizeof token, "%s", run.token);
  ops->release(&run); /* the process is gone */

  /* With the journaled token: followed, not created. */
  struct action_run again = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                             .resumed = true};
  snprintf(again.token, sizeof again.token, "%s", token);
  struct outcome o = drive_run(&again, 0, 50, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_string_equal(o.token, token);
  assert_int_equal(count("method=POST"), 1);
  assert_int_equal(njobs(), 1);
  rem_unref(r);

  /* Died before the token was journaled: resumed as the worker does it
   * (attempt 1, no token), it finds its Job by the label. */
  r = make_rem(R_JOB, 81, "fix", job_params, 4);
  struct action_run died = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                            .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&died), ACTION_PENDING);
  ops->release(&died);
  struct action_run late = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                            .resumed = true, .attempt = 1};
  o = drive_run(&late, 0, 50, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(count("method=POST"), 2);
  assert_int_equal(njobs(), 2);
  rem_unref(r);

  /* A drain resumed after its cordon: the node is not patched again. */
  fake_script(&kube, "{\"nodes\":{\"n1\":{\"unschedulable\":true}},\"pods\":["
                     "{\"name\":\"web-1\",\"namespace\":\"shop\","
                     "\"node\":\"n1\"}]}");
  r = make_rem(R_DRAIN, 82, NULL, node_params, 1);
  struct action_run dr = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                          .resumed = true};
  snprintf(dr.token, sizeof dr.token, "cordoned");
  o = drive_run(&dr, 0, 50, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(count("method=PATCH"), 0);
  assert_int_equal(count("method=POST&path=/api/v1/namespaces/shop/pods/web-1/"
                         "eviction"),
                   1);
  rem_unref(r);
}

/* ---- main ---------------------------------------------------------------- */

static void remove_certs(void) {
  if (!tls_dir[0])
    return;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tls_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", tls_dir);
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  httpc_global_init();
  act_k8s_set_poll(50, 200, 100);
  fake_write_file(token_file, sizeof token_file, TOKEN "\n");
  fake_write_file(bad_token_file, sizeof bad_token_file, BAD_TOKEN);
  fields[1].value = token_file;
  fields[4].value = bad_token_file;
  const struct CMUnitTest pure[] = {cmocka_unit_test(test_helpers)};
  const struct CMUnitTest live[] = {
      cmocka_unit_test_setup(test_job_complete, each_setup),
      cmocka_unit_test_setup(test_job_failed, each_setup),
      cmocka_unit_test_setup(test_job_timeout_deletes, each_setup),
      cmocka_unit_test_setup(test_job_409_retried, each_setup),
      cmocka_unit_test_setup(test_job_lost_reply, each_setup),
      cmocka_unit_test_setup(test_evict_pdb, each_setup),
      cmocka_unit_test_setup(test_drain_skips, each_setup),
      cmocka_unit_test_setup(test_cordon_idempotent, each_setup),
      cmocka_unit_test_setup(test_token_rotated, each_setup),
      cmocka_unit_test_setup(test_401_403, each_setup),
      cmocka_unit_test_setup(test_no_cluster, each_setup),
      cmocka_unit_test_setup(test_rollout, each_setup),
      cmocka_unit_test_setup(test_rollout_paused_and_deadline, each_setup),
      cmocka_unit_test_setup(test_escaping, each_setup),
      cmocka_unit_test_setup(test_resume, each_setup),
  };
  int rc = cmocka_run_group_tests_name("kubernetes", pure, NULL, NULL);
  snprintf(tls_dir, sizeof tls_dir, "/tmp/healer-kube-tls.XXXXXX");
  if (!mkdtemp(tls_dir))
    return 1;
  const char *fdir = getenv("HEALER_FAKES_DIR");
  char cmd[512], crt[128], key[128];
  snprintf(cmd, sizeof cmd, "%s/mkcerts.sh %s", fdir ? fdir : "tests/fakes",
           tls_dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "mkcerts.sh failed (openssl missing?)\n");
    remove_certs();
    return 1;
  }
  snprintf(ca_crt, sizeof ca_crt, "%s/ca.crt", tls_dir);
  snprintf(crt, sizeof crt, "%s/server.crt", tls_dir);
  snprintf(key, sizeof key, "%s/server.key", tls_dir);
  fields[2].value = ca_crt;
  fields[5].value = ca_crt;
  const char *args[] = {"--token", TOKEN, "--tls-cert", crt,
                        "--tls-key", key, NULL};
  fake_start(&kube, "kubernetes", args);
  fake_use_tls(&kube, ca_crt);
  rc += cmocka_run_group_tests_name("kubernetes_live", live, NULL, NULL);
  fake_stop(&kube);
  remove_certs();
  backend_free_all();
  unlink(token_file);
  unlink(bad_token_file);
  httpc_global_cleanup();
  return rc;
}
