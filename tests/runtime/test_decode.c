/*
 * test_decode.c - the webhook decoder: every shape it accepts and every one
 * it rejects, with the message that names the problem.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

#include "abi.h"

static struct bump arena;

static int setup(void **state) {
  (void)state;
  decode_init();
  bump_init(&arena, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  bump_free(&arena);
  return 0;
}

static void reset(void) { bump_reset(&arena); }

/* The captured Alertmanager 0.25 example of api-contracts.md §1.2. */
static const char *am_example =
    "{\n"
    "  \"receiver\": \"healer\",\n"
    "  \"status\": \"firing\",\n"
    "  \"alerts\": [\n"
    "    {\n"
    "      \"status\": \"firing\",\n"
    "      \"labels\": {\"alertname\": \"DiskFull\", \"disk\": \"sda\", \"instance\": "
    "\"node1:9100\", \"severity\": \"critical\"},\n"
    "      \"annotations\": {\"runbook\": \"restart\", \"summary\": \"disk sda full\"},\n"
    "      \"startsAt\": \"2026-11-27T12:10:15.696335593Z\",\n"
    "      \"endsAt\": \"0001-01-01T00:00:00Z\",\n"
    "      \"generatorURL\": \"http://prom.example/graph?g0.expr=x\",\n"
    "      \"fingerprint\": \"738e04ac61a520a1\"\n"
    "    },\n"
    "    {\n"
    "      \"status\": \"resolved\",\n"
    "      \"labels\": {\"alertname\": \"DiskFull\", \"disk\": \"sdb\", \"instance\": "
    "\"node1:9100\", \"severity\": \"critical\"},\n"
    "      \"annotations\": {\"runbook\": \"restart\", \"summary\": \"disk sdb full\"},\n"
    "      \"startsAt\": \"2026-11-27T12:10:15.696335593Z\",\n"
    "      \"endsAt\": \"2026-11-27T12:10:56Z\",\n"
    "      \"generatorURL\": \"\",\n"
    "      \"fingerprint\": \"d8e3d1161cf474ee\"\n"
    "    }\n"
    "  ],\n"
    "  \"groupLabels\": {\"alertname\": \"DiskFull\", \"instance\": \"node1:9100\"},\n"
    "  \"commonLabels\": {\"alertname\": \"DiskFull\", \"instance\": \"node1:9100\", "
    "\"severity\": \"critical\"},\n"
    "  \"commonAnnotations\": {\"runbook\": \"restart\"},\n"
    "  \"externalURL\": \"http://vm:19093\",\n"
    "  \"version\": \"4\",\n"
    "  \"groupKey\": \"{}:{alertname=\\\"DiskFull\\\", instance=\\\"node1:9100\\\"}\",\n"
    "  \"truncatedAlerts\": 1\n"
    "}\n";

static void test_alertmanager_example(void **state) {
  (void)state;
  struct payload p;
  decode_ok(am_example, &arena, &p);
  assert_int_equal(p.nalerts, 2);
  assert_string_equal(p.receiver, "healer");
  assert_string_equal(p.group_key, "{}:{alertname=\"DiskFull\", instance=\"node1:9100\"}");
  const struct alert *a = &p.alerts[0];
  assert_int_equal(a->status, HL_STATUS_FIRING);
  assert_string_equal(a->alertname, "DiskFull");
  assert_string_equal(a->fingerprint, "738e04ac61a520a1");
  assert_string_equal(a->starts_at, "2026-11-27T12:10:15.696335593Z");
  assert_string_equal(a->ends_at, "0001-01-01T00:00:00Z");
  assert_string_equal(a->generator_url, "http://prom.example/graph?g0.expr=x");
  assert_int_equal(a->nlabels, 4);
  assert_string_equal(alert_label(a, "disk"), "sda");
  assert_string_equal(alert_annotation(a, "summary"), "disk sda full");
  assert_null(alert_label(a, "nope"));
  assert_int_equal(p.alerts[1].status, HL_STATUS_RESOLVED);
  assert_string_equal(p.alerts[1].ends_at, "2026-11-27T12:10:56Z");
  assert_string_equal(alert_label(&p.alerts[1], "disk"), "sdb");
  reset();
}

static void test_own_labels_never_common_labels(void **state) {
  (void)state;
  struct payload p;
  decode_ok(ENVELOPE(ALERT("firing", "\"alertname\":\"X\"", "f1", T0)), &arena, &p);
  assert_int_equal(p.nalerts, 1);
  /* commonLabels has team=common: the alert itself does not. */
  assert_null(alert_label(&p.alerts[0], "team"));
  reset();
}

