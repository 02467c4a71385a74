/*
 * test_plan.c - planning on the shipped rules (generated/rules.c) with a
 * fixed clock: no engine, queue, journal, metrics or threads, only the
 * tables, the decoded alert and plan_alert(). Covers which rule wins and
 * what it would run (steps, backends, rendered parameters, keys), which
 * matcher failed, inside and outside windows, the other status, an alert
 * no rule names, dry-run, and that planning twice gives the same plan.
 */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "plan.h"

/* Fixed clocks (UTC). */
#define WED_NOV_18_11H ((int64_t)1795000000000)  /* 2026-11-18T11:06:40Z, Wed */
#define SAT_NOV_21_11H ((int64_t)1795259200000)  /* 2026-11-21T11:06:40Z, Sat */
#define FRI_DEC_25_12H ((int64_t)1798200000000)  /* 2026-12-25T12:00:00Z */

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

/* Plans the only alert of payload json at now, with flags. */
static void plan_of(const char *json, int64_t now, unsigned flags, struct plan *p) {
  struct payload pl;
  bump_reset(&arena);
  decode_ok(json, &arena, &pl);
  assert_int_equal(pl.nalerts, 1);
  assert_int_equal(plan_alert(&rules, &pl.alerts[0], now, flags, &arena, md, p), 0);
}

static const char *param(const struct rem_draft *d, uint32_t step, const char *name) {
  for (uint32_t k = 0; k < d->steps[step].nparams; k++)
    if (strcmp(d->steps[step].params[k].name, name) == 0) return d->steps[step].params[k].value;
  return NULL;
}

#define DISK(env) \
  ENVELOPE(ALERT("firing", "\"alertname\":\"NodeDiskPressure\",\"env\":\"" env "\"," \
                 "\"instance\":\"node-7:9100\"", "fp-disk", T0))

/* A prod disk alert: the dev one-liner does not match (its env matcher
 * says why), prune_docker_images wins with its parameters and key. */
static void test_winner_and_parameters(void **state) {
  (void)state;
  struct plan p;
  plan_of(DISK("prod"), WED_NOV_18_11H, PLAN_MISSES, &p);
  assert_true(p.matched);
  assert_int_equal(p.named, 2);
  assert_int_equal(p.tried, 2);
  assert_int_equal(p.nsteps, 2);

  assert_int_equal(p.steps[0].kind, PLAN_MISS);
  assert_int_equal(p.steps[0].rule, rule_index("node-disk#02781b4e"));
  assert_int_equal(p.steps[0].mr, MATCH_MATCHER);
  char why[256];
  assert_string_equal(plan_miss_reason(&hl_ruleset, &p.steps[0], why, sizeof why),
                      "label env=\"dev\" does not hold");

  const struct plan_step *st = &p.steps[1];
  assert_int_equal(st->kind, PLAN_RUN);
  uint32_t prune = rule_index("prune_docker_images");
  assert_int_equal(st->rule, prune);
  assert_string_equal(st->d.rule_name, "prune_docker_images");
  assert_int_equal(st->d.dry_run, REM_DRY_NO);
  assert_int_equal(st->d.nsteps, 1);
  assert_int_equal(st->d.steps[0].kind, HL_ACT_JENKINS);
  assert_string_equal(st->d.steps[0].target, "infra/DockerPruneNode");
  assert_string_equal(hl_ruleset.backends[st->d.steps[0].backend].name, "ci");
  assert_string_equal(param(&st->d, 0, "node"), "node-7");        /* host($instance) */
  assert_string_equal(param(&st->d, 0, "cluster"), "unknown");    /* ?? default */
  assert_string_equal(param(&st->d, 0, "region"), "eu-west-1");
  assert_string_equal(param(&st->d, 0, "mode"), "aggressive");
  char key[64];
  snprintf(key, sizeof key, "%u\x1fnode-7:9100", prune);          /* cooldown 30m per $instance */
  assert_string_equal(st->d.cooldown_key, key);
  assert_null(st->d.limit_key);
}

/* First match wins: the dev one-liner stops the walk, so the prod rule
 * after it is not even tried. */
static void test_first_match_stops(void **state) {
  (void)state;
  struct plan p;
  plan_of(DISK("dev"), WED_NOV_18_11H, PLAN_MISSES, &p);
  assert_true(p.matched);
  assert_int_equal(p.nsteps, 1);
  assert_int_equal(p.steps[0].kind, PLAN_RUN);
  assert_string_equal(p.steps[0].d.rule_name, "node-disk#02781b4e");
  assert_string_equal(param(&p.steps[0].d, 0, "node"), "node-7:9100");
  assert_int_equal(p.named, 1);
}

/* Inside `not during year_end_freeze`: nothing matches, and the plan
 * says why in the daemon's words. */
static void test_inside_freeze_window(void **state) {
  (void)state;
  struct plan p;
  plan_of(DISK("prod"), FRI_DEC_25_12H, PLAN_MISSES, &p);
  assert_false(p.matched);
  assert_int_equal(p.nsteps, 2);
  assert_int_equal(p.steps[1].kind, PLAN_MISS);
  assert_int_equal(p.steps[1].mr, MATCH_IN_WINDOW);
  char why[256];
  assert_string_equal(plan_miss_reason(&hl_ruleset, &p.steps[1], why, sizeof why),
                      "inside window year_end_freeze");
  assert_string_equal(plan_no_match(&p, why, sizeof why),
                      "none of 2 rules for NodeDiskPressure matched");
  /* Without PLAN_MISSES the misses are counted, not kept. */
  plan_of(DISK("prod"), FRI_DEC_25_12H, 0, &p);
  assert_int_equal(p.nsteps, 0);
  assert_int_equal(p.tried, 2);
}

