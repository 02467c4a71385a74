/*
 * test_match.c - rule lookup, every matcher operator, statuses, windows
 * (with time zones), and the checks match_init() runs on the tables.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "match.h"
#include "rtime.h"

static struct rules rules;
static struct match_md *md;
static struct bump arena;

static int setup(void **state) {
  (void)state;
  char err[256];
  if (match_init(&rules, &hl_ruleset, err, sizeof err) != 0) {
    fprintf(stderr, "match_init: %s\n", err);
    return -1;
  }
  md = match_md_new();
  bump_init(&arena, 0);
  return md ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  match_md_free(md);
  match_free(&rules);
  bump_free(&arena);
  return 0;
}

static uint32_t rule_index(const char *name) {
  for (uint32_t i = 0; i < hl_ruleset.nrules; i++)
    if (strcmp(hl_ruleset.rules[i].name, name) == 0) return i;
  fail_msg("no rule %s in the fixture", name);
  return 0;
}

static const struct alert *one(const char *json) {
  static struct payload p;
  bump_reset(&arena);
  decode_ok(json, &arena, &p);
  assert_int_equal(p.nalerts, 1);
  return &p.alerts[0];
}

static int64_t at(int y, unsigned m, unsigned d, int h, int mi) {
  return (rtime_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static void test_lookup(void **state) {
  (void)state;
  const struct hl_index_entry *e = match_lookup(&rules, "Match");
  assert_non_null(e);
  assert_int_equal(e->count, 4);
  /* In source order. */
  assert_string_equal(hl_ruleset.rules[hl_ruleset.index_rules[e->first]].name, "eq_continue");
  assert_string_equal(hl_ruleset.rules[hl_ruleset.index_rules[e->first + 3]].name, "fallback");
  assert_null(match_lookup(&rules, "match"));     /* case-sensitive */
  assert_null(match_lookup(&rules, ""));
  assert_null(match_lookup(&rules, "Zzz"));
  assert_null(match_lookup(&rules, "AAA"));
  for (uint32_t i = 0; i < hl_ruleset.nindex; i++)
    assert_ptr_equal(match_lookup(&rules, hl_ruleset.index[i].alertname), &hl_ruleset.index[i]);
}

static void test_eq(void **state) {
  (void)state;
  uint32_t r = rule_index("eq_continue");
  int64_t now = at(2026, 11, 27, 12, 0);
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"env\":\"prod\"", "f", T0))), now, md, NULL),
                   MATCH_OK);
  uint32_t failed = 99;
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"env\":\"production\"", "f", T0))), now, md, &failed),
                   MATCH_MATCHER);
  assert_int_equal(failed, hl_ruleset.rules[r].first_matcher);
  /* Whole value, not a prefix; absent label is "" and does not equal "prod". */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"env\":\"pro\"", "f", T0))), now, md, NULL),
                   MATCH_MATCHER);
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\"", "f", T0))), now, md, NULL),
                   MATCH_MATCHER);
}

static void test_re_is_anchored(void **state) {
  (void)state;
  uint32_t r = rule_index("re_rule");   /* instance =~ node\d+:9100|\[[0-9a-f:]+\]:9100 */
  int64_t now = at(2026, 11, 27, 12, 0);
  const char *yes[] = {"node1:9100", "node42:9100", "[::1]:9100"};
  const char *no[] = {"xnode1:9100", "node1:91001", "node1:9100 ", "node:9100", "",
                      "node1:9100\\n", "[::1]:9100x"};
  char json[512];
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    snprintf(json, sizeof json, ENVELOPE(ALERT("firing", "\"alertname\":\"Match\",\"instance\":\"%s\"", "f", T0)), yes[i]);
    if (match_rule(&rules, r, one(json), now, md, NULL) != MATCH_OK) fail_msg("%s should match", yes[i]);
  }
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    snprintf(json, sizeof json, ENVELOPE(ALERT("firing", "\"alertname\":\"Match\",\"instance\":\"%s\"", "f", T0)), no[i]);
    if (match_rule(&rules, r, one(json), now, md, NULL) != MATCH_MATCHER) fail_msg("%s should not match", no[i]);
  }
  /* A trailing newline in the value is not swallowed by $ (DOLLAR_ENDONLY). */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"instance\":\"node1:9100\\n\"", "f", T0))), now, md, NULL),
                   MATCH_MATCHER);
  /* Absent label: "" does not match .+-like patterns. */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\"", "f", T0))), now, md, NULL),
                   MATCH_MATCHER);
}

