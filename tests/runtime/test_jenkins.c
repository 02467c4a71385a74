/*
 * test_jenkins.c - the Jenkins action against the fake Jenkins, driven the
 * way a worker drives it (start, poll, retry with backoff, cancel on the
 * deadline): success with folders and label values that need escaping,
 * Jenkins down, 5xx then success, 401, 409, 429 + Retry-After, crumb
 * required, queue item cancelled, queue item expired, a build that never
 * ends, a timeout while queued, lost trigger replies (never a second
 * build); and the backends: environment, files, declared fields, missing
 * settings named, dry-run, secrets kept out of logs and reasons.
 */
#include "fakes.h"

#include "abi.h"
#include "act_jenkins.h"
#include "action.h"
#include "backend.h"
#include "httpc.h"
#include "log.h"
#include "rem.h"
#include "rtime.h"

#define T0 "2026-11-27T12:10:15.696335593Z"
#define TOKEN "t0k-SECRET-4711"

/* ---- a ruleset: one rule on the default Jenkins, one via "ci" ------------ */

static struct hl_backend_field fields[] = {
    {"url", HL_SRC_ENV, "TEST_CI_URL"},
    {"user", HL_SRC_LITERAL, "bot"},
    {"token", HL_SRC_FILE, NULL}, /* set in main() */
};
static const struct hl_backend backends[] = {
    {"ci", HL_BK_JENKINS, 0, 3, "tests/jenkins.heal", 3},
};
/* Bits of succeed_on: the JENKINS lines of actions.def, in order. */
enum { R_SUCCESS, R_UNSTABLE, R_FAILURE, R_ABORTED, R_NOT_BUILT };
static const struct hl_step steps[] = {
    {HL_ACT_JENKINS, HL_NONE, "folder/Docker Prune", 0, 0, 0, {0, 0}},
    {HL_ACT_JENKINS, 0, "j", 0, 0, 0, {0, 0}},
    /* succeed on UNSTABLE, NOT_BUILT */
    {HL_ACT_JENKINS, 0, "j", 0, 0,
     1u << R_SUCCESS | 1u << R_UNSTABLE | 1u << R_NOT_BUILT, {0, 0}},
};
static const struct hl_rule rules[] = {
    {.name = "jk_default",
     .file = "tests/jenkins.heal",
     .line = 10,
     .status = HL_STATUS_FIRING,
     .first_step = 0,
     .nsteps = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
    {.name = "jk_ci",
     .file = "tests/jenkins.heal",
     .line = 20,
     .status = HL_STATUS_FIRING,
     .first_step = 1,
     .nsteps = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
    /* succeed on UNSTABLE, NOT_BUILT (its step's mask) */
    {.name = "jk_lenient",
     .file = "tests/jenkins.heal",
     .line = 30,
     .status = HL_STATUS_FIRING,
     .first_step = 2,
     .nsteps = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
};
static const struct hl_ruleset test_rs = {
    .abi_version = HL_ABI_VERSION,
    .rules = rules,
    .nrules = 3,
    .steps = steps,
    .nsteps = 3,
    .backends = backends,
    .nbackends = 1,
    .fields = fields,
    .nfields = 3,
};

static struct fake jk;
static char token_file[64], bad_token_file[64], password_file[64];

static void load_backends(const char *url, const char *token_path) {
  setenv("HEALER_JENKINS_URL", url, 1);
  setenv("HEALER_JENKINS_USER", "bot", 1);
  setenv("HEALER_JENKINS_TOKEN_FILE", token_path, 1);
  unsetenv("HEALER_JENKINS_TOKEN");
  setenv("TEST_CI_URL", url, 1);
  char err[1024];
  if (backend_load_all(&test_rs, false, err, sizeof err) != 0)
    fail_msg("backends: %s", err);
}

static int each_setup(void **state) {
  (void)state;
  fake_reset(&jk);
  load_backends(jk.url, token_file);
  return 0;
}

/* ---- remediations and the driver ----------------------------------------- */

static struct rem_param params3[3];

/* A remediation of rule `rule` of test_rs running `job`. */
static struct remediation *make_rule_rem(uint32_t rule, uint64_t id,
                                         const char *job, uint32_t backend,
                                         struct rem_param *params, uint32_t n) {
  struct alert a = {.status = HL_STATUS_FIRING,
                    .alertname = "NodeDiskPressure",
                    .fingerprint = "738e04ac61a520a1",
                    .starts_at = T0};
  struct rem_step st = {HL_ACT_JENKINS, backend, job, n, params,
                        steps[rules[rule].first_step].succeed_on};
  struct rem_draft d = {.rule = rule,
                        .rule_name = rules[rule].name,
                        .alert = &a,
                        .nsteps = 1,
                        .steps = &st};
  struct remediation *r = rem_new(&d, id, REM_RUNNING, NULL, rtime_now_ms());
  assert_non_null(r);
  return r;
}

/* jk_default when backend is HL_NONE, else jk_ci. */
static struct remediation *make_rem(uint64_t id, const char *job,
                                    uint32_t backend, struct rem_param *params,
                                    uint32_t n) {
  return make_rule_rem(backend == HL_NONE ? 0 : 1, id, job, backend, params, n);
}

struct outcome {
  enum rem_state st;
  unsigned starts;
  char reason[REM_REASON_MAX];
};

static void sleep_until(int64_t at) {
  int64_t left = at - rtime_now_ms();
  if (left > 0)
    fake_sleep_ms((long)left);
}

/* What a worker does with one step (see the worker change proposed with
 * these files): start; poll while pending; on a retryable failure wait
 * backoff (at least run.next_poll_ms) and start again, up to retries; at
 * the deadline cancel and time out. */
static struct outcome drive(struct remediation *r, uint32_t retries,
                            int64_t backoff_ms, int64_t timeout_ms,
                            struct httpc *hc) {
  struct outcome o = {REM_SUCCEEDED, 0, ""};
  const struct action_ops *ops = action_ops_for(HL_ACT_JENKINS);
  assert_non_null(ops);
  struct action_run run = {0};
  run.rs = &test_rs;
  run.rem = r;
  run.step = &r->steps[0];
  run.client = hc;
  int64_t deadline = rtime_now_ms() + timeout_ms;
  run.deadline_ms = deadline;
  enum action_status st = ops->start(&run);
  o.starts++;
  for (;;) {
    while (st == ACTION_PENDING) {
      int64_t at = run.next_poll_ms < deadline ? run.next_poll_ms : deadline;
      sleep_until(at);
      if (rtime_now_ms() >= deadline) {
        char how[sizeof run.reason];
        run.reason[0] = '\0';
        ops->cancel(&run);
        snprintf(how, sizeof how, "%s", run.reason);
        snprintf(run.reason, sizeof run.reason, "timed out after %lld ms%s%.150s",
                 (long long)timeout_ms, how[0] ? "; " : "", how);
        o.st = REM_TIMED_OUT;
        break;
      }
      st = ops->poll(&run);
    }
    if (o.st != REM_SUCCEEDED || st != ACTION_RETRY || run.attempt >= retries)
      break;
    int64_t at =
        rtime_now_ms() + httpc_backoff_ms(run.attempt, backoff_ms, 30000);
    if (run.next_poll_ms > at)
      at = run.next_poll_ms;
    if (at >= deadline)
      break;
    sleep_until(at);
    run.attempt++;
    st = ops->start(&run);
    o.starts++;
  }
  if (o.st == REM_SUCCEEDED && st != ACTION_SUCCEEDED)
    o.st = REM_FAILED;
  snprintf(o.reason, sizeof o.reason, "%s", run.reason);
  if (ops->release)
    ops->release(&run);
  assert_null(run.state);
  return o;
}

static void define_job(const char *path, const char *spec) {
  char s[2048];
  snprintf(s, sizeof s, "{\"jobs\":{\"%s\":%s}}", path, spec);
  fake_script(&jk, s);
}

#define TAGGED_PARAMS                                                          \
  "\"parameters\":{\"node\":\"\",\"label\":\"\",\"odd\":\"\","                 \
  "\"HEALER_REMEDIATION_ID\":\"\"}"

/* The parameters of build n of job (from the fake's state). */
static const cJSON *build_of(cJSON *state, const char *job, int n) {
  const cJSON *b = cJSON_GetArrayItem(
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetObjectItem(state, "jobs"), job),
          "builds"),
      n);
  return b;
}

static const char *build_param(const cJSON *build, const char *name) {
  const cJSON *a, *p;
  cJSON_ArrayForEach(a, cJSON_GetObjectItem(build, "actions")) {
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(a, "parameters")) {
      if (strcmp(cJSON_GetObjectItem(p, "name")->valuestring, name) == 0)
        return cJSON_GetObjectItem(p, "value")->valuestring;
    }
  }
  return NULL;
}

