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
  return rules_open(&rules, &md, &arena, &hl_ruleset);
}

static int teardown(void **state) {
  (void)state;
  rules_close(&rules, md, &arena);
  return 0;
}

static uint32_t rule_index(const char *name) { return rule_named(&hl_ruleset, name); }

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

/* The rules an alert name reaches, as match_iter walks them: "a,b,c". */
static const char *walk(const char *alertname, uint32_t *error) {
  static char out[256];
  struct match_iter it;
  size_t n = 0;
  out[0] = 0;
  *error = HL_NONE;
  match_iter_init(&it, &rules, alertname, md);
  for (uint32_t ri; (ri = match_iter_next(&it)) != HL_NONE;) {
    n += (size_t)snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "",
                          hl_ruleset.rules[ri].name);
    if (it.error != HL_NONE) *error = it.error;
  }
  return out;
}

/* `alert =~ "Pat[A-Z]"`: a pattern takes its place in source order among
 * the rules that name the alert exactly, a rule that both names and
 * matches it comes once, and the pattern is anchored. */
static void test_name_patterns_merge_in_source_order(void **state) {
  (void)state;
  uint32_t err;
  assert_string_equal(walk("PatA", &err), "pat_first,pat_rule,pat_last");
  assert_int_equal(err, HL_NONE);
  assert_string_equal(walk("PatQ", &err), "pat_rule,pat_last");
  assert_string_equal(walk("PatZ", &err), "pat_rule");
  assert_string_equal(walk("PatAB", &err), "");      /* anchored */
  assert_string_equal(walk("xPatA", &err), "");
  assert_string_equal(walk("Pat\u00c4", &err), "");  /* [A-Z] is ASCII */
  assert_string_equal(walk("aab", &err), "pat_slow");
  /* Exact names that no pattern takes walk as before. */
  assert_string_equal(walk("Match", &err), "eq_continue,re_rule,ne_rule,fallback");
  assert_string_equal(walk("Nope", &err), "");
}

/* A pattern that cannot be evaluated (PCRE2's match limit) yields its rule
 * with the error set, so the engine fails closed instead of skipping it. */
