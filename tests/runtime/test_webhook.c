/*
 * test_webhook.c - the webhook kind, pure (paths, bodies, header lines)
 * and against the fake webhook receiver, driven as a worker drives it:
 * 2xx; 503 (with Retry-After) then 200 and a lost reply, each delivered
 * once thanks to the Idempotency-Key; 400 permanent with the answer's
 * excerpt; label values with '/ ? # % "' and newlines kept inside their
 * path segment and JSON string; methods; a header line with CR/LF refused;
 * the token and header secret never in a reason.
 */
#include "fakes.h"

#include "abi.h"
#include "act_webhook.h"
#include "action.h"
#include "backend.h"
#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "rem.h"
#include "rtime.h"

#define T0 "2026-11-27T12:10:15.696335593Z"
#define TOKEN "hook-SECRET-token-4711"
#define HDR_VALUE "hdr-SECRET-value-0815"
#define NASTY "a/b?c#d%e \"f\"\ng"

static struct hl_backend_field fields[] = {
    {"url", HL_SRC_ENV, "TEST_HOOK_URL"},
    {"token", HL_SRC_FILE, NULL}, /* set in main() */
    {"header", HL_SRC_FILE, NULL},
    {"url", HL_SRC_ENV, "TEST_HOOK_URL"},
    {"header", HL_SRC_FILE, NULL},
};
static const struct hl_backend backends[] = {
    {"hook", HL_BK_WEBHOOK, 0, 3, "tests/hook.heal", 1},
    {"hook_crlf", HL_BK_WEBHOOK, 3, 2, "tests/hook.heal", 6},
};
static const struct hl_step steps[] = {
    {HL_ACT_WEBHOOK, 0, "/hooks/{node}/run", 0, 0, 0, {0, 0}},
    {HL_ACT_WEBHOOK, 1, "/hooks/{node}/run", 0, 0, 0, {0, 0}},
};
static const struct hl_rule rules[] = {
    {.name = "wh",
     .file = "tests/hook.heal",
     .line = 10,
     .status = HL_STATUS_FIRING,
     .first_step = 0,
     .nsteps = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
    {.name = "wh_crlf",
     .file = "tests/hook.heal",
     .line = 20,
     .status = HL_STATUS_FIRING,
     .first_step = 1,
     .nsteps = 1,
     .during = HL_NONE,
     .not_during = HL_NONE},
};
static const struct hl_ruleset test_rs = {
    .abi_version = HL_ABI_VERSION,
    .rules = rules,
    .nrules = 2,
    .steps = steps,
    .nsteps = 2,
    .backends = backends,
    .nbackends = 2,
    .fields = fields,
    .nfields = 5,
};

static struct fake hook;
static char token_file[64], header_file[64], crlf_file[64];

static int each_setup(void **state) {
  (void)state;
  fake_reset(&hook);
  char u[128];
  snprintf(u, sizeof u, "%s/base/", hook.url);
  setenv("TEST_HOOK_URL", u, 1);
  char err[1024];
  if (backend_load_all(&test_rs, false, err, sizeof err) != 0)
    fail_msg("backends: %s", err);
  return 0;
}

/* A remediation of alert fp (its tag, the Idempotency-Key, is that alert
 * occurrence's: two remediations of one alert are one to the receiver). */
static struct remediation *make_rem_of(const char *fp, uint32_t rule, uint64_t id,
                                       const char *target, struct rem_param *params,
                                       uint32_t n) {
  struct alert a = {.status = HL_STATUS_FIRING,
                    .alertname = "DiskFull",
                    .fingerprint = fp,
                    .starts_at = T0};
  struct rem_step st = {HL_ACT_WEBHOOK, rule, target, n, params, 0};
  struct rem_draft d = {.rule = rule,
                        .rule_name = rules[rule].name,
                        .alert = &a,
                        .nsteps = 1,
                        .steps = &st};
  struct remediation *r = rem_new(&d, id, REM_RUNNING, NULL, rtime_now_ms());
  assert_non_null(r);
  return r;
}

static struct remediation *make_rem(uint32_t rule, uint64_t id, const char *target,
                                    struct rem_param *params, uint32_t n) {
  return make_rem_of("738e04ac61a520a1", rule, id, target, params, n);
}

struct outcome {
  enum action_status st;
  unsigned starts;
  char reason[REM_REASON_MAX];
};

static void sleep_until(int64_t at) {
  int64_t left = at - rtime_now_ms();
  if (left > 0)
    fake_sleep_ms((long)left);
}

/* A worker's handling of a step that never pends: start, and on
 * ACTION_RETRY wait the backoff (at least next_poll_ms) and start again. */
static struct outcome drive(struct remediation *r, uint32_t retries,
                            int64_t backoff_ms) {
  const struct action_ops *ops = action_ops_for(HL_ACT_WEBHOOK);
  assert_non_null(ops);
  struct outcome o = {ACTION_FAILED, 0, ""};
  struct action_run run = {.rs = &test_rs, .rem = r, .step = &r->steps[0],
                           .deadline_ms = rtime_now_ms() + 20000};
  for (;;) {
    run.next_poll_ms = 0;
    o.st = ops->start(&run);
    o.starts++;
    assert_int_not_equal(o.st, ACTION_PENDING);
    if (o.st != ACTION_RETRY || run.attempt >= retries)
      break;
    int64_t at = rtime_now_ms() + httpc_backoff_ms(run.attempt, backoff_ms, 30000);
    if (run.next_poll_ms > at)
      at = run.next_poll_ms;
    sleep_until(at);
    run.attempt++;
  }
  snprintf(o.reason, sizeof o.reason, "%s", run.reason);
  if (ops->release)
    ops->release(&run);
  return o;
}

static int ndeliveries(void) {
  cJSON *s = fake_json(&hook, "/_fake/state");
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(s, "deliveries"));
  cJSON_Delete(s);
  return n;
}

