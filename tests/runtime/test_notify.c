/*
 * test_notify.c - notifications after an outcome, against the fake Slack,
 * Jira and PagerDuty: what each receives (rule, alert, parameters,
 * outcome, duration, link; escaping), which clauses fire for which
 * outcome, retries (5xx, 429 + Retry-After), permanent failures, services
 * down (recorded, outcome untouched), one Jira issue per remediation even
 * when a reply is lost, PagerDuty dedup and resolve, Data Center bearer
 * auth, shutdown during a wait, metrics, and secrets kept out of logs.
 */
#include "fakes.h"

#include "abi.h"
#include "backend.h"
#include "httpc.h"
#include "log.h"
#include "notify.h"
#include "rem.h"
#include "rtime.h"

#define T0 "2026-11-27T12:10:15.696335593Z"
#define FP "738e04ac61a520a1"
#define HOOK "/services/T0/B0/SECRETHOOK"
#define JIRA_TOKEN "jira-SECRET-tok"
#define DC_PAT "dc-SECRET-pat"
#define ROUTING_KEY "0123456789abcdef0123456789SECRET"

/* ---- rules --------------------------------------------------------------- */

static const struct hl_backend_field fields[] = {
    {"url", HL_SRC_ENV, "TEST_DC_URL"},
    {"token", HL_SRC_ENV, "TEST_DC_PAT"},
    {"project", HL_SRC_LITERAL, "OPS"},
};
static const struct hl_backend backends[] = {
    {"dc", HL_BK_JIRA, 0, 3, "tests/notify.heal", 2},
};
static const struct hl_notify notifies[] = {
    /* rule 0 "prune" */
    {HL_EV_SUCCESS | HL_EV_FAILURE, HL_BK_SLACK, HL_NONE, "#ops"},
    {HL_EV_FAILURE | HL_EV_TIMEOUT, HL_BK_JIRA, HL_NONE, "OPS"},
    {HL_EV_FAILURE | HL_EV_SUCCESS, HL_BK_PAGERDUTY, HL_NONE, NULL},
    /* rule 1 "dc" */
    {HL_EV_FAILURE, HL_BK_JIRA, 0, NULL},
};
static const struct hl_rule rules[] = {
    {.name = "prune",
     .file = "tests/notify.heal",
     .line = 10,
     .status = HL_STATUS_FIRING,
     .first_notify = 0,
     .nnotify = 3,
     .during = HL_NONE,
     .not_during = HL_NONE},
    {.name = "dc",
     .file = "tests/notify.heal",
     .line = 20,
     .status = HL_STATUS_FIRING,
     .first_notify = 3,
     .nnotify = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
};
static const struct hl_ruleset test_rs = {
    .abi_version = HL_ABI_VERSION,
    .rules = rules,
    .nrules = 2,
    .notifies = notifies,
    .nnotifies = 4,
    .backends = backends,
    .nbackends = 1,
    .fields = fields,
    .nfields = 3,
};

static struct fake slack, jira, pd;
static char hook_file[64], dead_hook_file[64], jira_token_file[64];

static void load(const char *hook_path) {
  char u[128];
  setenv("HEALER_SLACK_WEBHOOK_FILE", hook_path, 1);
  setenv("HEALER_JIRA_URL", jira.url, 1);
  setenv("HEALER_JIRA_USER", "healer@example.com", 1);
  setenv("HEALER_JIRA_TOKEN_FILE", jira_token_file, 1);
  setenv("HEALER_PAGERDUTY_ROUTING_KEY", ROUTING_KEY, 1);
  snprintf(u, sizeof u, "%s/", pd.url);
  setenv("HEALER_PAGERDUTY_URL", u, 1);
  setenv("TEST_DC_URL", jira.url, 1);
  setenv("TEST_DC_PAT", DC_PAT, 1);
  char err[1024];
  if (backend_load_all(&test_rs, false, err, sizeof err) != 0)
    fail_msg("backends: %s", err);
}

static int each_setup(void **state) {
  (void)state;
  fake_reset(&slack);
  fake_reset(&jira);
  fake_reset(&pd);
  load(hook_file);
  return 0;
}

static struct remediation *make_rem(uint64_t id, uint32_t rule) {
  static struct rem_param params[] = {{"node", "node1 <b>&</b>"},
                                      {"mode", "caf\xc3\xa9"}};
  struct alert a = {.status = HL_STATUS_FIRING,
                    .alertname = "NodeDiskPressure",
                    .fingerprint = FP,
                    .starts_at = T0};
  struct rem_step st = {HL_ACT_JENKINS, HL_NONE, "infra/DockerPruneNode", 2,
                        params, 0};
  struct rem_draft d = {.rule = rule,
                        .rule_name = rules[rule].name,
                        .alert = &a,
                        .nsteps = 1,
                        .steps = &st};
  struct remediation *r = rem_new(&d, id, REM_RUNNING, NULL, rtime_now_ms());
  assert_non_null(r);
  return r;
}

static struct notify_event event(const struct remediation *r,
                                 enum rem_state out) {
  struct notify_event ev = {
      &test_rs,
      r,
      out,
      "build #58 FAILURE (http://j/job/x/58/)",
      1796130000000 - 41000,
      1796130000000,
      "http://jenkins.example.com/job/infra/job/DockerPruneNode/58/",
      NULL};
  return ev;
}

/* A wait that does not sleep but remembers what it was asked. */
static int64_t waits[16];
static size_t nwaits;
static bool quick_wait(void *ctx, int64_t until_ms) {
  (void)ctx;
  if (nwaits < 16)
    waits[nwaits++] = until_ms - rtime_now_ms();
  return true;
}
static bool stop_wait(void *ctx, int64_t until_ms) {
  (void)ctx;
  (void)until_ms;
  return false;
}

static cJSON *state_of(const struct fake *f) {
  return fake_json(f, "/_fake/state");
}

/* ---- pure ---------------------------------------------------------------- */

static void test_pure(void **state) {
  (void)state;
  assert_int_equal(notify_event_of(REM_SUCCEEDED), HL_EV_SUCCESS);
  assert_int_equal(notify_event_of(REM_FAILED), HL_EV_FAILURE);
  assert_int_equal(notify_event_of(REM_TIMED_OUT), HL_EV_TIMEOUT);
  assert_int_equal(notify_event_of(REM_CANCELLED), 0);
  assert_int_equal(notify_event_of(REM_DRY_RUN), 0);
  assert_int_equal(notify_event_of(REM_SKIPPED), 0);
  struct remediation *r = make_rem(1, 0);
  struct notify_event ev = event(r, REM_FAILED);
  struct buf b;
  buf_init(&b);
  notify_summary(&ev, &b, 1000);
  assert_string_equal(b.data, "healer: prune failed for NodeDiskPressure "
                              "(node=node1 <b>&</b>, mode=caf\xc3\xa9)");
  buf_reset(&b);
  /* Cut inside the two-byte e-acute: the whole character goes. */
  notify_summary(&ev, &b, 73);
  assert_string_equal(b.data, "healer: prune failed for NodeDiskPressure "
                              "(node=node1 <b>&</b>, mode=caf");
  buf_free(&b);
  char d[RTIME_BUFSZ];
  assert_string_equal(notify_duration(&ev, d), "41s");
  /* Cancelled and dry-run outcomes notify nobody. */
  ev.outcome = REM_CANCELLED;
  assert_int_equal(notify_send(NULL, &ev, quick_wait, NULL, NULL, 0), 0);
  rem_unref(r);
}

/* ---- live ---------------------------------------------------------------- */

static void test_success_slack_and_resolve(void **state) {
  (void)state;
  struct remediation *r = make_rem(2, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  ev.reason = "build #58 SUCCESS";
  struct notify_result res[8];
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 2); /* slack and pagerduty; not jira */
  assert_int_equal(res[0].kind, HL_BK_SLACK);
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_int_equal(res[0].attempts, 1);
  assert_string_equal(res[0].backend, "default");
  assert_int_equal(res[1].kind, HL_BK_PAGERDUTY);
  assert_int_equal(res[1].status, NOTIFY_SENT);

  cJSON *s = state_of(&slack);
  const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "messages"), 0);
  assert_string_equal(cJSON_GetObjectItem(m, "hook")->valuestring, HOOK);
  const cJSON *p = cJSON_GetObjectItem(m, "payload");
  assert_string_equal(cJSON_GetObjectItem(p, "channel")->valuestring, "#ops");
  const char *fallback = cJSON_GetObjectItem(p, "text")->valuestring;
  assert_non_null(
      strstr(fallback, "healer: prune succeeded for NodeDiskPressure"));
  const char *text =
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(
              cJSON_GetArrayItem(cJSON_GetObjectItem(p, "blocks"), 0), "text"),
          "text")
          ->valuestring;
  assert_non_null(
      strstr(text, "remediation succeeded* (rule prune, remediation 2)"));
  assert_non_null(
      strstr(text, "*Alert:* NodeDiskPressure, fingerprint " FP ", since " T0));
  assert_non_null(
      strstr(text, "node=node1 &lt;b&gt;&amp;&lt;/b&gt;, mode=caf\xc3\xa9"));
  assert_non_null(
      strstr(text, "*Outcome:* succeeded after 41s: build #58 SUCCESS"));
  assert_non_null(strstr(
      text,
      "<http://jenkins.example.com/job/infra/job/DockerPruneNode/58/|Build>"));
  cJSON_Delete(s);
  /* Content-Type is JSON (the fake refuses anything else). */
  assert_int_equal(fake_count(&slack, "status=200"), 1);

  s = state_of(&pd);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "alerts")), 0);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "dropped")),
                   1); /* nothing open */
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_failure_all_three(void **state) {
  (void)state;
  struct remediation *r = make_rem(3, 0);
  struct notify_event ev = event(r, REM_FAILED);
  struct notify_result res[8];
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(res[i].status, NOTIFY_SENT);
  assert_string_equal(res[1].detail, "OPS-1");

  cJSON *s = state_of(&jira);
  const cJSON *issue = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "issues"), 0);
  assert_string_equal(cJSON_GetObjectItem(issue, "key")->valuestring, "OPS-1");
  assert_string_equal(cJSON_GetObjectItem(issue, "summary")->valuestring,
                      "healer: prune failed for NodeDiskPressure (node=node1 "
                      "<b>&</b>, mode=caf\xc3\xa9)");
  const char *desc = cJSON_GetObjectItem(issue, "description")->valuestring;
  assert_non_null(strstr(
      desc,
      "Build: http://jenkins.example.com/job/infra/job/DockerPruneNode/58/"));
  assert_non_null(strstr(desc, "Outcome: failed after 41s: build #58 FAILURE"));
  const cJSON *labels = cJSON_GetObjectItem(issue, "labels");
  assert_string_equal(cJSON_GetArrayItem(labels, 0)->valuestring, "healer");
  char tag[BACKEND_TAG_MAX], label[64];
  snprintf(label, sizeof label, "healer-%s", backend_rem_tag(r, tag));
  assert_string_equal(cJSON_GetArrayItem(labels, 1)->valuestring, label);
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetObjectItem(issue, "issuetype"), "name")
          ->valuestring,
      "Task");
  cJSON_Delete(s);
  /* Cloud auth: Basic email:token. */
  cJSON *reqs = fake_json(&jira, "/_fake/requests?method=POST");
  const char *auth =
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "headers"),
          "authorization")
          ->valuestring;
  assert_int_equal(strncmp(auth, "Basic ", 6), 0);
  cJSON_Delete(reqs);

  s = state_of(&pd);
  const cJSON *alert = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "alerts"), 0);
  assert_string_equal(cJSON_GetObjectItem(alert, "dedup_key")->valuestring,
                      "healer/" FP "/" T0);
  assert_string_equal(cJSON_GetObjectItem(alert, "status")->valuestring,
                      "triggered");
  assert_int_equal(cJSON_GetObjectItem(alert, "triggers")->valueint, 1);
  cJSON_Delete(s);

  /* A second remediation of the same alert fails too: one more issue (one
   * per remediation), but PagerDuty pages once (same dedup_key). */
  struct remediation *r2 = make_rem(4, 0);
  ev = event(r2, REM_FAILED);
  n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 3);
  assert_string_equal(res[1].detail, "OPS-2");
  s = state_of(&pd);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "alerts")), 1);
  alert = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "alerts"), 0);
  assert_int_equal(cJSON_GetObjectItem(alert, "triggers")->valueint, 2);
  cJSON_Delete(s);
  /* ... and a success resolves it. */
  ev = event(r2, REM_SUCCEEDED);
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  s = state_of(&pd);
  alert = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "alerts"), 0);
  assert_string_equal(cJSON_GetObjectItem(alert, "status")->valuestring,
                      "resolved");
  cJSON_Delete(s);
  rem_unref(r);
  rem_unref(r2);
}