static int nbuilds(const char *job) {
  cJSON *s = fake_json(&jk, "/_fake/state");
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(
      cJSON_GetObjectItem(cJSON_GetObjectItem(s, "jobs"), job), "builds"));
  cJSON_Delete(s);
  return n;
}

/* ---- pure ---------------------------------------------------------------- */

static void test_helpers(void **state) {
  (void)state;
  char scratch[64];
  const char *segs[8];
  assert_int_equal(
      act_jenkins_job_segments("a/b c/d", scratch, sizeof scratch, segs, 8), 6);
  assert_string_equal(segs[0], "job");
  assert_string_equal(segs[1], "a");
  assert_string_equal(segs[3], "b c");
  assert_string_equal(segs[5], "d");
  assert_int_equal(act_jenkins_job_segments("DockerPruneNode", scratch,
                                            sizeof scratch, segs, 8),
                   2);
  assert_int_equal(
      act_jenkins_job_segments("", scratch, sizeof scratch, segs, 8), -1);
  assert_int_equal(
      act_jenkins_job_segments("a//b", scratch, sizeof scratch, segs, 8), -1);
  assert_int_equal(
      act_jenkins_job_segments("/a", scratch, sizeof scratch, segs, 8), -1);
  assert_int_equal(
      act_jenkins_job_segments("a/", scratch, sizeof scratch, segs, 8), -1);
  assert_int_equal(
      act_jenkins_job_segments("a/../b", scratch, sizeof scratch, segs, 8), -1);
  assert_int_equal(
      act_jenkins_job_segments("a/b/c/d/e", scratch, sizeof scratch, segs, 8),
      -1);
  assert_int_equal(
      act_jenkins_job_segments(NULL, scratch, sizeof scratch, segs, 8), -1);

  assert_int_equal(act_jenkins_queue_id("http://j:8080/queue/item/4711/"),
                   4711);
  assert_int_equal(
      act_jenkins_queue_id("https://internal/jenkins/queue/item/12"), 12);
  assert_int_equal(act_jenkins_queue_id("http://j/queue/item/x/"), -1);
  assert_int_equal(act_jenkins_queue_id("http://j/job/x/"), -1);
  assert_int_equal(act_jenkins_queue_id("http://j/queue/item/5/api/json"), -1);
  assert_int_equal(act_jenkins_queue_id(""), -1);
  assert_int_equal(act_jenkins_queue_id(NULL), -1);

  /* The step's mask decides, through action_result_ok(). 0 and the
   * default mask: only SUCCESS succeeds. */
  struct rem_step st = {.kind = HL_ACT_JENKINS};
  struct action_run run = {.step = &st};
  for (uint32_t m = 0; m <= 1u << R_SUCCESS; m += 1u << R_SUCCESS) {
    st.succeed_on = m;
    assert_true(action_result_ok(&run, "SUCCESS"));
    assert_false(action_result_ok(&run, "UNSTABLE"));
    assert_false(action_result_ok(&run, "FAILURE"));
    assert_false(action_result_ok(&run, "ABORTED"));
    assert_false(action_result_ok(&run, "NOT_BUILT"));
    assert_false(action_result_ok(&run, "success"));
    assert_false(action_result_ok(&run, NULL));
  }
  st.succeed_on = 1u << R_SUCCESS | 1u << R_UNSTABLE | 1u << R_ABORTED;
  assert_true(action_result_ok(&run, "SUCCESS"));
  assert_true(action_result_ok(&run, "UNSTABLE"));
  assert_true(action_result_ok(&run, "ABORTED"));
  assert_false(action_result_ok(&run, "FAILURE"));
  assert_false(action_result_ok(&run, "NOT_BUILT"));
  assert_false(action_result_ok(&run, "CANCELLED"));
  assert_false(action_result_ok(&run, NULL));
  /* The bits above are the JENKINS lines of actions.def, in order. */
  static const char *const names[] = {"SUCCESS", "UNSTABLE", "FAILURE",
                                      "ABORTED", "NOT_BUILT"};
  assert_int_equal(action_result_count(HL_ACT_JENKINS), 5);
  for (unsigned i = 0; i < 5; i++)
    assert_string_equal(action_result_name(HL_ACT_JENKINS, i), names[i]);
  assert_null(action_result_name(HL_ACT_JENKINS, 5));
}