/* ---- pure ---------------------------------------------------------------- */

static void test_pure(void **state) {
  (void)state;
  struct rem_param p[] = {{"node", NASTY}, {"empty", ""}, {"method", "PUT"}};
  struct rem_step st = {HL_ACT_WEBHOOK, HL_NONE, "/x/{node}/y z{nope", 3, p, 0};
  struct buf b;
  buf_init(&b);
  char err[256];
  assert_int_equal(act_webhook_path(&st, &b, err, sizeof err), 0);
  assert_string_equal(b.data,
                      "/x/a%2Fb%3Fc%23d%25e%20%22f%22%0Ag/y%20z%7Bnope");
  buf_reset(&b);
  st.target = "/{missing}";
  assert_int_equal(act_webhook_path(&st, &b, err, sizeof err), -1);
  assert_string_equal(err, "no parameter 'missing' for {missing} in the path");
  st.target = "/{method}"; /* not a body/path parameter */
  assert_int_equal(act_webhook_path(&st, &b, err, sizeof err), -1);
  st.target = "/{empty}";
  assert_int_equal(act_webhook_path(&st, &b, err, sizeof err), -1);
  assert_non_null(strstr(err, "is empty"));
  st.target = "/a#b?q=1&r={node}";
  buf_reset(&b);
  assert_int_equal(act_webhook_path(&st, &b, err, sizeof err), 0);
  assert_string_equal(b.data, "/a%23b?q=1&r=a%2Fb%3Fc%23d%25e%20%22f%22%0Ag");
  buf_free(&b);

  assert_true(act_webhook_header_ok("X-Api-Key: v"));
  assert_true(act_webhook_header_ok("X-Api-Key:v"));
  assert_false(act_webhook_header_ok("X-Api-Key: v\r\nX-Evil: 1"));
  assert_false(act_webhook_header_ok("X-Api-Key: v\n"));
  assert_false(act_webhook_header_ok("no colon"));
  assert_false(act_webhook_header_ok(": v"));
  assert_false(act_webhook_header_ok("Bad Name: v"));
  assert_false(act_webhook_header_ok(NULL));

  /* Bodies. */
  struct remediation *r = make_rem(0, 1, "/h", p, 3);
  struct action_run run = {.rs = &test_rs, .rem = r, .step = &r->steps[0]};
  char *body = act_webhook_body(&run, err, sizeof err);
  assert_non_null(body);
  cJSON *o = cJSON_Parse(body);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "node")->valuestring, NASTY);
  assert_string_equal(cJSON_GetObjectItem(o, "alertname")->valuestring,
                      "DiskFull");
  assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "firing");
  assert_string_equal(cJSON_GetObjectItem(o, "rule")->valuestring, "wh");
  char tag[BACKEND_TAG_MAX];
  assert_string_equal(cJSON_GetObjectItem(o, "remediation_id")->valuestring,
                      backend_rem_tag(r, tag));
  assert_null(cJSON_GetObjectItem(o, "method"));
  cJSON_Delete(o);
  free(body);
  rem_unref(r);

  struct rem_param t[] = {
      {"node", NASTY},
      {"body", "{\"text\": {{node}}, \"fp\": {{fingerprint}}, \"n\": 1}"}};
  r = make_rem(0, 2, "/h", t, 2);
  run.rem = r;
  run.step = &r->steps[0];
  body = act_webhook_body(&run, err, sizeof err);
  assert_non_null(body);
  o = cJSON_Parse(body);
  assert_non_null(o);
  assert_string_equal(cJSON_GetObjectItem(o, "text")->valuestring, NASTY);
  assert_string_equal(cJSON_GetObjectItem(o, "fp")->valuestring,
                      "738e04ac61a520a1");
  assert_int_equal(cJSON_GetObjectItem(o, "n")->valueint, 1);
  cJSON_Delete(o);
  free(body);
  rem_unref(r);

  /* Quoted placeholders, unknown names: refused. */
  struct rem_param q[] = {{"node", "x"}, {"body", "{\"text\": \"{{node}}\"}"}};
  r = make_rem(0, 3, "/h", q, 2);
  run.rem = r;
  run.step = &r->steps[0];
  assert_null(act_webhook_body(&run, err, sizeof err));
  assert_non_null(strstr(err, "not JSON once filled in"));
  rem_unref(r);
  struct rem_param u[] = {{"body", "{\"text\": {{nope}}}"}};
  r = make_rem(0, 4, "/h", u, 1);
  run.rem = r;
  run.step = &r->steps[0];
  assert_null(act_webhook_body(&run, err, sizeof err));
  assert_string_equal(err, "no parameter 'nope' for {{nope}} in the body");
  rem_unref(r);
}

