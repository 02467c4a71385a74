/*
 * test_parser.c - the scanner and parser: the tree they build for every
 * construct of the language, and the errors they report (wording, place,
 * count, recovery).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "diag.h"

/* One parse: the program, its diagnostics and their text. */
struct run {
  struct program p;
  struct diag d;
  char *out;
  size_t outlen;
  FILE *f;
  int errors;
};

/* Parses text (n bytes, NULs allowed) as the file "t.heal". */
static struct run *parse_n(const char *text, size_t n) {
  struct run *r = calloc(1, sizeof *r);
  assert_non_null(r);
  program_init(&r->p, &r->d);
  r->p.sources = arena_alloc(&r->p.arena, sizeof *r->p.sources);
  r->p.sources[0].path = "t.heal";
  r->p.sources[0].text = arena_strndup(&r->p.arena, text, n);
  r->p.sources[0].len = n;
  r->p.nsources = 1;
  r->f = open_memstream(&r->out, &r->outlen);
  assert_non_null(r->f);
  diag_init(&r->d, r->f, r->p.sources, &r->p.nsources);
  r->d.max_errors = 0;
  r->errors = parse_source(&r->p, 0);
  fflush(r->f);
  return r;
}

static struct run *parse(const char *text) {
  return parse_n(text, strlen(text));
}

static void done(struct run *r) {
  fclose(r->f);
  free(r->out);
  program_free(&r->p);
  free(r);
}

/* Fails with the diagnostics shown when the parse reported anything. */
static void assert_clean(const struct run *r) {
  if (r->errors != 0 || r->d.warnings != 0)
    fail_msg("unexpected diagnostics:\n%s", r->out);
}

static void assert_contains(const struct run *r, const char *needle) {
  if (!strstr(r->out, needle))
    fail_msg("expected \"%s\" in:\n%s", needle, r->out);
}

/* The source text a location covers. */
static char *at(const struct run *r, struct loc l) {
  static char buf[256];
  size_t n = l.end - l.begin;
  if (n >= sizeof buf)
    n = sizeof buf - 1;
  memcpy(buf, r->p.sources[0].text + l.begin, n);
  buf[n] = '\0';
  return buf;
}

static int count_rules(const struct program *p) {
  int n = 0;
  for (const struct rule *r = p->rules; r; r = r->next)
    n++;
  return n;
}

static int count_params(const struct param *p) {
  int n = 0;
  for (; p; p = p->next)
    n++;
  return n;
}

static int count_args(const struct expr *e) {
  int n = 0;
  for (const struct expr *a = e->args; a; a = a->next)
    n++;
  return n;
}

static const struct param *param_at(const struct step *s, int i) {
  const struct param *p = s->params;
  while (p && i--)
    p = p->next;
  assert_non_null(p);
  return p;
}

static const struct option *option_at(const struct rule *r, int i) {
  const struct option *o = r->options;
  while (o && i--)
    o = o->next;
  assert_non_null(o);
  return o;
}

/* The first parameter's value of "when alert A run x with v = <expr>". */
static const struct expr *value_of(struct run *r) {
  assert_clean(r);
  assert_non_null(r->p.rules);
  assert_non_null(r->p.rules->steps);
  assert_non_null(r->p.rules->steps->params);
  return r->p.rules->steps->params->value;
}

static struct run *with_value(const char *expr) {
  char buf[512];
  snprintf(buf, sizeof buf, "when alert A run x with v = %s\n", expr);
  return parse(buf);
}

/* ---- the tree ----------------------------------------------------------------- */

static void test_one_line_form(void **state) {
  (void)state;
  struct run *r = parse("when alert NodeDiskPressure labels env=\"dev\" run "
                        "jenkins DockerPruneNode with node=$instance, "
                        "cooldown 30m");
  assert_clean(r);
  assert_int_equal(count_rules(&r->p), 1);
  const struct rule *ru = r->p.rules;
  assert_null(ru->name);
  assert_string_equal(at(r, ru->loc), "when");

  assert_non_null(ru->alerts);
  assert_string_equal(ru->alerts->name, "NodeDiskPressure");
  assert_string_equal(at(r, ru->alerts->loc), "NodeDiskPressure");
  assert_null(ru->alerts->next);

  const struct matcher *m = ru->matchers;
  assert_non_null(m);
  assert_int_equal(m->on, HL_ON_LABEL);
  assert_int_equal(m->op, HL_MATCH_EQ);
  assert_string_equal(m->name, "env");
  assert_string_equal(at(r, m->name_loc), "env");
  assert_string_equal(at(r, m->op_loc), "=");
  assert_int_equal(m->value->kind, EXPR_STR);
  assert_string_equal(m->value->str, "dev");
  assert_int_equal(m->value->len, 3);
  assert_string_equal(at(r, m->value->loc), "\"dev\"");
  assert_null(m->next);

  const struct step *s = ru->steps;
  assert_non_null(s);
  assert_string_equal(s->words->text, "jenkins");
  assert_false(s->words->quoted);
  assert_string_equal(s->words->next->text, "DockerPruneNode");
  assert_null(s->words->next->next);
  assert_string_equal(at(r, s->loc), "run jenkins DockerPruneNode");
  assert_null(s->via);
  assert_int_equal(count_params(s->params), 1);
  assert_string_equal(s->params->name, "node");
  assert_int_equal(s->params->value->kind, EXPR_LABEL);
  assert_string_equal(s->params->value->str, "instance");
  assert_string_equal(at(r, s->params->value->loc), "$instance");
  assert_null(s->next);

  const struct option *o = ru->options;
  assert_non_null(o);
  assert_int_equal(o->kind, OPT_COOLDOWN);
  assert_true(o->ms == 1800000);
  assert_true(o->has_ms);
  assert_string_equal(at(r, o->ms_loc), "30m");
  assert_string_equal(at(r, o->loc), "cooldown 30m");
  assert_null(o->per);
  assert_null(o->next);
  done(r);
}