static void test_ne_and_nre_on_annotation(void **state) {
  (void)state;
  uint32_t r = rule_index("ne_rule");   /* team != "db", annotation summary !~ ignore.* */
  int64_t now = at(2026, 11, 27, 12, 0);
  /* Absent team is "" which differs from "db"; absent summary does not match ignore.* */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing", "\"alertname\":\"Match\"", "f", T0))),
                              now, md, NULL), MATCH_OK);
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"team\":\"db\"", "f", T0))), now, md, NULL),
                   MATCH_MATCHER);
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"team\":\"dba\"", "f", T0))), now, md, NULL),
                   MATCH_OK);
  uint32_t failed = 0;
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT_FULL("firing",
                   "\"alertname\":\"Match\",\"team\":\"web\"", "\"summary\":\"ignore me\"", "f", T0))),
                   now, md, &failed), MATCH_MATCHER);
  assert_int_equal(failed, hl_ruleset.rules[r].first_matcher + 1);
  /* The regex must cover the whole value: "please ignore" does not match ignore.* */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT_FULL("firing",
                   "\"alertname\":\"Match\",\"team\":\"web\"", "\"summary\":\"please ignore\"", "f", T0))),
                   now, md, NULL), MATCH_OK);
  /* A label named summary is not the annotation. */
  assert_int_equal(match_rule(&rules, r, one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"Match\",\"summary\":\"ignore\"", "f", T0))), now, md, NULL),
                   MATCH_OK);
}

/* A value PCRE2 refuses (not UTF-8) is neither a match nor a non-match,
 * for =~ and !~ alike: the rule fails closed (it used to be a non-match,
 * so the `!~` held and the rule ran). */
static void test_invalid_utf8_is_a_match_error(void **state) {
  (void)state;
  uint32_t re = rule_index("it_prune");   /* instance =~ .+ */
  uint32_t nre = rule_index("ne_rule");   /* summary !~ ignore.* */
  int64_t now = at(2026, 11, 27, 12, 0);
  /* The decoder refuses such values (400), so they are put into decoded
   * alerts by hand: this is the line behind it. */
  struct alert a = *one(ENVELOPE(ALERT("firing",
                   "\"alertname\":\"HealerTest\",\"instance\":\"ok\"", "f", T0)));
  const struct kv labels[] = {{"alertname", "HealerTest"}, {"instance", "bad\xff\xfe"}};
  a.labels = labels;
  a.nlabels = 2;
  assert_int_equal(match_rule(&rules, re, &a, now, md, NULL), MATCH_ERROR);
  uint32_t failed = 0;
  struct alert b = *one(ENVELOPE(ALERT_FULL("firing",
                   "\"alertname\":\"Match\"", "\"summary\":\"ignore\"", "f", T0)));
  const struct kv ann[] = {{"summary", "ignore\xc3"}};
  b.annotations = ann;
  b.nannotations = 1;
  assert_int_equal(match_rule(&rules, nre, &b, now, md, &failed), MATCH_ERROR);
  char why[160];
  match_error(md, why, sizeof why);
  assert_non_null(strstr(why, "UTF-8"));
  assert_string_equal(hl_ruleset.matchers[failed].name, "summary");
}

static void test_status(void **state) {
  (void)state;
  int64_t now = at(2026, 11, 27, 12, 0);
  const struct alert *firing = one(ENVELOPE(ALERT("firing", "\"alertname\":\"Resolve\"", "f", T0)));
  assert_int_equal(match_rule(&rules, rule_index("resolve_firing"), firing, now, md, NULL), MATCH_OK);
  assert_int_equal(match_rule(&rules, rule_index("resolved_only"), firing, now, md, NULL), MATCH_STATUS);
  assert_int_equal(match_rule(&rules, rule_index("any_status"), firing, now, md, NULL), MATCH_OK);
  const struct alert *resolved = one(ENVELOPE(ALERT("resolved", "\"alertname\":\"Resolve\"", "f", T0)));
  assert_int_equal(match_rule(&rules, rule_index("resolve_firing"), resolved, now, md, NULL), MATCH_STATUS);
  assert_int_equal(match_rule(&rules, rule_index("resolved_only"), resolved, now, md, NULL), MATCH_OK);
  assert_int_equal(match_rule(&rules, rule_index("any_status"), resolved, now, md, NULL), MATCH_OK);
}

