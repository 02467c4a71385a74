/*
 * test_tables.c - codegen_tables() builds in memory exactly the tables
 * codegen_emit() writes: the rule tools decide on the first, the daemon on
 * the second, and they must be the same rules.
 *
 * Linked with generated/rules.c (what healerc wrote for rules/ and the
 * repository checks in; "generated: up to date" in tests/run.sh keeps it
 * current), it loads the .heal files of rules/ in the same order and compares every
 * row of every table, field by field and string by string.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../compiler/cli.h"
#include "../../compiler/codegen.h"

static int same_str(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* Each returns from compare() with the name of the first field that
 * differs. */
#define EQ(x, y) \
  if ((x) != (y)) return #x
#define STR(x, y) \
  if (!same_str((x), (y))) return #x
#define SAME_EXPR(x, y) \
  EQ((x).first, (y).first); \
  EQ((x).count, (y).count)

static const char *compare(const struct hl_ruleset *m, const struct hl_ruleset *g) {
  EQ(m->abi_version, g->abi_version);
  STR(m->digest, g->digest);
  EQ(m->nrules, g->nrules);
  for (uint32_t i = 0; i < g->nrules; i++) {
    const struct hl_rule *a = &m->rules[i], *b = &g->rules[i];
    STR(a->name, b->name);
    STR(a->former_name, b->former_name);
    STR(a->file, b->file);
    EQ(a->line, b->line);
    EQ(a->flags, b->flags);
    EQ(a->status, b->status);
    EQ(a->first_alert, b->first_alert);
    EQ(a->nalerts, b->nalerts);
    EQ(a->first_pattern, b->first_pattern);
    EQ(a->npatterns, b->npatterns);
    EQ(a->first_matcher, b->first_matcher);
    EQ(a->nmatchers, b->nmatchers);
    EQ(a->first_step, b->first_step);
    EQ(a->nsteps, b->nsteps);
    EQ(a->first_notify, b->first_notify);
    EQ(a->nnotify, b->nnotify);
    EQ(a->cooldown_ms, b->cooldown_ms);
    SAME_EXPR(a->cooldown_key, b->cooldown_key);
    EQ(a->timeout_ms, b->timeout_ms);
    EQ(a->retries, b->retries);
    EQ(a->backoff_ms, b->backoff_ms);
    EQ(a->limit, b->limit);
    SAME_EXPR(a->limit_key, b->limit_key);
    EQ(a->budget, b->budget);
    EQ(a->budget_ms, b->budget_ms);
    EQ(a->during, b->during);
    EQ(a->not_during, b->not_during);
    EQ(a->breaker_failures, b->breaker_failures);
    EQ(a->breaker_ms, b->breaker_ms);
  }
  EQ(m->nalertnames, g->nalertnames);
  for (uint32_t i = 0; i < g->nalertnames; i++) STR(m->alertnames[i], g->alertnames[i]);
  EQ(m->nmatchers, g->nmatchers);
  for (uint32_t i = 0; i < g->nmatchers; i++) {
    EQ(m->matchers[i].on, g->matchers[i].on);
    EQ(m->matchers[i].op, g->matchers[i].op);
    STR(m->matchers[i].name, g->matchers[i].name);
    STR(m->matchers[i].value, g->matchers[i].value);
  }
  EQ(m->ninsns, g->ninsns);
  for (uint32_t i = 0; i < g->ninsns; i++) {
    EQ(m->insns[i].op, g->insns[i].op);
    EQ(m->insns[i].arg, g->insns[i].arg);
    STR(m->insns[i].str, g->insns[i].str);
  }
  EQ(m->nparams, g->nparams);
  for (uint32_t i = 0; i < g->nparams; i++) {
    STR(m->params[i].name, g->params[i].name);
    SAME_EXPR(m->params[i].value, g->params[i].value);
  }
  EQ(m->nsteps, g->nsteps);
  for (uint32_t i = 0; i < g->nsteps; i++) {
    const struct hl_step *a = &m->steps[i], *b = &g->steps[i];
    EQ(a->action, b->action);
    EQ(a->backend, b->backend);
    STR(a->target, b->target);
    EQ(a->first_param, b->first_param);
    EQ(a->nparams, b->nparams);
    EQ(a->succeed_on, b->succeed_on);
    SAME_EXPR(a->backend_expr, b->backend_expr);
  }
  EQ(m->nnotifies, g->nnotifies);
  for (uint32_t i = 0; i < g->nnotifies; i++) {
    EQ(m->notifies[i].events, g->notifies[i].events);
    EQ(m->notifies[i].kind, g->notifies[i].kind);
    EQ(m->notifies[i].backend, g->notifies[i].backend);
    STR(m->notifies[i].target, g->notifies[i].target);
  }
  EQ(m->nwindows, g->nwindows);
  for (uint32_t i = 0; i < g->nwindows; i++) {
    const struct hl_window *a = &m->windows[i], *b = &g->windows[i];
    STR(a->name, b->name);
    STR(a->tz, b->tz);
    EQ(a->days, b->days);
    EQ(a->months, b->months);
    EQ(a->first_time, b->first_time);
    EQ(a->ntimes, b->ntimes);
    EQ(a->first_mday, b->first_mday);
    EQ(a->nmdays, b->nmdays);
    EQ(a->first_year, b->first_year);
    EQ(a->nyears, b->nyears);
    EQ(a->from_day, b->from_day);
    EQ(a->to_day, b->to_day);
    STR(a->file, b->file);
    EQ(a->line, b->line);
  }
  EQ(m->nspans, g->nspans);
  for (uint32_t i = 0; i < g->nspans; i++) {
    EQ(m->spans[i].lo, g->spans[i].lo);
    EQ(m->spans[i].hi, g->spans[i].hi);
  }
  EQ(m->nbackends, g->nbackends);
  for (uint32_t i = 0; i < g->nbackends; i++) {
    STR(m->backends[i].name, g->backends[i].name);
    EQ(m->backends[i].kind, g->backends[i].kind);
    EQ(m->backends[i].first_field, g->backends[i].first_field);
    EQ(m->backends[i].nfields, g->backends[i].nfields);
    STR(m->backends[i].file, g->backends[i].file);
    EQ(m->backends[i].line, g->backends[i].line);
  }
  EQ(m->nfields, g->nfields);
  for (uint32_t i = 0; i < g->nfields; i++) {
    STR(m->fields[i].name, g->fields[i].name);
    EQ(m->fields[i].source, g->fields[i].source);
    STR(m->fields[i].value, g->fields[i].value);
  }
  EQ(m->nindex, g->nindex);
  for (uint32_t i = 0; i < g->nindex; i++) {
    STR(m->index[i].alertname, g->index[i].alertname);
    EQ(m->index[i].first, g->index[i].first);
    EQ(m->index[i].count, g->index[i].count);
  }
  EQ(m->nindex_rules, g->nindex_rules);
  for (uint32_t i = 0; i < g->nindex_rules; i++)
    EQ(m->index_rules[i], g->index_rules[i]);
  EQ(m->nname_patterns, g->nname_patterns);
  for (uint32_t i = 0; i < g->nname_patterns; i++) {
    EQ(m->name_patterns[i].rule, g->name_patterns[i].rule);
    STR(m->name_patterns[i].regex, g->name_patterns[i].regex);
  }
  return NULL;
}