static void test_slack_down(void **state) {
  (void)state;
  load(dead_hook_file);
  struct remediation *r = make_rem(5, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  struct notify_result res[8];
  nwaits = 0;
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 2);
  assert_int_equal(res[0].status, NOTIFY_FAILED);
  assert_int_equal(res[0].attempts, 3);
  assert_int_equal(nwaits, 2); /* backoff between the three tries */
  assert_non_null(strstr(res[0].detail, "slack: "));
  assert_non_null(strstr(res[0].detail, "onnect"));
  assert_null(strstr(res[0].detail, "SECRETHOOK"));
  /* The other notifier still ran; the outcome is untouched. */
  assert_int_equal(res[1].status, NOTIFY_SENT);
  assert_int_equal(ev.outcome, REM_SUCCEEDED);
  assert_int_equal(r->state, REM_RUNNING);
  rem_unref(r);
}

static void test_slack_429_then_ok(void **state) {
  (void)state;
  fake_script(&slack, "{\"faults\":[{\"status\":429,\"retry_after\":2,\"body\":"
                      "\"rate_limited\"}]}");
  struct remediation *r = make_rem(6, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  struct notify_result res[8];
  nwaits = 0;
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_int_equal(res[0].attempts, 2);
  assert_int_equal(nwaits, 1);
  assert_true(waits[0] >= 1900 &&
              waits[0] <= 2000); /* Retry-After, not 20 ms */
  rem_unref(r);
  /* 5xx: retried with backoff. */
  fake_script(
      &slack,
      "{\"faults\":[{\"status\":500,\"count\":2,\"body\":\"rollup_error\"}]}");
  r = make_rem(7, 0);
  ev = event(r, REM_SUCCEEDED);
  notify_send(httpc_thread(), &ev, NULL, NULL, res,
              8); /* real sleeps, 20-40 ms */
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_int_equal(res[0].attempts, 3);
  rem_unref(r);
}

static void test_slack_permanent(void **state) {
  (void)state;
  fake_script(&slack, "{\"hooks\":{\"" HOOK "\":\"channel_not_found\"}}");
  struct remediation *r = make_rem(8, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_FAILED);
  assert_int_equal(res[0].attempts, 1);
  assert_string_equal(res[0].detail, "slack: HTTP 404: channel_not_found");
  rem_unref(r);
}

static void test_jira_down(void **state) {
  (void)state;
  char u[64];
  snprintf(u, sizeof u, "http://127.0.0.1:%d", fake_dead_port());
  setenv("HEALER_JIRA_URL", u, 1);
  char err[512];
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), 0);
  struct remediation *r = make_rem(9, 0);
  struct notify_event ev = event(r, REM_TIMED_OUT);
  struct notify_result res[8];
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 1); /* timeout: jira only */
  assert_int_equal(res[0].status, NOTIFY_FAILED);
  assert_int_equal(res[0].attempts, 3);
  assert_non_null(strstr(res[0].detail, "jira: "));
  assert_int_equal(ev.outcome, REM_TIMED_OUT);
  rem_unref(r);
}