static void test_business_hours_in_berlin(void **state) {
  (void)state;
  uint32_t w = 0;   /* weekdays 09:00-18:00 Europe/Berlin */
  /* Friday 2026-11-27, CET = UTC+1 */
  assert_true(match_window(&rules, w, at(2026, 11, 27, 8, 0)));     /* 09:00 */
  assert_false(match_window(&rules, w, at(2026, 11, 27, 7, 59)));   /* 08:59 */
  assert_true(match_window(&rules, w, at(2026, 11, 27, 16, 59)));   /* 17:59 */
  assert_false(match_window(&rules, w, at(2026, 11, 27, 17, 0)));   /* 18:00 */
  assert_false(match_window(&rules, w, at(2026, 11, 28, 10, 0)));   /* Saturday */
  assert_false(match_window(&rules, w, at(2026, 11, 29, 10, 0)));   /* Sunday */
  assert_true(match_window(&rules, w, at(2026, 11, 30, 10, 0)));    /* Monday */
  /* Wednesday 2026-07-01, CEST = UTC+2 */
  assert_true(match_window(&rules, w, at(2026, 7, 1, 7, 0)));       /* 09:00 */
  assert_false(match_window(&rules, w, at(2026, 7, 1, 6, 59)));
  assert_false(match_window(&rules, w, at(2026, 7, 1, 16, 0)));     /* 18:00 */
  /* Friday 23:30 UTC is already Saturday in Berlin. */
  assert_false(match_window(&rules, w, at(2026, 11, 27, 23, 30)));
  /* Around the spring change, 2026-03-29 (Sunday) -> Monday 03-30. */
  assert_true(match_window(&rules, w, at(2026, 3, 30, 7, 0)));      /* 09:00 CEST */
  assert_false(match_window(&rules, w, at(2026, 3, 27, 7, 59)));    /* 08:59 CET, Fri */
  assert_true(match_window(&rules, w, at(2026, 3, 27, 8, 0)));
}

static void test_date_range_and_wrapping_window(void **state) {
  (void)state;
  uint32_t freeze = 1;   /* 2026-12-20..2027-01-04 UTC */
  assert_false(match_window(&rules, freeze, at(2026, 12, 19, 23, 59)));
  assert_true(match_window(&rules, freeze, at(2026, 12, 20, 0, 0)));
  assert_true(match_window(&rules, freeze, at(2027, 1, 4, 23, 59)));
  assert_false(match_window(&rules, freeze, at(2027, 1, 5, 0, 0)));
  uint32_t night = 2;    /* daily 22:00-06:00 America/New_York */
  assert_true(match_window(&rules, night, at(2026, 11, 27, 3, 30)));   /* 22:30 EST */
  assert_true(match_window(&rules, night, at(2026, 11, 27, 10, 59)));  /* 05:59 */
  assert_false(match_window(&rules, night, at(2026, 11, 27, 11, 0)));  /* 06:00 */
  assert_false(match_window(&rules, night, at(2026, 11, 27, 2, 59)));  /* 21:59 */
  assert_true(match_window(&rules, night, at(2026, 7, 1, 2, 0)));      /* 22:00 EDT */
  assert_false(match_window(&rules, night, at(2026, 7, 1, 1, 59)));
}

/* A window that wraps past midnight belongs to the day it starts on. */
static void test_wrapping_window_belongs_to_its_first_day(void **state) {
  (void)state;
  static const struct hl_window win[] = {
      /* fri 22:00-06:00 UTC, from Friday 2026-11-27 on */
      {"friday_night", "UTC", 1u << 5, 22 * 60, 6 * 60, 20261127, 0, "t.heal", 1},
  };
  static const struct hl_ruleset rs = {
      .abi_version = HL_ABI_VERSION, .generator = "test", .digest = "0",
      .windows = win, .nwindows = 1};
  struct rules r;
  char err[256];
  assert_int_equal(match_init(&r, &rs, err, sizeof err), 0);
  assert_true(match_window(&r, 0, at(2026, 11, 27, 22, 0)));    /* Fri 22:00 */
  assert_true(match_window(&r, 0, at(2026, 11, 28, 2, 0)));     /* Sat 02:00 */
  assert_false(match_window(&r, 0, at(2026, 11, 28, 6, 0)));    /* Sat 06:00 */
  assert_false(match_window(&r, 0, at(2026, 11, 28, 22, 0)));   /* Sat 22:00 */
  assert_false(match_window(&r, 0, at(2026, 11, 27, 2, 0)));    /* Fri 02:00: Thursday's night, before the range */
  assert_false(match_window(&r, 0, at(2026, 12, 4, 2, 0)));     /* Fri 02:00: Thursday's night */
  assert_true(match_window(&r, 0, at(2026, 12, 5, 5, 59)));     /* Sat 05:59 */
  match_free(&r);
}

