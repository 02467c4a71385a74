/*
 * test_spinnaker.c - the Spinnaker kind against the fake Gate, driven the
 * way a worker drives it (start, poll, retry with backoff, cancel on the
 * deadline): SUCCEEDED, TERMINAL, CANCELED, STOPPED, FAILED_CONTINUE and
 * SKIPPED; the trigger body; 5xx then success, a lost reply and a repeated
 * trigger without a second execution; an execution that 404s; empty 200s;
 * the timeout's cancel; bearer, basic and 401; unknown pipeline and a
 * missing required parameter; resuming with and without a token.
 */
#include "fakes.h"

#include "abi.h"
#include "act_spinnaker.h"
#include "action.h"
#include "backend.h"
#include "httpc.h"
#include "log.h"
#include "rem.h"
#include "rtime.h"

#define T0 "2026-11-27T12:10:15.696335593Z"
#define TOKEN "gate-SECRET-token-4711"
#define BAD_TOKEN "gate-WRONG-token-0000"

/* ---- a ruleset: bearer, basic and a bad token ------------------------------ */

static struct hl_backend_field fields[] = {
    {"url", HL_SRC_ENV, "TEST_GATE_URL"},
    {"token", HL_SRC_FILE, NULL}, /* set in main() */
    {"url", HL_SRC_ENV, "TEST_GATE_URL"},
    {"user", HL_SRC_LITERAL, "bot"},
    {"password", HL_SRC_FILE, NULL},
    {"url", HL_SRC_ENV, "TEST_GATE_URL"},
    {"token", HL_SRC_FILE, NULL},
    {"url", HL_SRC_ENV, "TEST_GATE_TLS_URL"}, /* 7: Gate's X.509 port */
    {"client_cert", HL_SRC_LITERAL, NULL},
    {"client_key", HL_SRC_LITERAL, NULL},
    {"ca_file", HL_SRC_LITERAL, NULL},
    {"url", HL_SRC_ENV, "TEST_GATE_TLS_URL"}, /* 11: no client certificate */
    {"ca_file", HL_SRC_LITERAL, NULL},
};
static const struct hl_backend backends[] = {
    {"gate", HL_BK_SPINNAKER, 0, 2, "tests/gate.heal", 1},
    {"gate_basic", HL_BK_SPINNAKER, 2, 3, "tests/gate.heal", 5},
    {"gate_bad", HL_BK_SPINNAKER, 5, 2, "tests/gate.heal", 9},
    {"gate_tls", HL_BK_SPINNAKER, 7, 4, "tests/gate.heal", 12},
    {"gate_tls_nocert", HL_BK_SPINNAKER, 11, 2, "tests/gate.heal", 16},
};
static const struct hl_step steps[] = {
    {HL_ACT_SPINNAKER, 0, "restart", 0, 0, 0, {0, 0}},
    {HL_ACT_SPINNAKER, 1, "restart", 0, 0, 0, {0, 0}},
    {HL_ACT_SPINNAKER, 2, "restart", 0, 0, 0, {0, 0}},
    {HL_ACT_SPINNAKER, 3, "restart", 0, 0, 0, {0, 0}},
    {HL_ACT_SPINNAKER, 4, "restart", 0, 0, 0, {0, 0}},
};
#define RULE(n, i)                                                             \
  {.name = n,                                                                  \
   .file = "tests/gate.heal",                                                  \
   .line = 20 + i,                                                             \
   .status = HL_STATUS_FIRING,                                                 \
   .first_step = i,                                                            \
   .nsteps = 1,                                                                \
   .during = HL_NONE,                                                          \
   .not_during = HL_NONE}
static const struct hl_rule rules[] = {RULE("sp_bearer", 0),
                                       RULE("sp_basic", 1),
                                       RULE("sp_bad", 2),
                                       RULE("sp_tls", 3),
                                       RULE("sp_tls_nocert", 4)};