/* ---- live ---------------------------------------------------------------- */

static void test_success_with_escaping(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.3}");
  struct rem_param p[3] = {{"node", "a&b=c/d e"},
                           {"label", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"},
                           {"odd", "x+y%z;#?\"'<>"}};
  struct remediation *r = make_rem(1, "folder/Docker Prune", HL_NONE, p, 3);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "build #1 SUCCESS"));
  assert_non_null(strstr(o.reason, "/job/folder/job/Docker%20Prune/1/"));

  cJSON *reqs = fake_json(&jk, "/_fake/requests?method=POST");
  assert_int_equal(cJSON_GetArraySize(reqs), 1);
  const cJSON *post = cJSON_GetArrayItem(reqs, 0);
  assert_string_equal(cJSON_GetObjectItem(post, "path")->valuestring,
                      "/job/folder/job/Docker%20Prune/buildWithParameters");
  assert_string_equal(cJSON_GetObjectItem(post, "query")->valuestring, "");
  const char *auth =
      cJSON_GetObjectItem(cJSON_GetObjectItem(post, "headers"), "authorization")
          ->valuestring;
  assert_int_equal(strncmp(auth, "Basic ", 6), 0);
  cJSON_Delete(reqs);

  cJSON *s = fake_json(&jk, "/_fake/state");
  const cJSON *b = build_of(s, "folder/Docker Prune", 0);
  assert_string_equal(build_param(b, "node"), "a&b=c/d e");
  assert_string_equal(build_param(b, "label"),
                      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
  assert_string_equal(build_param(b, "odd"), "x+y%z;#?\"'<>");
  char tag[BACKEND_TAG_MAX];
  assert_string_equal(build_param(b, "HEALER_REMEDIATION_ID"),
                      backend_rem_tag(r, tag));
  assert_string_equal(cJSON_GetObjectItem(b, "result")->valuestring, "SUCCESS");
  cJSON_Delete(s);
  /* Polls used the queue item, then the build, with ?tree=. */
  assert_true(fake_count(&jk, "method=GET&path=/queue/item/101/api/json") >= 1);
  assert_true(
      fake_count(
          &jk, "method=GET&path=/job/folder/job/Docker%2520Prune/1/api/json") >=
      1);
  rem_unref(r);
}

static void test_declared_backend(void **state) {
  (void)state;
  define_job("j", "{\"parameters\":{\"X\":\"\"},\"build_seconds\":0.1,"
                  "\"result\":\"UNSTABLE\"}");
  struct rem_param p[1] = {{"X", "1"}};
  struct remediation *r = make_rem(2, "j", 0, p, 1);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(strstr(o.reason, "build #1 UNSTABLE"));
  rem_unref(r);
}

static void test_results(void **state) {
  (void)state;
  static const char *const results[] = {"FAILURE", "ABORTED", "NOT_BUILT"};
  for (size_t i = 0; i < 3; i++) {
    fake_reset(&jk);
    char spec[256];
    snprintf(
        spec, sizeof spec,
        "{\"parameters\":{\"X\":\"\"},\"build_seconds\":0.1,\"result\":\"%s\"}",
        results[i]);
    define_job("j", spec);
    struct rem_param p[1] = {{"X", "1"}};
    struct remediation *r = make_rem(3 + i, "j", HL_NONE, p, 1);
    struct outcome o = drive(r, 2, 50, 10000, NULL);
    assert_int_equal(o.st, REM_FAILED);
    assert_int_equal(o.starts, 1); /* a bad result is not retried */
    assert_non_null(strstr(o.reason, results[i]));
    rem_unref(r);
  }
}

/* A rule with `succeed on UNSTABLE, NOT_BUILT`: those builds succeed, a
 * FAILURE still fails; the result is in the reason either way. */
static void test_succeed_on(void **state) {
  (void)state;
  static const struct {
    const char *result;
    enum rem_state want;
  } cases[] = {{"UNSTABLE", REM_SUCCEEDED},
               {"NOT_BUILT", REM_SUCCEEDED},
               {"FAILURE", REM_FAILED}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_reset(&jk);
    char spec[256];
    snprintf(
        spec, sizeof spec,
        "{\"parameters\":{\"X\":\"\"},\"build_seconds\":0.1,\"result\":\"%s\"}",
        cases[i].result);
    define_job("j", spec);
    struct rem_param p[1] = {{"X", "1"}};
    struct remediation *r = make_rule_rem(2, 30 + i, "j", 0, p, 1);
    struct outcome o = drive(r, 0, 50, 10000, NULL);
    assert_int_equal(o.st, cases[i].want);
    assert_int_equal(o.starts, 1);
    assert_non_null(strstr(o.reason, cases[i].result));
    rem_unref(r);
  }
}

static void test_jenkins_down(void **state) {
  (void)state;
  char u[64];
  snprintf(u, sizeof u, "http://127.0.0.1:%d", fake_dead_port());
  load_backends(u, token_file);
  struct remediation *r =
      make_rem(10, "folder/Docker Prune", HL_NONE, params3, 0);
  int64_t t0 = rtime_mono_ms();
  struct outcome o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 3);
  assert_true(rtime_mono_ms() - t0 < 3000);
  assert_non_null(strstr(o.reason, "trigger"));
  assert_non_null(strstr(o.reason, "onnect"));
  rem_unref(r);
}

