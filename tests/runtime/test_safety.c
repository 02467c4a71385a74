/*
 * test_safety.c - the pause switch and the breakers (safety.c), their
 * journaling, and their place in decide (after dedupe, before cooldown).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "journal.h"
#include "log.h"
#include "safety.h"

#define NOW 1796130000000LL
#define HOUR 3600000LL

static const struct hl_rule rules[] = {
    {.name = "plain", .status = HL_STATUS_FIRING, .during = HL_NONE, .not_during = HL_NONE},
    {.name = "fragile",
     .status = HL_STATUS_FIRING,
     .during = HL_NONE,
     .not_during = HL_NONE,
     .cooldown_ms = HOUR,
     .breaker_failures = 3,
     .breaker_ms = HOUR},
};
static const struct hl_ruleset rs = {
    .abi_version = HL_ABI_VERSION, .digest = "t", .rules = rules, .nrules = 2};

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/healer-safety-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static struct journal *open_journal(void) {
  struct journal_config c = {.dir = dir, .rs = &rs, .no_fsync = true, .history = 10};
  struct journal *j = NULL;
  char err[256];
  if (journal_open(&j, &c, NOW, NULL, err, sizeof err) != 0) fail_msg("%s", err);
  return j;
}

static int restore_ctl(void *ctx, const char *key, const char *value) {
  return safety_restore(ctx, key, value);
}

/* A fresh safety restored from the journal in dir. */
static void reopen(struct safety *s, struct journal **j) {
  journal_close(*j);
  safety_free(s);
  assert_int_equal(safety_init(s, &rs), 0);
  *j = open_journal();
  safety_set_journal(s, *j);
  struct journal_visitor v = {NULL, NULL, NULL, NULL, restore_ctl};
  assert_int_equal(journal_replay(*j, &v, s), 0);
}

static void test_pause(void **state) {
  (void)state;
  struct safety s;
  assert_int_equal(safety_init(&s, &rs), 0);
  struct journal *j = open_journal();
  safety_set_journal(&s, j);
  char why[256];
  assert_null(safety_hold(&s, 0, NOW, why, sizeof why));
  uint64_t lsn = 0;
  assert_int_equal(safety_pause(&s, true, "alice", "db maintenance", NOW, &lsn), 1);
  assert_true(lsn > 0);
  assert_int_equal(safety_pause(&s, true, "bob", "again", NOW, NULL), 0);
  assert_string_equal(safety_hold(&s, 0, NOW, why, sizeof why), "paused");
  assert_string_equal(safety_hold(&s, 1, NOW, why, sizeof why), "paused");
  /* A restart keeps it paused, with who and why. */
  reopen(&s, &j);
  struct safety_pause_info pi;
  safety_pause_state(&s, &pi);
  assert_true(pi.paused);
  assert_string_equal(pi.by, "alice");
  assert_string_equal(pi.why, "db maintenance");
  assert_int_equal(pi.since_ms, NOW);
  assert_int_equal(safety_pause(&s, false, "alice", "done", NOW + 1000, NULL), 1);
  assert_null(safety_hold(&s, 0, NOW, why, sizeof why));
  reopen(&s, &j);
  safety_pause_state(&s, &pi);
  assert_false(pi.paused);
  journal_close(j);
  safety_free(&s);
}

static void test_breaker_opens_and_closes(void **state) {
  (void)state;
  struct safety s;
  assert_int_equal(safety_init(&s, &rs), 0);
  struct journal *j = open_journal();
  safety_set_journal(&s, j);
  char why[256];
  /* Rules without a breaker never open one; successes do not count. */
  assert_false(safety_finished(&s, 0, REM_FAILED, NOW, why, sizeof why));
  assert_false(safety_finished(&s, 1, REM_SUCCEEDED, NOW, why, sizeof why));
  assert_false(safety_finished(&s, 1, REM_SKIPPED, NOW, why, sizeof why));
  /* Two failures, then one an hour later: the first falls out. */
  assert_false(safety_finished(&s, 1, REM_FAILED, NOW, why, sizeof why));
  assert_false(safety_finished(&s, 1, REM_TIMED_OUT, NOW + 1000, why, sizeof why));
  assert_false(safety_finished(&s, 1, REM_FAILED, NOW + HOUR, why, sizeof why));
  assert_null(safety_hold(&s, 1, NOW + HOUR, why, sizeof why));
  /* Survives a restart with its failures counted. */
  reopen(&s, &j);
  int64_t t = NOW + HOUR + 500; /* NOW + 1000 is still within the hour */
  assert_true(safety_finished(&s, 1, REM_FAILED, t, why, sizeof why));
  assert_non_null(strstr(why, "breaker opened: rule fragile failed 3 times in 1h"));
  assert_true(safety_breaker_open(&s, 1, t));
  const char *h = safety_hold(&s, 1, t + 60000, why, sizeof why);
  assert_non_null(h);
  assert_non_null(strstr(h, "breaker open (3 failures in 1h); closes in 59m"));
  assert_non_null(strstr(h, "/api/v1/rules/fragile/reset"));
  assert_null(safety_hold(&s, 0, t, why, sizeof why)); /* other rules run */
  /* While open, more failures (in flight before it opened) page nothing. */
  assert_false(safety_finished(&s, 1, REM_FAILED, t + 1, why, sizeof why));
  reopen(&s, &j);
  assert_true(safety_breaker_open(&s, 1, t + 2));
  /* It closes once the window has passed, and counts afresh. */
  assert_null(safety_hold(&s, 1, t + HOUR, why, sizeof why));
  assert_false(safety_breaker_open(&s, 1, t + HOUR));
  assert_false(safety_finished(&s, 1, REM_FAILED, t + HOUR + 1, why, sizeof why));
  journal_close(j);
  safety_free(&s);
}

