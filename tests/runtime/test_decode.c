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
    {"{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{},\"startsAt\":\"" T0 "\","
     "\"fingerprint\":\"f\"},{\"status\":\"firing\",\"labels\":{\"a\":2},\"startsAt\":\"t\","
     "\"fingerprint\":\"f\"}]}",
     "alerts[1].labels.a: expected a string"},
    {"{\"version\":\"4\",\"alerts\":[\"\\ud800\"]}", "malformed JSON"},
    /* NUL in a name, a value, a fingerprint, escaped or raw. */
    {ENVELOPE(ALERT("firing", "\"env\":\"dev\\u0000prod\"", "f", T0)),
     "alerts[0].labels.env: holds a NUL character"},
    {ENVELOPE(ALERT("firing", "\"e\\u0000nv\":\"dev\"", "f", T0)),
     "alerts[0].labels.e\\u0000nv: holds a NUL character"},
    {ENVELOPE(ALERT("firing", "\"env\":\"dev\"", "ab\\u0000cd", T0)),
     "alerts[0].fingerprint: holds a NUL character"},
    {ENVELOPE(ALERT("firing", "\"a\":\"b\"", "f", T0) "," ALERT_FULL("firing", "\"a\":\"b\"",
                                                                      "\"s\":\"x\\u0000\"", "f", T0)),
     "alerts[1].annotations.s: holds a NUL character"},
    /* Not UTF-8 (raw bytes, which cJSON passes through): refused, naming
     * the label; truncated, overlong and surrogate forms too. */
    {ENVELOPE(ALERT("firing", "\"instance\":\"x\xff\xfey\"", "f", T0)),
     "alerts[0].labels.instance: the value is not valid UTF-8 (at byte 1)"},
    {ENVELOPE(ALERT("firing", "\"env\":\"ok\",\"in\xc3\":\"v\"", "f", T0)),
     "alerts[0].labels: a name is not valid UTF-8 (at byte 2 of it)"},
    {ENVELOPE(ALERT("firing", "\"env\":\"\xc0\xaf\"", "f", T0)),
     "alerts[0].labels.env: the value is not valid UTF-8 (at byte 0)"},
    {ENVELOPE(ALERT("firing", "\"env\":\"\xed\xa0\x80\"", "f", T0)),
     "alerts[0].labels.env: the value is not valid UTF-8"},
    {ENVELOPE(ALERT("firing", "\"env\":\"\xe2\x9c\"", "f", T0)),
     "alerts[0].labels.env: the value is not valid UTF-8"},
    {ENVELOPE(ALERT_FULL("firing", "\"a\":\"b\"", "\"summary\":\"caf\xe9\"", "f", T0)),
     "alerts[0].annotations.summary: the value is not valid UTF-8 (at byte 3)"},
    {ENVELOPE(ALERT("firing", "\"a\":\"b\"", "f\x80", T0)),
     "alerts[0].fingerprint: not valid UTF-8 (at byte 1)"},
    /* startsAt: RFC 3339 or nothing. */
    {ENVELOPE(ALERT("firing", "", "f", "t")), "alerts[0].startsAt: expected an RFC 3339 time"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27 12:10:15Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T12:10:15")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-02-29T12:10:15Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-13-01T12:10:15Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T24:00:00Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T12:10:60Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T12:10:15.Z")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T12:10:15+0100")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "2026-11-27T12:10:15Z ")), "startsAt: expected an RFC 3339"},
    {ENVELOPE(ALERT("firing", "", "f", "")), "startsAt: expected an RFC 3339"},
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

/* A raw NUL byte inside a string is refused like "\u0000"; an escaped
 * backslash before "u0000" is no NUL at all. */