static void test_5xx_then_success(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  fake_script(
      &jk, "{\"faults\":[{\"status\":503,\"count\":2,\"method\":\"POST\"}]}");
  struct remediation *r =
      make_rem(11, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 3);
  assert_int_equal(fake_count(&jk, "method=POST"), 3);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);
}

static void test_502_looks_before_retrying(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  fake_script(
      &jk, "{\"faults\":[{\"status\":502,\"count\":1,\"method\":\"POST\"}]}");
  struct remediation *r =
      make_rem(12, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(fake_count(&jk, "method=GET&path=/queue/api/json"), 1);
  assert_int_equal(fake_count(&jk, "method=POST"), 2);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);
}

static void test_401(void **state) {
  (void)state;
  load_backends(jk.url, bad_token_file);
  define_job("folder/Docker Prune", "{" TAGGED_PARAMS "}");
  struct remediation *r =
      make_rem(13, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 401 (credentials rejected)"));
  assert_non_null(strstr(o.reason, "Invalid password/token for user: bot"));
  assert_int_equal(nbuilds("folder/Docker Prune"), 0);
  rem_unref(r);
}

static void test_disabled_and_unknown(void **state) {
  (void)state;
  define_job("folder/Docker Prune", "{" TAGGED_PARAMS ",\"disabled\":true}");
  struct remediation *r =
      make_rem(14, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "HTTP 409 (job is disabled)"));
  rem_unref(r);
  r = make_rem(15, "no/such job", HL_NONE, params3, 0);
  o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(
      strstr(o.reason, "'no/such job': trigger: HTTP 404 (not found)"));
  rem_unref(r);
}

static void test_429_retry_after(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  fake_script(
      &jk,
      "{\"faults\":[{\"status\":429,\"retry_after\":1,\"method\":\"POST\"}]}");
  struct remediation *r =
      make_rem(16, "folder/Docker Prune", HL_NONE, params3, 0);
  const struct action_ops *ops = action_ops_for(HL_ACT_JENKINS);
  struct action_run run = {.rs = &test_rs,
                           .rem = r,
                           .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 10000};
  int64_t t0 = rtime_now_ms();
  assert_int_equal(ops->start(&run), ACTION_RETRY);
  assert_true(run.next_poll_ms >= t0 + 900 &&
              run.next_poll_ms <= rtime_now_ms() + 1100);
  assert_non_null(strstr(run.reason, "HTTP 429"));
  ops->release(&run);
  struct outcome o =
      drive(r, 1, 10, 10000, NULL); /* waits Retry-After, not 10 ms */
  assert_int_equal(o.st, REM_SUCCEEDED);
  rem_unref(r);
}

static void test_crumb_required(void **state) {
  (void)state;
  /* Older Jenkins: API-token requests need a crumb too. */
  fake_script(&jk, "{\"crumb\":true,\"crumb_exempt_api_token\":false}");
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  struct remediation *r =
      make_rem(17, "folder/Docker Prune", HL_NONE, params3, 0);
  struct httpc *hc = httpc_new(NULL);
  struct outcome o = drive(r, 0, 50, 10000, hc);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(fake_count(&jk, "method=GET&path=/crumbIssuer/api/json"), 1);
  cJSON *reqs = fake_json(&jk, "/_fake/requests?method=POST");
  assert_int_equal(cJSON_GetArraySize(reqs), 2);
  assert_int_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "status")->valueint,
      403);
  const cJSON *ok = cJSON_GetArrayItem(reqs, 1);
  assert_int_equal(cJSON_GetObjectItem(ok, "status")->valueint, 201);
  const cJSON *h = cJSON_GetObjectItem(ok, "headers");
  assert_non_null(cJSON_GetObjectItem(h, "jenkins-crumb"));
  assert_non_null(
      strstr(cJSON_GetObjectItem(h, "cookie")->valuestring, "JSESSIONID"));
  cJSON_Delete(reqs);
  rem_unref(r);
  httpc_free(hc);

  /* Password auth with CSRF protection on (the documented case). */
  fake_reset(&jk);
  fake_script(&jk, "{\"crumb\":true}");
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  load_backends(jk.url, password_file);
  r = make_rem(18, "folder/Docker Prune", HL_NONE, params3, 0);
  hc = httpc_new(NULL);
  o = drive(r, 0, 50, 10000, hc);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(fake_count(&jk, "method=GET&path=/crumbIssuer/api/json"), 1);
  rem_unref(r);
  httpc_free(hc);

  /* Without CSRF protection no crumb is ever asked for. */
  fake_reset(&jk);
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  r = make_rem(19, "folder/Docker Prune", HL_NONE, params3, 0);
  o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(fake_count(&jk, "path=/crumbIssuer/api/json"), 0);
  rem_unref(r);
}

static void test_queue_cancelled(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS
             ",\"quiet_seconds\":0.2,\"cancel_in_queue\":true}");
  struct remediation *r =
      make_rem(20, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "queue item 101 was cancelled"));
  assert_int_equal(nbuilds("folder/Docker Prune"), 0);
  rem_unref(r);
}

static void test_queue_item_expired(void **state) {
  (void)state;
  /* The item leaves the queue and is forgotten at once: the build is found
   * by its queueId. */
  fake_script(&jk, "{\"left_ttl_seconds\":0}");
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.3}");
  struct remediation *r =
      make_rem(21, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_true(fake_count(&jk, "path=/queue/item/101/api/json&status=404") >= 1);
  rem_unref(r);
}

static void test_build_never_ends(void **state) {
  (void)state;
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":null}");
  struct remediation *r =
      make_rem(22, "folder/Docker Prune", HL_NONE, params3, 0);
  int64_t t0 = rtime_mono_ms();
  struct outcome o = drive(r, 0, 50, 1200, NULL);
  assert_int_equal(o.st, REM_TIMED_OUT);
  assert_true(rtime_mono_ms() - t0 < 4000);
  cJSON *s = fake_json(&jk, "/_fake/state");
  const cJSON *b = build_of(s, "folder/Docker Prune", 0);
  assert_string_equal(
      cJSON_GetArrayItem(cJSON_GetObjectItem(b, "stop_calls"), 0)->valuestring,
      "stop");
  assert_false(cJSON_IsTrue(cJSON_GetObjectItem(b, "building")));
  assert_string_equal(cJSON_GetObjectItem(b, "result")->valuestring, "ABORTED");
  cJSON_Delete(s);
  assert_non_null(strstr(o.reason, "timed out after 1200 ms; build #1 stopped"));
  rem_unref(r);
}