static const struct hl_ruleset test_rs = {
    .abi_version = HL_ABI_VERSION,
    .rules = rules,
    .nrules = 5,
    .steps = steps,
    .nsteps = 5,
    .backends = backends,
    .nbackends = 5,
    .fields = fields,
    .nfields = 13,
};

static struct fake gate, tls_gate;
static char token_file[64], bad_token_file[64], password_file[64];
static char tls_dir[64], tls_url[96], ca_pem[128], client_pem[128],
    client_key[128];
static bool have_tls;

static int each_setup(void **state) {
  (void)state;
  fake_reset(&gate);
  setenv("TEST_GATE_URL", gate.url, 1);
  setenv("TEST_GATE_TLS_URL", tls_url[0] ? tls_url : gate.url, 1);
  char err[1024];
  if (backend_load_all(&test_rs, false, err, sizeof err) != 0)
    fail_msg("backends: %s", err);
  fake_script(&gate,
              "{\"pipelines\":{\"shop/restart\":{\"parameters\":["
              "{\"name\":\"service\",\"required\":true},"
              "{\"name\":\"HEALER_REMEDIATION_ID\"}],"
              "\"timeline\":[[\"NOT_STARTED\",0.1],[\"RUNNING\",0.3],"
              "[\"SUCCEEDED\",null]],"
              "\"stages\":[{\"name\":\"Restart\",\"type\":\"wait\"}]}}}");
  return 0;
}

/* ---- remediations and the driver ----------------------------------------- */

static struct rem_param svc_params[] = {{"application", "shop"},
                                        {"service", "checkout/eu #1"}};

/* A remediation of rule `rule` (its backend) with params. */
static struct remediation *make_rem(uint32_t rule, uint64_t id,
                                    struct rem_param *params, uint32_t n) {
  struct alert a = {.status = HL_STATUS_FIRING,
                    .alertname = "CertExpiring",
                    .fingerprint = "738e04ac61a520a1",
                    .starts_at = T0};
  struct rem_step st = {HL_ACT_SPINNAKER, rule, "restart", n, params, 0};
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
  char link[ACTION_LINK_MAX];
};

static void sleep_until(int64_t at) {
  int64_t left = at - rtime_now_ms();
  if (left > 0)
    fake_sleep_ms((long)left);
}

/* What a worker does with one step (worker.c run_steps). */
static struct outcome drive_run(struct action_run *run, uint32_t retries,
                                int64_t backoff_ms, int64_t timeout_ms) {
  struct outcome o = {REM_SUCCEEDED, 0, "", "", ""};
  const struct action_ops *ops = action_ops_for(HL_ACT_SPINNAKER);
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
  snprintf(o.link, sizeof o.link, "%s", run->link);
  if (ops->release)
    ops->release(run);
  assert_null(run->state);
  return o;
}

static struct outcome drive(struct remediation *r, uint32_t retries,
                            int64_t backoff_ms, int64_t timeout_ms,
                            struct httpc *hc) {
  struct action_run run = {0};
  run.rs = &test_rs;
  run.rem = r;
  run.step = &r->steps[0];
  run.client = hc;
  return drive_run(&run, retries, backoff_ms, timeout_ms);
}

static int nexecutions(void) {
  cJSON *s = fake_json(&gate, "/_fake/state");
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(s, "executions"));
  cJSON_Delete(s);
  return n;
}

static int ntriggers(void) {
  return fake_count(&gate, "method=POST&path=/pipelines/shop/restart");
}

/* The next trigger of shop/restart follows this timeline. */
static void next_run(const char *timeline) {
  char s[2048];
  snprintf(s, sizeof s, "{\"runs\":{\"shop/restart\":[{\"timeline\":%.1900s}]}}",
           timeline);
  fake_script(&gate, s);
}

/* ---- pure ---------------------------------------------------------------- */