#define CERT \
  ENVELOPE(ALERT_FULL("firing", "\"alertname\":\"CertificateExpiringSoon\"," \
                      "\"namespace\":\"shop\",\"secret\":\"tls-web\"",        \
                      "\"expires_at\":\"2026-12-01\"", "fp-cert", T0))

/* `during business_hours` (weekdays 09:00-18:00 Europe/Berlin): a
 * Saturday is outside, a Wednesday at noon in Berlin inside; the
 * annotation falls back where absent. */
static void test_business_hours(void **state) {
  (void)state;
  struct plan p;
  plan_of(CERT, SAT_NOV_21_11H, PLAN_MISSES, &p);
  assert_false(p.matched);
  assert_int_equal(p.nsteps, 1);
  char why[256];
  assert_string_equal(plan_miss_reason(&hl_ruleset, &p.steps[0], why, sizeof why),
                      "outside window business_hours");

  plan_of(CERT, WED_NOV_18_11H, PLAN_MISSES, &p);
  assert_true(p.matched);
  const struct rem_draft *d = &p.steps[0].d;
  assert_string_equal(d->rule_name, "rotate_tls_certificate");
  assert_int_equal(d->steps[0].kind, HL_ACT_SPINNAKER);
  assert_string_equal(d->steps[0].target, "rotate-tls-cert");
  assert_string_equal(param(d, 0, "service"), "tls-web");         /* ?? $secret */
  assert_string_equal(param(d, 0, "expires"), "2026-12-01");
}

/* Three steps over two backends, a limit key per cluster; with
 * PLAN_DRY_RUN every draft says so. */
static void test_multi_step_and_dry_run(void **state) {
  (void)state;
  const char *json = ENVELOPE(ALERT("firing",
      "\"alertname\":\"KubeNodeNotReady\",\"severity\":\"critical\","
      "\"cluster\":\"eu-1\",\"node\":\"n-3\"", "fp-node", T0));
  struct plan p;
  plan_of(json, WED_NOV_18_11H, PLAN_DRY_RUN, &p);
  assert_true(p.matched);
  assert_int_equal(p.nsteps, 1);
  const struct rem_draft *d = &p.steps[0].d;
  uint32_t ri = rule_index("replace_unhealthy_node");
  assert_int_equal(d->rule, ri);
  assert_int_equal(d->dry_run, REM_DRY_GLOBAL);
  assert_int_equal(d->nsteps, 3);
  assert_int_equal(d->steps[0].kind, HL_ACT_K8S_CORDON);
  assert_int_equal(d->steps[1].kind, HL_ACT_K8S_DRAIN);
  assert_int_equal(d->steps[2].kind, HL_ACT_SPINNAKER);
  assert_string_equal(hl_ruleset.backends[d->steps[1].backend].name, "prod_eu");
  assert_string_equal(hl_ruleset.backends[d->steps[2].backend].name, "gate");
  assert_string_equal(param(d, 1, "grace_period"), "300");
  assert_string_equal(param(d, 2, "reason"), "KubeNodeNotReady since " T0);
  char key[64];
  snprintf(key, sizeof key, "%u\x1f" "eu-1", ri);
  assert_string_equal(d->limit_key, key);
  snprintf(key, sizeof key, "%u\x1fn-3", ri);
  assert_string_equal(d->cooldown_key, key);
}

/* An alert no rule names; a resolved alert (every shipped rule acts on
 * firing ones: named, not tried). */
static void test_no_rule_and_other_status(void **state) {
  (void)state;
  struct plan p;
  char why[256];
  plan_of(ENVELOPE(ALERT("firing", "\"alertname\":\"Nope\"", "fp-x", T0)), WED_NOV_18_11H,
          PLAN_MISSES, &p);
  assert_false(p.matched);
  assert_int_equal(p.named, 0);
  assert_string_equal(plan_no_match(&p, why, sizeof why), "no rule for alert Nope");

  plan_of(ENVELOPE(ALERT("resolved", "\"alertname\":\"NodeDiskPressure\",\"env\":\"dev\","
                                     "\"instance\":\"a:1\"", "fp-r", T0)),
          WED_NOV_18_11H, PLAN_MISSES, &p);
  assert_false(p.matched);
  assert_int_equal(p.named, 2);
  assert_int_equal(p.tried, 0);
  assert_int_equal(p.steps[0].mr, MATCH_STATUS);
}

/* The same alert at the same clock gives the same plan: no state is
 * kept between calls (a cooldown would show here if it were). */
static void test_pure(void **state) {
  (void)state;
  struct plan a, b;
  plan_of(DISK("prod"), WED_NOV_18_11H, 0, &a);
  char first[128];
  snprintf(first, sizeof first, "%s|%s|%u", a.steps[0].d.rule_name, a.steps[0].d.cooldown_key,
           a.steps[0].d.nsteps);
  for (int i = 0; i < 3; i++) {
    plan_of(DISK("prod"), WED_NOV_18_11H, 0, &b);
    char again[128];
    snprintf(again, sizeof again, "%s|%s|%u", b.steps[0].d.rule_name,
             b.steps[0].d.cooldown_key, b.steps[0].d.nsteps);
    assert_string_equal(again, first);
    assert_int_equal(b.nsteps, 1);
    assert_true(b.matched);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_winner_and_parameters),
      cmocka_unit_test(test_first_match_stops),
      cmocka_unit_test(test_inside_freeze_window),
      cmocka_unit_test(test_business_hours),
      cmocka_unit_test(test_multi_step_and_dry_run),
      cmocka_unit_test(test_no_rule_and_other_status),
      cmocka_unit_test(test_pure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