static const char block_rule[] =
    "rule prune_docker_images {\n"
    "  when alert NodeDiskPressure, \"Disk Full\"\n"
    "  labels env = \"dev\", instance =~ '.+:9100'\n"
    "  annotations summary != \"x\", runbook !~ 'y'\n"
    "  status any\n"
    "  run jenkins \"infra/DockerPruneNode\" via ci\n"
    "  with node = host($instance),\n"
    "       cluster = $cluster ?? \"unknown\",\n"
    "       mode = \"aggressive\",\n"
    "  then run kubernetes cordon with \"timeout\" = \"30\"\n"
    "  cooldown 30m per $instance\n"
    "  timeout 20m\n"
    "  retry 3 backoff 30s\n"
    "  limit 2 concurrent per $env\n"
    "  at most 5 per 1h\n"
    "  dry-run, continue\n"
    "  during office\n"
    "  not during freeze\n"
    "  stop after 3 failures in 1h\n"
    "  on success notify slack \"#sre-remediation\"\n"
    "  on failure, timeout notify jira OPS via tickets\n"
    "  on failure page pagerduty\n"
    "}\n";

static void test_block_form(void **state) {
  (void)state;
  struct run *r = parse(block_rule);
  assert_clean(r);
  assert_int_equal(count_rules(&r->p), 1);
  const struct rule *ru = r->p.rules;
  assert_string_equal(ru->name, "prune_docker_images");
  assert_string_equal(at(r, ru->name_loc), "prune_docker_images");
  assert_string_equal(at(r, ru->loc), "rule");
  assert_string_equal(ru->alerts->name, "NodeDiskPressure");
  assert_string_equal(ru->alerts->next->name, "Disk Full");

  const struct matcher *m = ru->matchers;
  assert_int_equal(m->op, HL_MATCH_EQ);
  m = m->next;
  assert_int_equal(m->op, HL_MATCH_RE);
  assert_string_equal(m->name, "instance");
  assert_string_equal(m->value->str, ".+:9100");
  m = m->next;
  assert_int_equal(m->on, HL_ON_ANNOTATION);
  assert_int_equal(m->op, HL_MATCH_NE);
  m = m->next;
  assert_int_equal(m->on, HL_ON_ANNOTATION);
  assert_int_equal(m->op, HL_MATCH_NRE);
  assert_string_equal(m->value->str, "y");
  assert_null(m->next);

  const struct step *s = ru->steps;
  assert_string_equal(s->words->text, "jenkins");
  assert_string_equal(s->words->next->text, "infra/DockerPruneNode");
  assert_true(s->words->next->quoted);
  assert_string_equal(s->via, "ci");
  assert_string_equal(at(r, s->via_loc), "ci");
  assert_int_equal(count_params(s->params), 3);
  const struct expr *e = param_at(s, 0)->value;
  assert_int_equal(e->kind, EXPR_CALL);
  assert_string_equal(e->str, "host");
  assert_int_equal(count_args(e), 1);
  assert_int_equal(e->args->kind, EXPR_LABEL);
  assert_string_equal(at(r, e->loc), "host($instance)");
  e = param_at(s, 1)->value;
  assert_int_equal(e->kind, EXPR_DEFAULT);
  assert_int_equal(e->args->kind, EXPR_LABEL);
  assert_string_equal(e->args->str, "cluster");
  assert_int_equal(e->args->next->kind, EXPR_STR);
  assert_string_equal(e->args->next->str, "unknown");
  assert_string_equal(param_at(s, 2)->name, "mode");

  s = s->next; /* then run kubernetes cordon with "timeout" = "30" */
  assert_non_null(s);
  assert_string_equal(at(r, s->loc), "run kubernetes cordon");
  assert_string_equal(s->params->name, "timeout");
  assert_null(s->next);

  const struct option *o = option_at(ru, 0);
  assert_int_equal(o->kind, OPT_STATUS);
  assert_string_equal(o->name, "any");
  o = option_at(ru, 1);
  assert_int_equal(o->kind, OPT_COOLDOWN);
  assert_true(o->ms == 30 * 60000ull);
  assert_int_equal(o->per->kind, EXPR_LABEL);
  assert_string_equal(o->per->str, "instance");
  o = option_at(ru, 2);
  assert_int_equal(o->kind, OPT_TIMEOUT);
  assert_true(o->ms == 20 * 60000ull);
  o = option_at(ru, 3);
  assert_int_equal(o->kind, OPT_RETRY);
  assert_true(o->n == 3);
  assert_true(o->has_ms);
  assert_true(o->ms == 30000);
  assert_string_equal(at(r, o->n_loc), "3");
  o = option_at(ru, 4);
  assert_int_equal(o->kind, OPT_LIMIT);
  assert_true(o->n == 2);
  assert_string_equal(o->per->str, "env");
  o = option_at(ru, 5);
  assert_int_equal(o->kind, OPT_BUDGET);
  assert_true(o->n == 5);
  assert_true(o->ms == 3600000);
  assert_int_equal(option_at(ru, 6)->kind, OPT_DRY_RUN);
  assert_int_equal(option_at(ru, 7)->kind, OPT_CONTINUE);
  o = option_at(ru, 8);
  assert_int_equal(o->kind, OPT_DURING);
  assert_string_equal(o->name, "office");
  o = option_at(ru, 9);
  assert_int_equal(o->kind, OPT_NOT_DURING);
  assert_string_equal(o->name, "freeze");
  assert_string_equal(at(r, o->name_loc), "freeze");
  o = option_at(ru, 10);
  assert_int_equal(o->kind, OPT_BREAKER);
  assert_true(o->n == 3);
  assert_true(o->ms == 3600000);
  assert_string_equal(at(r, o->loc), "stop after 3 failures in 1h");
  assert_null(o->next);

  const struct notify *n = ru->notifies;
  assert_int_equal(n->events, HL_EV_SUCCESS);
  assert_int_equal(n->how, NOTIFY_NOTIFY);
  assert_string_equal(n->kind, "slack");
  assert_string_equal(n->target, "#sre-remediation");
  assert_null(n->via);
  assert_string_equal(at(r, n->loc),
                      "on success notify slack \"#sre-remediation\"");
  n = n->next;
  assert_int_equal(n->events, HL_EV_FAILURE | HL_EV_TIMEOUT);
  assert_string_equal(n->kind, "jira");
  assert_string_equal(n->target, "OPS");
  assert_string_equal(n->via, "tickets");
  n = n->next;
  assert_int_equal(n->how, NOTIFY_PAGE);
  assert_string_equal(n->kind, "pagerduty");
  assert_null(n->target);
  assert_null(n->next);
  done(r);
}