static void test_helpers(void **state) {
  (void)state;
  char id[ACT_SPINNAKER_ID_MAX];
  assert_int_equal(
      act_spinnaker_ref_id("/pipelines/01JDX3Q5K7Y0V9M2R8T4N6B1C3", id,
                           sizeof id),
      0);
  assert_string_equal(id, "01JDX3Q5K7Y0V9M2R8T4N6B1C3");
  assert_int_equal(act_spinnaker_ref_id("/pipelines/a-b_c", id, sizeof id), 0);
  assert_int_equal(act_spinnaker_ref_id("/pipelines/", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_ref_id("/pipelines/a/b", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_ref_id("/pipelines/a?x", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_ref_id("/other/abc", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_ref_id(NULL, id, sizeof id), -1);
  assert_int_equal(act_spinnaker_parse_token("exec:01ABC", id, sizeof id), 0);
  assert_string_equal(id, "01ABC");
  assert_int_equal(act_spinnaker_parse_token("exec:", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_parse_token("exec:a/b", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_parse_token("queue:1", id, sizeof id), -1);
  assert_int_equal(act_spinnaker_parse_token(NULL, id, sizeof id), -1);
  static const char *const done[] = {"SUCCEEDED", "SKIPPED", "STOPPED",
                                     "FAILED_CONTINUE", "TERMINAL",
                                     "CANCELED"};
  static const char *const open[] = {"NOT_STARTED", "BUFFERED", "RUNNING",
                                     "PAUSED", "SUSPENDED", "REDIRECT",
                                     "succeeded", ""};
  for (size_t i = 0; i < 6; i++)
    assert_true(act_spinnaker_completed(done[i]));
  for (size_t i = 0; i < 8; i++)
    assert_false(act_spinnaker_completed(open[i]));
  assert_false(act_spinnaker_completed(NULL));
}

/* ---- live ---------------------------------------------------------------- */

static void test_succeeded(void **state) {
  (void)state;
  struct remediation *r = make_rem(0, 1, svc_params, 2);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "SUCCEEDED"));
  assert_int_equal(strncmp(o.token, "exec:", 5), 0);
  char want[ACTION_TOKEN_MAX + 128];
  snprintf(want, sizeof want, "%s/pipelines/%.64s", gate.url, o.token + 5);
  assert_string_equal(o.link, want);

  cJSON *reqs = fake_json(&gate, "/_fake/requests?method=POST");
  assert_int_equal(cJSON_GetArraySize(reqs), 1);
  const cJSON *post = cJSON_GetArrayItem(reqs, 0);
  assert_string_equal(cJSON_GetObjectItem(post, "path")->valuestring,
                      "/pipelines/shop/restart");
  const cJSON *h = cJSON_GetObjectItem(post, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "authorization")->valuestring,
                      "Bearer " TOKEN);
  assert_string_equal(cJSON_GetObjectItem(h, "content-type")->valuestring,
                      "application/json");
  /* The body is the trigger map itself. */
  const cJSON *b = cJSON_GetObjectItem(post, "json");
  assert_string_equal(cJSON_GetObjectItem(b, "type")->valuestring, "manual");
  assert_string_equal(cJSON_GetObjectItem(b, "user")->valuestring, "healer");
  char tag[BACKEND_TAG_MAX], ctag[64];
  backend_rem_tag(r, tag);
  snprintf(ctag, sizeof ctag, "%s-s1", tag);
  assert_string_equal(cJSON_GetObjectItem(b, "correlationId")->valuestring,
                      ctag);
  const cJSON *p = cJSON_GetObjectItem(b, "parameters");
  assert_int_equal(cJSON_GetArraySize(p), 2);
  assert_string_equal(cJSON_GetObjectItem(p, "service")->valuestring,
                      "checkout/eu #1");
  assert_string_equal(
      cJSON_GetObjectItem(p, "HEALER_REMEDIATION_ID")->valuestring, tag);
  assert_null(cJSON_GetObjectItem(p, "application"));
  assert_null(cJSON_GetObjectItem(b, "trigger")); /* not wrapped */
  cJSON_Delete(reqs);
  assert_int_equal(nexecutions(), 1);
  assert_true(fake_count(&gate, "method=GET&path_prefix=/pipelines/") >= 2);
  rem_unref(r);
}

static void test_results(void **state) {
  (void)state;
  static const struct {
    const char *timeline, *want;
    enum rem_state st;
  } cases[] = {
      {"[[\"RUNNING\",0.2],[\"TERMINAL\",null]]", "TERMINAL", REM_FAILED},
      {"[[\"RUNNING\",0.2],[\"CANCELED\",null]]", "CANCELED", REM_FAILED},
      {"[[\"RUNNING\",0.2],[\"STOPPED\",null]]", "STOPPED", REM_FAILED},
      {"[[\"RUNNING\",0.2],[\"FAILED_CONTINUE\",null]]", "FAILED_CONTINUE",
       REM_FAILED},
      {"[[\"RUNNING\",0.2],[\"SKIPPED\",null]]", "SKIPPED", REM_SUCCEEDED},
      {"[[\"BUFFERED\",0.2],[\"NOT_STARTED\",0.1],[\"RUNNING\",0.1],"
       "[\"PAUSED\",0.2],[\"SUSPENDED\",0.2],[\"RUNNING\",0.1],"
       "[\"SUCCEEDED\",null]]",
       "SUCCEEDED", REM_SUCCEEDED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    next_run(cases[i].timeline);
    struct remediation *r = make_rem(0, 10 + i, svc_params, 2);
    struct outcome o = drive(r, 2, 50, 10000, NULL);
    assert_int_equal(o.st, cases[i].st);
    assert_int_equal(o.starts, 1); /* a result is not retried */
    assert_non_null(strstr(o.reason, cases[i].want));
    if (strcmp(cases[i].want, "TERMINAL") == 0)
      assert_non_null(strstr(o.reason, "(stage 'Restart')"));
    if (strcmp(cases[i].want, "CANCELED") == 0)
      assert_non_null(strstr(o.reason, "CANCELED by anonymous"));
    rem_unref(r);
  }
  assert_int_equal(nexecutions(), 6);
}

/* 503 before Gate saw it: the retry looks its correlationId up, finds
 * nothing, triggers once. */
static void test_5xx_then_success(void **state) {
  (void)state;
  fake_script(&gate, "{\"faults\":[{\"status\":503,\"count\":1,"
                     "\"method\":\"POST\"}]}");
  struct remediation *r = make_rem(0, 20, svc_params, 2);
  struct outcome o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(ntriggers(), 2); /* the 503 and the one that took */
  assert_int_equal(
      fake_count(&gate, "method=GET&path=/applications/shop/executions/search"),
      1);
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);
}

/* Gate started it, the reply was lost: found by its correlationId. */
static void test_lost_reply(void **state) {
  (void)state;
  next_run("[[\"RUNNING\",0.1],[\"SUCCEEDED\",null]]");
  fake_script(&gate, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                     "\"method\":\"POST\",\"count\":2}]}");
  struct remediation *r = make_rem(0, 21, svc_params, 2);
  struct outcome o = drive(r, 3, 400, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(ntriggers(), 1);
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);

  /* A slow reply past the client's timeout, the execution done by then. */
  fake_reset(&gate);
  each_setup(NULL);
  fake_script(&gate, "{\"faults\":[{\"kind\":\"delay\",\"seconds\":1.5,"
                     "\"phase\":\"after\",\"method\":\"POST\"}]}");
  next_run("[[\"RUNNING\",0.1],[\"SUCCEEDED\",null]]");
  struct httpc_options opt = {.timeout_ms = 500};
  struct httpc *hc = httpc_new(&opt);
  r = make_rem(0, 22, svc_params, 2);
  o = drive(r, 3, 1500, 10000, hc);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(ntriggers(), 1);
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);
  httpc_free(hc);
}

/* Two triggers of one step while its execution runs (a retry that did not
 * look): Gate answers the second with the first (correlationId). */
static void test_correlation_dedupe(void **state) {
  (void)state;
  const struct action_ops *ops = action_ops_for(HL_ACT_SPINNAKER);
  struct remediation *r = make_rem(0, 23, svc_params, 2);
  struct action_run a = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                         .deadline_ms = rtime_now_ms() + 10000};
  struct action_run b = a;
  assert_int_equal(ops->start(&a), ACTION_PENDING);
  assert_int_equal(ops->start(&b), ACTION_PENDING);
  assert_string_equal(act_spinnaker_token(&a), act_spinnaker_token(&b));
  ops->release(&a);
  ops->release(&b);
  assert_int_equal(ntriggers(), 2);
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);
}