/* ---- live ---------------------------------------------------------------- */

static void test_2xx(void **state) {
  (void)state;
  struct rem_param p[] = {{"node", "n1"}, {"reason", "disk 95%"}};
  struct remediation *r = make_rem(0, 10, "/hooks/{node}/run", p, 2);
  struct outcome o = drive(r, 0, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  assert_string_equal(o.reason, "webhook POST '/hooks/{node}/run': HTTP 200");
  cJSON *s = fake_json(&hook, "/_fake/state");
  const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "deliveries"), 0);
  assert_string_equal(cJSON_GetObjectItem(d, "method")->valuestring, "POST");
  assert_string_equal(cJSON_GetObjectItem(d, "path")->valuestring,
                      "/base/hooks/n1/run");
  const cJSON *h = cJSON_GetObjectItem(d, "headers");
  assert_string_equal(cJSON_GetObjectItem(h, "authorization")->valuestring,
                      "Bearer " TOKEN);
  assert_string_equal(cJSON_GetObjectItem(h, "x-api-key")->valuestring,
                      HDR_VALUE);
  assert_string_equal(cJSON_GetObjectItem(h, "content-type")->valuestring,
                      "application/json");
  char tag[BACKEND_TAG_MAX], key[64];
  snprintf(key, sizeof key, "%s-s1", backend_rem_tag(r, tag));
  assert_string_equal(cJSON_GetObjectItem(d, "idempotency_key")->valuestring,
                      key);
  const cJSON *j = cJSON_GetObjectItem(d, "json");
  assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring,
                      "disk 95%");
  assert_string_equal(cJSON_GetObjectItem(j, "fingerprint")->valuestring,
                      "738e04ac61a520a1");
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_503_then_200(void **state) {
  (void)state;
  fake_script(&hook, "{\"faults\":[{\"status\":503,\"retry_after\":1,"
                     "\"method\":\"POST\"}]}");
  struct rem_param p[] = {{"node", "n1"}};
  struct remediation *r = make_rem(0, 11, "/hooks/{node}/run", p, 1);
  struct outcome o = drive(r, 2, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  cJSON *reqs = fake_json(&hook, "/_fake/requests?method=POST");
  assert_int_equal(cJSON_GetArraySize(reqs), 2);
  const cJSON *a = cJSON_GetArrayItem(reqs, 0), *b = cJSON_GetArrayItem(reqs, 1);
  const char *ka = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "headers"),
                                       "idempotency-key")->valuestring;
  const char *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "headers"),
                                       "idempotency-key")->valuestring;
  assert_string_equal(ka, kb);
  /* Retry-After: 1 was honoured (the backoff alone is 25-50 ms). */
  double gap = cJSON_GetObjectItem(b, "time")->valuedouble -
               cJSON_GetObjectItem(a, "time")->valuedouble;
  assert_true(gap >= 0.9);
  cJSON_Delete(reqs);
  assert_int_equal(ndeliveries(), 1);
  rem_unref(r);

  /* Delivered, the answer lost: the resend is a replay, not a delivery. */
  fake_reset(&hook);
  fake_script(&hook, "{\"faults\":[{\"kind\":\"drop\",\"phase\":\"after\","
                     "\"method\":\"POST\",\"count\":1}]}");
  r = make_rem(0, 12, "/hooks/{node}/run", p, 1);
  o = drive(r, 2, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  assert_int_equal(o.starts, 2);
  cJSON *s = fake_json(&hook, "/_fake/state");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "deliveries")), 1);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "replays")), 1);
  cJSON_Delete(s);
  rem_unref(r);
}