/* A build that outlives its stop: a Pipeline run gets term, then kill; a
 * freestyle build has neither, so it is left; a build Jenkins does not
 * report on is not escalated blind. The reason says which. */
static void test_stop_escalation(void **state) {
  (void)state;
  static const struct {
    const char *spec;
    const char *faults;
    const char *calls[3];
    const char *reason;
    bool ends;
  } cases[] = {
      {"\"pipeline\":true,\"ignore_stop\":\"stop\"", NULL, {"stop", "term", NULL},
       "build #1 terminated", true},
      {"\"pipeline\":true,\"ignore_stop\":\"term\"", NULL, {"stop", "term", "kill"},
       "build #1 killed", true},
      {"\"ignore_stop\":true", NULL, {"stop", NULL, NULL},
       "build #1 still running after stop; term not offered (not a Pipeline)",
       false},
      /* Ignores its stop but ends by itself (at 1.6 s) within the grace. */
      {"\"ignore_stop\":true,\"build_seconds\":1.6", NULL, {"stop", NULL, NULL},
       "build #1 ended SUCCESS as it was being stopped", true},
      {"\"pipeline\":true,\"ignore_stop\":\"term\"",
       "{\"faults\":[{\"kind\":\"status\",\"status\":500,\"method\":\"GET\","
       "\"count\":-1,\"path_prefix\":\"/job/folder/job/Docker%20Prune/1/api/json\"}]}",
       {"stop", NULL, NULL},
       "build #1: stop sent; Jenkins did not say whether it ended", false},
  };
  /* The default backend's stop_grace, from the environment. */
  setenv("HEALER_JENKINS_STOP_GRACE", "1s", 1);
  load_backends(jk.url, token_file);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_reset(&jk);
    char spec[256];
    snprintf(spec, sizeof spec, "{" TAGGED_PARAMS ",\"build_seconds\":null,%s}",
             cases[i].spec);
    define_job("folder/Docker Prune", spec);
    if (cases[i].faults)
      fake_script(&jk, cases[i].faults);
    struct remediation *r =
        make_rem(40 + i, "folder/Docker Prune", HL_NONE, params3, 0);
    struct outcome o = drive(r, 0, 50, 1200, NULL);
    assert_int_equal(o.st, REM_TIMED_OUT);
    char want[REM_REASON_MAX];
    snprintf(want, sizeof want, "timed out after 1200 ms; %s", cases[i].reason);
    if (!strstr(o.reason, want))
      fail_msg("case %zu: reason '%s', want '%s'", i, o.reason, want);
    cJSON *s = fake_json(&jk, "/_fake/state");
    const cJSON *b = build_of(s, "folder/Docker Prune", 0);
    const cJSON *calls = cJSON_GetObjectItem(b, "stop_calls");
    int n = 0;
    while (n < 3 && cases[i].calls[n]) {
      assert_string_equal(cJSON_GetArrayItem(calls, n)->valuestring,
                          cases[i].calls[n]);
      n++;
    }
    assert_int_equal(cJSON_GetArraySize(calls), n);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(b, "building")),
                     !cases[i].ends);
    cJSON_Delete(s);
    rem_unref(r);
  }
  unsetenv("HEALER_JENKINS_STOP_GRACE");
  load_backends(jk.url, token_file);
}

static void test_timeout_while_queued(void **state) {
  (void)state;
  define_job("folder/Docker Prune", "{" TAGGED_PARAMS ",\"quiet_seconds\":30}");
  struct remediation *r =
      make_rem(23, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 0, 50, 800, NULL);
  assert_int_equal(o.st, REM_TIMED_OUT);
  assert_int_equal(
      fake_count(&jk, "method=POST&path=/queue/cancelItem&status=204"), 1);
  cJSON *s = fake_json(&jk, "/_fake/state");
  const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "queue"), 0);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(item, "cancelled")));
  cJSON_Delete(s);
  assert_int_equal(nbuilds("folder/Docker Prune"), 0);
  rem_unref(r);
}

static void test_lost_reply_no_second_build(void **state) {
  (void)state;
  /* Jenkins queues the build, the 201 never arrives. */
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.2}");
  fake_script(
      &jk,
      "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\",\"method\":\"POST\","
      "\"path_prefix\":\"/job/\"}]}");
  struct remediation *r =
      make_rem(24, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  assert_int_equal(fake_count(&jk, "method=POST&path_prefix=/job/"), 1);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);

  /* The same after the item has become a build (a slow reply, past the
   * client's timeout): found among the builds. */
  fake_reset(&jk);
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.5}");
  fake_script(
      &jk, "{\"faults\":[{\"kind\":\"delay\",\"seconds\":2,\"phase\":\"after\","
           "\"method\":\"POST\",\"path_prefix\":\"/job/\"}]}");
  struct httpc_options opt = {.timeout_ms = 700};
  struct httpc *hc = httpc_new(&opt);
  r = make_rem(25, "folder/Docker Prune", HL_NONE, params3, 0);
  o = drive(r, 3, 400, 10000, hc);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_int_equal(fake_count(&jk, "method=POST&path_prefix=/job/"), 1);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);
  httpc_free(hc);
}

static void test_lost_reply_untagged_job(void **state) {
  (void)state;
  /* A job that does not declare HEALER_REMEDIATION_ID cannot be checked:
   * fail rather than risk a second build. */
  define_job("folder/Docker Prune",
             "{\"parameters\":{\"node\":\"\"},\"build_seconds\":0.2}");
  fake_script(&jk, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                   "\"method\":\"POST\"}]}");
  struct remediation *r =
      make_rem(26, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 3, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 2);
  assert_non_null(
      strstr(o.reason, "does not declare the HEALER_REMEDIATION_ID"));
  assert_int_equal(fake_count(&jk, "method=POST"), 1);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);
}