static void test_jira_5xx_then_one_issue(void **state) {
  (void)state;
  fake_script(&jira, "{\"faults\":[{\"status\":503,\"method\":\"POST\","
                     "\"path\":\"/rest/api/2/issue\"}]}");
  struct remediation *r = make_rem(10, 0);
  struct notify_event ev = event(r, REM_TIMED_OUT);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_int_equal(res[0].attempts, 2);
  assert_string_equal(res[0].detail, "OPS-1");
  /* A 503 may hide a created issue: the retry searched first. */
  assert_int_equal(fake_count(&jira, "method=GET&path=/rest/api/2/search"), 1);
  cJSON *s = state_of(&jira);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "issues")), 1);
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_jira_lost_reply(void **state) {
  (void)state;
  /* Jira creates the issue; its 201 never arrives. */
  fake_script(&jira, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                     "\"method\":\"POST\"}]}");
  struct remediation *r = make_rem(11, 0);
  struct notify_event ev = event(r, REM_TIMED_OUT);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_int_equal(res[0].attempts, 2);
  assert_string_equal(res[0].detail, "OPS-1");
  assert_int_equal(fake_count(&jira, "method=POST"), 1);
  cJSON *s = state_of(&jira);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "issues")), 1);
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_jira_data_center(void **state) {
  (void)state;
  struct remediation *r = make_rem(12, 1);
  struct notify_event ev = event(r, REM_FAILED);
  struct notify_result res[8];
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(n, 1);
  assert_int_equal(res[0].status, NOTIFY_SENT);
  assert_string_equal(res[0].backend, "dc");
  assert_string_equal(res[0].detail, "OPS-1"); /* project from the backend */
  cJSON *reqs = fake_json(&jira, "/_fake/requests?method=POST");
  const char *auth =
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "headers"),
          "authorization")
          ->valuestring;
  assert_string_equal(auth, "Bearer " DC_PAT);
  cJSON_Delete(reqs);
  rem_unref(r);
}

