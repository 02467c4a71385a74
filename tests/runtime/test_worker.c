/*
 * test_worker.c - the worker's retries: a rule without `retry` gets
 * WORKER_DEFAULT_RETRIES extra attempts on retryable failures, `retry 0`
 * none. The fixture rules retry_default and retry_zero run kubernetes
 * rollout-restart, which this file implements (action.c resolves
 * act_ops_K8S_RESTART weakly, so the test's definition is the kind's).
 */
#include "helpers.h"

#include <stdio.h>

#include "abi.h"
#include "action.h"
#include "engine.h"
#include "httpc.h"
#include "log.h"
#include "worker.h"

#define NOW ((int64_t)1795000000000)
#define HOUR ((int64_t)3600000)

/* ---- a kind that always fails with a retryable error -------------------- */

static unsigned g_starts;

static enum action_status restart_start(struct action_run *run) {
  g_starts++;
  snprintf(run->reason, sizeof run->reason, "HTTP 503 (attempt %u)", run->attempt + 1);
  return ACTION_RETRY;
}

static enum action_status restart_poll(struct action_run *run) {
  (void)run;
  return ACTION_FAILED;
}

static void restart_cancel(struct action_run *run) { (void)run; }

const struct action_ops act_ops_K8S_RESTART = {
    .name = "kubernetes rollout-restart",
    .start = restart_start,
    .poll = restart_poll,
    .cancel = restart_cancel,
};

/* ---- the engine, for real (not dry-run) ---------------------------------- */

static struct engine e;
static struct bump arena;

static int setup(void **state) {
  (void)state;
  log_setup(LOG_TEXT, LOGL_ERROR + 1, 2);
  char err[256];
  struct engine_config cfg = {false, 0, 16, 100, 24 * HOUR, 1000};
  if (engine_init(&e, &hl_ruleset, &cfg, err, sizeof err) != 0) return -1;
  bump_init(&arena, 0);
  g_starts = 0;
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

static const struct hl_rule *rule_named(const char *name) {
  for (uint32_t i = 0; i < hl_ruleset.nrules; i++)
    if (strcmp(hl_ruleset.rules[i].name, name) == 0) return &hl_ruleset.rules[i];
  fail_msg("no rule %s", name);
  return NULL;
}

static void test_default_retries(void **state) {
  (void)state;
  assert_int_equal(rule_named("retry_default")->retries, HL_RETRY_DEFAULT);
  assert_int_equal(workers_retries(rule_named("retry_default")), WORKER_DEFAULT_RETRIES);
  const struct remediation *r = run_alert("RetryDefault");
  assert_int_equal(g_starts, 1 + WORKER_DEFAULT_RETRIES);
  assert_int_equal(r->state, REM_FAILED);
  assert_non_null(strstr(r->reason, "attempt 4"));
}

static void test_retry_zero_means_none(void **state) {
  (void)state;
  assert_int_equal(workers_retries(rule_named("retry_zero")), 0);
  const struct remediation *r = run_alert("RetryZero");
  assert_int_equal(g_starts, 1);
  assert_int_equal(r->state, REM_FAILED);
  assert_non_null(strstr(r->reason, "attempt 1"));
}

static void test_retry_n(void **state) {
  (void)state;
  assert_int_equal(workers_retries(rule_named("multi_step")), 2);  /* retry 2 */
}

int main(void) {
  assert_int_equal(httpc_global_init(), 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_retries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_zero_means_none, setup, teardown),
      cmocka_unit_test_setup_teardown(test_retry_n, setup, teardown),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  httpc_global_cleanup();
  return rc;
}