static void test_400_permanent(void **state) {
  (void)state;
  fake_script(&hook, "{\"routes\":[{\"path\":\"/base/hooks/bad/run\","
                     "\"status\":400,\"body\":{\"error\":\"field x is "
                     "required\"}}]}");
  struct rem_param p[] = {{"node", "bad"}};
  struct remediation *r = make_rem(0, 13, "/hooks/{node}/run", p, 1);
  struct outcome o = drive(r, 3, 50);
  assert_int_equal(o.st, ACTION_FAILED);
  assert_int_equal(o.starts, 1);
  assert_string_equal(o.reason, "webhook POST '/hooks/{node}/run': call: "
                                "HTTP 400: field x is required");
  rem_unref(r);
}

static void test_escaping(void **state) {
  (void)state;
  struct rem_param p[] = {{"node", NASTY}};
  struct remediation *r = make_rem(0, 14, "/hooks/{node}/run", p, 1);
  struct outcome o = drive(r, 0, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  rem_unref(r);
  struct rem_param t[] = {{"node", NASTY},
                          {"body", "{\"text\": {{node}}}"},
                          {"method", "put"}};
  r = make_rem_of("738e04ac61a520a2", 0, 15, "/hooks/{node}/run", t, 3);   /* another alert */
  o = drive(r, 0, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  rem_unref(r);
  cJSON *s = fake_json(&hook, "/_fake/state");
  const cJSON *ds = cJSON_GetObjectItem(s, "deliveries");
  assert_int_equal(cJSON_GetArraySize(ds), 2);
  for (int i = 0; i < 2; i++) {
    const cJSON *d = cJSON_GetArrayItem(ds, i);
    assert_string_equal(cJSON_GetObjectItem(d, "path")->valuestring,
                        "/base/hooks/a%2Fb%3Fc%23d%25e%20%22f%22%0Ag/run");
    assert_string_equal(cJSON_GetObjectItem(d, "query")->valuestring, "");
    const cJSON *j = cJSON_GetObjectItem(d, "json");
    assert_string_equal(
        cJSON_GetObjectItem(j, i ? "text" : "node")->valuestring, NASTY);
  }
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(ds, 1), "method")->valuestring,
      "PUT");
  cJSON_Delete(s);
}