static void test_pagerduty_retry(void **state) {
  (void)state;
  fake_script(
      &pd,
      "{\"faults\":[{\"status\":429,\"retry_after\":null},{\"status\":502}]}");
  struct remediation *r = make_rem(13, 0);
  struct notify_event ev = event(r, REM_FAILED);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[2].kind, HL_BK_PAGERDUTY);
  assert_int_equal(res[2].status, NOTIFY_SENT);
  assert_int_equal(res[2].attempts, 3);
  cJSON *s = state_of(&pd);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "alerts")), 1);
  cJSON_Delete(s);
  rem_unref(r);
}

/* A breaker's page goes to PagerDuty even for a rule without a page
 * clause, as an incident of its own (its dedup key), once. */
static void test_page_breaker(void **state) {
  (void)state;
  struct remediation *r = make_rem(14, 1);
  struct notify_event ev = event(r, REM_FAILED);
  ev.reason = "breaker opened: rule dc failed 3 times in 1h";
  ev.dedup_key = "healer/breaker/dc/1796130000000";
  struct notify_result res;
  notify_page(httpc_thread(), &ev, quick_wait, NULL, &res);
  assert_int_equal(res.kind, HL_BK_PAGERDUTY);
  assert_int_equal(res.status, NOTIFY_SENT);
  cJSON *s = state_of(&pd);
  cJSON *alerts = cJSON_GetObjectItem(s, "alerts");
  assert_int_equal(cJSON_GetArraySize(alerts), 1);
  cJSON *a = cJSON_GetArrayItem(alerts, 0);
  assert_string_equal(cJSON_GetObjectItem(a, "dedup_key")->valuestring,
                      "healer/breaker/dc/1796130000000");
  cJSON_Delete(s);
  assert_int_equal(fake_count(&slack, "method=POST"), 0); /* only the page */
  rem_unref(r);
}