static void test_breaker_reset(void **state) {
  (void)state;
  struct safety s;
  assert_int_equal(safety_init(&s, &rs), 0);
  struct journal *j = open_journal();
  safety_set_journal(&s, j);
  char why[256];
  for (int i = 0; i < 3; i++) safety_finished(&s, 1, REM_FAILED, NOW + i, why, sizeof why);
  assert_true(safety_breaker_open(&s, 1, NOW + 10));
  assert_int_equal(safety_reset(&s, "nosuch", "ops", NOW, NULL), -1);
  assert_int_equal(safety_reset(&s, "plain", "ops", NOW, NULL), -1); /* no breaker */
  uint64_t lsn = 0;
  assert_int_equal(safety_reset(&s, "fragile", "ops", NOW + 20, &lsn), 1);
  assert_true(lsn > 0);
  assert_null(safety_hold(&s, 1, NOW + 30, why, sizeof why));
  assert_int_equal(safety_reset(&s, "fragile", "ops", NOW + 40, NULL), 0);
  reopen(&s, &j);
  assert_false(safety_breaker_open(&s, 1, NOW + 50));
  /* The failures were forgotten with the reset. */
  assert_false(safety_finished(&s, 1, REM_FAILED, NOW + 60, why, sizeof why));
  assert_false(safety_finished(&s, 1, REM_FAILED, NOW + 61, why, sizeof why));
  assert_true(safety_finished(&s, 1, REM_FAILED, NOW + 62, why, sizeof why));
  journal_close(j);
  safety_free(&s);
}

static struct remediation *rem(uint64_t id, uint32_t rule, const char *fp) {
  struct alert a = {.status = HL_STATUS_FIRING, .alertname = "A", .fingerprint = fp,
                    .starts_at = "2026-11-27T12:00:00Z"};
  struct rem_draft d = {.rule = rule, .rule_name = rules[rule].name, .alert = &a,
                        .cooldown_key = rule == 1 ? "k" : NULL};
  struct remediation *r = rem_new(&d, id, REM_QUEUED, "", NOW);
  assert_non_null(r);
  return r;
}

static const char *hold(void *ctx, uint32_t rule, int64_t now_ms, char *why, size_t n) {
  return safety_hold(ctx, rule, now_ms, why, n);
}

/* decide's verdict on r, committed when it accepts (what the ledger does,
 * here without a journal or a queue). */
static enum decide_verdict admit(struct decide *d, struct remediation *r, int64_t now,
                                 struct decide_info *info) {
  struct decide_ticket t;
  decide_lock(d);
  enum decide_verdict v = decide_reserve(d, r, now, info, &t);
  if (v == DECIDE_QUEUED) decide_commit(d, r, now, &t);
  decide_unlock(d);
  return v;
}

/* In decide, the hold comes after dedupe (a resend stays a duplicate) and
 * before cooldown, limit and budget (a held alert takes none of them, so
 * a resend after the resume is remediated). */
static void test_decide_order(void **state) {
  (void)state;
  struct safety s;
  assert_int_equal(safety_init(&s, &rs), 0);
  struct decide d;
  assert_int_equal(decide_init(&d, &rs, 24 * HOUR, 1000, 1000), 0);
  d.hold = hold;
  d.hold_ctx = &s;
  struct decide_info info;
  struct remediation *a = rem(1, 1, "fp-a");
  assert_int_equal(admit(&d, a, NOW, &info), DECIDE_QUEUED);
  assert_int_equal(safety_pause(&s, true, "t", "", NOW, NULL), 1);
  struct remediation *a2 = rem(2, 1, "fp-a");
  assert_int_equal(admit(&d, a2, NOW, &info), DECIDE_DUPLICATE);
  struct remediation *b = rem(3, 0, "fp-b");
  assert_int_equal(admit(&d, b, NOW, &info), DECIDE_HELD);
  assert_string_equal(info.why, "paused");
  assert_int_equal(safety_pause(&s, false, "t", "", NOW, NULL), 1);
  struct remediation *b2 = rem(4, 0, "fp-b");
  assert_int_equal(admit(&d, b2, NOW + 1, &info), DECIDE_QUEUED);
  decide_finished(&d, a);
  decide_finished(&d, b2);
  rem_unref(a);
  rem_unref(a2);
  rem_unref(b);
  rem_unref(b2);
  decide_free(&d);
  safety_free(&s);
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
      cmocka_unit_test_setup_teardown(test_breaker_opens_and_closes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_breaker_reset, setup, teardown),
      cmocka_unit_test(test_decide_order),
  };
  return cmocka_run_group_tests_name("safety", tests, NULL, NULL);
}