static void test_optional_fields(void **state) {
  (void)state;
  struct payload p;
  decode_ok("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},"
            "\"startsAt\":\"" T0 "\",\"fingerprint\":\"f\"}]}",
            &arena, &p);
  const struct alert *a = &p.alerts[0];
  assert_string_equal(a->alertname, "");
  assert_string_equal(a->ends_at, "");
  assert_string_equal(a->generator_url, "");
  assert_int_equal(a->nannotations, 0);
  assert_string_equal(p.receiver, "");
  /* annotations: null is taken as none */
  decode_ok("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},"
            "\"annotations\":null,\"startsAt\":\"" T0 "\",\"fingerprint\":\"f\"}]}",
            &arena, &p);
  assert_int_equal(p.alerts[0].nannotations, 0);
  reset();
}

static void test_empty_alerts_and_unknown_keys(void **state) {
  (void)state;
  struct payload p;
  decode_ok("{\"version\":\"4\",\"alerts\":[],\"notification_reason\":\"x\","
            "\"extra\":{\"deep\":[1,2,{\"a\":null}]}}",
            &arena, &p);
  assert_int_equal(p.nalerts, 0);
  reset();
}

static void test_label_values_with_special_characters(void **state) {
  (void)state;
  struct payload p;
  decode_ok(ENVELOPE(ALERT("firing",
                           "\"alertname\":\"X\",\"q\":\"a \\\"quoted\\\" value\","
                           "\"nl\":\"line1\\nline2\",\"amp\":\"a&b=c%20d/e f\","
                           "\"utf\":\"gr\\u00fc\\u00dfe \xe2\x9c\x93 \xf0\x9f\x94\xa5\","
                           "\"bs\":\"back\\\\slash\",\"empty\":\"\"",
                           "f", T0)),
            &arena, &p);
  const struct alert *a = &p.alerts[0];
  assert_string_equal(alert_label(a, "q"), "a \"quoted\" value");
  assert_string_equal(alert_label(a, "nl"), "line1\nline2");
  assert_string_equal(alert_label(a, "amp"), "a&b=c%20d/e f");
  assert_string_equal(alert_label(a, "utf"), "gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93 \xf0\x9f\x94\xa5");
  assert_string_equal(alert_label(a, "bs"), "back\\slash");
  assert_string_equal(alert_label(a, "empty"), "");
  reset();
}

static void test_thousand_alerts(void **state) {
  (void)state;
  size_t cap = 1000 * 400 + 256, len = 0;
  char *body = malloc(cap);
  assert_non_null(body);
  len += (size_t)snprintf(body + len, cap - len, "{\"version\":\"4\",\"alerts\":[");
  for (int i = 0; i < 1000; i++)
    len += (size_t)snprintf(body + len, cap - len,
                            "%s{\"status\":\"firing\",\"labels\":{\"alertname\":\"A%d\","
                            "\"instance\":\"node%d:9100\"},\"annotations\":{},"
                            "\"startsAt\":\"" T0 "\",\"fingerprint\":\"%016x\"}",
                            i ? "," : "", i, i, i);
  len += (size_t)snprintf(body + len, cap - len, "]}");
  struct payload p;
  char err[DECODE_ERR_MAX];
  assert_int_equal(decode_payload(body, len, &arena, &p, err), 0);
  assert_int_equal(p.nalerts, 1000);
  assert_string_equal(p.alerts[999].alertname, "A999");
  assert_string_equal(alert_label(&p.alerts[500], "instance"), "node500:9100");
  free(body);
  reset();
}