static void test_name_pattern_error_is_reported(void **state) {
  (void)state;
  char name[64];
  memset(name, 'a', 40);
  memcpy(name + 40, "cb", 3);   /* a "b" to pass the required-byte check */
  uint32_t err;
  assert_string_equal(walk(name, &err), "pat_slow");
  assert_int_not_equal(err, HL_NONE);
  assert_string_equal(hl_ruleset.name_patterns[err].regex, "(a|aa)+b");
  char why[160];
  match_error(md, why, sizeof why);
  assert_non_null(strstr(why, "limit"));
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

/* Regex classes are ASCII, as in Go's regexp (Alertmanager's): \d is [0-9],
 * \w [0-9A-Za-z_], \s [\t\n\f\r ], \b an ASCII word boundary, and the POSIX
 * classes ASCII too (https://pkg.go.dev/regexp/syntax). Case folding stays
 * Unicode in both. */
static void test_regex_classes_are_ascii(void **state) {
  (void)state;
  static const struct {
    const char *re, *value;
    int hit;
  } cases[] = {
      {"\\d+", "123", 1},
      {"\\d+", "\xd9\xa1\xd9\xa2\xd9\xa3", 0},      /* Arabic-Indic digits */
      {"\\d+", "\xef\xbc\x91", 0},                  /* fullwidth one */
      {"\\w+", "node_1", 1},
      {"\\w+", "caf\xc3\xa9", 0},                   /* café */
      {"\\w+", "\xd0\xbf\xd0\xbe\xd0\xb4", 0},      /* Cyrillic */
      {"\\s", " ", 1},
      {"\\s", "\xc2\xa0", 0},                       /* no-break space */
      {"\\s", "\xe2\x80\x83", 0},                   /* em space */
      {"a\\b.*", "a\xc3\xa9", 1},                   /* é is not a word char */
      {"\\W", "\xc3\xa9", 1},
      {"[[:alpha:]]+", "abc", 1},
      {"[[:alpha:]]+", "\xc3\xa9t\xc3\xa9", 0},
      {"[[:digit:]]", "\xd9\xa1", 0},
      {"[[:upper:]]", "\xc3\x89", 0},               /* É */
      {"(?i)\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89", 1}, /* Unicode folding */
      {".", "\xc3\xa9", 1},                         /* one character, not a byte */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct hl_matcher m = {HL_ON_LABEL, HL_MATCH_RE, "x", cases[i].re};
    struct hl_ruleset rs = {0};
    rs.abi_version = HL_ABI_VERSION;
    rs.matchers = &m;
    rs.nmatchers = 1;
    struct rules r;
    char err[256], json[1024];
    assert_int_equal(match_init(&r, &rs, err, sizeof err), 0);
    snprintf(json, sizeof json, ENVELOPE(ALERT("firing", "\"alertname\":\"A\",\"x\":\"%s\"", "f", T0)),
             cases[i].value);
    int held = match_matcher(&r, 0, one(json), md);
    if (held != cases[i].hit)
      fail_msg("'%s' =~ '%s': %d, expected %d", cases[i].value, cases[i].re, held, cases[i].hit);
    match_free(&r);
  }
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
  static const struct hl_span night[] = {{22 * 60, 6 * 60}};
  static const struct hl_window win[] = {
      /* fri 22:00-06:00 UTC, from Friday 2026-11-27 on */
      {"friday_night", "UTC", 1u << 5, 0xfff, 0, 1, 0, 0, 0, 0, 20261127, 0, "t.heal", 1},
  };
  static const struct hl_ruleset rs = {
      .abi_version = HL_ABI_VERSION, .generator = "test", .digest = "0",
      .windows = win, .nwindows = 1, .spans = night, .nspans = 1};
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

/* ---- Alertmanager's time interval cases ------------------------------------
 *
 * The cases of timeInterval TestCases and yamlUnmarshalTestCases in
 * Alertmanager's timeinterval/timeinterval_test.go (prometheus/alertmanager),
 * ported as facts: the same intervals as hl_window rows, the same instants
 * (given there as "02 Jan 06 15:04 -0700", here as UTC plus that offset),
 * the same verdicts. */

struct am_instant {
  int y, mo, d, h, mi;
  int off_min;                /* the instant's UTC offset as written */
  bool in;
};

struct am_case {
  const char *what;
  const char *tz;
  uint8_t days;
  uint16_t months;
  struct hl_span times[4], mdays[4], years[4];
  uint32_t ntimes, nmdays, nyears;
  struct am_instant at[12];
};

#define MON_FRI 0x3e
#define MONTH(m) (1u << ((m) - 1))

static const struct am_case am_cases[] = {
    {"empty interval", "UTC", 0x7f, 0xfff, {{0}}, {{0}}, {{0}}, 0, 0, 0,
     {{2006, 1, 2, 15, 4, 0, true}, {2007, 1, 3, 10, 4, 0, true},
      {2006, 1, 4, 9, 4, 0, true}}},
    {"9am to 5pm, monday to friday", "UTC", MON_FRI, 0xfff,
     {{540, 1020}}, {{0}}, {{0}}, 1, 0, 0,
     {{2020, 5, 4, 15, 4, 0, true}, {2020, 5, 5, 10, 4, 0, true},
      {2020, 6, 9, 9, 4, 0, true}, {2020, 5, 3, 15, 4, 0, false},
      {2020, 5, 4, 8, 59, 0, false}, {2020, 5, 5, 5, 0, 0, false}}},
    {"Easter 2020", "UTC", 0x7f, MONTH(4), {{0}}, {{4, 6}}, {{2020, 2020}}, 0, 1, 1,
     {{2020, 4, 4, 15, 4, 0, true}, {2020, 4, 5, 0, 0, 0, true},
      {2020, 4, 6, 23, 5, 0, true}, {2018, 5, 3, 15, 4, 0, false},
      {2020, 4, 3, 23, 59, 0, false}, {2020, 6, 4, 23, 59, 0, false},
      {2019, 4, 6, 23, 59, 0, false}, {2020, 4, 7, 0, 0, 0, false}}},
    {"last 3 days of each month", "UTC", 0x7f, 0xfff, {{0}}, {{-3, -1}}, {{0}}, 0, 1, 0,
     {{2020, 1, 31, 15, 4, 0, true}, {2020, 1, 30, 15, 4, 0, true},
      {2020, 1, 29, 15, 4, 0, true}, {2020, 6, 30, 0, 0, 0, true},
      {2020, 2, 29, 23, 5, 0, true}, {2018, 5, 3, 15, 4, 0, false},
      {2020, 1, 27, 15, 4, 0, false}, {2020, 4, 3, 23, 59, 0, false},
      {2020, 6, 4, 23, 59, 0, false}, {2019, 4, 6, 23, 59, 0, false},
      {2020, 4, 7, 0, 0, 0, false}, {2020, 3, 1, 0, 0, 0, false}}},
    {"out of bound days are clamped to the month", "UTC", 0x7f, MONTH(6),
     {{0}}, {{-31, 31}}, {{0}}, 0, 1, 0,
     {{2020, 6, 30, 0, 0, 0, true}, {2020, 6, 1, 0, 0, 0, true},
      {2020, 5, 31, 0, 0, 0, false}, {2020, 7, 1, 0, 0, 0, false}}},
    {"AEST 9am to 5pm, monday to friday", "Australia/Sydney", MON_FRI, 0xfff,
     {{540, 1020}}, {{0}}, {{0}}, 1, 0, 0,
     {{2021, 4, 6, 13, 0, 600, true}, {2021, 4, 6, 13, 0, 0, false}}},
    {"Sydney during daylight saving time", "Australia/Sydney", MON_FRI, MONTH(11),
     {{540, 1020}}, {{0}}, {{0}}, 1, 0, 0,
     {{2021, 11, 1, 9, 0, 660, true}, {2021, 10, 31, 22, 0, 0, true},
      {2021, 10, 31, 21, 0, 0, false}}},
    {"last day of the month in a spring-forward month", "America/New_York", 0x7f, 0xfff,
     {{0}}, {{-1, -1}}, {{0}}, 0, 1, 0,
     {{2021, 3, 31, 12, 0, -240, true}, {2021, 3, 30, 12, 0, -240, false}}},
    {"last week of Q1 but Saturday, business hours, 2020-2025 and 2030-2035", "UTC",
     MON_FRI | 1, MONTH(1) | MONTH(2) | MONTH(3), {{540, 1020}}, {{-7, -1}},
     {{2020, 2025}, {2030, 2035}}, 1, 1, 2,
     {{2021, 1, 27, 9, 0, 0, true}, {2021, 1, 28, 16, 59, 0, true},
      {2021, 1, 29, 13, 0, 0, true}, {2025, 3, 31, 13, 0, 0, true},
      {2035, 1, 31, 13, 0, 0, true}, {2021, 1, 30, 13, 0, 0, false},
      {2021, 4, 1, 13, 0, 0, false}, {2026, 1, 30, 13, 0, 0, false},
      {2035, 1, 31, 17, 1, 0, false}}},
    {"monday to friday 09:00-17:00, a date past March", "UTC", MON_FRI, 0xfff,
     {{540, 1020}}, {{0}}, {{0}}, 1, 0, 0,
     {{2021, 4, 1, 13, 0, 0, true}}},
    /* Our own, beyond Alertmanager's cases: several time ranges, and a range
     * wrapping past midnight on the last day of the month, which belongs to
     * that day. */
    {"09:00-12:00 and 13:00-17:00", "UTC", 0x7f, 0xfff, {{540, 720}, {780, 1020}},
     {{0}}, {{0}}, 2, 0, 0,
     {{2026, 12, 1, 11, 59, 0, true}, {2026, 12, 1, 12, 0, 0, false},
      {2026, 12, 1, 12, 59, 0, false}, {2026, 12, 1, 13, 0, 0, true},
      {2026, 12, 1, 17, 0, 0, false}}},
    {"the last night of the month", "UTC", 0x7f, 0xfff, {{1320, 360}}, {{-1, -1}}, {{0}},
     1, 1, 0,
     {{2026, 2, 28, 22, 0, 0, true}, {2026, 3, 1, 5, 59, 0, true},
      {2026, 3, 1, 6, 0, 0, false}, {2026, 2, 28, 2, 0, 0, false},
      {2026, 3, 31, 23, 0, 0, true}, {2026, 3, 30, 23, 0, 0, false}}},
};

static void test_alertmanager_time_intervals(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof am_cases / sizeof am_cases[0]; i++) {
    const struct am_case *c = &am_cases[i];
    struct hl_span spans[12];
    uint32_t n = 0;
    struct hl_window w = {c->what, c->tz, c->days, c->months, 0, 0, 0, 0, 0, 0, 0, 0, "t.heal", 1};
    w.first_time = n;
    for (uint32_t k = 0; k < c->ntimes; k++) spans[n++] = c->times[k];
    w.ntimes = c->ntimes;
    w.first_mday = n;
    for (uint32_t k = 0; k < c->nmdays; k++) spans[n++] = c->mdays[k];
    w.nmdays = c->nmdays;
    w.first_year = n;
    for (uint32_t k = 0; k < c->nyears; k++) spans[n++] = c->years[k];
    w.nyears = c->nyears;
    struct hl_ruleset rs = {0};
    rs.abi_version = HL_ABI_VERSION;
    rs.windows = &w;
    rs.nwindows = 1;
    rs.spans = spans;
    rs.nspans = n;
    struct rules r;
    char err[256];
    if (match_init(&r, &rs, err, sizeof err) != 0) fail_msg("%s: %s", c->what, err);
    for (size_t k = 0; k < sizeof c->at / sizeof c->at[0] && c->at[k].y; k++) {
      const struct am_instant *t = &c->at[k];
      int64_t ms = at(t->y, (unsigned)t->mo, (unsigned)t->d, t->h, t->mi) -
                   (int64_t)t->off_min * 60000;
      if (match_window(&r, 0, ms) != t->in)
        fail_msg("%s: %04d-%02d-%02d %02d:%02d %+d min should be %s", c->what, t->y, t->mo,
                 t->d, t->h, t->mi, t->off_min, t->in ? "inside" : "outside");
    }
    match_free(&r);
  }
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

  struct hl_window w = {"w", "Mars/Olympus_Mons", 0x7f, 0xfff, 0, 0, 0, 0, 0, 0, 0, 0, "t.heal", 3};
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
      cmocka_unit_test(test_name_patterns_merge_in_source_order),
      cmocka_unit_test(test_name_pattern_error_is_reported),
      cmocka_unit_test(test_eq),
      cmocka_unit_test(test_re_is_anchored),
      cmocka_unit_test(test_ne_and_nre_on_annotation),
      cmocka_unit_test(test_invalid_utf8_is_a_match_error),
      cmocka_unit_test(test_regex_classes_are_ascii),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_business_hours_in_berlin),
      cmocka_unit_test(test_date_range_and_wrapping_window),
      cmocka_unit_test(test_wrapping_window_belongs_to_its_first_day),
      cmocka_unit_test(test_alertmanager_time_intervals),
      cmocka_unit_test(test_rule_windows),
      cmocka_unit_test(test_table_checks),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