/* Polls run until its resume token starts with prefix. */
static void poll_until_token(struct action_run *run, const char *prefix) {
  const struct action_ops *ops = action_ops_for(HL_ACT_JENKINS);
  for (int i = 0; i < 200; i++) {
    const char *t = act_jenkins_token(run);
    if (t && strncmp(t, prefix, strlen(prefix)) == 0)
      return;
    sleep_until(run->next_poll_ms);
    assert_int_equal(ops->poll(run), ACTION_PENDING);
  }
  fail_msg("no %s token", prefix);
}

static void test_resume_after_restart(void **state) {
  (void)state;
  long q, b;
  char url[256];
  assert_int_equal(
      act_jenkins_parse_token("queue:101", &q, &b, url, sizeof url), 0);
  assert_int_equal(q, 101);
  assert_int_equal(b, -1);
  assert_int_equal(act_jenkins_parse_token("build:58 http://j/job/x/58/", &q,
                                           &b, url, sizeof url),
                   0);
  assert_int_equal(b, 58);
  assert_string_equal(url, "http://j/job/x/58/");
  assert_int_equal(act_jenkins_parse_token("build:7", &q, &b, url, sizeof url),
                   0);
  assert_int_equal(b, 7);
  assert_int_equal(act_jenkins_parse_token("queue:x", &q, &b, url, sizeof url),
                   -1);
  assert_int_equal(act_jenkins_parse_token("queue:0", &q, &b, url, sizeof url),
                   -1);
  assert_int_equal(act_jenkins_parse_token("other", &q, &b, url, sizeof url),
                   -1);
  assert_int_equal(act_jenkins_parse_token(NULL, &q, &b, url, sizeof url), -1);

  /* A build runs; healer dies (no cancel); a new process resumes from the
   * journaled token and follows the same build to its end. */
  define_job("folder/Docker Prune", "{" TAGGED_PARAMS ",\"build_seconds\":1}");
  const struct action_ops *ops = action_ops_for(HL_ACT_JENKINS);
  struct remediation *r =
      make_rem(40, "folder/Docker Prune", HL_NONE, params3, 0);
  struct action_run run = {.rs = &test_rs,
                           .rem = r,
                           .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&run), ACTION_PENDING);
  assert_string_equal(act_jenkins_token(&run), "queue:101");
  poll_until_token(&run, "build:");
  char token[600];
  snprintf(token, sizeof token, "%s", act_jenkins_token(&run));
  char want[128];
  snprintf(want, sizeof want, "build:1 %s/job/folder/job/Docker%%20Prune/1/",
           jk.url);
  assert_string_equal(token, want);
#ifdef ACTION_TOKEN_MAX
  /* What the worker journals, and the link notifications use. */
  assert_true(run.token_changed);
  assert_string_equal(run.token, token);
  assert_non_null(strstr(run.link, "/job/folder/job/Docker%20Prune/1/"));
#endif
  ops->release(&run); /* the process is gone */
  struct action_run again = {.rs = &test_rs,
                             .rem = r,
                             .step = &r->steps[0],
                             .deadline_ms = rtime_now_ms() + 10000};
#ifdef ACTION_TOKEN_MAX
  /* The worker fills run.token before start(): start() resumes. */
  snprintf(again.token, sizeof again.token, "%s", token);
  assert_int_equal(ops->start(&again), ACTION_PENDING);
#else
  assert_int_equal(act_jenkins_resume(&again, token), ACTION_PENDING);
#endif
  enum action_status st;
  do {
    sleep_until(again.next_poll_ms);
    st = ops->poll(&again);
  } while (st == ACTION_PENDING);
  assert_int_equal(st, ACTION_SUCCEEDED);
  assert_non_null(strstr(again.reason, "build #1 SUCCESS"));
  ops->release(&again);
  assert_int_equal(fake_count(&jk, "method=POST"), 1);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);

  /* Died while queued: the queue item is followed. */
  fake_reset(&jk);
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"quiet_seconds\":0.5,\"build_seconds\":0.1}");
  r = make_rem(41, "folder/Docker Prune", HL_NONE, params3, 0);
  struct action_run first = {.rs = &test_rs,
                             .rem = r,
                             .step = &r->steps[0],
                             .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&first), ACTION_PENDING);
  ops->release(&first);
  struct action_run res = {.rs = &test_rs,
                           .rem = r,
                           .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(act_jenkins_resume(&res, "queue:101"), ACTION_PENDING);
  do {
    sleep_until(res.next_poll_ms);
    st = ops->poll(&res);
  } while (st == ACTION_PENDING);
  assert_int_equal(st, ACTION_SUCCEEDED);
  ops->release(&res);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);

  rem_unref(r);

  /* Died between the POST and journaling its token: resumed as a retry
   * (attempt 1, no token), it finds the tagged item and posts nothing. */
  fake_reset(&jk);
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"quiet_seconds\":0.3,\"build_seconds\":0.1}");
  r = make_rem(42, "folder/Docker Prune", HL_NONE, params3, 0);
  struct action_run died = {.rs = &test_rs,
                            .rem = r,
                            .step = &r->steps[0],
                            .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&died), ACTION_PENDING);
  ops->release(&died);
  struct action_run late = {.rs = &test_rs,
                            .rem = r,
                            .step = &r->steps[0],
                            .attempt = 1,
                            .deadline_ms = rtime_now_ms() + 10000};
  assert_int_equal(ops->start(&late), ACTION_PENDING);
  assert_string_equal(act_jenkins_token(&late), "queue:101");
  do {
    sleep_until(late.next_poll_ms);
    st = ops->poll(&late);
  } while (st == ACTION_PENDING);
  assert_int_equal(st, ACTION_SUCCEEDED);
  ops->release(&late);
  assert_int_equal(fake_count(&jk, "method=POST"), 1);
  assert_int_equal(nbuilds("folder/Docker Prune"), 1);
  rem_unref(r);
}