static void test_retry_without_backoff(void **state) {
  (void)state;
  struct run *r = parse("when alert A run x, retry 2\n");
  assert_clean(r);
  const struct option *o = r->p.rules->options;
  assert_int_equal(o->kind, OPT_RETRY);
  assert_true(o->n == 2);
  assert_false(o->has_ms);
  assert_true(o->ms == 0);
  done(r);
  /* `retry 0` is a count like any other: it turns the default off. */
  r = parse("when alert A run x, retry 0\n");
  assert_clean(r);
  o = r->p.rules->options;
  assert_int_equal(o->kind, OPT_RETRY);
  assert_true(o->n == 0);
  done(r);
}

/* via NAME, via "name" (a name too), via $label and via "${a}-${b}" (a
 * backend picked per alert: an expression). */
static void test_via_forms(void **state) {
  (void)state;
  struct run *r = parse("when alert A run x via ci\n"
                        "when alert B run x via \"ci\"\n"
                        "when alert C run x via $cluster with n = \"1\"\n"
                        "when alert D run x via \"${region}-${env}\"\n");
  assert_clean(r);
  const struct rule *ru = r->p.rules;
  const struct step *s = ru->steps;
  assert_string_equal(s->via, "ci");
  assert_null(s->via_expr);
  s = ru->next->steps;
  assert_string_equal(s->via, "ci");
  assert_string_equal(at(r, s->via_loc), "\"ci\"");
  assert_null(s->via_expr);
  s = ru->next->next->steps;
  assert_null(s->via);
  assert_non_null(s->via_expr);
  assert_int_equal(s->via_expr->kind, EXPR_LABEL);
  assert_string_equal(s->via_expr->str, "cluster");
  assert_string_equal(at(r, s->via_loc), "$cluster");
  assert_int_equal(count_params(s->params), 1);
  s = ru->next->next->next->steps;
  assert_null(s->via);
  assert_int_equal(s->via_expr->kind, EXPR_INTERP);
  assert_string_equal(at(r, s->via_loc), "\"${region}-${env}\"");
  done(r);
}

static void test_several_rules_and_declarations(void **state) {
  (void)state;
  struct run *r = parse(
      "backend jenkins ci {\n"
      "  url = \"https://j\"\n"
      "  token = env(\"T\"),\n"
      "}\n"
      "when alert A run x\n"
      "when alert B run y\n"
      "window w weekdays, sat 09:00-18:30 2026-12-20..2027-01-04 in "
      "\"Europe/Berlin\"\n"
      "window empty\n"
      "rule c { when alert C run z }\n");
  assert_clean(r);
  assert_int_equal(count_rules(&r->p), 3);
  assert_string_equal(r->p.rules->alerts->name, "A");
  assert_string_equal(r->p.rules->next->next->name, "c");

  const struct backend *b = r->p.backends;
  assert_non_null(b);
  assert_string_equal(b->kind, "jenkins");
  assert_string_equal(b->name, "ci");
  assert_string_equal(at(r, b->kind_loc), "jenkins");
  assert_string_equal(b->fields->name, "url");
  assert_int_equal(b->fields->value->kind, EXPR_STR);
  assert_string_equal(b->fields->next->name, "token");
  assert_int_equal(b->fields->next->value->kind, EXPR_CALL);
  assert_string_equal(b->fields->next->value->str, "env");
  assert_null(b->fields->next->next);
  assert_null(b->next);

  const struct window *w = r->p.windows;
  assert_string_equal(w->name, "w");
  const struct wpart *p = w->parts;
  assert_int_equal(p->kind, WP_NAME);
  assert_string_equal(p->lo, "weekdays");
  assert_null(p->hi);
  p = p->next;
  assert_int_equal(p->kind, WP_NAME);
  assert_string_equal(p->lo, "sat");
  p = p->next;
  assert_int_equal(p->kind, WP_TIME);
  assert_int_equal(p->nlo, 9 * 60);
  assert_int_equal(p->nhi, 18 * 60 + 30);
  assert_string_equal(at(r, p->loc), "09:00-18:30");
  assert_null(p->next);
  assert_int_equal(w->from_day, 20261220);
  assert_int_equal(w->to_day, 20270104);
  assert_string_equal(at(r, w->date_loc), "2026-12-20..2027-01-04");
  assert_string_equal(w->tz, "Europe/Berlin");
  assert_string_equal(at(r, w->tz_loc), "\"Europe/Berlin\"");
  w = w->next;
  assert_string_equal(w->name, "empty");
  assert_null(w->parts);
  assert_null(w->tz);
  assert_null(w->next);
  done(r);
}

static void test_times_as_written(void **state) {
  (void)state;
  /* The scanner checks the form; the checker checks the range. */
  struct run *r = parse("window w 25:00-99:99\n");
  assert_clean(r);
  assert_int_equal(r->p.windows->parts->nlo, 25 * 60);
  assert_int_equal(r->p.windows->parts->nhi, 99 * 60 + 99);
  done(r);
}

/* `mon..fri` is one name token; the parser splits it at the dots, keeping
 * where each end was written. Time ranges may repeat; numbers may be
 * negative. */
static void test_window_parts(void **state) {
  (void)state;
  struct run *r = parse("window w mon..fri, jan .. mar 09:00-12:00, 13:00-17:00 "
                        "days -3..-1, 15 years 2026\n");
  assert_clean(r);
  const struct wpart *p = r->p.windows->parts;
  assert_int_equal(p->kind, WP_NAME);
  assert_true(p->range);
  assert_string_equal(p->lo, "mon");
  assert_string_equal(p->hi, "fri");
  assert_string_equal(at(r, p->lo_loc), "mon");
  assert_string_equal(at(r, p->hi_loc), "fri");
  p = p->next;
  assert_true(p->range);
  assert_string_equal(p->lo, "jan");
  assert_string_equal(p->hi, "mar");
  p = p->next;
  assert_int_equal(p->kind, WP_TIME);
  assert_int_equal(p->nlo, 9 * 60);
  p = p->next;
  assert_int_equal(p->kind, WP_TIME);
  assert_int_equal(p->nlo, 13 * 60);
  assert_int_equal(p->nhi, 17 * 60);
  p = p->next;
  assert_string_equal(p->lo, "days");
  p = p->next;
  assert_int_equal(p->kind, WP_NUMBER);
  assert_int_equal(p->nlo, -3);
  assert_int_equal(p->nhi, -1);
  assert_true(p->range);
  p = p->next;
  assert_int_equal(p->nlo, 15);
  assert_false(p->range);
  p = p->next;
  assert_string_equal(p->lo, "years");
  p = p->next;
  assert_int_equal(p->nlo, 2026);
  assert_null(p->next);
  done(r);
}

