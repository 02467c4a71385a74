/*
 * test_worker.c - the worker's retries: a rule without `retry` gets
 * WORKER_DEFAULT_RETRIES extra attempts on retryable failures, `retry 0`
 * none. The fixture rules retry_default and retry_zero run kubernetes
 * rollout-restart for real against the fake API server, which answers
 * every PATCH with 503 (retryable, api-contracts §3.6); the fake's request
 * log counts the attempts. A service that refuses connections at first
 * (nothing listens) is retried whatever `retry` says: those attempts
 * never reached it.
 */
#include "helpers.h"
#include "fakes.h"

#include <stdio.h>
#include <sys/prctl.h>

#include "abi.h"
#include "action.h"
#include "backend.h"
#include "engine.h"
#include "httpc.h"
#include "log.h"
#include "rtime.h"
#include "worker.h"

#define NOW ((int64_t)1795000000000)
#define HOUR ((int64_t)3600000)
#define PATCH_WEB "method=PATCH&path=/apis/apps/v1/namespaces/ops/deployments/web"

static struct fake kube;

/* PATCHes of the fixture's deployment seen by the fake. */
static int patches(void) { return fake_count(&kube, PATCH_WEB); }

/* ---- the engine, for real (not dry-run) ---------------------------------- */

static struct engine e;
static struct bump arena;

static int setup(void **state) {
  (void)state;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);
  char err[256];
  struct engine_config cfg = {false, 0, 16, 100, 24 * HOUR, 1000, 1000};
  if (engine_init(&e, &hl_ruleset, &cfg, err, sizeof err) != 0) return -1;
  bump_init(&arena, 0);
  fake_reset(&kube);
  fake_script(&kube, "{\"deployments\":{\"ops/web\":{\"replicas\":1}},"
                     "\"faults\":[{\"status\":503,\"count\":-1,"
                     "\"method\":\"PATCH\"}]}");
  if (backend_load_all(&hl_ruleset, false, err, sizeof err) != 0) {
    fprintf(stderr, "backends: %s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  engine_free(&e);
  bump_free(&arena);
  return 0;
}

/* Ingests one firing alert named alertname and runs what it queued. */
static const struct remediation *run_alert(const char *alertname) {
  char body[1024];
  snprintf(body, sizeof body, ENVELOPE(ALERT("firing", "\"alertname\":\"%s\"", "fp-w", T0)),
           alertname);
  struct payload p;
  bump_reset(&arena);
  decode_ok(body, &arena, &p);
  struct ingest_result res;
  assert_int_equal(engine_ingest(&e, &p, &arena, NOW, &res), 0);
  assert_int_equal(res.queued, 1);
  struct workers w;
  memset(&w, 0, sizeof w);
  w.e = &e;
  for (struct queue_item *it; (it = queue_try_pop(&e.queue));)
    workers_run_one(&w, rem_of_item(it));
  assert_non_null(e.store.newest);
  return e.store.newest;
}

static const struct hl_rule *rule_of(const char *name) {
  return &hl_ruleset.rules[rule_named(&hl_ruleset, name)];
}

static void test_default_retries(void **state) {
  (void)state;
  assert_int_equal(rule_of("retry_default")->retries, HL_RETRY_DEFAULT);
  assert_int_equal(workers_retries(rule_of("retry_default")), WORKER_DEFAULT_RETRIES);
  const struct remediation *r = run_alert("RetryDefault");
  assert_int_equal(patches(), 1 + WORKER_DEFAULT_RETRIES);
  assert_int_equal(r->state, REM_FAILED);
  assert_non_null(strstr(r->reason, "503"));
}

static void test_retry_zero_means_none(void **state) {
  (void)state;
  assert_int_equal(workers_retries(rule_of("retry_zero")), 0);
  const struct remediation *r = run_alert("RetryZero");
  assert_int_equal(patches(), 1);
  assert_int_equal(r->state, REM_FAILED);
  assert_non_null(strstr(r->reason, "503"));
}

/* A Kubernetes API server that nothing serves for the first delay_ms on
 * port (connections are refused), then the fake, with the fixture's
 * deployment and no faults. */
static void start_late(struct fake *f, int port, long delay_ms) {
  memset(f, 0, sizeof *f);
  f->port = port;
  snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", port);
  snprintf(f->service, sizeof f->service, "kubernetes");
  char portarg[16];
  snprintf(portarg, sizeof portarg, "%d", port);
  pid_t parent = getpid();
  f->pid = fork();
  assert_true(f->pid >= 0);
  if (f->pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    fake_sleep_ms(delay_ms);
    execlp("python3", "python3", "tests/fakes/fake_kubernetes.py", "--port", portarg,
           "--max-seconds", "60", "--token", "w0rker", "--script",
           "{\"deployments\":{\"ops/web\":{\"replicas\":1}}}", (char *)NULL);
    _exit(127);
  }
}

/* The service is down when the alert arrives and back 1.5 s later: the
 * attempts that were refused never reached it, so they are retried even
 * under `retry 0`, and the step runs once it is up (one PATCH). */
static void test_never_sent_is_retried(void **state) {
  (void)state;
  int port = fake_dead_port();
  struct fake late;
  start_late(&late, port, 1500);
  char url[64], err[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  setenv("HEALER_KUBE_URL", url, 1);
  backend_free_all();
  assert_int_equal(backend_load_all(&hl_ruleset, false, err, sizeof err), 0);
  int64_t t0 = rtime_mono_ms();
  const struct remediation *r = run_alert("RetryZero");
  int64_t took = rtime_mono_ms() - t0;
  if (r->state != REM_SUCCEEDED) fail_msg("state %d: %s", r->state, r->reason);
  assert_true(took >= 1400);
  assert_int_equal(fake_count(&late, PATCH_WEB), 1);
  fake_stop(&late);
  setenv("HEALER_KUBE_URL", kube.url, 1);
}

static void test_retry_n(void **state) {
  (void)state;
  assert_int_equal(workers_retries(rule_of("multi_step")), 2);  /* retry 2 */
}

int main(void) {
  assert_int_equal(httpc_global_init(), 0);
  const char *args[] = {"--token", "w0rker", NULL};
  fake_start(&kube, "kubernetes", args);
  /* Every kind the fixture uses needs its default backend; only the
   * Kubernetes one is called. */
  setenv("HEALER_KUBE_URL", kube.url, 1);
  setenv("HEALER_KUBE_TOKEN", "w0rker", 1);
  setenv("HEALER_JENKINS_URL", "http://127.0.0.1:9", 1);
  setenv("HEALER_SPINNAKER_URL", "http://127.0.0.1:9", 1);
  setenv("HEALER_WEBHOOK_URL", "http://127.0.0.1:9", 1);
  setenv("CI_TOKEN", "unused", 1);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_retries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_zero_means_none, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_n, setup, teardown),
      cmocka_unit_test_setup_teardown(test_never_sent_is_retried, setup, teardown),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  backend_free_all();
  fake_stop(&kube);
  httpc_global_cleanup();
  return rc;
}