static void test_no_backend(void **state) {
  (void)state;
  unsetenv("HEALER_JENKINS_URL");
  unsetenv("HEALER_JENKINS_TOKEN_FILE");
  unsetenv("TEST_CI_URL");
  char err[1024];
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "HEALER_JENKINS_URL is not set (default jenkins "
                              "backend (used by rule jk_default))"));
  assert_non_null(strstr(err,
                         "environment variable TEST_CI_URL is not set (jenkins "
                         "backend 'ci' (tests/jenkins.heal:3), field url)"));
  assert_non_null(
      strstr(err, "HEALER_JENKINS_USER is set but neither "
                  "HEALER_JENKINS_TOKEN_FILE nor HEALER_JENKINS_TOKEN is "
                  "(default jenkins backend"));
  assert_non_null(strstr(err, "3 backend settings"));
  struct remediation *r =
      make_rem(27, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(
      strstr(o.reason, "no Jenkins configured: set HEALER_JENKINS_URL"));
  rem_unref(r);
  /* A named backend start-up could not load is named in the reason. */
  r = make_rem(28, "folder/Docker Prune", 0, params3, 0);
  o = drive(r, 2, 50, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(strstr(o.reason, "jenkins backend 'ci' is not configured"));
  rem_unref(r);
  /* Dry-run reads nothing and never fails. */
  assert_int_equal(backend_load_all(&test_rs, true, err, sizeof err), 0);
  assert_null(backend_get(HL_BK_JENKINS, HL_NONE));
}

static void test_backend_sources(void **state) {
  (void)state;
  char err[1024];
  /* A file's one trailing newline is dropped; a value may come directly. */
  load_backends("http://127.0.0.1:1/prefix/", token_file);
  const struct backend *b = backend_get(HL_BK_JENKINS, HL_NONE);
  assert_non_null(b);
  assert_true(b->usable);
  assert_string_equal(backend_field(b, "token"), TOKEN);
  assert_string_equal(backend_field(b, "url"), "http://127.0.0.1:1/prefix/");
  const struct backend *ci = backend_get(HL_BK_JENKINS, 0);
  assert_non_null(ci);
  assert_string_equal(backend_field(ci, "user"), "bot");
  assert_string_equal(backend_field(ci, "token"), TOKEN);
  assert_null(backend_get(HL_BK_SLACK, 0)); /* kind mismatch */
  /* A value from a file is read again when asked fresh (a rotated token);
   * a file briefly missing gives the value read at start-up. */
  char fresh[128];
  assert_int_equal(backend_field_fresh(ci, "token", fresh, sizeof fresh), 0);
  assert_string_equal(fresh, TOKEN);
  FILE *tf = fopen(token_file, "w");
  fputs("rotated-7\n", tf);
  fclose(tf);
  assert_int_equal(backend_field_fresh(ci, "token", fresh, sizeof fresh), 0);
  assert_string_equal(fresh, "rotated-7");
  assert_int_equal(backend_field_fresh(b, "token", fresh, sizeof fresh), 0);
  assert_string_equal(fresh, "rotated-7");
  assert_string_equal(backend_field(ci, "token"), TOKEN); /* as loaded */
  unlink(token_file);
  assert_int_equal(backend_field_fresh(ci, "token", fresh, sizeof fresh), 0);
  assert_string_equal(fresh, TOKEN);
  assert_int_equal(backend_field_fresh(ci, "user", fresh, sizeof fresh), 0);
  assert_string_equal(fresh, "bot");
  assert_int_equal(backend_field_fresh(ci, "user", fresh, 3), -1); /* too long */
  assert_int_equal(backend_field_fresh(ci, "nope", fresh, sizeof fresh), -1);
  tf = fopen(token_file, "w");
  fputs(TOKEN "\n", tf);
  fclose(tf);
  char d[256];
  assert_string_equal(backend_describe(ci, d, sizeof d),
                      "jenkins backend 'ci' (tests/jenkins.heal:3)");
  /* TOKEN and TOKEN_FILE both: ambiguous. */
  setenv("HEALER_JENKINS_TOKEN", "x", 1);
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(
      err, "set HEALER_JENKINS_TOKEN or HEALER_JENKINS_TOKEN_FILE, not both"));
  unsetenv("HEALER_JENKINS_TOKEN_FILE");
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), 0);
  assert_string_equal(
      backend_field(backend_get(HL_BK_JENKINS, HL_NONE), "token"), "x");
  unsetenv("HEALER_JENKINS_TOKEN");
  /* A missing file is named; a URL with credentials is refused without
   * showing them. */
  setenv("HEALER_JENKINS_TOKEN_FILE", "/nonexistent/healer-token", 1);
  setenv("HEALER_JENKINS_URL", "https://bot:hunter2@jenkins.example.com/", 1);
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(
      err, "cannot read HEALER_JENKINS_TOKEN_FILE=/nonexistent/healer-token: "
           "No such file or directory"));
  assert_non_null(strstr(err, "must not hold a user or password"));
  assert_null(strstr(err, "hunter2"));
  /* Only backends of rules that really run are read. */
  static const struct hl_rule dry_rules[] = {
      {.name = "dry",
       .flags = HL_RULE_DRY_RUN,
       .first_step = 0,
       .nsteps = 1,
       .during = HL_NONE,
       .not_during = HL_NONE},
  };
  struct hl_ruleset dry = test_rs;
  dry.rules = dry_rules;
  dry.nrules = 1;
  assert_int_equal(backend_load_all(&dry, false, err, sizeof err), 0);
  load_backends(jk.url, token_file);
}

/* Fields are checked as backends.def declares them, whether they come from
 * the rules or the environment: a duration, a pair given together. */
static void test_backend_forms(void **state) {
  (void)state;
  char err[1024];
  setenv("HEALER_JENKINS_STOP_GRACE", "soon", 1);
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "default jenkins backend (used by rule "
                              "jk_default), field stop_grace: not a duration"));
  setenv("HEALER_JENKINS_STOP_GRACE", "1m30s", 1);
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), 0);
  assert_string_equal(
      backend_field(backend_get(HL_BK_JENKINS, HL_NONE), "stop_grace"), "1m30s");
  unsetenv("HEALER_JENKINS_STOP_GRACE");
  unsetenv("HEALER_JENKINS_USER");
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "HEALER_JENKINS_TOKEN_FILE is set but "
                              "HEALER_JENKINS_USER is not (default jenkins "
                              "backend"));
  load_backends(jk.url, token_file);
}