/* ---- expressions ------------------------------------------------------------- */

static void test_expr_literals(void **state) {
  (void)state;
  struct run *r = with_value("\"text\"");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_STR);
  assert_string_equal(e->str, "text");
  assert_int_equal(e->len, 4);
  done(r);

  r = with_value("'raw \\d+ ${x} $y'");
  e = value_of(r);
  assert_int_equal(e->kind, EXPR_STR);
  assert_string_equal(e->str, "raw \\d+ ${x} $y");
  done(r);

  r = with_value("\"\"");
  e = value_of(r);
  assert_int_equal(e->kind, EXPR_STR);
  assert_int_equal(e->len, 0);
  done(r);
}

static void test_expr_variables(void **state) {
  (void)state;
  static const struct {
    const char *src;
    enum expr_kind kind;
    const char *name;
  } cases[] = {
      {"$instance", EXPR_LABEL, "instance"},
      {"$labels.instance", EXPR_LABEL, "instance"},
      {"$annotations.summary", EXPR_ANNOTATION, "summary"},
      {"$alert.fingerprint", EXPR_FIELD, "fingerprint"},
      {"$alert.nosuchfield", EXPR_FIELD, "nosuchfield"}, /* checker's job */
      {"$_x9", EXPR_LABEL, "_x9"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct run *r = with_value(cases[i].src);
    const struct expr *e = value_of(r);
    assert_int_equal(e->kind, cases[i].kind);
    assert_string_equal(e->str, cases[i].name);
    assert_int_equal(e->len, strlen(cases[i].name));
    assert_string_equal(at(r, e->loc), cases[i].src);
    done(r);
  }
}

static void test_expr_calls(void **state) {
  (void)state;
  struct run *r = with_value("replace(trim_suffix(lower($i), \":9100\"), "
                             "\"-\", \"_\")");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_CALL);
  assert_string_equal(e->str, "replace");
  assert_int_equal(count_args(e), 3);
  const struct expr *a = e->args;
  assert_int_equal(a->kind, EXPR_CALL);
  assert_string_equal(a->str, "trim_suffix");
  assert_int_equal(count_args(a), 2);
  assert_int_equal(a->args->kind, EXPR_CALL);
  assert_string_equal(a->args->str, "lower");
  assert_string_equal(a->args->args->str, "i");
  assert_string_equal(a->next->str, "-");
  assert_string_equal(a->next->next->str, "_");
  assert_null(a->next->next->next);
  done(r);

  r = with_value("now()");
  e = value_of(r);
  assert_int_equal(e->kind, EXPR_CALL);
  assert_null(e->args);
  assert_string_equal(at(r, e->loc), "now()");
  done(r);
}

static void test_expr_default_is_left_associative(void **state) {
  (void)state;
  struct run *r = with_value("$a ?? $b ?? \"c\"");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_DEFAULT);
  assert_string_equal(at(r, e->loc), "$a ?? $b ?? \"c\"");
  assert_int_equal(count_args(e), 2);
  assert_int_equal(e->args->kind, EXPR_DEFAULT);
  assert_string_equal(e->args->args->str, "a");
  assert_string_equal(e->args->args->next->str, "b");
  assert_int_equal(e->args->next->kind, EXPR_STR);
  done(r);

  r = with_value("$a ?? ($b ?? \"c\")");
  e = value_of(r);
  assert_int_equal(e->args->kind, EXPR_LABEL);
  assert_int_equal(e->args->next->kind, EXPR_DEFAULT);
  assert_string_equal(at(r, e->args->next->loc), "($b ?? \"c\")");
  done(r);
}

static void test_expr_parentheses(void **state) {
  (void)state;
  struct run *r = with_value("((($x)))");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_LABEL);
  assert_string_equal(e->str, "x");
  done(r);
}

/* ---- strings ---------------------------------------------------------------- */

static void test_escapes(void **state) {
  (void)state;
  struct run *r = with_value("\"q\\\"b\\\\n\\n\\t\\r\\$\\u{41}\\u{e9}"
                             "\\u{1F600}\"");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_STR);
  assert_string_equal(e->str, "q\"b\\n\n\t\r$A\xc3\xa9\xf0\x9f\x98\x80");
  assert_int_equal(e->len, strlen(e->str));
  done(r);

  /* Escaped interpolation is text. */
  r = with_value("\"\\${x} costs $5 $y\"");
  e = value_of(r);
  assert_int_equal(e->kind, EXPR_STR);
  assert_string_equal(e->str, "${x} costs $5 $y");
  done(r);

  /* UTF-8 text and tabs are kept as they are. */
  r = with_value("\"Überlauf\t日本\"");
  e = value_of(r);
  assert_string_equal(e->str, "Überlauf\t日本");
  done(r);
}

static void test_interpolation(void **state) {
  (void)state;
  struct run *r = with_value("\"a ${labels.x} b ${instance}"
                             "${annotations.y}${alert.startsAt}!\"");
  const struct expr *e = value_of(r);
  assert_int_equal(e->kind, EXPR_INTERP);
  const struct expr *p = e->args;
  assert_int_equal(p->kind, EXPR_STR);
  assert_string_equal(p->str, "a ");
  assert_string_equal(at(r, p->loc), "a ");
  p = p->next;
  assert_int_equal(p->kind, EXPR_LABEL);
  assert_string_equal(p->str, "x");
  assert_string_equal(at(r, p->loc), "${labels.x}");
  p = p->next;
  assert_int_equal(p->kind, EXPR_STR);
  assert_string_equal(p->str, " b ");
  p = p->next;
  assert_int_equal(p->kind, EXPR_LABEL);
  assert_string_equal(p->str, "instance");
  p = p->next;
  assert_int_equal(p->kind, EXPR_ANNOTATION);
  assert_string_equal(p->str, "y");
  p = p->next;
  assert_int_equal(p->kind, EXPR_FIELD);
  assert_string_equal(p->str, "startsAt");
  p = p->next;
  assert_int_equal(p->kind, EXPR_STR);
  assert_string_equal(p->str, "!");
  assert_null(p->next);
  done(r);

  /* Only a reference: one part. Escapes inside the literal parts. */
  r = with_value("\"${x}\"");
  e = value_of(r);
  assert_int_equal(e->kind, EXPR_INTERP);
  assert_int_equal(count_args(e), 1);
  assert_int_equal(e->args->kind, EXPR_LABEL);
  done(r);

  r = with_value("\"\\t${x}\\n\"");
  e = value_of(r);
  assert_string_equal(e->args->str, "\t");
  assert_string_equal(e->args->next->next->str, "\n");
  done(r);
}