static void test_memory_tables_are_the_generated_ones(void **state) {
  (void)state;
  glob_t g;
  assert_int_equal(glob("rules/*.heal", 0, NULL, &g), 0);  /* sorted, as make's $(sort) */
  assert_true(g.gl_pathc > 0);
  struct cli_diag_opts o;
  cli_diag_defaults(&o);
  struct cli_rules r;
  assert_int_equal(cli_load(&r, g.gl_pathv, (uint32_t)g.gl_pathc, &o), EXIT_OK);
  struct codegen_tables t;
  assert_int_equal(codegen_tables(&r.p, &t), 0);
  assert_true(hl_ruleset.nrules > 0);
  const char *diff = compare(&t.rs, &hl_ruleset);
  if (diff) fail_msg("the tables differ first in %s", diff);
  codegen_tables_free(&t);
  cli_rules_free(&r);
  globfree(&g);
}

/* The comparison is not vacuous: one changed field is found. */
static void test_a_difference_is_caught(void **state) {
  (void)state;
  struct hl_rule *rules = malloc(hl_ruleset.nrules * sizeof *rules);
  assert_non_null(rules);
  memcpy(rules, hl_ruleset.rules, hl_ruleset.nrules * sizeof *rules);
  rules[hl_ruleset.nrules - 1].cooldown_ms += 1;
  struct hl_ruleset changed = hl_ruleset;
  changed.rules = rules;
  const char *diff = compare(&changed, &hl_ruleset);
  assert_non_null(diff);
  assert_string_equal(diff, "a->cooldown_ms");
  free(rules);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memory_tables_are_the_generated_ones),
      cmocka_unit_test(test_a_difference_is_caught),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