static void test_nul_bytes(void **state) {
  (void)state;
  static const char raw[] = ENVELOPE(ALERT("firing", "\"env\":\"dev\0prod\"", "f", T0));
  struct payload p;
  char err[DECODE_ERR_MAX] = "";
  assert_int_equal(decode_payload(raw, sizeof raw - 1, &arena, &p, err), -1);
  assert_non_null(strstr(err, "alerts[0].labels.env: holds a NUL character"));
  reset();
  decode_ok(ENVELOPE(ALERT("firing", "\"env\":\"dev\\\\u0000prod\"", "f", T0)), &arena, &p);
  assert_string_equal(alert_label(&p.alerts[0], "env"), "dev\\u0000prod");
  reset();
}

/* A repeated key keeps its last value, as Go's encoding/json does. */
static void test_duplicate_keys_keep_the_last(void **state) {
  (void)state;
  struct payload p;
  decode_ok("{\"version\":\"3\",\"alerts\":{},\"version\":\"4\",\"alerts\":[{\"status\":"
            "\"resolved\",\"labels\":{\"env\":\"dev\",\"x\":\"1\",\"env\":\"prod\"},"
            "\"status\":\"firing\",\"startsAt\":\"t\",\"startsAt\":\"" T0 "\","
            "\"fingerprint\":\"a\",\"fingerprint\":\"b\"}]}",
            &arena, &p);
  assert_int_equal(p.nalerts, 1);
  const struct alert *a = &p.alerts[0];
  assert_int_equal(a->status, HL_STATUS_FIRING);
  assert_int_equal(a->nlabels, 2);
  assert_string_equal(a->labels[0].name, "env");
  assert_string_equal(a->labels[0].value, "prod");
  assert_string_equal(alert_label(a, "env"), "prod");
  assert_string_equal(a->fingerprint, "b");
  assert_string_equal(a->starts_at, T0);
  reset();
}

/* Spellings of one instant are one startsAt. */
static void test_starts_at_is_normalised(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"},
      {"2026-11-27T10:00:00.000Z", "2026-11-27T10:00:00Z"},
      {"2026-11-27t10:00:00.000000000z", "2026-11-27T10:00:00Z"},
      {"2026-11-27T11:00:00+01:00", "2026-11-27T10:00:00Z"},
      {"2026-11-27T05:30:00-04:30", "2026-11-27T10:00:00Z"},
      {"2026-11-27T12:10:15.696335593Z", "2026-11-27T12:10:15.696335593Z"},
      {"2026-11-27T12:10:15.6963355930001Z", "2026-11-27T12:10:15.696335593Z"},
      {"2026-11-27T12:10:15.5000Z", "2026-11-27T12:10:15.5Z"},
      {"2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00Z"},
      {"2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00Z"},
      {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[DECODE_TIME_MAX];
    if (decode_rfc3339(cases[i].in, out) != 0 || strcmp(out, cases[i].out) != 0)
      fail_msg("%s: got '%s', want '%s'", cases[i].in, out, cases[i].out);
  }
  char out[DECODE_TIME_MAX];
  assert_int_equal(decode_rfc3339("0000-01-01T00:00:00+00:01", out), -1);
  assert_int_equal(decode_rfc3339("1900-02-29T00:00:00Z", out), -1);
  assert_int_equal(decode_rfc3339("2000-02-29T00:00:00Z", out), 0);
  struct payload p;
  decode_ok(ENVELOPE(ALERT("firing", "\"a\":\"b\"", "f", "2026-11-27T10:00:00.000+00:00")),
            &arena, &p);
  assert_string_equal(p.alerts[0].starts_at, "2026-11-27T10:00:00Z");
  reset();
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
      cmocka_unit_test(test_nul_bytes),
      cmocka_unit_test(test_duplicate_keys_keep_the_last),
      cmocka_unit_test(test_starts_at_is_normalised),
      cmocka_unit_test(test_deep_nesting_is_rejected_not_crashing),
      cmocka_unit_test(test_not_nul_terminated_input),
      cmocka_unit_test(test_truncated_inputs_never_crash),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