/* A step whose backend is picked per alert (`via $cluster`) needs every
 * declared backend of its kind at start-up, and not the default. */
static void test_backend_picked_needs_all(void **state) {
  (void)state;
  char err[1024];
  static const struct hl_insn insns[] = {{HL_OP_LABEL, 0, "cluster"}};
  static const struct hl_step picked[] = {
      {HL_ACT_JENKINS, HL_NONE, "j", 0, 0, 0, {0, 1}}};
  static const struct hl_rule rule[] = {{.name = "per_cluster",
                                         .first_step = 0,
                                         .nsteps = 1,
                                         .during = HL_NONE,
                                         .not_during = HL_NONE}};
  struct hl_ruleset rs = test_rs;
  rs.rules = rule;
  rs.nrules = 1;
  rs.steps = picked;
  rs.nsteps = 1;
  rs.insns = insns;
  rs.ninsns = 1;
  unsetenv("HEALER_JENKINS_URL");   /* the default is not needed */
  assert_int_equal(backend_load_all(&rs, false, err, sizeof err), 0);
  const struct backend *ci = backend_get(HL_BK_JENKINS, 0);
  assert_non_null(ci);
  assert_true(ci->needed && ci->usable);
  assert_null(backend_get(HL_BK_JENKINS, HL_NONE));
  /* ... so a declared one that cannot be read stops the start. */
  unsetenv("TEST_CI_URL");
  assert_int_equal(backend_load_all(&rs, false, err, sizeof err), -1);
  assert_non_null(strstr(err, "TEST_CI_URL is not set"));
  load_backends(jk.url, token_file);
}

/* No secret in a log line or a reason, whatever happens. */
static void test_secrets_stay_secret(void **state) {
  (void)state;
  char logpath[] = "/tmp/healer-test-log.XXXXXX";
  int fd = mkstemp(logpath);
  assert_true(fd >= 0);
  log_setup(LOG_TEXT, LOGL_DEBUG, fd);
  define_job("folder/Docker Prune",
             "{" TAGGED_PARAMS ",\"build_seconds\":0.1}");
  struct remediation *r =
      make_rem(28, "folder/Docker Prune", HL_NONE, params3, 0);
  struct outcome o = drive(r, 0, 50, 10000, NULL);
  assert_int_equal(o.st, REM_SUCCEEDED);
  assert_null(strstr(o.reason, TOKEN));
  rem_unref(r);
  fake_script(&jk, "{\"faults\":[{\"status\":500,\"count\":-1,\"body\":\"" TOKEN
                   "?\"}]}");
  r = make_rem(29, "folder/Docker Prune", HL_NONE, params3, 0);
  o = drive(r, 1, 20, 10000, NULL);
  assert_int_equal(o.st, REM_FAILED);
  assert_non_null(strstr(o.reason, "HTTP 500 (Jenkins error): ***?"));
  rem_unref(r);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  char buf[65536];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  unlink(logpath);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_non_null(strstr(buf, "msg=jenkins_queued"));
  assert_non_null(strstr(buf, "msg=jenkins_result"));
  assert_null(strstr(buf, TOKEN));
  assert_null(strstr(buf, "Authorization"));
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  httpc_global_init();
  act_jenkins_set_poll(50, 200);
  fake_write_file(token_file, sizeof token_file, TOKEN "\n");
  fake_write_file(bad_token_file, sizeof bad_token_file, "wrong");
  fake_write_file(password_file, sizeof password_file, "pw\r\n");
  fields[2].value = token_file;
  const struct CMUnitTest pure[] = {cmocka_unit_test(test_helpers)};
  const struct CMUnitTest live[] = {
      cmocka_unit_test_setup(test_success_with_escaping, each_setup),
      cmocka_unit_test_setup(test_declared_backend, each_setup),
      cmocka_unit_test_setup(test_results, each_setup),
      cmocka_unit_test_setup(test_succeed_on, each_setup),
      cmocka_unit_test_setup(test_jenkins_down, each_setup),
      cmocka_unit_test_setup(test_5xx_then_success, each_setup),
      cmocka_unit_test_setup(test_502_looks_before_retrying, each_setup),
      cmocka_unit_test_setup(test_401, each_setup),
      cmocka_unit_test_setup(test_disabled_and_unknown, each_setup),
      cmocka_unit_test_setup(test_429_retry_after, each_setup),
      cmocka_unit_test_setup(test_crumb_required, each_setup),
      cmocka_unit_test_setup(test_queue_cancelled, each_setup),
      cmocka_unit_test_setup(test_queue_item_expired, each_setup),
      cmocka_unit_test_setup(test_build_never_ends, each_setup),
      cmocka_unit_test_setup(test_stop_escalation, each_setup),
      cmocka_unit_test_setup(test_timeout_while_queued, each_setup),
      cmocka_unit_test_setup(test_lost_reply_no_second_build, each_setup),
      cmocka_unit_test_setup(test_lost_reply_untagged_job, each_setup),
      cmocka_unit_test_setup(test_resume_after_restart, each_setup),
      cmocka_unit_test_setup(test_no_backend, each_setup),
      cmocka_unit_test_setup(test_backend_sources, each_setup),
      cmocka_unit_test_setup(test_backend_forms, each_setup),
      cmocka_unit_test_setup(test_backend_picked_needs_all, each_setup),
      cmocka_unit_test_setup(test_secrets_stay_secret, each_setup),
  };
  int rc = cmocka_run_group_tests_name("jenkins", pure, NULL, NULL);
  const char *args[] = {"--user",     "bot", "--token", TOKEN,
                        "--password", "pw",  NULL};
  fake_start(&jk, "jenkins", args);
  rc += cmocka_run_group_tests_name("jenkins_live", live, NULL, NULL);
  fake_stop(&jk);
  backend_free_all();
  unlink(token_file);
  unlink(bad_token_file);
  unlink(password_file);
  httpc_global_cleanup();
  return rc;
}