static void test_execution_404(void **state) {
  (void)state;
  struct remediation *r = make_rem(0, 24, svc_params, 2);
  struct action_run run = {.rs = &test_rs, .rem = r, .step = &r->steps[0]};
  snprintf(run.token, sizeof run.token, "exec:01JDX3Q5K7Y0V9M2R8T4N6B1C3");
  run.resumed = true;
  struct outcome o = drive_run(&run, 2, 50, 10000);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(strstr(o.reason, "execution 01JDX3Q5K7Y0V9M2R8T4N6B1C3 not "
                                   "found (3 answers 404)"));
  assert_int_equal(ntriggers(), 0);
  assert_int_equal(
      fake_count(&gate, "method=GET&path=/pipelines/01JDX3Q5K7Y0V9M2R8T4N6B1C3"),
      3);
  rem_unref(r);
}

/* S3 may answer 200 without a body: transient. */
static void test_empty_200(void **state) {
  (void)state;
  fake_script(&gate, "{\"s3_empty\":2}");
  struct remediation *r = make_rem(0, 25, svc_params, 2);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_non_null(strstr(o.reason, "SUCCEEDED"));
  rem_unref(r);
}

static void test_timeout_cancels(void **state) {
  (void)state;
  next_run("[[\"RUNNING\",null]]");
  struct remediation *r = make_rem(0, 26, svc_params, 2);
  struct outcome o = drive(r, 0, 50, 1500, NULL);
  assert_int_equal(o.st, REM_TIMED_OUT);
  assert_non_null(strstr(o.reason, "canceled"));
  cJSON *s = fake_json(&gate, "/_fake/state");
  const cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "executions"), 0);
  assert_string_equal(cJSON_GetObjectItem(ex, "status")->valuestring,
                      "CANCELED");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ex, "canceled")));
  const char *why = cJSON_GetObjectItem(ex, "cancellationReason")->valuestring;
  assert_non_null(strstr(why, "rule sp_bearer timed out"));
  const cJSON *call = cJSON_GetArrayItem(cJSON_GetObjectItem(ex, "calls"), 0);
  assert_string_equal(cJSON_GetObjectItem(call, "call")->valuestring, "cancel");
  assert_string_equal(cJSON_GetObjectItem(call, "status")->valuestring,
                      "RUNNING");
  cJSON_Delete(s);
  assert_int_equal(fake_count(&gate, "method=PUT"), 1);
  rem_unref(r);
}