static void test_not_configured(void **state) {
  (void)state;
  unsetenv("HEALER_SLACK_WEBHOOK_FILE");
  char err[512];
  assert_int_equal(backend_load_all(&test_rs, false, err, sizeof err), -1);
  assert_non_null(strstr(
      err, "HEALER_SLACK_WEBHOOK_FILE or HEALER_SLACK_WEBHOOK is not set "
           "(default slack backend (used by rule prune))"));
  struct remediation *r = make_rem(14, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_FAILED);
  assert_int_equal(res[0].attempts, 0);
  assert_non_null(strstr(res[0].detail, "no slack configured"));
  rem_unref(r);
}

static void test_shutdown_gives_up(void **state) {
  (void)state;
  fake_script(&slack, "{\"faults\":[{\"status\":503,\"count\":5}]}");
  struct remediation *r = make_rem(15, 0);
  struct notify_event ev = event(r, REM_SUCCEEDED);
  struct notify_result res[8];
  notify_send(httpc_thread(), &ev, stop_wait, NULL, res, 8);
  assert_int_equal(res[0].status, NOTIFY_FAILED);
  assert_int_equal(res[0].attempts, 1);
  assert_non_null(strstr(res[0].detail, "(gave up: shutting down)"));
  rem_unref(r);
}

static void test_metrics(void **state) {
  (void)state;
  struct buf b;
  buf_init(&b);
  notify_metrics_render(&b);
  assert_non_null(
      strstr(b.data, "# TYPE healer_notifications_total counter\n"));
  assert_non_null(strstr(
      b.data, "healer_notifications_total{kind=\"slack\",result=\"failed\"} "));
  assert_non_null(strstr(
      b.data, "healer_notifications_total{kind=\"jira\",result=\"sent\"} "));
  assert_null(strstr(
      b.data, "result=\"sent\"} 0\nhealer_notifications_total{kind=\"slack\""));
  buf_free(&b);
}

