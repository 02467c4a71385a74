/*
 * test_decide.c - decide.c's policy, admitted through the ledger (as the
 * engine does, without a journal) with a small hand-made rule table: the
 * budget ring growing on demand (and sliding), dedupe keys that differ
 * only in rule or status, a full queue recording nothing, sweeping.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "decide.h"
#include "ledger.h"
#include "log.h"

static const char *const names[] = {"A"};
static const struct hl_step step = {HL_ACT_WEBHOOK, HL_NONE, NULL, 0, 0, 0, {0, 0}};
static struct hl_rule rules[2];
static struct hl_ruleset rs;
static struct queue q;
static struct store st;
static struct decide d;
static struct metrics m;
static struct ledger l;

static void init(size_t queue_cap) {
  memset(rules, 0, sizeof rules);
  for (int i = 0; i < 2; i++) {
    rules[i].name = i ? "b" : "a";
    rules[i].file = "t.heal";
    rules[i].status = HL_STATUS_ANY;
    rules[i].nalerts = 1;
    rules[i].nsteps = 1;
    rules[i].during = rules[i].not_during = HL_NONE;
  }
  rules[0].budget = 20;
  rules[0].budget_ms = 60000;
  memset(&rs, 0, sizeof rs);
  rs.abi_version = HL_ABI_VERSION;
  rs.rules = rules;
  rs.nrules = 2;
  rs.alertnames = names;
  rs.nalertnames = 1;
  rs.steps = &step;
  rs.nsteps = 1;
  assert_int_equal(queue_init(&q, queue_cap), 0);
  assert_int_equal(store_init(&st, 100), 0);
  assert_int_equal(decide_init(&d, &rs, 3600000, 1000, 1000), 0);
  assert_int_equal(metrics_init(&m, &rs, 0), 0);
  ledger_init(&l, &rs, &d, &st, &q, &m, NULL);
}

static void fini(void) {
  for (struct queue_item *it; (it = queue_try_pop(&q));) {
    decide_finished(&d, rem_of_item(it));
    rem_unref(rem_of_item(it));
  }
  decide_free(&d);
  metrics_free(&m);
  store_free(&st);
  queue_destroy(&q);
}

static enum decide_verdict admit(uint32_t rule, const char *fp, uint8_t status, int64_t now,
                                 struct decide_info *info) {
  struct alert a = {status, "A", fp, "t0", "", "", NULL, 0, NULL, 0};
  struct rem_draft dr = {rule, rules[rule].name, &a, REM_DRY_GLOBAL, 0, NULL, NULL, NULL};
  static uint64_t id;
  struct remediation *r = rem_new(&dr, ++id, REM_QUEUED, "", now);
  assert_non_null(r);
  enum decide_verdict v = ledger_admit(&l, &a, r, now, info);
  rem_unref(r);
  return v;
}

static void test_budget_ring_grows_and_slides(void **state) {
  (void)state;
  init(1000);
  struct decide_info info;
  char fp[32];
  for (int i = 0; i < 20; i++) {
    snprintf(fp, sizeof fp, "f%d", i);
    assert_int_equal(admit(0, fp, HL_STATUS_FIRING, 1000 + i * 1000, &info), DECIDE_QUEUED);
  }
  assert_int_equal(d.budgets[0].cap, 20);
  assert_null(d.budgets[1].starts);          /* no budget: nothing allocated */
  assert_int_equal(admit(0, "x", HL_STATUS_FIRING, 30000, &info), DECIDE_BUDGET);
  assert_int_equal(info.wait_ms, 1000 + 60000 - 30000);
  /* The first start leaves the window at 61000; the second at 62000. */
  assert_int_equal(admit(0, "x", HL_STATUS_FIRING, 61000, &info), DECIDE_QUEUED);
  assert_int_equal(admit(0, "y", HL_STATUS_FIRING, 61500, &info), DECIDE_BUDGET);
  assert_int_equal(info.wait_ms, 500);
  assert_int_equal(admit(0, "y", HL_STATUS_FIRING, 62000, &info), DECIDE_QUEUED);
  fini();
}

static void test_dedupe_key_parts(void **state) {
  (void)state;
  init(100);
  struct decide_info info;
  assert_int_equal(admit(1, "f", HL_STATUS_FIRING, 0, &info), DECIDE_QUEUED);
  assert_int_equal(admit(1, "f", HL_STATUS_FIRING, 1, &info), DECIDE_DUPLICATE);
  assert_int_equal(admit(1, "f", HL_STATUS_RESOLVED, 2, &info), DECIDE_QUEUED);
  assert_int_equal(admit(0, "f", HL_STATUS_FIRING, 3, &info), DECIDE_QUEUED);
  /* A long fingerprint takes the heap path of the key. */
  char big[600];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(admit(1, big, HL_STATUS_FIRING, 4, &info), DECIDE_QUEUED);
  assert_int_equal(admit(1, big, HL_STATUS_FIRING, 5, &info), DECIDE_DUPLICATE);
  fini();
}