static void test_rule_windows(void **state) {
  (void)state;
  const struct alert *a = one(ENVELOPE(ALERT("firing", "\"alertname\":\"Window\"", "f", T0)));
  uint32_t during = rule_index("window_rule"), not_during = rule_index("not_window_rule");
  assert_int_equal(match_rule(&rules, during, a, at(2026, 11, 27, 10, 0), md, NULL), MATCH_OK);
  assert_int_equal(match_rule(&rules, during, a, at(2026, 11, 28, 10, 0), md, NULL),
                   MATCH_OUTSIDE_WINDOW);
  assert_int_equal(match_rule(&rules, not_during, a, at(2026, 11, 27, 10, 0), md, NULL), MATCH_OK);
  assert_int_equal(match_rule(&rules, not_during, a, at(2026, 12, 24, 10, 0), md, NULL),
                   MATCH_IN_WINDOW);
}

/* ---- table checks ----------------------------------------------------------- */

static const char *const names1[] = {"A"};
static const struct hl_matcher bad_re[] = {{HL_ON_LABEL, HL_MATCH_RE, "x", "(unclosed"}};
static const struct hl_step one_step[] = {{HL_ACT_JENKINS, HL_NONE, "J", 0, 0, 0, {0, 0}}};
static const uint32_t idx0[] = {0};

static struct hl_rule base_rule(void) {
  struct hl_rule r = {0};
  r.name = "r";
  r.file = "t.heal";
  r.line = 1;
  r.status = HL_STATUS_FIRING;
  r.nalerts = 1;
  r.nsteps = 1;
  r.during = r.not_during = HL_NONE;
  return r;
}

static int init_with(const struct hl_ruleset *rs, char *err, size_t n) {
  struct rules r;
  int rc = match_init(&r, rs, err, n);
  if (rc == 0) match_free(&r);
  return rc;
}

static void test_table_checks(void **state) {
  (void)state;
  char err[256];
  struct hl_rule r = base_rule();
  struct hl_index_entry ix[2] = {{"A", 0, 1}, {"B", 0, 1}};
  struct hl_ruleset rs = {0};
  rs.abi_version = HL_ABI_VERSION;
  rs.rules = &r;
  rs.nrules = 1;
  rs.alertnames = names1;
  rs.nalertnames = 1;
  rs.steps = one_step;
  rs.nsteps = 1;
  rs.index = ix;
  rs.nindex = 1;
  rs.index_rules = idx0;
  rs.nindex_rules = 1;
  assert_int_equal(init_with(&rs, err, sizeof err), 0);

  rs.abi_version = 99;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "ABI version 99"));
  rs.abi_version = HL_ABI_VERSION;

  r.nalerts = 2;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "out of bounds"));
  r.nalerts = 1;

  r.during = 0;   /* no windows */
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "window index"));
  r.during = HL_NONE;

  ix[0].alertname = "B";
  ix[1].alertname = "A";
  rs.nindex = 2;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "not sorted"));
  rs.nindex = 1;
  ix[0].alertname = "A";

  r.nmatchers = 1;
  rs.matchers = bad_re;
  rs.nmatchers = 1;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "x=~'(unclosed'"));
  r.nmatchers = 0;
  rs.nmatchers = 0;

  struct hl_window w = {"w", "Mars/Olympus_Mons", 0x7f, 0, 0, 0, 0, "t.heal", 3};
  rs.windows = &w;
  rs.nwindows = 1;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "window w (t.heal:3)"));
  w.tz = "../../etc/passwd";
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "invalid time zone name"));
  rs.nwindows = 0;

  static const struct hl_insn bad_code[] = {{HL_OP_DEFAULT, 0, NULL}};
  static const struct hl_param p[] = {{"x", {0, 1}}};
  struct hl_step st = {HL_ACT_JENKINS, HL_NONE, "J", 0, 1, 0, {0, 0}};
  rs.steps = &st;
  rs.params = p;
  rs.nparams = 1;
  rs.insns = bad_code;
  rs.ninsns = 1;
  assert_int_equal(init_with(&rs, err, sizeof err), -1);
  assert_non_null(strstr(err, "params[0] (x)"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_eq),
      cmocka_unit_test(test_re_is_anchored),
      cmocka_unit_test(test_ne_and_nre_on_annotation),
      cmocka_unit_test(test_invalid_utf8_is_a_match_error),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_business_hours_in_berlin),
      cmocka_unit_test(test_date_range_and_wrapping_window),
      cmocka_unit_test(test_wrapping_window_belongs_to_its_first_day),
      cmocka_unit_test(test_rule_windows),
      cmocka_unit_test(test_table_checks),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