static void test_auth(void **state) {
  (void)state;
  /* Basic (user + password file). */
  struct remediation *r = make_rem(1, 30, svc_params, 2);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  cJSON *reqs = fake_json(&gate, "/_fake/requests?method=POST");
  const char *auth = cJSON_GetObjectItem(
                         cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0),
                                             "headers"),
                         "authorization")
                         ->valuestring;
  assert_int_equal(strncmp(auth, "Basic ", 6), 0);
  cJSON_Delete(reqs);
  rem_unref(r);

  /* A token Gate does not know: 401, permanent, the token not shown. */
  r = make_rem(2, 31, svc_params, 2);
  o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 401 (credentials rejected)"));
  assert_null(strstr(o.reason, BAD_TOKEN));
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);
}

static void test_bad_requests(void **state) {
  (void)state;
  /* An unknown pipeline: 404, permanent. */
  struct remediation *r = make_rem(0, 40, svc_params, 2);
  struct rem_step *st = &r->steps[0];
  const char *saved = st->target;
  st->target = "nope";
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  st->target = saved;
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 404 (no such application or "
                                   "pipeline)"));
  rem_unref(r);
  /* A required parameter missing: 400 with Gate's message. */
  struct rem_param app_only[] = {{"application", "shop"}};
  r = make_rem(0, 41, app_only, 1);
  o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 400"));
  assert_non_null(strstr(o.reason, "Required parameter service is missing"));
  assert_int_equal(nexecutions(), 0);
  rem_unref(r);
}