static void test_interpolation_only_in_values(void **state) {
  (void)state;
  struct run *r = parse("when alert \"A${x}\" run x\n");
  assert_int_equal(r->errors, 1);
  assert_contains(r, "t.heal:1:12: error: interpolation is not allowed "
                     "here, only in parameter values");
  assert_null(r->p.rules);
  done(r);
}

/* ---- numbers and durations ------------------------------------------------------ */

static void test_durations(void **state) {
  (void)state;
  static const struct {
    const char *src;
    uint64_t ms;
  } cases[] = {
      {"1ms", 1},           {"30s", 30000},       {"5m", 300000},
      {"2h", 7200000},      {"1d", 86400000},     {"1w", 604800000},
      {"1500ms", 1500},     {"1h30m", 5400000},   {"1d2h3m4s5ms", 93784005},
      {"0s", 0},            {"007m", 420000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[128];
    snprintf(buf, sizeof buf, "when alert A run x, timeout %s\n",
             cases[i].src);
    struct run *r = parse(buf);
    assert_clean(r);
    const struct option *o = r->p.rules->options;
    assert_int_equal(o->kind, OPT_TIMEOUT);
    if (o->ms != cases[i].ms)
      fail_msg("%s: got %llu ms", cases[i].src, (unsigned long long)o->ms);
    assert_string_equal(at(r, o->ms_loc), cases[i].src);
    done(r);
  }
}

static void test_bad_durations_and_numbers(void **state) {
  (void)state;
  static const struct {
    const char *src;
    const char *msg;
  } cases[] = {
      {"cooldown 30x", "invalid duration '30x': unknown unit 'x' (use ms, s, "
                       "m, h, d or w)"},
      {"cooldown 30mins", "unknown unit 'mins'"},
      {"cooldown 1h30", "invalid duration '1h30': missing unit after '30'"},
      {"cooldown 30m1h", "write the units from the largest to the smallest"},
      {"cooldown 5m5m", "write the units from the largest to the smallest"},
      {"cooldown 1.5h", "invalid number '1.5h': only whole numbers"},
      {"cooldown 99999999999999999999s", "duration '99999999999999999999s' "
                                         "is too large"},
      {"cooldown 18446744073709551615w", "is too large"},
      {"retry 18446744073709551616", "number '18446744073709551616' is too "
                                     "large"},
      {"cooldown 30", "unexpected number '30', expected a duration; add a "
                      "unit, as in '30m'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[128];
    snprintf(buf, sizeof buf, "when alert A run x, %s\n", cases[i].src);
    struct run *r = parse(buf);
    if (r->errors != 1)
      fail_msg("%s: %d errors:\n%s", cases[i].src, r->errors, r->out);
    assert_contains(r, cases[i].msg);
    assert_null(r->p.rules); /* a rule with an error is left out */
    done(r);
  }
  /* The largest number there is. */
  struct run *r = parse("when alert A run x, retry 18446744073709551615\n");
  assert_clean(r);
  assert_true(r->p.rules->options->n == UINT64_MAX);
  done(r);
}

/* ---- lexical errors -------------------------------------------------------------- */

/* Each source draws exactly one error, with this text, at this place. */
static void check_one_error(const char *src, const char *where_and_msg) {
  struct run *r = parse(src);
  if (r->errors != 1)
    fail_msg("%s: %d errors:\n%s", src, r->errors, r->out);
  assert_contains(r, where_and_msg);
  done(r);
}

static void test_lexical_errors(void **state) {
  (void)state;
  check_one_error("when alert A run x with v = \"a\\qb\"\n",
                  "t.heal:1:31: error: unknown escape sequence '\\q'");
  check_one_error("when alert A run x with v = \"\\u{110000}\"\n",
                  "1:30: error: invalid escape '\\u{110000}': past U+10FFFF");
  check_one_error("when alert A run x with v = \"\\u{D800}\"\n",
                  "invalid escape '\\u{D800}': a surrogate is not a character");
  check_one_error("when alert A run x with v = \"\\u{0}\"\n",
                  "a string may not hold NUL");
  check_one_error("when alert A run x with v = \"\\u0041\"\n",
                  "invalid escape '\\u': write a code point as '\\u{HEX}'");
  check_one_error("when alert A run x with v = \"\\u{zz}\"\n",
                  "invalid escape '\\u{zz}'");
  check_one_error("when alert A run x with v = \"${}\"\n",
                  "1:30: error: empty interpolation '${}'");
  check_one_error("when alert A run x with v = \"${x\"\n",
                  "expected '}' to end the interpolation '${x'");
  check_one_error("when alert A run x with v = \"${labels.}\"\n",
                  "expected a name after '.' in '${labels.}'");
  check_one_error("when alert A run x with v = \"${lables.x}\"\n",
                  "unknown variable '${lables.x}'; did you mean "
                  "'${labels.x}'?");
  check_one_error("when alert A run x with v = $\n",
                  "1:29: error: expected a name after '$'");
  check_one_error("when alert A run x with v = $labels\n",
                  "'$labels' needs a name: write '$labels.NAME'");
  check_one_error("when alert A run x with v = $annotation.summary\n",
                  "unknown variable '$annotation.summary'; did you mean "
                  "'$annotations.summary'?");
  check_one_error("when alert A run x with v = $a.b.c\n",
                  "unknown variable '$a.b.c'");
  check_one_error("when alert A run x with v = $9lives\n",
                  "invalid variable '$9lives'");
  check_one_error("when alert A run x with v = ${x}\n",
                  "'${...}' is interpolation, for inside a string");
  check_one_error("window w 9:00-18:00\n", "invalid time '9:00'");
  check_one_error("window w 2026-1-1..2026-01-02\n", "invalid date '2026-1-1'");
  check_one_error("when alert A run x; cooldown 5m\n",
                  "1:19: error: unexpected character ';'");
  check_one_error("when alert A labels a == \"b\" run x\n",
                  "'==' is not an operator; did you mean '='?");
  check_one_error("when alert A labels a ~= \"b\" run x\n",
                  "did you mean '=~'?");
  check_one_error("when alert A labels a =! \"b\" run x\n",
                  "did you mean '!='?");
  check_one_error("when alert \xe2\x80\x9c" "A\xe2\x80\x9d run x\n",
                  "unexpected '\xe2\x80\x9c' (U+201C); quote strings");
}

static void test_unterminated(void **state) {
  (void)state;
  check_one_error("when alert A run \"x\nwhen alert B run y\n",
                  "t.heal:1:18: error: unterminated string: missing '\"' at "
                  "the end of the line");
  check_one_error("when alert A run \"x",
                  "unterminated string: missing '\"' at the end of the file");
  check_one_error("when alert A run 'x\n",
                  "unterminated raw string: missing \"'\" at the end of the "
                  "line");
  check_one_error("when alert A run x\n/* never\nends\n",
                  "t.heal:2:1: error: unterminated comment: '/*' without "
                  "'*/'");

  /* A string meant to span two lines is one error, and the rules after
   * it are parsed. */
  struct run *r = parse("rule a {\n"
                        "  when alert A\n"
                        "  run x with body = \"first line\n"
                        "second line\"\n"
                        "  cooldown 5m\n"
                        "}\n"
                        "when alert B run y\n");
  assert_int_equal(r->errors, 1);
  assert_int_equal(count_rules(&r->p), 1);
  assert_string_equal(r->p.rules->alerts->name, "B");
  done(r);
}

static void test_bad_bytes(void **state) {
  (void)state;
  /* NUL bytes, anywhere. */
  static const char nuls[] = "when alert A run x\0y\n"
                             "when alert B run \"a\0b\"\n"
                             "# comment \0\n"
                             "\0\0\0\0\n"
                             "when alert C run z\n";
  struct run *r = parse_n(nuls, sizeof nuls - 1);
  assert_int_equal(r->errors, 4);
  assert_contains(r, "t.heal:1:19: error: unexpected NUL byte");
  assert_contains(r, "t.heal:2:20: error: NUL byte in a string");
  assert_contains(r, "t.heal:3:11: error: NUL byte in a comment");
  assert_contains(r, "t.heal:4:1: error: unexpected NUL byte");
  assert_int_equal(count_rules(&r->p), 1); /* C */
  done(r);

  /* Invalid UTF-8 in strings, raw strings, comments and code. */
  r = parse("when alert A run \"J\xff\"\n"
            "# \xe2\x82\n"
            "when alert B run '\xed\xa0\x80'\n"
            "when alert \xfe\xfe run x\n"
            "when alert \"D\xc3\xa9\" run x\n");
  assert_int_equal(r->errors, 4);
  assert_contains(r, "1:20: error: invalid UTF-8 in a string (byte 0xff)");
  assert_contains(r, "2:3: error: invalid UTF-8 in a comment (byte 0xe2)");
  assert_contains(r, "3:19: error: invalid UTF-8 in a string (byte 0xed)");
  assert_contains(r, "4:12: error: invalid UTF-8 (byte 0xfe)");
  assert_int_equal(count_rules(&r->p), 1);
  assert_string_equal(r->p.rules->alerts->name, "D\xc3\xa9");
  done(r);

  /* A run of garbage is one message; a byte order mark is skipped. */
  r = parse("\xef\xbb\xbfwhen alert A run x @@@###\n");
  assert_int_equal(r->errors, 1);
  assert_contains(r, "1:23: error: unexpected character '@'");
  done(r);
}

static void test_binary_garbage(void **state) {
  (void)state;
  /* Pseudo-random bytes, NULs included: no crash, errors reported, the
   * sink's cap holds. */
  size_t n = 1 << 20;
  char *buf = malloc(n);
  assert_non_null(buf);
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (char)(x >> 16);
  }
  struct run *r = parse_n(buf, n);
  assert_true(r->errors > 0);
  done(r);
  free(buf);
}

static void test_long_inputs(void **state) {
  (void)state;
  /* A 100,000-byte name, then a 100,000-byte string: one error each. */
  size_t n = 100000;
  char *buf = malloc(n + 64);
  assert_non_null(buf);
  strcpy(buf, "when alert A run x ");
  memset(buf + strlen(buf), 'k', n);
  strcpy(buf + 19 + n, " 5m\n");
  struct run *r = parse(buf);
  assert_int_equal(r->errors, 1);
  assert_contains(r, "error: name 'kkkk");
  assert_contains(r, "is too long (100000 bytes; the limit is 1024)");
  done(r);

  strcpy(buf, "when alert A run x with v = \"");
  memset(buf + 29, 's', n);
  strcpy(buf + 29 + n, "\"\n");
  r = parse(buf);
  assert_int_equal(r->errors, 1);
  assert_contains(r, "string is too long (100000 bytes; the limit is 65536)");
  done(r);
  free(buf);
}

static void test_deep_nesting(void **state) {
  (void)state;
  size_t n = 1000000;
  char *buf = malloc(n + 128);
  assert_non_null(buf);
  strcpy(buf, "when alert A run x with v = ");
  size_t o = strlen(buf);
  memset(buf + o, '(', n);
  strcpy(buf + o + n, "$x\nwhen alert B run y\n");
  struct run *r = parse(buf);
  assert_int_equal(r->errors, 1);
  assert_contains(r, "t.heal:1:93: error: expression nested too deeply "
                     "(more than 64 parentheses)");
  assert_int_equal(count_rules(&r->p), 1);
  done(r);

  /* 64 levels are fine, balanced. */
  o = strlen("when alert A run x with v = ");
  memset(buf + o, '(', 64);
  buf[o + 64] = '\0';
  strcat(buf, "$x");
  size_t e = strlen(buf);
  memset(buf + e, ')', 64);
  strcpy(buf + e + 64, "\n");
  r = parse(buf);
  assert_clean(r);
  done(r);
  free(buf);
}

/* ---- syntax errors ------------------------------------------------------------------ */

static void test_did_you_mean(void **state) {
  (void)state;
  check_one_error("when alert A run x, cooldwn 5m\n",
                  "t.heal:1:21: error: unknown option 'cooldwn'; did you "
                  "mean 'cooldown'?");
  check_one_error("when alert A lables a = \"b\" run x\n",
                  "unknown clause 'lables'; did you mean 'labels'?");
  check_one_error("when alert A run x wiht v = \"1\"\n",
                  "1:20: error: unknown clause 'wiht'; did you mean 'with'?");
  check_one_error("when alert A run x, on sucess notify slack\n",
                  "1:24: error: unknown event 'sucess'; did you mean "
                  "'success'?");
  check_one_error("when alert A run x, on done notify slack\n",
                  "unknown event 'done': expected 'success', 'failure' or "
                  "'timeout'");
  check_one_error("when alert A run x\nwehn alert B run y\n",
                  "t.heal:2:1: error: unknown declaration 'wehn'; did you "
                  "mean 'when'?");
  check_one_error("rul r { when alert A run x }\n",
                  "unknown declaration 'rul'; did you mean 'rule'?");
  check_one_error("when alert A run x, retry 3 bakoff 5s\n",
                  "did you mean 'backoff'?");
}

static void test_syntax_messages(void **state) {
  (void)state;
  check_one_error("when alert A run x, cooldown\n",
                  "t.heal:1:29: error: expected a duration after 'cooldown'");
  check_one_error("when alert A run x, cooldown per $x\n",
                  "1:30: error: unexpected 'per', expected a duration");
  check_one_error("when NodeDown run x\n",
                  "1:6: error: unexpected name 'NodeDown', expected 'alert'");
  check_one_error("when alert run x\n",
                  "unexpected 'run', expected an alert name");
  check_one_error("when alert A labels env run x\n",
                  "unexpected 'run', expected '=', '!=', '=~' or '!~'");
  check_one_error("when alert A labels env = dev run x\n",
                  "1:27: error: matcher value must be a string: write "
                  "\"dev\"");
  check_one_error("when alert A labels env = $x run x\n",
                  "matcher value must be a literal string, not a variable");
  check_one_error("when alert A run x with v = instance\n",
                  "'instance' is not a value: write $instance for the "
                  "label, or \"instance\" for the text");
  check_one_error("when alert A run x with v = host($x\n",
                  "expected ')' or ',' after '$x'");
  check_one_error("when alert A run x with timeout = \"1\"\n",
                  "unexpected 'timeout', expected a parameter name; to use "
                  "a keyword as a name, quote it: \"timeout\"");
  check_one_error("alert A run x\n", "missing 'when' before 'alert'");
  check_one_error("foo\n", "unexpected name 'foo', expected 'when', 'rule', "
                           "'backend' or 'window'");
  check_one_error("when alert A run\n",
                  "expected an action such as 'jenkins' after 'run'");
  check_one_error("when alert A with v = \"1\"\n",
                  "'with' before any 'run': parameters belong to the 'run' "
                  "before them");
  check_one_error("rule r when alert A run x }\n",
                  "1:8: error: missing '{' after 'rule r'");
  check_one_error("when alert A run x }\n", "1:20: error: unmatched '}'");
  check_one_error("}}}}\n}}\nwhen alert A run x\n",
                  "1:1: error: unmatched '}'");
  check_one_error("window w 09:00 18:00\n",
                  "unexpected time '18:00', expected '-'");
  check_one_error("window w in Europe\n",
                  "expected a time zone string such as \"Europe/Berlin\"");
  check_one_error("window w 2026-01-01..2026-01-02 2026-02-01..2026-02-02\n",
                  "window 'w' has a second date range (the first is on "
                  "line 1)");
  check_one_error("backend jenkins ci { url \"x\" }\n",
                  "unexpected string \"x\", expected '='");
}

static void test_unclosed_block(void **state) {
  (void)state;
  struct run *r = parse("rule a {\n"
                        "  when alert A\n"
                        "  run x\n"
                        "\n"
                        "rule b {\n"
                        "  when alert B\n"
                        "  run y\n"
                        "}\n");
  assert_int_equal(r->errors, 1);
  assert_contains(r, "t.heal:3:8: error: expected '}' (to close 'rule' at "
                     "line 1) after 'x'");
  assert_int_equal(count_rules(&r->p), 1);
  assert_string_equal(r->p.rules->name, "b");
  done(r);

  /* A second `when` in a block: the block is taken as unclosed, and its
   * own '}' draws nothing more. */
  r = parse("rule a { when alert A run x when alert B run y }\n"
            "when alert C run z\n");
  assert_int_equal(r->errors, 1);
  assert_contains(r, "t.heal:1:29: error: unexpected 'when', expected '}' "
                     "(to close 'rule' at line 1)");
  assert_int_equal(count_rules(&r->p), 2); /* B and C */
  done(r);

  r = parse("backend jenkins ci {\n  url = \"x\"\n");
  assert_int_equal(r->errors, 1);
  assert_contains(r, "t.heal:2:12: error: expected '}' (to close 'backend' "
                     "at line 1) after \"x\"");
  assert_non_null(r->p.backends); /* kept: rules may name it */
  done(r);
}

/* Three independent errors, good rules around them: each error once, the
 * good rules parsed. */
static void test_recovery_between_rules(void **state) {
  (void)state;
  struct run *r = parse("when alert A run x, cooldwn 5m\n"
                        "when alert B run x\n"
                        "when alert C labels env == \"dev\" run x\n"
                        "when alert D run x\n"
                        "when alert E run x with v = host($x\n"
                        "when alert F run x\n"
                        "backend jenkins { url = \"x\" }\n"
                        "when alert G run x\n");
  if (r->errors != 4)
    fail_msg("%d errors:\n%s", r->errors, r->out);
  assert_contains(r, "1:21: error: unknown option 'cooldwn'");
  assert_contains(r, "3:25: error: '==' is not an operator");
  assert_contains(r, "5:36: error: expected ')' or ',' after '$x'");
  assert_contains(r, "7:17: error: unexpected '{', expected a backend name");
  assert_int_equal(count_rules(&r->p), 4); /* B D F G */
  const char *names = "BDFG";
  int i = 0;
  for (const struct rule *ru = r->p.rules; ru; ru = ru->next)
    assert_int_equal(ru->alerts->name[0], names[i++]);
  done(r);
}

static void test_recovery_inside_a_rule(void **state) {
  (void)state;
  struct run *r = parse("rule many {\n"
                        "  when alert A\n"
                        "  labels env = dev\n"
                        "  run jenkins Job\n"
                        "  with node = host($instance\n"
                        "  cooldown\n"
                        "  timeout 5m\n"
                        "}\n"
                        "rule after { when alert B run y }\n");
  if (r->errors != 3)
    fail_msg("%d errors:\n%s", r->errors, r->out);
  assert_contains(r, "3:16: error: matcher value must be a string");
  assert_contains(r, "5:29: error: expected ')' or ',' after '$instance'");
  assert_contains(r, "6:11: error: expected a duration after 'cooldown'");
  assert_int_equal(count_rules(&r->p), 1);
  assert_string_equal(r->p.rules->name, "after");
  done(r);
}

static void test_garbage_lines(void **state) {
  (void)state;
  struct run *r = parse("backend jenkins ci { url = \"x\" }\n"
                        "foo bar baz\n"
                        "\"just a string\"\n"
                        "= = =\n"
                        "when alert B run x\n");
  assert_int_equal(r->errors, 3);
  assert_contains(r, "2:1: error: unexpected name 'foo'");
  assert_contains(r, "3:1: error: unexpected string \"just a string\"");
  assert_contains(r, "4:1: error: unexpected '='");
  assert_int_equal(count_rules(&r->p), 1);
  done(r);
}

static void test_broken_backend_and_window_kept(void **state) {
  (void)state;
  /* A field whose value does not parse is kept with no value, so the
   * checker reports no missing field; a broken window keeps only its
   * name. */
  struct run *r = parse("backend jenkins ci { url = https://x }\n"
                        "window w weekdays in Europe/Berlin\n");
  assert_int_equal(r->errors, 2);
  const struct backend *b = r->p.backends;
  assert_non_null(b);
  assert_string_equal(b->fields->name, "url");
  assert_null(b->fields->value);
  const struct window *w = r->p.windows;
  assert_non_null(w);
  assert_string_equal(w->name, "w");
  assert_null(w->parts);
  assert_null(w->tz);
  done(r);
}

static void test_empty_and_comments(void **state) {
  (void)state;
  struct run *r = parse("");
  assert_clean(r);
  assert_null(r->p.rules);
  done(r);
  r = parse("# only\n/* comments\n * here */\n/**/#\n");
  assert_clean(r);
  done(r);
  r = parse("when alert A run x\r\nwhen alert B run y\r\n");
  assert_clean(r);
  assert_int_equal(count_rules(&r->p), 2);
  done(r);
}

static void test_commas_anywhere(void **state) {
  (void)state;
  struct run *r = parse("when alert A, B,, labels a = \"1\",, b = \"2\", "
                        "run x, with p = \"1\",, q = \"2\",, cooldown 1m,,"
                        " on failure, timeout, notify slack,\n");
  assert_clean(r);
  const struct rule *ru = r->p.rules;
  assert_string_equal(ru->alerts->next->name, "B");
  assert_string_equal(ru->matchers->next->name, "b");
  assert_int_equal(count_params(ru->steps->params), 2);
  assert_int_equal(ru->notifies->events, HL_EV_FAILURE | HL_EV_TIMEOUT);
  done(r);
}

static void test_several_files(void **state) {
  (void)state;
  struct program p;
  struct diag d;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  program_init(&p, &d);
  p.sources = arena_alloc(&p.arena, 2 * sizeof *p.sources);
  p.sources[0].path = "a.heal";
  p.sources[0].text = "when alert A run x\n";
  p.sources[0].len = strlen(p.sources[0].text);
  p.sources[1].path = "b.heal";
  p.sources[1].text = "when alert B run y, cooldwn 1m\nwhen alert C run z\n";
  p.sources[1].len = strlen(p.sources[1].text);
  p.nsources = 2;
  diag_init(&d, f, p.sources, &p.nsources);
  assert_int_equal(parse_source(&p, 0), 0);
  assert_int_equal(parse_source(&p, 1), 1);
  fflush(f);
  assert_non_null(strstr(out, "b.heal:1:21: error: unknown option"));
  assert_int_equal(count_rules(&p), 2);
  assert_int_equal(p.rules->loc.file, 0);
  assert_int_equal(p.rules->next->loc.file, 1);
  program_free(&p);
  fclose(f);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_one_line_form),
      cmocka_unit_test(test_block_form),
      cmocka_unit_test(test_retry_without_backoff),
      cmocka_unit_test(test_via_forms),
      cmocka_unit_test(test_several_rules_and_declarations),
      cmocka_unit_test(test_times_as_written),
      cmocka_unit_test(test_window_parts),
      cmocka_unit_test(test_expr_literals),
      cmocka_unit_test(test_expr_variables),
      cmocka_unit_test(test_expr_calls),
      cmocka_unit_test(test_expr_default_is_left_associative),
      cmocka_unit_test(test_expr_parentheses),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_interpolation),
      cmocka_unit_test(test_interpolation_only_in_values),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_bad_durations_and_numbers),
      cmocka_unit_test(test_lexical_errors),
      cmocka_unit_test(test_unterminated),
      cmocka_unit_test(test_bad_bytes),
      cmocka_unit_test(test_binary_garbage),
      cmocka_unit_test(test_long_inputs),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_did_you_mean),
      cmocka_unit_test(test_syntax_messages),
      cmocka_unit_test(test_unclosed_block),
      cmocka_unit_test(test_recovery_between_rules),
      cmocka_unit_test(test_recovery_inside_a_rule),
      cmocka_unit_test(test_garbage_lines),
      cmocka_unit_test(test_broken_backend_and_window_kept),
      cmocka_unit_test(test_empty_and_comments),
      cmocka_unit_test(test_commas_anywhere),
      cmocka_unit_test(test_several_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