static void test_full_queue_records_nothing(void **state) {
  (void)state;
  init(1);
  struct decide_info info;
  assert_int_equal(admit(1, "f1", HL_STATUS_FIRING, 0, &info), DECIDE_QUEUED);
  assert_int_equal(admit(1, "f2", HL_STATUS_FIRING, 0, &info), DECIDE_QUEUE_FULL);
  struct decide_stats ds;
  decide_stats(&d, &ds);
  assert_int_equal(ds.dedupe, 1);
  struct queue_item *it = queue_try_pop(&q);
  decide_finished(&d, rem_of_item(it));
  rem_unref(rem_of_item(it));
  assert_int_equal(admit(1, "f2", HL_STATUS_FIRING, 0, &info), DECIDE_QUEUED);
  queue_close(&q);
  assert_int_equal(admit(1, "f3", HL_STATUS_FIRING, 0, &info), DECIDE_CLOSED);
  fini();
}

/* Admits an alert of rule 1 with fingerprint fp and cooldown key ck, pops
 * it off the queue and returns it (the queue's reference). */
static struct remediation *admit_pop(const char *fp, const char *ck, int64_t now,
                                     enum decide_verdict *v) {
  struct alert a = {HL_STATUS_FIRING, "A", fp, "t0", "", "", NULL, 0, NULL, 0};
  struct rem_draft dr = {1, rules[1].name, &a, REM_DRY_GLOBAL, 0, NULL, ck, NULL};
  static uint64_t id = 1000;
  struct remediation *r = rem_new(&dr, ++id, REM_QUEUED, "", now);
  assert_non_null(r);
  struct decide_info info;
  *v = ledger_admit(&l, &a, r, now, &info);
  rem_unref(r);
  if (*v != DECIDE_QUEUED) return NULL;
  struct queue_item *it = queue_try_pop(&q);
  assert_non_null(it);
  return rem_of_item(it);
}

/* A remediation that finished without reaching any service (decide_forget)
 * holds neither its dedupe key nor its cooldown; one that finished
 * normally (decide_finished) holds both. */
static void test_forget_never_sent(void **state) {
  (void)state;
  init(100);
  rules[1].cooldown_ms = 3600000;
  enum decide_verdict v;
  struct remediation *r = admit_pop("f", "1\x1f" "ck", 0, &v);
  assert_int_equal(v, DECIDE_QUEUED);
  decide_finished(&d, r);
  rem_unref(r);
  assert_null(admit_pop("f", "1\x1f" "ck", 1, &v));
  assert_int_equal(v, DECIDE_DUPLICATE);
  assert_null(admit_pop("other", "1\x1f" "ck", 2, &v));
  assert_int_equal(v, DECIDE_COOLDOWN);

  r = admit_pop("g", "1\x1f" "ck2", 3, &v);
  assert_int_equal(v, DECIDE_QUEUED);
  decide_forget(&d, r);
  decide_forget(&d, r);       /* idempotent */
  rem_unref(r);
  r = admit_pop("g", "1\x1f" "ck2", 4, &v);   /* the resend runs again */
  assert_int_equal(v, DECIDE_QUEUED);
  decide_finished(&d, r);
  rem_unref(r);
  assert_null(admit_pop("g", "1\x1f" "ck2", 5, &v));
  assert_int_equal(v, DECIDE_DUPLICATE);
  fini();
}

static void test_dedupe_table_cap(void **state) {
  (void)state;
  init(5000);
  d.dedupe_max = 100;
  struct decide_info info;
  char fp[32];
  for (int i = 0; i < 150; i++) {
    snprintf(fp, sizeof fp, "f%d", i);
    assert_int_equal(admit(1, fp, HL_STATUS_FIRING, i, &info), DECIDE_QUEUED);
  }
  /* All 150 are in flight: entries in flight are never evicted. */
  struct decide_stats ds;
  decide_stats(&d, &ds);
  assert_int_equal(ds.dedupe, 150);
  for (struct queue_item *it; (it = queue_try_pop(&q));) {
    decide_finished(&d, rem_of_item(it));
    rem_unref(rem_of_item(it));
  }
  /* Finished, the least recently seen make room for new ones. */
  assert_int_equal(admit(1, "new", HL_STATUS_FIRING, 1000, &info), DECIDE_QUEUED);
  decide_stats(&d, &ds);
  assert_true(ds.dedupe <= 150);
  assert_int_equal(admit(1, "f149", HL_STATUS_FIRING, 1001, &info), DECIDE_DUPLICATE);
  fini();
}

int main(void) {
  log_setup(LOG_TEXT, LOGL_ERROR, 2);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_budget_ring_grows_and_slides),
      cmocka_unit_test(test_dedupe_key_parts),
      cmocka_unit_test(test_full_queue_records_nothing),
      cmocka_unit_test(test_forget_never_sent),
      cmocka_unit_test(test_dedupe_table_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