static void test_gate_down(void **state) {
  (void)state;
  char u[64];
  snprintf(u, sizeof u, "http://127.0.0.1:%d", fake_dead_port());
  setenv("TEST_GATE_URL", u, 1);
  char err[512];
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), 0);
  struct remediation *r = make_rem(0, 42, svc_params, 2);
  struct outcome o = drive(r, 1, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 2);
  assert_non_null(strstr(o.reason, "trigger"));
  rem_unref(r);
}

static void test_resume(void **state) {
  (void)state;
  next_run("[[\"RUNNING\",1.0],[\"SUCCEEDED\",null]]");
  const struct action_ops *ops = action_ops_for(HL_ACT_SPINNAKER);
  struct remediation *r = make_rem(0, 50, svc_params, 2);
  struct action_run run = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&run), ACTION_PENDING);
  assert_true(run.token_changed);
  char token[ACTION_TOKEN_MAX];
  snprintf(token, sizeof token, "%s", run.token);
  assert_string_equal(act_spinnaker_token(&run), token);
  ops->release(&run); /* the process is gone */

  /* With the journaled token: followed, not triggered. */
  struct action_run again = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                             .resumed = true};
  snprintf(again.token, sizeof again.token, "%s", token);
  struct outcome o = drive_run(&again, 0, 50, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(ntriggers(), 1);
  assert_int_equal(nexecutions(), 1);
  rem_unref(r);

  /* Died between the trigger and journaling its token: resumed as the
   * worker does it (attempt 1, no token), it finds the execution. */
  next_run("[[\"RUNNING\",0.5],[\"SUCCEEDED\",null]]");
  r = make_rem(0, 51, svc_params, 2);
  struct action_run died = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                            .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&died), ACTION_PENDING);
  ops->release(&died);
  struct action_run late = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                            .resumed = true, .attempt = 1};
  o = drive_run(&late, 0, 50, 10000);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(ntriggers(), 2);
  assert_int_equal(nexecutions(), 2);
  rem_unref(r);
}

/* Gate's X.509 port (4.4): https, a client certificate required. With
 * the certificate and the CA that signed Gate's: triggered and followed.
 * Without the certificate Gate refuses the handshake; without the CA
 * healer refuses Gate's certificate. */
static void test_client_certificate(void **state) {
  (void)state;
  if (!have_tls)
    skip();
  struct remediation *r = make_rem(3, 60, svc_params, 2);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_non_null(strstr(o.reason, "SUCCEEDED"));
  assert_int_equal(strncmp(o.link, "https://127.0.0.1:", 18), 0);
  rem_unref(r);

  r = make_rem(4, 61, svc_params, 2);
  o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(strstr(o.reason, "trigger"));
  rem_unref(r);

  fields[10].value = "/nonexistent/ca.pem";
  char err[1024];
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), 0);
  r = make_rem(3, 62, svc_params, 2);
  o = drive(r, 2, 50, 10000, NULL);
  fields[10].value = ca_pem;
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1); /* a certificate problem is not retried */
  rem_unref(r);
}

/* A CA, Gate's certificate for 127.0.0.1 and healer's client certificate,
 * in tls_dir; false when openssl is missing. */