static void test_methods(void **state) {
  (void)state;
  struct rem_param g[] = {{"node", "n1"}, {"method", "GET"}};
  struct remediation *r = make_rem(0, 16, "/hooks/{node}/run", g, 2);
  struct outcome o = drive(r, 0, 50);
  assert_int_equal(o.st, ACTION_SUCCEEDED);
  rem_unref(r);
  cJSON *reqs = fake_json(&hook, "/_fake/requests?method=GET");
  assert_int_equal(cJSON_GetArraySize(reqs), 1);
  assert_int_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(reqs, 0), "body_bytes")->valueint,
      0);
  cJSON_Delete(reqs);
  struct rem_param bad[] = {{"node", "n1"}, {"method", "TRACE"}};
  r = make_rem(0, 17, "/hooks/{node}/run", bad, 2);
  o = drive(r, 2, 50);
  assert_int_equal(o.st, ACTION_FAILED);
  assert_int_equal(o.starts, 1);
  assert_non_null(strstr(o.reason, "method 'TRACE' is not one of"));
  rem_unref(r);
}

static void test_secrets(void **state) {
  (void)state;
  /* A receiver that echoes what it was sent. */
  fake_script(&hook, "{\"routes\":[{\"status\":403,\"body\":\"key " HDR_VALUE
                     " and Bearer " TOKEN " refused\",\"content_type\":"
                     "\"text/plain\"}]}");
  struct rem_param p[] = {{"node", "n1"}};
  struct remediation *r = make_rem(0, 18, "/hooks/{node}/run", p, 1);
  struct outcome o = drive(r, 2, 50);
  assert_int_equal(o.st, ACTION_FAILED);
  assert_non_null(strstr(o.reason, "HTTP 403"));
  assert_non_null(strstr(o.reason, "refused"));
  assert_null(strstr(o.reason, HDR_VALUE));
  assert_null(strstr(o.reason, TOKEN));
  rem_unref(r);

  /* A header line with CR/LF is refused before anything is sent, and its
   * value is not shown. */
  int before = fake_count(&hook, "");
  r = make_rem(1, 19, "/hooks/{node}/run", p, 1);
  o = drive(r, 2, 50);
  assert_int_equal(o.st, ACTION_FAILED);
  assert_non_null(strstr(o.reason, "must be one 'Name: value' line"));
  assert_null(strstr(o.reason, "evil"));
  assert_int_equal(fake_count(&hook, ""), before);
  rem_unref(r);
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  httpc_global_init();
  fake_write_file(token_file, sizeof token_file, TOKEN "\n");
  fake_write_file(header_file, sizeof header_file, "X-Api-Key: " HDR_VALUE "\n");
  fake_write_file(crlf_file, sizeof crlf_file,
                  "X-Api-Key: evil\r\nX-Injected: 1\n");
  fields[1].value = token_file;
  fields[2].value = header_file;
  fields[4].value = crlf_file;
  const struct CMUnitTest pure[] = {cmocka_unit_test(test_pure)};
  const struct CMUnitTest live[] = {
      cmocka_unit_test_setup(test_2xx, each_setup),
      cmocka_unit_test_setup(test_503_then_200, each_setup),
      cmocka_unit_test_setup(test_400_permanent, each_setup),
      cmocka_unit_test_setup(test_escaping, each_setup),
      cmocka_unit_test_setup(test_methods, each_setup),
      cmocka_unit_test_setup(test_secrets, each_setup),
  };
  int rc = cmocka_run_group_tests_name("webhook", pure, NULL, NULL);
  const char *args[] = {"--token", TOKEN, "--require-header",
                        "X-Api-Key: " HDR_VALUE, NULL};
  fake_start(&hook, "webhook", args);
  rc += cmocka_run_group_tests_name("webhook_live", live, NULL, NULL);
  fake_stop(&hook);
  backend_free_all();
  unlink(token_file);
  unlink(header_file);
  unlink(crlf_file);
  httpc_global_cleanup();
  return rc;
}
