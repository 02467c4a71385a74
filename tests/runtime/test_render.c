/*
 * test_render.c - the postfix evaluator: literals, labels, annotations,
 * fields, interpolation, defaults (??), every function, absent values and
 * the "missing label" reason, code checks, and decompiling to source.
 */
#include "helpers.h"

#include <stdio.h>

#include "abi.h"
#include "render.h"

static struct bump arena;
static struct payload pl;

static int setup(void **state) {
  (void)state;
  bump_init(&arena, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  bump_free(&arena);
  return 0;
}

static const struct alert *alert_of(const char *json) {
  bump_reset(&arena);
  decode_ok(json, &arena, &pl);
  return &pl.alerts[0];
}

#define LIT(s) {HL_OP_LIT, 0, s}
#define LAB(s) {HL_OP_LABEL, 0, s}
#define ANN(s) {HL_OP_ANNOTATION, 0, s}
#define FLD(f) {HL_OP_FIELD, HL_FIELD_##f, NULL}
#define CALL(f) {HL_OP_CALL, HL_FN_##f, NULL}
#define CAT(n) {HL_OP_CONCAT, n, NULL}
#define DEF {HL_OP_DEFAULT, 0, NULL}

/* Runs code on a and returns the status; *out and *missing filled. */
static enum render_status run(const struct hl_insn *code, uint32_t n,
                              const struct alert *a, const char **out,
                              struct render_missing *m) {
  struct hl_ruleset rs = {0};
  rs.abi_version = HL_ABI_VERSION;
  rs.insns = code;
  rs.ninsns = n;
  char err[128];
  struct hl_expr e = {0, n};
  if (render_check(&rs, e, err, sizeof err) != 0) fail_msg("render_check: %s", err);
  return render_expr(&rs, e, a, &arena, out, m);
}

#define RUN(code, a, out, m) run(code, sizeof code / sizeof code[0], a, out, m)

static const char *sample =
    ENVELOPE(ALERT_FULL("firing",
                        "\"alertname\":\"NodeDiskPressure\",\"instance\":\"node1:9100\","
                        "\"v6\":\"[2001:db8::1]:9100\",\"bare6\":\"2001:db8::1\","
                        "\"odd\":\"a \\\"q\\\" & b=c %/ \\u00fc\\n\",\"env\":\"Prod\"",
                        "\"summary\":\"disk full\"", "738e04ac61a520a1", T0));

static void test_literals_labels_fields(void **state) {
  (void)state;
  const struct alert *a = alert_of(sample);
  const char *out;
  struct render_missing m;
  static const struct hl_insn lit[] = {LIT("aggressive")};
  assert_int_equal(RUN(lit, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "aggressive");
  static const struct hl_insn lab[] = {LAB("odd")};
  assert_int_equal(RUN(lab, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "a \"q\" & b=c %/ \xc3\xbc\n");
  static const struct hl_insn ann[] = {ANN("summary")};
  assert_int_equal(RUN(ann, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "disk full");
  static const struct hl_insn fields[] = {FLD(FINGERPRINT), LIT("|"), FLD(STARTS_AT), LIT("|"),
                                          FLD(ENDS_AT), LIT("|"), FLD(GENERATOR_URL), LIT("|"),
                                          FLD(STATUS), LIT("|"), FLD(ALERTNAME), CAT(11)};
  assert_int_equal(RUN(fields, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "738e04ac61a520a1|" T0 "|0001-01-01T00:00:00Z|http://prom/graph|"
                           "firing|NodeDiskPressure");
}

static void test_interpolation(void **state) {
  (void)state;
  const struct alert *a = alert_of(sample);
  const char *out;
  struct render_missing m;
  /* "${alertname} on ${instance}" */
  static const struct hl_insn code[] = {LAB("alertname"), LIT(" on "), LAB("instance"), CAT(3)};
  assert_int_equal(RUN(code, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "NodeDiskPressure on node1:9100");
  /* An absent part makes the whole string absent. */
  static const struct hl_insn absent[] = {LIT("c="), LAB("cluster"), CAT(2)};
  assert_int_equal(RUN(absent, a, &out, &m), RENDER_ABSENT);
  assert_string_equal(m.kind, "label");
  assert_string_equal(m.name, "cluster");
  static const struct hl_insn empty[] = {CAT(0)};
  assert_int_equal(RUN(empty, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "");
}

static void test_defaults(void **state) {
  (void)state;
  const struct alert *a = alert_of(sample);
  const char *out;
  struct render_missing m;
  static const struct hl_insn present[] = {LAB("env"), LIT("dev"), DEF};
  assert_int_equal(RUN(present, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "Prod");
  static const struct hl_insn absent[] = {LAB("cluster"), LIT("unknown"), DEF};
  assert_int_equal(RUN(absent, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "unknown");
  /* $a ?? $b ?? "z": the first present one. */
  static const struct hl_insn chain[] = {LAB("cluster"), LAB("region"), DEF, LAB("env"), DEF};
  assert_int_equal(RUN(chain, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "Prod");
  /* All absent: the first absent label is the one reported. */
  static const struct hl_insn none[] = {LAB("cluster"), ANN("region"), DEF};
  assert_int_equal(RUN(none, a, &out, &m), RENDER_ABSENT);
  assert_string_equal(m.name, "cluster");
  static const struct hl_insn ann_first[] = {ANN("runbook"), LAB("x"), DEF};
  assert_int_equal(RUN(ann_first, a, &out, &m), RENDER_ABSENT);
  assert_string_equal(m.kind, "annotation");
  assert_string_equal(m.name, "runbook");
  /* An empty value is present, not absent. */
  const struct alert *e = alert_of(ENVELOPE(ALERT("firing", "\"alertname\":\"X\",\"cluster\":\"\"", "f", T0)));
  assert_int_equal(RUN(absent, e, &out, &m), RENDER_OK);
  assert_string_equal(out, "");
  /* A default applied to a function of an absent value. */
  static const struct hl_insn fn_default[] = {LAB("cluster"), CALL(UPPER), LIT("none"), DEF};
  assert_int_equal(RUN(fn_default, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "none");
}

static void test_host(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"node1:9100", "node1"},  {"node1", "node1"},     {"[::1]:9100", "::1"},
      {"[2001:db8::1]:9100", "2001:db8::1"}, {"[::1]", "::1"}, {"2001:db8::1", "2001:db8::1"},
      {"10.0.0.1:9100", "10.0.0.1"}, {"node1:", "node1"}, {"", ""},
      {"http://x", "http://x"}, {"a:b", "a:b"}, {"[broken", "[broken"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *got = render_host(&arena, cases[i].in);
    if (strcmp(got, cases[i].out) != 0)
      fail_msg("host(%s) = %s, expected %s", cases[i].in, got, cases[i].out);
  }
  const struct alert *a = alert_of(sample);
  const char *out;
  struct render_missing m;
  static const struct hl_insn code[] = {LAB("v6"), CALL(HOST)};
  assert_int_equal(RUN(code, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "2001:db8::1");
  static const struct hl_insn absent[] = {LAB("nope"), CALL(HOST)};
  assert_int_equal(RUN(absent, a, &out, &m), RENDER_ABSENT);
  assert_string_equal(m.name, "nope");
}

static void test_string_functions(void **state) {
  (void)state;
  const struct alert *a = alert_of(sample);
  const char *out;
  struct render_missing m;
  static const struct hl_insn lower[] = {LIT("MiXeD \xc3\x9c 1"), CALL(LOWER)};
  assert_int_equal(RUN(lower, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "mixed \xc3\x9c 1");   /* ASCII only */
  static const struct hl_insn upper[] = {LAB("env"), CALL(UPPER)};
  assert_int_equal(RUN(upper, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "PROD");
  static const struct hl_insn tp[] = {LAB("instance"), LIT("node"), CALL(TRIM_PREFIX)};
  assert_int_equal(RUN(tp, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "1:9100");
  static const struct hl_insn tp_no[] = {LAB("instance"), LIT("web"), CALL(TRIM_PREFIX)};
  assert_int_equal(RUN(tp_no, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "node1:9100");
  static const struct hl_insn ts[] = {LAB("instance"), LIT(":9100"), CALL(TRIM_SUFFIX)};
  assert_int_equal(RUN(ts, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "node1");
  static const struct hl_insn ts_long[] = {LIT("ab"), LIT("xab"), CALL(TRIM_SUFFIX)};
  assert_int_equal(RUN(ts_long, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "ab");
  static const struct hl_insn rep[] = {LIT("a-b-c"), LIT("-"), LIT("--"), CALL(REPLACE)};
  assert_int_equal(RUN(rep, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "a--b--c");
  static const struct hl_insn rep_shrink[] = {LIT("aaaa"), LIT("aa"), LIT("b"), CALL(REPLACE)};
  assert_int_equal(RUN(rep_shrink, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "bb");
  static const struct hl_insn rep_empty[] = {LIT("abc"), LIT(""), LIT("x"), CALL(REPLACE)};
  assert_int_equal(RUN(rep_empty, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "abc");
  static const struct hl_insn rep_absent[] = {LIT("abc"), LAB("nope"), LIT("x"), CALL(REPLACE)};
  assert_int_equal(RUN(rep_absent, a, &out, &m), RENDER_ABSENT);
  /* Nested: lower(replace(host($instance), "node", "N")) */
  static const struct hl_insn nested[] = {LAB("instance"), CALL(HOST), LIT("node"), LIT("N"),
                                          CALL(REPLACE), CALL(LOWER)};
  assert_int_equal(RUN(nested, a, &out, &m), RENDER_OK);
  assert_string_equal(out, "n1");
}

static void test_check_rejects_bad_code(void **state) {
  (void)state;
  struct hl_ruleset rs = {0};
  char err[128];
  static const struct hl_insn underflow[] = {LIT("a"), DEF};
  static const struct hl_insn two_left[] = {LIT("a"), LIT("b")};
  static const struct hl_insn bad_fn[] = {LIT("a"), {HL_OP_CALL, 200, NULL}};
  static const struct hl_insn bad_field[] = {{HL_OP_FIELD, 77, NULL}};
  static const struct hl_insn bad_op[] = {{99, 0, "x"}};
  static const struct hl_insn null_lit[] = {{HL_OP_LIT, 0, NULL}};
  static const struct hl_insn concat_under[] = {LIT("a"), CAT(2)};
  const struct {
    const struct hl_insn *code;
    uint32_t n;
  } cases[] = {{underflow, 2}, {two_left, 2}, {bad_fn, 2}, {bad_field, 1},
               {bad_op, 1},    {null_lit, 1}, {concat_under, 2}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rs.insns = cases[i].code;
    rs.ninsns = cases[i].n;
    if (render_check(&rs, (struct hl_expr){0, cases[i].n}, err, sizeof err) == 0)
      fail_msg("case %zu accepted", i);
  }
  rs.ninsns = 1;
  assert_int_equal(render_check(&rs, (struct hl_expr){0, 2}, err, sizeof err), -1);
  assert_non_null(strstr(err, "outside"));
  /* 300 values on the stack: deeper than RENDER_STACK */
  static struct hl_insn deep[301];
  for (int i = 0; i < 300; i++) deep[i] = (struct hl_insn)LIT("x");
  deep[300] = (struct hl_insn)CAT(255);
  rs.insns = deep;
  rs.ninsns = 301;
  assert_int_equal(render_check(&rs, (struct hl_expr){0, 301}, err, sizeof err), -1);
  assert_non_null(strstr(err, "deeper"));
}

static void test_source(void **state) {
  (void)state;
  static const struct hl_insn code[] = {
      LAB("instance"), CALL(HOST), LIT("x"), DEF,                      /* 0..3 */
      LAB("alertname"), LIT(" on \"${c}\"\n"), ANN("s"), FLD(STARTS_AT), CAT(4), /* 4..8 */
      LAB("labels"), LAB("my-label"), LIT("a"), LIT("b"), CALL(REPLACE), DEF,  /* 9..14 */
  };
  struct hl_ruleset rs = {0};
  rs.insns = code;
  rs.ninsns = sizeof code / sizeof code[0];
  struct buf b;
  buf_init(&b);
  render_source(&rs, (struct hl_expr){0, 4}, &b);
  assert_string_equal(b.data, "host($instance) ?? \"x\"");
  buf_reset(&b);
  render_source(&rs, (struct hl_expr){4, 5}, &b);
  assert_string_equal(b.data, "\"${alertname} on \\\"\\${c}\\\"\\n${annotations.s}${alert.startsAt}\"");
  buf_reset(&b);
  render_source(&rs, (struct hl_expr){9, 6}, &b);
  assert_string_equal(b.data, "$labels.labels ?? replace($labels.my-label, \"a\", \"b\")");
  buf_reset(&b);
  render_source(&rs, (struct hl_expr){0, 0}, &b);
  assert_int_equal(b.len, 0);
  buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_literals_labels_fields),
      cmocka_unit_test(test_interpolation),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_host),
      cmocka_unit_test(test_string_functions),
      cmocka_unit_test(test_check_rejects_bad_code),
      cmocka_unit_test(test_source),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