static void test_secrets_stay_secret(void **state) {
  (void)state;
  char logpath[] = "/tmp/healer-test-log.XXXXXX";
  int fd = mkstemp(logpath);
  assert_true(fd >= 0);
  log_setup(LOG_JSON, LOGL_DEBUG, fd);
  fake_script(&slack,
              "{\"faults\":[{\"status\":500,\"count\":-1,\"body\":\"" HOOK
              "\"}]}");
  fake_script(&jira,
              "{\"faults\":[{\"status\":401,\"count\":-1,\"body\":\"" JIRA_TOKEN
              "\"}]}");
  struct remediation *r = make_rem(16, 0);
  struct notify_event ev = event(r, REM_FAILED);
  struct notify_result res[8];
  size_t n = notify_send(httpc_thread(), &ev, quick_wait, NULL, res, 8);
  fake_reset(&jira);
  fake_script(&jira,
              "{\"faults\":[{\"status\":401,\"count\":-1,\"body\":\"" DC_PAT
              "\"}]}");
  r->rule = 1;
  n += notify_send(httpc_thread(), &ev, quick_wait, NULL, res + n, 8 - n);
  assert_int_equal(n, 4);
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  char buf[65536];
  ssize_t len = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  unlink(logpath);
  assert_true(len > 0);
  buf[len] = '\0';
  assert_non_null(strstr(buf, "\"msg\":\"notification\""));
  assert_non_null(strstr(buf, "\"status\":\"failed\""));
  assert_non_null(strstr(buf, "\"status\":\"sent\""));
  /* The answers echoed the secrets (the hook's path, the token): the
   * details quote the answers, redacted. */
  assert_non_null(strstr(res[0].detail, "slack: HTTP 500: ***"));
  assert_non_null(strstr(res[1].detail, "jira: HTTP 401: ***"));
  for (size_t i = 0; i < n; i++) {
    assert_null(strstr(res[i].detail, "SECRET"));
  }
  assert_null(strstr(buf, "SECRET"));
  assert_null(strstr(buf, ROUTING_KEY));
  assert_null(strstr(buf, DC_PAT));
  assert_null(strstr(buf, "Authorization"));
  rem_unref(r);
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  httpc_global_init();
  struct notify_policy pol = {3, 20, 100, 5000};
  notify_set_policy(&pol);
  fake_write_file(jira_token_file, sizeof jira_token_file, JIRA_TOKEN "\n");
  const char *sargs[] = {"--hook", HOOK, NULL};
  const char *jargs[] = {
      "--email", "healer@example.com", "--token", JIRA_TOKEN, "--pat", DC_PAT,
      NULL};
  fake_start(&slack, "slack", sargs);
  fake_start(&jira, "jira", jargs);
  fake_start(&pd, "pagerduty", NULL);
  char hook[128];
  snprintf(hook, sizeof hook, "%s" HOOK "\n", slack.url);
  fake_write_file(hook_file, sizeof hook_file, hook);
  snprintf(hook, sizeof hook, "http://127.0.0.1:%d" HOOK, fake_dead_port());
  fake_write_file(dead_hook_file, sizeof dead_hook_file, hook);
  load(hook_file);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pure),
      cmocka_unit_test_setup(test_success_slack_and_resolve, each_setup),
      cmocka_unit_test_setup(test_failure_all_three, each_setup),
      cmocka_unit_test_setup(test_slack_down, each_setup),
      cmocka_unit_test_setup(test_slack_429_then_ok, each_setup),
      cmocka_unit_test_setup(test_slack_permanent, each_setup),
      cmocka_unit_test_setup(test_jira_down, each_setup),
      cmocka_unit_test_setup(test_jira_5xx_then_one_issue, each_setup),
      cmocka_unit_test_setup(test_jira_lost_reply, each_setup),
      cmocka_unit_test_setup(test_jira_data_center, each_setup),
      cmocka_unit_test_setup(test_pagerduty_retry, each_setup),
      cmocka_unit_test_setup(test_page_breaker, each_setup),
      cmocka_unit_test_setup(test_not_configured, each_setup),
      cmocka_unit_test_setup(test_shutdown_gives_up, each_setup),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test_setup(test_secrets_stay_secret, each_setup),
  };
  int rc = cmocka_run_group_tests_name("notify", tests, NULL, NULL);
  fake_stop(&slack);
  fake_stop(&jira);
  fake_stop(&pd);
  backend_free_all();
  unlink(hook_file);
  unlink(dead_hook_file);
  unlink(jira_token_file);
  httpc_global_cleanup();
  return rc;
}