static bool make_certs(void) {
  snprintf(tls_dir, sizeof tls_dir, "/tmp/healer-tls.XXXXXX");
  if (!mkdtemp(tls_dir))
    return false;
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd %s && printf 'subjectAltName=IP:127.0.0.1\n' >san.ext && "
           "E='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
           "openssl req -x509 $E -keyout ca.key -out ca.pem -days 1 "
           "-subj /CN=healer-test-ca && "
           "openssl req $E -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
           "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -out srv.pem -days 1 -extfile san.ext && "
           "openssl req $E -keyout cli.key -out cli.csr -subj /CN=healer && "
           "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key "
           "-CAcreateserial -out cli.pem -days 1",
           tls_dir);
  snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " >/dev/null 2>&1");
  if (system(cmd) != 0)
    return false;
  snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", tls_dir);
  snprintf(client_pem, sizeof client_pem, "%s/cli.pem", tls_dir);
  snprintf(client_key, sizeof client_key, "%s/cli.key", tls_dir);
  return true;
}

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
  act_spinnaker_set_poll(50, 200);
  act_spinnaker_set_cancel_wait(3000);
  fake_write_file(token_file, sizeof token_file, TOKEN "\n");
  fake_write_file(bad_token_file, sizeof bad_token_file, BAD_TOKEN);
  fake_write_file(password_file, sizeof password_file, "pw\n");
  fields[1].value = token_file;
  fields[4].value = password_file;
  fields[6].value = bad_token_file;
  const struct CMUnitTest pure[] = {cmocka_unit_test(test_helpers)};
  const struct CMUnitTest live[] = {
      cmocka_unit_test_setup(test_succeeded, each_setup),
      cmocka_unit_test_setup(test_results, each_setup),
      cmocka_unit_test_setup(test_5xx_then_success, each_setup),
      cmocka_unit_test_setup(test_lost_reply, each_setup),
      cmocka_unit_test_setup(test_correlation_dedupe, each_setup),
      cmocka_unit_test_setup(test_execution_404, each_setup),
      cmocka_unit_test_setup(test_empty_200, each_setup),
      cmocka_unit_test_setup(test_timeout_cancels, each_setup),
      cmocka_unit_test_setup(test_auth, each_setup),
      cmocka_unit_test_setup(test_bad_requests, each_setup),
      cmocka_unit_test_setup(test_gate_down, each_setup),
      cmocka_unit_test_setup(test_resume, each_setup),
      cmocka_unit_test_setup(test_client_certificate, each_setup),
  };
  int rc = cmocka_run_group_tests_name("spinnaker", pure, NULL, NULL);
  const char *args[] = {"--user", "bot", "--password", "pw",
                        "--token", TOKEN, "--token-user", "healer-bot", NULL};
  fake_start(&gate, "gate", args);
  have_tls = make_certs();
  if (have_tls) {
    char srv_pem[128], srv_key[128];
    snprintf(srv_pem, sizeof srv_pem, "%s/srv.pem", tls_dir);
    snprintf(srv_key, sizeof srv_key, "%s/srv.key", tls_dir);
    const char *targs[] = {"--tls-cert", srv_pem, "--tls-key", srv_key,
                           "--tls-client-ca", ca_pem, "--script",
                           "{\"pipelines\":{\"shop/restart\":{\"timeline\":"
                           "[[\"RUNNING\",0.2],[\"SUCCEEDED\",null]]}}}",
                           NULL};
    fake_start(&tls_gate, "gate", targs);
    snprintf(tls_url, sizeof tls_url, "https://127.0.0.1:%d", tls_gate.port);
    fields[8].value = client_pem;
    fields[9].value = client_key;
    fields[10].value = ca_pem;
    fields[12].value = ca_pem;
  }
  rc += cmocka_run_group_tests_name("spinnaker_live", live, NULL, NULL);
  fake_stop(&gate);
  if (have_tls)
    fake_stop(&tls_gate);
  remove_certs();
  backend_free_all();
  unlink(token_file);
  unlink(bad_token_file);
  unlink(password_file);
  httpc_global_cleanup();
  return rc;
}