/* Each bad payload, and a piece of the message it must produce. */
static const struct {
  const char *body;
  const char *error;
} bad[] = {
    {"", "empty body"},
    {" \n\t ", "empty body"},
    {"{", "malformed JSON near byte"},
    {"{\"version\":\"4\",\"alerts\":[]", "malformed JSON"},
    {"{\"version\":\"4\",\"alerts\":[]} trailing", "unexpected data after the object"},
    {"{\"version\":\"4\",\"alerts\":[]}{}", "unexpected data after the object"},
    {"nul\x01", "malformed JSON"},
    {"[]", "expected a JSON object"},
    {"\"4\"", "expected a JSON object"},
    {"null", "expected a JSON object"},
    {"{\"alerts\":[]}", "version: missing"},
    {"{\"version\":4,\"alerts\":[]}", "version: expected the string \"4\""},
    {"{\"version\":\"3\",\"alerts\":[]}", "version: unsupported version \"3\""},
    {"{\"version\":\"\",\"alerts\":[]}", "unsupported version"},
    {"{\"version\":\"4\"}", "alerts: missing"},
    {"{\"version\":\"4\",\"alerts\":{}}", "alerts: expected an array"},
    {"{\"version\":\"4\",\"alerts\":null}", "alerts: expected an array"},
    {"{\"version\":\"4\",\"alerts\":[1]}", "alerts[0]: expected an object"},
    {"{\"version\":\"4\",\"alerts\":[{\"labels\":{},\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].status: missing"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"pending\",\"labels\":{},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\"}]}",
     "alerts[0].status: expected \"firing\" or \"resolved\""},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":1,\"labels\":{}}]}",
     "alerts[0].status: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].labels: missing"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":[],\"startsAt\":\"t\","
     "\"fingerprint\":\"f\"}]}",
     "alerts[0].labels: expected an object of strings"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"env\":1},"
     "\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].labels.env: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"env\":null},"
     "\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].labels.env: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"env\":{\"a\":\"b\"}},"
     "\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].labels.env: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"env\":true},"
     "\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].labels.env: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"annotations\":"
     "{\"s\":[]},\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].annotations.s: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"annotations\":\"x\","
     "\"startsAt\":\"t\",\"fingerprint\":\"f\"}]}",
     "alerts[0].annotations: expected an object"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"fingerprint\":\"f\"}]}",
     "alerts[0].startsAt: missing"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":5,"
     "\"fingerprint\":\"f\"}]}",
     "alerts[0].startsAt: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"t\"}]}",
     "alerts[0].fingerprint: missing"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\",\"endsAt\":0}]}",
     "alerts[0].endsAt: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\",\"generatorURL\":[]}]}",
     "alerts[0].generatorURL: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\"},{\"status\":\"firing\",\"labels\":{\"a\":2},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\"}]}",
     "alerts[1].labels.a: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[\"\\ud800\"]}", "malformed JSON"},
};

static void test_bad_shapes(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct payload p;
    char err[DECODE_ERR_MAX] = "";
    int rc = decode_payload(bad[i].body, strlen(bad[i].body), &arena, &p, err);
    if (rc != -1 || !strstr(err, bad[i].error))
      fail_msg("case %zu (%s): rc %d, error '%s', expected '%s'", i, bad[i].body, rc, err,
               bad[i].error);
    reset();
  }
}

static void test_deep_nesting_is_rejected_not_crashing(void **state) {
  (void)state;
  size_t n = 5000;
  char *body = malloc(2 * n + 64);
  assert_non_null(body);
  size_t len = (size_t)sprintf(body, "{\"version\":\"4\",\"alerts\":[],\"x\":");
  for (size_t i = 0; i < n; i++) body[len++] = '[';
  for (size_t i = 0; i < n; i++) body[len++] = ']';
  body[len++] = '}';
  struct payload p;
  char err[DECODE_ERR_MAX];
  assert_int_equal(decode_payload(body, len, &arena, &p, err), -1);
  assert_non_null(strstr(err, "malformed JSON"));
  free(body);
  reset();
}

static void test_not_nul_terminated_input(void **state) {
  (void)state;
  /* The decoder must stop at len even without a NUL. */
  const char *json = "{\"version\":\"4\",\"alerts\":[]}XXXX";
  char *copy = malloc(27);
  assert_non_null(copy);
  memcpy(copy, json, 27);   /* exactly the object, no terminator */
  struct payload p;
  char err[DECODE_ERR_MAX];
  assert_int_equal(decode_payload(copy, 27, &arena, &p, err), 0);
  free(copy);
  reset();
}

static void test_truncated_inputs_never_crash(void **state) {
  (void)state;
  size_t n = strlen(am_example);
  for (size_t cut = 0; cut < n; cut++) {
    char *copy = malloc(cut + 1);
    assert_non_null(copy);
    memcpy(copy, am_example, cut);
    struct payload p;
    char err[DECODE_ERR_MAX];
    int rc = decode_payload(copy, cut, &arena, &p, err);
    /* Only the complete object (plus its trailing newline) decodes. */
    if (rc == 0) assert_true(cut >= n - 1);
    free(copy);
    reset();
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alertmanager_example),
      cmocka_unit_test(test_own_labels_never_common_labels),
      cmocka_unit_test(test_optional_fields),
      cmocka_unit_test(test_empty_alerts_and_unknown_keys),
      cmocka_unit_test(test_label_values_with_special_characters),
      cmocka_unit_test(test_thousand_alerts),
      cmocka_unit_test(test_bad_shapes),
      cmocka_unit_test(test_deep_nesting_is_rejected_not_crashing),
      cmocka_unit_test(test_not_nul_terminated_input),
      cmocka_unit_test(test_truncated_inputs_never_crash),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
