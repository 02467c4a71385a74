/*
 * test_check.c - unit tests of compiler/check.c, the semantic checks.
 *
 * Two kinds of test:
 *   - hand-built trees (fx_*: no parser involved) for what check_program()
 *     fills in: action ids, targets, backends, display names, day masks,
 *     function and field ids;
 *   - source text run through parse_source() and check_program(), for every
 *     diagnostic the checks print: the exact "file:line:col: kind: message"
 *     lines are compared (the caret rendering is diag.c's, covered by
 *     tests/diag/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "../../compiler/check.h"
#include "../../compiler/diag.h"
#include "../../dsl/ast.h"
#include "../../core/results.h"

/* ---- a program over one source text, diagnostics into memory ------------- */

struct fx {
  struct program p;
  struct diag d;
  FILE *out;
  char *buf;
  size_t len;
};

static void fx_open(struct fx *f, const char *path, const char *src) {
  memset(f, 0, sizeof *f);
  f->out = open_memstream(&f->buf, &f->len);
  assert_non_null(f->out);
  program_init(&f->p, &f->d);
  f->p.sources = arena_alloc(&f->p.arena, sizeof *f->p.sources);
  f->p.sources[0].path = path;
  f->p.sources[0].text = arena_strdup(&f->p.arena, src);
  f->p.sources[0].len = strlen(src);
  f->p.nsources = 1;
  diag_init(&f->d, f->out, f->p.sources, &f->p.nsources);
}

/* The diagnostics printed so far (owned by f). */
static const char *fx_output(struct fx *f) {
  fflush(f->out);
  return f->buf ? f->buf : "";
}

static void fx_close(struct fx *f) {
  fclose(f->out);
  free(f->buf);
  program_free(&f->p);
}

/* Where the nth (1-based) occurrence of needle is in the source. */
static struct loc at_n(struct fx *f, const char *needle, int nth) {
  const char *text = f->p.sources[0].text, *s = text;
  for (;;) {
    s = strstr(s, needle);
    assert_non_null(s);
    if (--nth == 0)
      break;
    s++;
  }
  struct loc l = {0, (uint32_t)(s - text),
                  (uint32_t)(s - text + strlen(needle))};
  return l;
}

static struct loc at(struct fx *f, const char *needle) {
  return at_n(f, needle, 1);
}

static void *fx_new(struct fx *f, size_t n) {
  return arena_alloc(&f->p.arena, n);
}

static struct rule *fx_rule(struct fx *f, const char *name, struct loc kw) {
  struct rule *r = fx_new(f, sizeof *r), **tail = &f->p.rules;
  r->name = name;
  r->loc = kw;
  if (name)
    r->name_loc = at(f, name);
  while (*tail)
    tail = &(*tail)->next;
  *tail = r;
  return r;
}

static void fx_alert(struct fx *f, struct rule *r, const char *name) {
  struct alert_name *a = fx_new(f, sizeof *a), **tail = &r->alerts;
  a->name = name;
  a->loc = at(f, name);
  while (*tail)
    tail = &(*tail)->next;
  *tail = a;
}

static struct expr *fx_expr(struct fx *f, enum expr_kind kind, const char *str,
                            struct loc l) {
  struct expr *e = fx_new(f, sizeof *e);
  e->kind = kind;
  e->str = str;
  e->len = str ? strlen(str) : 0;
  e->loc = l;
  return e;
}

static void fx_arg(struct expr *e, struct expr *arg) {
  struct expr **tail = &e->args;
  while (*tail)
    tail = &(*tail)->next;
  *tail = arg;
}

/* A step with the given words (space-separated, each found in the source). */
static struct step *fx_step(struct fx *f, struct rule *r, const char *words) {
  struct step *s = fx_new(f, sizeof *s), **tail = &r->steps;
  struct word **wt = &s->words;
  char *copy = arena_strdup(&f->p.arena, words), *save = NULL;
  for (char *w = strtok_r(copy, " ", &save); w;
       w = strtok_r(NULL, " ", &save)) {
    struct word *wd = fx_new(f, sizeof *wd);
    wd->text = w;
    wd->loc = at(f, w);
    *wt = wd;
    wt = &wd->next;
  }
  s->loc = at(f, "run");
  s->loc.end = s->words ? at(f, words).end : s->loc.end;
  while (*tail)
    tail = &(*tail)->next;
  *tail = s;
  return s;
}

static void fx_param(struct fx *f, struct step *s, const char *name,
                     struct expr *value) {
  struct param *p = fx_new(f, sizeof *p), **tail = &s->params;
  p->name = name;
  p->name_loc = at(f, name);
  p->value = value;
  while (*tail)
    tail = &(*tail)->next;
  *tail = p;
}

static struct matcher *fx_matcher(struct fx *f, struct rule *r,
                                  enum hl_match_op op, const char *name,
                                  struct expr *value) {
  struct matcher *m = fx_new(f, sizeof *m), **tail = &r->matchers;
  m->on = HL_ON_LABEL;
  m->op = op;
  m->name = name;
  m->name_loc = at(f, name);
  m->value = value;
  while (*tail)
    tail = &(*tail)->next;
  *tail = m;
  return m;
}

static struct option *fx_option(struct fx *f, struct rule *r,
                                enum option_kind kind, struct loc l) {
  struct option *o = fx_new(f, sizeof *o), **tail = &r->options;
  o->kind = kind;
  o->loc = l;
  o->ms_loc = o->n_loc = o->name_loc = l;
  while (*tail)
    tail = &(*tail)->next;
  *tail = o;
  return o;
}

static struct backend *fx_backend(struct fx *f, const char *kind,
                                  const char *name) {
  struct backend *b = fx_new(f, sizeof *b), **tail = &f->p.backends;
  b->kind = kind;
  b->kind_loc = at(f, kind);
  b->name = name;
  b->name_loc = at(f, name);
  while (*tail)
    tail = &(*tail)->next;
  *tail = b;
  return b;
}

static void fx_field(struct fx *f, struct backend *b, const char *name,
                     struct expr *value) {
  struct field *fd = fx_new(f, sizeof *fd), **tail = &b->fields;
  fd->name = name;
  fd->name_loc = at(f, name);
  fd->value = value;
  while (*tail)
    tail = &(*tail)->next;
  *tail = fd;
}

static struct window *fx_window(struct fx *f, const char *name,
                                const char *days) {
  struct window *w = fx_new(f, sizeof *w), **tail = &f->p.windows;
  struct wpart **pt = &w->parts;
  w->name = name;
  w->name_loc = at(f, name);
  char *copy = arena_strdup(&f->p.arena, days), *save = NULL;
  for (char *d = strtok_r(copy, " ", &save); d;
       d = strtok_r(NULL, " ", &save)) {
    struct wpart *p = fx_new(f, sizeof *p);
    p->kind = WP_NAME;
    p->lo = d;
    p->loc = p->lo_loc = p->hi_loc = at(f, d);
    *pt = p;
    pt = &p->next;
  }
  while (*tail)
    tail = &(*tail)->next;
  *tail = w;
  return w;
}

/* Only the "file:line:col: kind: message" lines of diagnostics output,
 * joined with '\n' (a static buffer). */
static const char *headers(const char *out) {
  static char buf[1 << 16];
  size_t n = 0;
  buf[0] = '\0';
  for (const char *line = out; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > 0 && line[0] != ' ' && !memchr(line, '|', len) &&
        (strstr(line, ": error: ") || strstr(line, ": warning: ") ||
         strstr(line, ": note: "))) {
      if (n + len + 2 < sizeof buf) {
        memcpy(buf + n, line, len);
        n += len;
        buf[n++] = '\n';
        buf[n] = '\0';
      }
    }
    line = end ? end + 1 : line + len;
  }
  return buf;
}

/* ---- hand-built trees: what check_program fills in -------------------------
 */

/* A one-line rule's names: "<stem>#<8 hex digits>", and the former one. */
static void assert_oneline_name(const struct rule *r, const char *stem, const char *former) {
  size_t n = strlen(stem);
  assert_int_equal(strlen(r->display_name), n + 9);
  assert_memory_equal(r->display_name, stem, n);
  assert_int_equal(r->display_name[n], '#');
  assert_int_equal(strspn(r->display_name + n + 1, "0123456789abcdef"), 8);
  assert_string_equal(r->former_name, former);
}

static void test_fills_actions_and_targets(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f, "rules/disk.heal",
          "when alert A run kubernetes cordon via k with node = \"n\"\n"
          "backend kubernetes k { url = \"https://k\" }\n"
          "rule r { when alert B run jenkins \"infra/Job\" }\n");
  struct rule *r1 = fx_rule(&f, NULL, at(&f, "when"));
  fx_alert(&f, r1, "A");
  struct step *s1 = fx_step(&f, r1, "kubernetes cordon");
  s1->via = "k";
  s1->via_loc = at(&f, "k with");
  s1->via_loc.end = s1->via_loc.begin + 1;
  fx_param(&f, s1, "node", fx_expr(&f, EXPR_STR, "n", at(&f, "\"n\"")));
  struct backend *b = fx_backend(&f, "kubernetes k", "k {");
  b->kind = "kubernetes";
  b->name = "k";
  fx_field(&f, b, "url",
           fx_expr(&f, EXPR_STR, "https://k", at(&f, "\"https://k\"")));
  struct rule *r2 = fx_rule(&f, "r", at(&f, "rule"));
  fx_alert(&f, r2, "B");
  struct step *s2 = fx_step(&f, r2, "jenkins");
  struct word *t = fx_new(&f, sizeof *t);
  t->text = "infra/Job";
  t->loc = at(&f, "\"infra/Job\"");
  t->quoted = 1;
  s2->words->next = t;

  assert_int_equal(check_program(&f.p), 0);
  assert_string_equal(fx_output(&f), "");
  assert_int_equal(s1->action, HL_ACT_K8S_CORDON);
  assert_null(s1->target);
  assert_ptr_equal(s1->backend, b);
  assert_int_equal(b->backend_kind, HL_BK_KUBERNETES);
  assert_int_equal(s2->action, HL_ACT_JENKINS);
  assert_string_equal(s2->target, "infra/Job");
  assert_int_equal(s2->target_loc.begin, t->loc.begin);
  assert_null(s2->backend);
  assert_oneline_name(r1, "disk", "disk:1");
  assert_string_equal(r2->display_name, "r");
  assert_null(r2->former_name);
  fx_close(&f);
}

static void test_fills_display_names_unique(void **state) {
  (void)state;
  struct fx f;
  /* Two one-line rules on one line get distinct names (they differ in
   * what they take and run); their former names were "two:3" and
   * "two:3:28", now both "two:3". */
  fx_open(&f, "x.heal.bak/dir/two.heal",
          "\n\nwhen alert A run jenkins J when alert B run jenkins K\n");
  struct rule *r1 = fx_rule(&f, NULL, at_n(&f, "when", 1));
  fx_alert(&f, r1, "A");
  fx_step(&f, r1, "jenkins J");
  struct rule *r2 = fx_rule(&f, NULL, at_n(&f, "when", 2));
  fx_alert(&f, r2, "B");
  struct step *s = fx_step(&f, r2, "jenkins");
  struct word *k = fx_new(&f, sizeof *k);
  k->text = "K";
  k->loc = at(&f, "K");
  s->words->next = k;
  assert_int_equal(check_program(&f.p), 0);
  assert_string_equal(fx_output(&f), "");
  assert_oneline_name(r1, "two", "two:3");
  assert_oneline_name(r2, "two", "two:3");
  assert_string_not_equal(r1->display_name, r2->display_name);
  fx_close(&f);
}

static void test_fills_expression_ids(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f, "t.heal",
          "when alert A labels x =~ \".+\" run jenkins J with "
          "a = host($x), b = $alert.startsAt\n");
  struct rule *r = fx_rule(&f, NULL, at(&f, "when"));
  fx_alert(&f, r, "A");
  fx_matcher(&f, r, HL_MATCH_RE, "x",
             fx_expr(&f, EXPR_STR, ".+", at(&f, "\".+\"")));
  struct step *s = fx_step(&f, r, "jenkins J");
  struct expr *call = fx_expr(&f, EXPR_CALL, "host", at(&f, "host($x)"));
  fx_arg(call, fx_expr(&f, EXPR_LABEL, "x", at(&f, "$x")));
  struct expr *field =
      fx_expr(&f, EXPR_FIELD, "startsAt", at(&f, "$alert.startsAt"));
  fx_param(&f, s, "a", call);
  fx_param(&f, s, "b", field);
  assert_int_equal(check_program(&f.p), 0);
  assert_string_equal(fx_output(&f), "");
  assert_int_equal(call->id, HL_FN_HOST);
  assert_int_equal(field->id, HL_FIELD_STARTS_AT);
  fx_close(&f);
}

static void test_fills_windows_and_notify(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f, "t.heal",
          "window w1 weekdays\n"
          "window w2 sat sun mon\n"
          "window w3\n"
          "backend slack chat { webhook = env(\"HOOK\") }\n"
          "when alert A run jenkins J, during w1, on failure notify slack "
          "\"#ops\" via chat\n");
  struct window *w1 = fx_window(&f, "w1", "weekdays");
  struct window *w2 = fx_window(&f, "w2", "sat sun mon");
  struct window *w3 = fx_window(&f, "w3", "");
  struct backend *b = fx_backend(&f, "slack", "chat");
  struct expr *env = fx_expr(&f, EXPR_CALL, "env", at(&f, "env(\"HOOK\")"));
  fx_arg(env, fx_expr(&f, EXPR_STR, "HOOK", at(&f, "\"HOOK\"")));
  fx_field(&f, b, "webhook", env);
  struct rule *r = fx_rule(&f, NULL, at(&f, "when"));
  fx_alert(&f, r, "A");
  fx_step(&f, r, "jenkins J");
  struct option *o = fx_option(&f, r, OPT_DURING, at(&f, "during w1"));
  o->name = "w1";
  struct notify *n = fx_new(&f, sizeof *n);
  n->events = HL_EV_FAILURE;
  n->how = NOTIFY_NOTIFY;
  n->kind = "slack";
  n->kind_loc = at_n(&f, "slack", 2);
  n->target = "#ops";
  n->target_loc = at(&f, "\"#ops\"");
  n->via = "chat";
  n->via_loc = at_n(&f, "chat", 2);
  r->notifies = n;
  assert_int_equal(check_program(&f.p), 0);
  assert_string_equal(fx_output(&f), "");
  assert_int_equal(w1->day_mask, 0x3e);
  assert_int_equal(w2->day_mask, 0x43);
  assert_int_equal(w3->day_mask, 0x7f);
  assert_ptr_equal(o->window, w1);
  assert_int_equal(n->backend_kind, HL_BK_SLACK);
  assert_ptr_equal(n->backend, b);
  assert_int_equal(env->id, HL_SRC_ENV);
  fx_close(&f);
}

/* A diagnostic from a hand-built tree: the location comes from the tree. */
static void test_hand_built_unknown_kind(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f, "t.heal", "when alert A run jenkns Job\n");
  struct rule *r = fx_rule(&f, NULL, at(&f, "when"));
  fx_alert(&f, r, "A");
  struct step *s = fx_step(&f, r, "jenkns Job");
  assert_int_equal(check_program(&f.p), 1);
  assert_string_equal(headers(fx_output(&f)),
                      "t.heal:1:18: error: unknown action kind 'jenkns'; did "
                      "you mean 'jenkins'?\n");
  assert_int_equal(s->action, -1);
  fx_close(&f);
}

/* 100,000 rules for one alert name, each with a matcher, a regex, a
 * parameter and a backend: the checks must stay linear (no comparison of
 * every rule with every other, for names, backends or shadowing). */
static void test_scales_linearly(void **state) {
  (void)state;
  enum { N = 100000 };
  struct fx f;
  fx_open(&f, "big.heal",
          "backend jenkins ci { url = \"https://j\" }\n"
          "when alert A labels env = \"x\", instance =~ '.+:\\d+' run jenkins "
          "Job via ci with node = host($instance)\n");
  struct backend *b = fx_backend(&f, "jenkins", "ci");
  fx_field(&f, b, "url",
           fx_expr(&f, EXPR_STR, "https://j", at(&f, "\"https://j\"")));
  struct rule **tail = &f.p.rules;
  struct loc when = at(&f, "when");
  for (int i = 0; i < N; i++) {
    struct rule *r = fx_new(&f, sizeof *r);
    char name[32];
    snprintf(name, sizeof name, "r%d", i);
    r->name = arena_strdup(&f.p.arena, name);
    r->loc = r->name_loc = when;
    r->alerts = fx_new(&f, sizeof *r->alerts);
    r->alerts->name = "A";
    struct matcher *m = fx_new(&f, sizeof *m);
    m->op = HL_MATCH_EQ;
    m->name = "env";
    m->value = fx_expr(&f, EXPR_STR, r->name, when);
    m->next = fx_new(&f, sizeof *m);
    m->next->op = HL_MATCH_RE;
    m->next->name = "instance";
    m->next->value = fx_expr(&f, EXPR_STR, ".+:\\d+", when);
    r->matchers = m;
    struct step *s = fx_new(&f, sizeof *s);
    struct word *w = fx_new(&f, sizeof *w), *t = fx_new(&f, sizeof *t);
    w->text = "jenkins";
    t->text = "Job";
    w->next = t;
    s->words = w;
    s->via = "ci";
    s->params = fx_new(&f, sizeof *s->params);
    s->params->name = "node";
    s->params->value = fx_expr(&f, EXPR_CALL, "host", when);
    fx_arg(s->params->value, fx_expr(&f, EXPR_LABEL, "instance", when));
    r->steps = s;
    *tail = r;
    tail = &r->next;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(check_program(&f.p), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs =
      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  assert_string_equal(fx_output(&f), "");
  /* Generous: sanitizer builds are several times slower. */
  if (secs > 5.0)
    fail_msg("checking %d rules took %.2f s", N, secs);
  fx_close(&f);
}

/* What the parser cannot produce, but a tree may hold: expressions nested
 * deeper than the checker walks, NUL bytes in backend fields. */
static void test_hand_built_limits(void **state) {
  (void)state;
  struct fx f;
  fx_open(&f, "t.heal",
          "when alert A run jenkins J with a = lower(lower(x))\n"
          "backend jenkins ci { url = \"u\", token = file(\"p\") }\n");
  struct rule *r = fx_rule(&f, NULL, at(&f, "when"));
  fx_alert(&f, r, "A");
  struct step *s = fx_step(&f, r, "jenkins J");
  struct loc l = at(&f, "lower(lower(x))");
  struct expr *top = fx_expr(&f, EXPR_CALL, "lower", l), *e = top;
  for (int i = 0; i < 300; i++) {
    struct expr *inner = fx_expr(&f, EXPR_CALL, "lower", l);
    fx_arg(e, inner);
    e = inner;
  }
  fx_arg(e, fx_expr(&f, EXPR_STR, "x", at(&f, "x))")));
  fx_param(&f, s, "a", top);
  struct backend *b = fx_backend(&f, "jenkins ci", "ci {");
  b->kind = "jenkins";
  b->name = "ci";
  struct expr *url = fx_expr(&f, EXPR_STR, "u", at(&f, "\"u\""));
  url->str = "u\0v";
  url->len = 3;
  fx_field(&f, b, "url", url);
  struct expr *file = fx_expr(&f, EXPR_CALL, "file", at(&f, "file(\"p\")"));
  struct expr *path = fx_expr(&f, EXPR_STR, "p", at(&f, "\"p\""));
  path->str = "p\0q";
  path->len = 3;
  fx_arg(file, path);
  fx_field(&f, b, "token", file);
  assert_int_equal(check_program(&f.p), 3);
  assert_string_equal(
      headers(fx_output(&f)),
      "t.heal:1:37: error: expression is nested too deeply (more than 200 "
      "levels)\n"
      "t.heal:2:28: error: field 'url' must not contain a NUL byte\n"
      "t.heal:2:46: error: the argument of file() must not contain a NUL "
      "byte\n");
  fx_close(&f);
}

/* ---- source text: every diagnostic ----------------------------------------
 */

/* One expected diagnostic: "KIND: message" at the nth (1-based; 0 means 1)
 * occurrence of needle in the source, shifted by plus bytes. */
struct want {
  const char *needle;
  int nth;
  int plus;
  const char *text;
};

static void line_col_of(const char *src, size_t off, unsigned *line,
                        unsigned *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (src[i] == '\n')
      ++*line, *col = 1;
    else
      ++*col;
  }
}

/* Parses src as "t.heal" (which must parse cleanly), checks it, and
 * compares the diagnostic lines with want and the error count with errors. */
static void expect_diags(const char *src, unsigned errors,
                         const struct want *want, size_t n) {
  static char expected[1 << 15];
  size_t o = 0;
  expected[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (!want[i].needle)
      continue;
    const char *s = src;
    for (int k = want[i].nth ? want[i].nth : 1;; s++) {
      s = strstr(s, want[i].needle);
      if (!s)
        fail_msg("needle '%s' not in source", want[i].needle);
      if (--k == 0)
        break;
    }
    unsigned line, col;
    line_col_of(src, (size_t)(s - src) + (size_t)want[i].plus, &line, &col);
    o += (size_t)snprintf(expected + o, sizeof expected - o,
                          "t.heal:%u:%u: %s\n", line, col, want[i].text);
  }
  struct fx f;
  fx_open(&f, "t.heal", src);
  int perr = parse_source(&f.p, 0);
  if (perr != 0)
    fail_msg("the parser rejected the test input:\n%s", fx_output(&f));
  unsigned got = check_program(&f.p);
  const char *out = headers(fx_output(&f));
  if (strcmp(out, expected) != 0)
    print_error("source:\n%s\nfull output:\n%s", src, fx_output(&f));
  assert_string_equal(out, expected);
  assert_int_equal(got, errors);
  fx_close(&f);
}

#define EXPECT(src, errors, ...)                                               \
  expect_diags((src), (errors), (const struct want[]){__VA_ARGS__},            \
               sizeof((const struct want[]){__VA_ARGS__}) /                    \
                   sizeof(struct want))
#define CLEAN(src) EXPECT((src), 0, {NULL, 0, 0, NULL})

static void test_action_kind(void **state) {
  (void)state;
  EXPECT("when alert A run jenkns Job\n", 1,
         {"jenkns", 0, 0,
          "error: unknown action kind 'jenkns'; did you mean 'jenkins'?"});
  EXPECT("when alert A run kubernets cordon with node = \"n1\"\n", 1,
         {"kubernets", 0, 0,
          "error: unknown action kind 'kubernets'; did you mean "
          "'kubernetes'?"});
  EXPECT("when alert A run ansible \"site.yml\"\n", 1,
         {"ansible", 0, 0,
          "error: unknown action kind 'ansible'; expected 'jenkins', "
          "'kubernetes', 'spinnaker' or 'webhook'"});
}

static void test_action_verb(void **state) {
  (void)state;
  EXPECT("when alert A run kubernetes cordn with node = \"n1\"\n", 1,
         {"cordn", 0, 0,
          "error: unknown kubernetes verb 'cordn'; did you mean 'cordon'?"});
  EXPECT("when alert A run kubernetes rollout_restart with namespace = "
         "\"ns\", deployment = \"d\"\n",
         1,
         {"rollout_restart", 0, 0,
          "error: unknown kubernetes verb 'rollout_restart'; did you mean "
          "'rollout-restart'?"});
  EXPECT("when alert A run kubernetes delete with node = \"n1\"\n", 1,
         {"delete", 0, 0,
          "error: unknown kubernetes verb 'delete'; expected 'job', "
          "'cordon', 'drain', 'evict' or 'rollout-restart'"});
  EXPECT("when alert A run kubernetes with node = \"n1\"\n", 1,
         {" with", 0, 0,
          "error: missing verb after 'kubernetes'; expected 'job', 'cordon', "
          "'drain', 'evict' or 'rollout-restart'"});
}

static void test_action_target(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins\n", 1,
         {"\n", 0, 0, "error: missing job name after 'jenkins'"});
  EXPECT("when alert A run spinnaker with application = \"app\"\n", 1,
         {" with", 0, 0, "error: missing pipeline name after 'spinnaker'"});
  EXPECT("when alert A run kubernetes job with namespace = \"ns\", image = "
         "\"busybox\"\n",
         1, {" with", 0, 0, "error: missing job name after 'kubernetes job'"});
  EXPECT("when alert A run kubernetes cordon \"node1\" with node = \"n1\"\n", 1,
         {"\"node1\"", 0, 0,
          "error: unexpected 'node1': 'kubernetes cordon' takes no name; give "
          "what it acts on as a parameter"});
  EXPECT("when alert A run webhook with method = \"POST\"\n", 1,
         {" with", 0, 0, "error: missing path name after 'webhook'"});
  EXPECT("when alert A run jenkins Job Extra\n", 1,
         {"Extra", 0, 0,
          "error: unexpected 'Extra' after job name 'Job'; write a name with "
          "spaces as a string"});
  EXPECT("when alert A run jenkins \"\"\n", 1,
         {"\"\"", 0, 0, "error: job name must not be empty"});
  CLEAN("when alert A run jenkins \"folder/sub/Job\"\n"
        "when alert B run kubernetes job \"cleanup\" with namespace = \"ns\", "
        "template = \"t\"\n"
        "when alert C run webhook \"/hooks/restart\" with method = \"PUT\"\n");
}

static void test_params_unknown(void **state) {
  (void)state;
  /* The did-you-mean names the missing parameter: no second error. */
  EXPECT("when alert A run kubernetes cordon with nod = \"n1\"\n", 1,
         {"nod", 0, 0,
          "error: unknown parameter 'nod' for 'kubernetes cordon'; did you "
          "mean 'node'?"});
  EXPECT("when alert A run kubernetes drain with node = \"n1\", zzz = \"30\"\n",
         1,
         {"zzz", 0, 0,
          "error: unknown parameter 'zzz' for 'kubernetes drain'; expected "
          "'node' or 'grace_period'"});
  /* jenkins, spinnaker, kubernetes job and webhook pass other parameters
   * through. */
  CLEAN("when alert A run jenkins Job with anything = \"goes\", \"any name\" = "
        "\"x\"\n"
        "when alert B run spinnaker \"p\" with application = \"a\", whatever "
        "= \"x\"\n"
        "when alert C run kubernetes job \"c\" with namespace = \"ns\", image = "
        "\"busybox\", LEVEL = \"debug\"\n"
        "when alert D run webhook \"/h\" with whatever = \"x\"\n");
}

static void test_params_missing(void **state) {
  (void)state;
  EXPECT("when alert A run kubernetes cordon\n", 1,
         {"run", 0, 0,
          "error: missing required parameter 'node' for 'kubernetes cordon'"});
  EXPECT("when alert A run kubernetes evict with namespace = \"ns\"\n", 1,
         {"run", 0, 0,
          "error: missing required parameter 'pod' for 'kubernetes evict'"});
  EXPECT("when alert A run kubernetes rollout-restart\n", 2,
         {"run", 0, 0,
          "error: missing required parameter 'namespace' for 'kubernetes "
          "rollout-restart'"},
         {"run", 0, 0,
          "error: missing required parameter 'deployment' for 'kubernetes "
          "rollout-restart'"});
  EXPECT("when alert A run spinnaker \"pipe\" with env = \"prod\"\n", 1,
         {"run", 0, 0,
          "error: missing required parameter 'application' for 'spinnaker'"});
  EXPECT("when alert A run kubernetes job \"c\" with namespace = \"ns\"\n", 1,
         {"run", 0, 0,
          "error: missing parameter for 'kubernetes job': give exactly one of "
          "'image' or 'template'"});
}

static void test_params_one_of_and_duplicates(void **state) {
  (void)state;
  EXPECT("when alert A run kubernetes job \"c\" with namespace = \"ns\", image "
         "= \"busybox\", template = \"t\"\n",
         1,
         {"template", 0, 0,
          "error: parameter 'template' conflicts with 'image': 'kubernetes "
          "job' takes exactly one of 'image' or 'template'"},
         {"image", 0, 0, "note: 'image' given here"});
  EXPECT(
      "when alert A run kubernetes cordon with node = \"n1\", node = \"n2\"\n",
      1, {"node", 2, 0, "error: duplicate parameter 'node'"},
      {"node", 1, 0, "note: first given here"});
  EXPECT("rule c {\n"
         "  when alert C\n"
         "  run webhook \"/restart\" with method = \"POST\"\n"
         "  with body = \"{}\", method = \"PUT\"\n"
         "}\n",
         1, {"method", 2, 0, "error: duplicate parameter 'method'"},
         {"method", 1, 0, "note: first given here"});
  /* Parameters belong to their step: the same name in two steps is fine. */
  CLEAN("when alert A run kubernetes cordon with node = \"n1\" run kubernetes "
        "drain with node = \"n1\"\n");
}

/* {name} in a webhook's path names a parameter of the step. */
static void test_webhook_placeholders(void **state) {
  (void)state;
  CLEAN("when alert A run webhook \"/nodes/{node}/cordon?by={who}\" with "
        "node = \"n1\", who = \"healer\"\n"
        "when alert B run webhook \"/no/placeholders\"\n"
        "when alert C run webhook \"/unclosed/{x\"\n");
  EXPECT("when alert A run webhook \"/nodes/{nod}\" with node = \"n1\", "
         "method = \"PUT\"\n",
         1,
         {"{nod}", 0, 0,
          "error: placeholder {nod} in the webhook path names no parameter; "
          "the step has: node, method"});
  EXPECT("when alert A run webhook \"/a/{x}\"\n", 1,
         {"{x}", 0, 0,
          "error: placeholder {x} in the webhook path names no parameter; "
          "the step has none"});
  /* Parameters are the step's own: another step's do not count. */
  EXPECT("when alert A run webhook \"/a/{x}\" with x = \"1\" then run "
         "webhook \"/b/{x}\" with y = \"2\"\n",
         1,
         {"{x}", 2, 0,
          "error: placeholder {x} in the webhook path names no parameter; "
          "the step has: y"});
}

static void test_backend_via(void **state) {
  (void)state;
  EXPECT("backend jenkins ci { url = \"https://j\" }\n"
         "when alert A run jenkins Job via cii\n"
         "when alert B run jenkins Job via prod\n",
         2, {"cii", 0, 0, "error: undefined backend 'cii'; did you mean 'ci'?"},
         {"prod", 0, 0, "error: undefined backend 'prod'"});
  EXPECT("backend spinnaker gate { url = \"https://g\" }\n"
         "when alert A run jenkins Job via gate\n",
         1,
         {"gate", 2, 0,
          "error: backend 'gate' is a spinnaker backend, but 'jenkins' needs "
          "a jenkins backend"},
         {"gate", 1, 0, "note: 'gate' declared here"});
  EXPECT("backend jira tickets { url = \"https://j\", token = env(\"T\") }\n"
         "when alert A run jenkins Job, on failure notify slack \"#c\" via "
         "tickets\n",
         1,
         {"tickets", 2, 0,
          "error: backend 'tickets' is a jira backend, but 'notify slack' "
          "needs a slack backend"},
         {"tickets", 1, 0, "note: 'tickets' declared here"});
  /* Declared later, or in another declaration order: still found. */
  CLEAN("when alert A run jenkins Job via ci\n"
        "backend jenkins ci { url = \"https://j\" }\n");
}

static void test_backend_declarations(void **state) {
  (void)state;
  EXPECT("backend jenkins ci { url = \"https://a\" }\n"
         "backend spinnaker ci { url = \"https://b\" }\n",
         1, {"ci", 2, 0, "error: duplicate backend 'ci'"},
         {"ci", 1, 0, "note: first defined here"});
  EXPECT("backend jenkin ci { url = \"https://j\" }\n"
         "backend ftp files { url = \"ftp://f\" }\n",
         2,
         {"jenkin", 0, 0,
          "error: unknown backend kind 'jenkin'; did you mean 'jenkins'?"},
         {"ftp", 0, 0,
          "error: unknown backend kind 'ftp'; expected 'jenkins', "
          "'kubernetes', 'spinnaker', 'webhook', 'slack', 'jira' or "
          "'pagerduty'"});
  EXPECT("backend jenkins a { urll = \"https://a\" }\n", 1,
         {"urll", 0, 0,
          "error: unknown field 'urll' for a jenkins backend; did you mean "
          "'url'?"});
  EXPECT("backend kubernetes e { url = \"https://e\", namespace = \"d\" }\n", 1,
         {"namespace", 0, 0,
          "error: unknown field 'namespace' for a kubernetes backend; "
          "expected 'url', 'token', 'ca_file', 'client_cert' or "
          "'client_key'"});
  EXPECT("backend jenkins b { url = \"https://b\", user = \"x\", user = \"y\", "
         "token = env(\"T\") }\n",
         1, {"user", 2, 0, "error: duplicate field 'user'"},
         {"user", 1, 0, "note: first given here"});
  EXPECT("backend jenkins b { url = \"https://b\", user = \"x\" }\n", 1,
         {"user", 1, 0,
          "error: field 'user' is set but 'token' is not; a jenkins backend "
          "takes them together"});
  EXPECT("backend slack c { }\n"
         "backend jira d { url = \"https://d\" }\n",
         2,
         {"c {", 0, 0,
          "error: missing required field 'webhook' in slack backend 'c'"},
         {"d {", 0, 0,
          "error: missing required field 'token' in jira backend 'd'"});
}

static void test_backend_secrets(void **state) {
  (void)state;
  EXPECT("backend jenkins ci {\n"
         "  url   = \"https://jenkins.example.com\"\n"
         "  token = \"11d2f9c0a7e4\"\n"
         "}\n",
         1,
         {"\"11d2", 0, 0,
          "error: secret 'token' must not be written in the rule file; use "
          "env(\"...\") or file(\"...\")"});
  EXPECT("backend pagerduty pd { routing_key = lower(\"KEY\") }\n", 1,
         {"lower", 0, 0,
          "error: secret 'routing_key' must be env(\"...\") or file(\"...\")"});
  EXPECT("backend jenkins e { url = \"https://e\", token = envv(\"E\") }\n", 1,
         {"envv", 0, 0,
          "error: unknown function 'envv' in a backend field; did you mean "
          "'env'?"});
  EXPECT("backend jenkins a { url = lower(\"https://a\") }\n", 1,
         {"lower", 0, 0,
          "error: field 'url' must be a plain string, env(\"...\") or "
          "file(\"...\")"});
  EXPECT("backend jenkins a { url = \"https://a\", token = env(\"A\", \"B\") "
         "}\n",
         1,
         {"env", 0, 0,
          "error: env() takes exactly one argument, but 2 were given"});
  EXPECT("backend jenkins c { url = \"https://c\", token = file() }\n", 1,
         {"file", 0, 0,
          "error: file() takes exactly one argument, but 0 were given"});
  EXPECT("backend jenkins d { url = \"https://d\", token = env(\"\") }\n", 1,
         {"\"\"", 0, 0, "error: env() needs a variable name"});
  EXPECT("backend jenkins d { url = \"https://d\", token = file(\"\") }\n", 1,
         {"\"\"", 0, 0, "error: file() needs a path"});
  EXPECT("backend jenkins d { url = \"https://d\", token = env(\"9-LIVES\") "
         "}\n",
         1,
         {"\"9-LIVES\"", 0, 0,
          "error: '9-LIVES' is not a valid environment variable name "
          "(letters, digits and '_', not starting with a digit)"});
  EXPECT("backend jenkins b { url = \"https://b\", token = env($x) }\n", 1,
         {"$x", 0, 0, "error: the argument of env() must be a plain string"});
  CLEAN("backend jenkins ci {\n"
        "  url   = env(\"CI_URL\")\n"
        "  user  = \"healer\"\n"
        "  token = file(\"/run/secrets/jenkins-token\")\n"
        "}\n");
}

static void test_rule_names(void **state) {
  (void)state;
  EXPECT("rule restart { when alert A run jenkins Restart }\n"
         "rule prune { when alert B run jenkins Prune }\n"
         "rule restart { when alert C run jenkins Restart }\n",
         1, {"restart", 2, 0, "error: duplicate rule name 'restart'"},
         {"restart", 1, 0, "note: first defined here"});
  EXPECT("when alert A labels env = \"dev\", cooldown 5m\n"
         "rule b {\n"
         "  when alert B\n"
         "  on failure notify slack \"#ops\"\n"
         "}\n",
         2, {"when", 1, 0, "error: rule has no 'run' clause"},
         {"rule", 0, 0, "error: rule 'b' has no 'run' clause"});
}

/* Duplicate names across files, and display names per file stem. */
static void test_rule_names_across_files(void **state) {
  (void)state;
  struct fx f;
  fx_open(
      &f, "rules/a.heal",
      "rule x { when alert A run jenkins J }\nwhen alert B run jenkins K\n");
  struct source *two = arena_alloc(&f.p.arena, 2 * sizeof *two);
  two[0] = f.p.sources[0];
  two[1].path = "b.heal";
  two[1].text = "\nrule x { when alert C run jenkins J }\n";
  two[1].len = strlen(two[1].text);
  f.p.sources = two;
  f.p.nsources = 2;
  f.d.sources = two;
  assert_int_equal(parse_source(&f.p, 0), 0);
  assert_int_equal(parse_source(&f.p, 1), 0);
  assert_int_equal(check_program(&f.p), 1);
  assert_string_equal(headers(fx_output(&f)),
                      "b.heal:2:6: error: duplicate rule name 'x'\n"
                      "rules/a.heal:1:6: note: first defined here\n");
  assert_oneline_name(f.p.rules->next, "a", "a:2");
  fx_close(&f);
}

/* The name healerc gives the one-line rule of src (in "card.heal"). */
static char *oneline_name(const char *src) {
  struct fx f;
  fx_open(&f, "rules/card.heal", src);
  assert_int_equal(parse_source(&f.p, 0), 0);
  assert_int_equal(check_program(&f.p), 0);
  const struct rule *r = f.p.rules;
  while (r && r->name) r = r->next;
  assert_non_null(r);
  char *name = strdup(r->display_name);
  fx_close(&f);
  return name;
}

/* A one-line rule's identity covers what it takes and runs, not where it
 * sits, its spacing, parameters, options or notifies: a deploy that
 * changes only those keeps its dedupe and cooldowns. */
static void test_rule_identity(void **state) {
  (void)state;
  const char *base = "when alert NodeDown labels env=\"prod\" run jenkins Fix with node=$instance\n";
  char *want = oneline_name(base);
  static const char *same[] = {
      "# a comment\n\nrule other { when alert X run jenkins Y }\n"
      "when alert NodeDown labels env=\"prod\" run jenkins Fix with node=$instance\n",
      "when   alert NodeDown\tlabels env = \"prod\"  run jenkins Fix with node=$instance\n",
      "when alert NodeDown labels env=\"prod\" run jenkins Fix with node=$host ?? \"x\", "
      "extra=\"1\", cooldown 1h, retry 2\n",
  };
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
    char *got = oneline_name(same[i]);
    if (strcmp(got, want)) fail_msg("'%s' renamed the rule: %s -> %s", same[i], want, got);
    free(got);
  }
  static const char *other[] = {
      "when alert NodeLost labels env=\"prod\" run jenkins Fix with node=$instance\n",
      "when alert NodeDown labels env=\"dev\" run jenkins Fix with node=$instance\n",
      "when alert NodeDown labels env!=\"prod\" run jenkins Fix with node=$instance\n",
      "when alert NodeDown annotations env=\"prod\" run jenkins Fix with node=$instance\n",
      "when alert NodeDown labels env=\"prod\" run jenkins Repair with node=$instance\n",
      "when alert NodeDown, NodeLost labels env=\"prod\" run jenkins Fix with node=$instance\n",
      "when alert NodeDown labels env=\"prod\" run jenkins Fix with node=$instance "
      "run jenkins Notify with node=$instance\n",
  };
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
    char *got = oneline_name(other[i]);
    if (!strcmp(got, want)) fail_msg("'%s' kept the identity %s", other[i], want);
    free(got);
  }
  /* Two alike in all the identity covers: the later one gets ~2. */
  struct fx f;
  fx_open(&f, "rules/card.heal",
          "when alert A run jenkins J with x=\"1\"\nwhen alert A run jenkins J with x=\"2\"\n");
  assert_int_equal(parse_source(&f.p, 0), 0);
  check_program(&f.p);
  char twin[64];
  snprintf(twin, sizeof twin, "%s~2", f.p.rules->display_name);
  assert_string_equal(f.p.rules->next->display_name, twin);
  fx_close(&f);
  free(want);
}

static void test_alert_names(void **state) {
  (void)state;
  EXPECT("when alert A, B, A run jenkins J\n", 0,
         {"A", 2, 0, "warning: alert 'A' is listed twice"},
         {"A", 1, 0, "note: first listed here"});
  EXPECT("when alert \"\" run jenkins J\n", 1,
         {"\"\"", 0, 0, "error: alert name must not be empty"});
  EXPECT("when alert B run jenkins Job with \"\" = \"x\"\n", 1,
         {"\"\"", 0, 0, "error: parameter name must not be empty"});
  EXPECT("when alert C labels \"\" = \"x\" annotations \"\" =~ \".+\" run "
         "jenkins Job\n",
         2, {"\"\"", 1, 0, "error: label name must not be empty"},
         {"\"\"", 2, 0, "error: annotation name must not be empty"});
}

static void test_matcher_values(void **state) {
  (void)state;
  EXPECT("when alert A labels env = \"${cluster}\" run jenkins Job\n", 1,
         {"\"${", 0, 0,
          "error: matcher value must be a plain string, without variables or "
          "interpolation"});
  CLEAN("when alert A labels env = \"\\${cluster}\" run jenkins Job\n");
  EXPECT("when alert A labels env = \"a\", env = \"b\" run jenkins Job\n", 0,
         {"env", 2, 0,
          "warning: label 'env' already has a '=' matcher; both must hold"},
         {"env", 1, 0, "note: previous matcher is here"});
  /* Different operators, or labels and annotations, are not duplicates. */
  CLEAN("when alert A labels env != \"a\", env !~ \"b\", env =~ \"c.*\" "
        "annotations env = \"x\" run jenkins Job\n");
}

static void test_regex_errors(void **state) {
  (void)state;
  /* In a raw string the caret points into the regex. */
  EXPECT(
      "when alert A labels x =~ 'ab)c' run jenkins Job\n", 1,
      {"'ab)c'", 0, 3, "error: invalid regex: unmatched closing parenthesis"});
  EXPECT("when alert A labels x =~ 'a**' run jenkins Job\n", 1,
         {"'a**'", 0, 3,
          "error: invalid regex: quantifier does not follow a repeatable "
          "item"});
  EXPECT("when alert A labels x =~ 'x{2,1}' run jenkins Job\n", 1,
         {"'x{2,1}'", 0, 6,
          "error: invalid regex: numbers out of order in {} quantifier"});
  /* In a "..." string, escapes make offsets unreliable: the whole string. */
  EXPECT(
      "when alert A labels x =~ \"(node\" run jenkins Job\n", 1,
      {"\"(node\"", 0, 0, "error: invalid regex: missing closing parenthesis"});
  EXPECT("when alert A labels zone !~ \"[a-\" run jenkins Job\n", 1,
         {"\"[a-\"", 0, 0,
          "error: invalid regex: missing terminating ] for character class"});
  /* Valid alone, but not inside the anchoring group. */
  EXPECT("when alert A labels x =~ '(*UCP)a' run jenkins Job\n", 1,
         {"'(*UCP)a'", 0, 6,
          "error: invalid regex once anchored as ^(?:...)$: (*VERB) not "
          "recognized or malformed"});
  CLEAN("when alert A labels instance =~ 'node\\d+:\\w+', env =~ "
        "\"dev|stag(e|ing)\", x =~ '.+?', y =~ '(?i)node', z =~ '' run "
        "jenkins Job\n");
}

static void test_regex_re2(void **state) {
  (void)state;
  EXPECT("when alert A labels pair =~ '(a)\\1' run jenkins Job\n", 0,
         {"\\1", 0, 0,
          "warning: regex uses a backreference '\\1', which Alertmanager's "
          "RE2 does not support"});
  EXPECT("when alert A labels host =~ 'node(?=\\d)' run jenkins Job\n", 0,
         {"(?=", 0, 0,
          "warning: regex uses a lookahead '(?=', which Alertmanager's RE2 "
          "does not support"});
  EXPECT("when alert A labels host =~ '(?<!x)node' run jenkins Job\n", 0,
         {"(?<!", 0, 0,
          "warning: regex uses a negative lookbehind '(?<!', which "
          "Alertmanager's RE2 does not support"});
  EXPECT("when alert A labels host =~ '(?>ab|a)c' run jenkins Job\n", 0,
         {"(?>", 0, 0,
          "warning: regex uses an atomic group '(?>', which Alertmanager's "
          "RE2 does not support"});
  EXPECT("when alert A labels host =~ 'a{2,3}+' run jenkins Job\n", 0,
         {"{2,3}+", 0, 0,
          "warning: regex uses a possessive quantifier '{2,3}+', which "
          "Alertmanager's RE2 does not support"});
  EXPECT("when alert A labels host =~ 'a\\Kb' run jenkins Job\n", 0,
         {"\\K", 0, 0,
          "warning: regex uses the escape '\\K', which Alertmanager's RE2 "
          "does not support"});
  EXPECT("when alert A labels host =~ 'a[\\v]b' run jenkins Job\n", 0,
         {"\\v", 0, 0,
          "warning: regex uses '\\v', which matches any vertical white space "
          "here but only a vertical tab in Alertmanager's RE2"});
  EXPECT("when alert A labels host =~ 'a\\Cb' run jenkins Job\n", 0,
         {"\\C", 0, 0,
          "warning: regex uses '\\C', which matches a single byte and can "
          "split a UTF-8 character; use '.'"});
  /* In "..." strings: the whole string. */
  EXPECT("when alert A labels host =~ \"(a)\\\\1\" run jenkins Job\n", 0,
         {"\"(a)", 0, 0,
          "warning: regex uses a backreference '\\1', which Alertmanager's "
          "RE2 does not support"});
  /* Look-alikes that RE2 accepts draw nothing. */
  CLEAN("when alert A labels a =~ 'a+?b*?c?d', b =~ '[(?=]x', c =~ "
        "'\\Q(?=\\E', d =~ '(?P<n>x)(?:y)', e =~ '\\x{41}+', f =~ "
        "'[[:alpha:]]+\\d{2}'  run jenkins Job\n");
}

static void test_expressions(void **state) {
  (void)state;
  EXPECT(
      "when alert A labels x =~ \".+\" run jenkins Job with a = hots($x)\n", 1,
      {"hots", 0, 0, "error: unknown function 'hots'; did you mean 'host'?"});
  EXPECT(
      "when alert A labels x =~ \".+\" run jenkins Job with e = sha256($x)\n",
      1,
      {"sha256", 0, 0,
       "error: unknown function 'sha256'; expected 'host', 'lower', "
       "'upper', 'trim_prefix', 'trim_suffix' or 'replace'"});
  EXPECT("when alert A run jenkins Job with b = lower()\n", 1,
         {"lower", 0, 0,
          "error: function 'lower' takes 1 argument, but 0 were given"});
  EXPECT("when alert A labels x =~ \".+\" run jenkins Job with c = "
         "replace($x, \"b\")\n",
         1,
         {"replace", 0, 0,
          "error: function 'replace' takes 3 arguments, but 2 were given"});
  EXPECT("when alert A run jenkins Job with d = env(\"HOME\")\n", 1,
         {"env", 0, 0,
          "error: function 'env' can only be used in a backend field"});
  EXPECT("when alert A run jenkins Job with a = $alert.fingerprnt\n", 1,
         {"$alert", 0, 0,
          "error: unknown alert field 'fingerprnt'; did you mean "
          "'fingerprint'?"});
  EXPECT("when alert A run jenkins Job with c = $alert.severity\n", 1,
         {"$alert", 0, 0,
          "error: unknown alert field 'severity'; expected 'fingerprint', "
          "'startsAt', 'endsAt', 'generatorURL', 'status' or 'alertname'"});
  CLEAN("when alert A labels x =~ \".+\" run jenkins Job with f = "
        "trim_suffix(upper($x), \":9100\"), g = \"${alert.startsAt}\", h = "
        "$alert.alertname\n");
}

static void test_options_duplicated(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins Job, cooldown 5m, cooldown 10m\n", 1,
         {"cooldown", 2, 0, "error: duplicate option 'cooldown'"},
         {"cooldown", 1, 0, "note: first given here"});
  EXPECT("when alert A run jenkins Job, retry 2, retry 3\n", 1,
         {"retry", 2, 0, "error: duplicate option 'retry'"},
         {"retry", 1, 0, "note: first given here"});
  CLEAN("when alert A run jenkins Job, dry-run, continue\n");
}

static void test_options_durations(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins Job, cooldown 31d\n", 1,
         {"31d", 0, 0,
          "error: cooldown of 31d is longer than the maximum of 30d"});
  EXPECT("when alert A run jenkins Job, cooldown 0s\n", 1,
         {"0s", 0, 0, "error: cooldown must not be zero"});
  EXPECT("when alert A run jenkins Job, timeout 500ms\n", 1,
         {"500ms", 0, 0,
          "error: timeout of 500ms is shorter than the minimum of 1s"});
  EXPECT("when alert A run jenkins Job, timeout 7d1s\n", 1,
         {"7d1s", 0, 0,
          "error: timeout of 7d1s is longer than the maximum of 7d"});
  EXPECT("when alert A run jenkins Job, retry 3 backoff 50ms\n", 1,
         {"50ms", 0, 0,
          "error: backoff of 50ms is shorter than the minimum of 100ms"});
  EXPECT("when alert A run jenkins Job, retry 3 backoff 1h30m\n", 1,
         {"1h30m", 0, 0,
          "error: backoff of 1h30m is longer than the maximum of 1h"});
  EXPECT("when alert A run jenkins Job, at most 3 per 999ms\n", 1,
         {"999ms", 0, 0,
          "error: 'at most' period of 999ms is shorter than the minimum of "
          "1s"});
  EXPECT("when alert A run jenkins Job, at most 3 per 5w\n", 1,
         {"5w", 0, 0,
          "error: 'at most' period of 35d is longer than the maximum of 30d"});
  CLEAN("when alert H run jenkins Job, cooldown 30d, timeout 7d, retry 10 "
        "backoff 1h, at most 10000 per 30d\n"
        "when alert I run jenkins Job, cooldown 4w2d, timeout 1s, retry 1 "
        "backoff 100ms, at most 1 per 1s\n");
}

static void test_options_counts(void **state) {
  (void)state;
  EXPECT(
      "when alert A run jenkins Job, retry 11\n", 1,
      {"11", 0, 0, "error: retry count of 11 is more than the maximum of 10"});
  EXPECT("when alert A run jenkins Job, limit 0 concurrent\n", 1,
         {"0 concurrent", 0, 0,
          "error: limit of 0 is less than the minimum of 1"});
  EXPECT("when alert A run jenkins Job, limit 10001 concurrent\n", 1,
         {"10001", 0, 0,
          "error: limit of 10001 is more than the maximum of 10000"});
  EXPECT("when alert A run jenkins Job, at most 0 per 1h\n", 1,
         {"0 per", 0, 0,
          "error: 'at most' count of 0 is less than the minimum of 1"});
  CLEAN("when alert F run jenkins Job, retry 0, limit 1 concurrent, at most "
        "10000 per 1h\n");
}

static void test_options_status_and_windows(void **state) {
  (void)state;
  EXPECT(
      "when alert A status firng run jenkins Job\n", 1,
      {"firng", 0, 0, "error: unknown status 'firng'; did you mean 'firing'?"});
  EXPECT("when alert A status pending run jenkins Job\n", 1,
         {"pending", 0, 0,
          "error: unknown status 'pending'; expected 'firing', 'resolved' or "
          "'any'"});
  EXPECT("window business_hours weekdays 09:00-18:00\n"
         "when alert A run jenkins Job, during bussiness_hours\n"
         "when alert B run jenkins Job, not during freeze\n",
         2,
         {"bussiness_hours", 0, 0,
          "error: undefined window 'bussiness_hours'; did you mean "
          "'business_hours'?"},
         {"freeze", 0, 0, "error: undefined window 'freeze'"});
  EXPECT("window w daily 22:00-06:00\n"
         "when alert A run jenkins Job, during w, not during w\n",
         0,
         {"not during", 0, 0,
          "warning: rule can never run: it is both during and not during "
          "window 'w'"});
}

static void test_notify(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins Job, on failure notify slak \"#ops\"\n", 1,
         {"slak", 0, 0,
          "error: unknown notification kind 'slak'; did you mean 'slack'?"});
  EXPECT("when alert A run jenkins Job, on failure notify email \"o@x\"\n", 1,
         {"email", 0, 0,
          "error: unknown notification kind 'email'; expected 'slack', "
          "'jira' or 'pagerduty'"});
  EXPECT("when alert A run jenkins Job, on failure page slack \"#ops\"\n", 1,
         {"slack", 0, 0, "error: only pagerduty can page; use 'notify slack'"});
  EXPECT("when alert A run jenkins Job, on failure page pagerduty \"svc\"\n", 1,
         {"\"svc\"", 0, 0,
          "error: pagerduty takes no target; the routing key of its backend "
          "selects the service"});
  EXPECT("when alert A run jenkins Job, on failure notify slack \"\"\n", 1,
         {"\"\"", 0, 0, "error: notification target must not be empty"});
  EXPECT("backend spinnaker gate { url = \"https://g\" }\n"
         "when alert A run jenkins Job, on failure page pagerduty via gate\n",
         1,
         {"gate", 2, 0,
          "error: backend 'gate' is a spinnaker backend, but 'page "
          "pagerduty' needs a pagerduty backend"},
         {"gate", 1, 0, "note: 'gate' declared here"});
  /* notify pagerduty is the same as page pagerduty. */
  CLEAN("when alert B run jenkins Job, on failure notify pagerduty\n"
        "when alert E run jenkins Job, on failure, timeout notify jira "
        "\"OPS\", on failure page pagerduty, on success notify slack\n");
}

static void test_windows(void **state) {
  (void)state;
  EXPECT("window a weekdayz 09:00-18:00\n"
         "window b monday\n",
         2,
         {"weekdayz", 0, 0,
          "error: unknown day or month 'weekdayz'; did you mean 'weekdays'?"},
         {"monday", 0, 0, "error: unknown day 'monday'; did you mean 'mon'?"});
  EXPECT("window a daily 24:00-18:00\n", 1,
         {"24:00", 0, 0,
          "error: start time '24:00' is out of range (00:00 to 23:59)"});
  EXPECT("window a daily 09:00-24:30\n", 1,
         {"24:30", 0, 0,
          "error: end time '24:30' is out of range (00:00 to 24:00)"});
  EXPECT("window a funday\n", 1,
         {"funday", 0, 0,
          "error: unknown day or month 'funday'; expected a day (mon..sun, "
          "weekdays, weekends, daily), a month (jan..dec), 'days' or 'years'"});
  EXPECT("window a daily 09:00-24:00\n"
         "window b daily 09:00-09:00\n",
         1, {"09:00-09:00", 0, 0, "error: time range '09:00-09:00' is empty"});
  EXPECT("window d 2026-02-30..2026-03-01\n"
         "window e 2027-01-01..2026-01-01\n"
         "window f 2028-02-29..2028-03-01\n",
         2, {"2026-02-30", 0, 0, "error: invalid date '2026-02-30'"},
         {"2027-01-01..", 0, 0,
          "error: date range '2027-01-01..2026-01-01' ends before it starts"});
  EXPECT("window o weekdays\n"
         "window o weekends\n",
         1, {"o weekends", 0, 0, "error: duplicate window 'o'"},
         {"o weekdays", 0, 0, "note: first defined here"});
  CLEAN("window g mon, tue, fri 22:00-06:00 2026-12-20..2027-01-04\n");
}

static void test_windows_time_zones(void **state) {
  (void)state;
  struct stat st;
  if (stat("/usr/share/zoneinfo/Europe/Berlin", &st) != 0)
    skip();
  EXPECT("window f weekends in \"Europe/Berln\"\n", 1,
         {"\"Europe/Berln\"", 0, 0,
          "error: unknown time zone 'Europe/Berln'; did you mean "
          "'Europe/Berlin'?"});
  EXPECT("window f weekends in \"Mars/Olympus\"\n", 1,
         {"\"Mars", 0, 0, "error: unknown time zone 'Mars/Olympus'"});
  EXPECT("window f weekends in \"../../etc/passwd\"\n", 1,
         {"\"../", 0, 0, "error: invalid time zone name '../../etc/passwd'"});
  /* A file in the database that is not a zone. */
  EXPECT("window f weekends in \"zone.tab\"\n", 1,
         {"\"zone", 0, 0, "error: unknown time zone 'zone.tab'"});
  CLEAN("window g weekdays 09:00-18:00 in \"America/New_York\"\n"
        "window h daily in \"UTC\"\n");
  /* Without a database: UTC is known, anything else is a warning. */
  setenv("TZDIR", "/nonexistent/zoneinfo", 1);
  EXPECT("window g weekdays in \"America/New_York\"\n"
         "window h daily in \"UTC\"\n",
         0,
         {"\"America", 0, 0,
          "warning: cannot check time zone 'America/New_York': no time zone "
          "database in '/nonexistent/zoneinfo'"});
  unsetenv("TZDIR");
}

static void test_unguarded_labels(void **state) {
  (void)state;
  EXPECT(
      "rule r {\n"
      "  when alert A\n"
      "  labels env = \"prod\", zone != \"eu\", empty = \"\", any =~ \".*\"\n"
      "  run jenkins Job\n"
      "  with node    = $instance,\n"
      "       cluster = $labels.cluster,\n"
      "       zone    = $zone,\n"
      "       summary = \"on ${region}\",\n"
      "       short   = host($empty),\n"
      "       two     = $any ?? $other,\n"
      "       note    = $annotations.summary\n"
      "}\n",
      0,
      {"$instance", 0, 0,
       "warning: parameter 'node' reads label 'instance', which no matcher "
       "of this rule guarantees; add a default with ?? or a matcher"},
      {"$labels.cluster", 0, 0,
       "warning: parameter 'cluster' reads label 'cluster', which no "
       "matcher of this rule guarantees; add a default with ?? or a "
       "matcher"},
      {"$zone", 0, 0,
       "warning: parameter 'zone' reads label 'zone', which no matcher of "
       "this rule guarantees; add a default with ?? or a matcher"},
      {"${region}", 0, 0,
       "warning: parameter 'summary' reads label 'region', which no "
       "matcher of this rule guarantees; add a default with ?? or a "
       "matcher"},
      {"$empty", 0, 0,
       "warning: parameter 'short' reads label 'empty', which no matcher "
       "of this rule guarantees; add a default with ?? or a matcher"},
      {"$other", 0, 0,
       "warning: parameter 'two' reads label 'other', which no matcher of "
       "this rule guarantees; add a default with ?? or a matcher"},
      {"$annotations", 0, 0,
       "warning: parameter 'note' reads annotation 'summary', which no "
       "matcher of this rule guarantees; add a default with ?? or a "
       "matcher"});
  EXPECT("when alert C run jenkins Job, cooldown 10m per $instance, limit 1 "
         "concurrent per $cluster\n",
         0,
         {"$instance", 0, 0,
          "warning: 'per' key of cooldown reads label 'instance', which no "
          "matcher of this rule guarantees; add a default with ?? or a "
          "matcher"},
         {"$cluster", 0, 0,
          "warning: 'per' key of limit reads label 'cluster', which no "
          "matcher of this rule guarantees; add a default with ?? or a "
          "matcher"});
  CLEAN("rule all_guaranteed {\n"
        "  when alert B\n"
        "  labels instance =~ \".+\", cluster = \"c1\", zone != \"\", pod !~ "
        "\"x*\"\n"
        "  annotations summary =~ \".+\"\n"
        "  run jenkins Job\n"
        "  with node    = host($instance),\n"
        "       cluster = \"${cluster}\",\n"
        "       region  = $region ?? \"eu-west-1\",\n"
        "       zone    = $zone, pod = $pod, name = $alertname,\n"
        "       note    = $annotations.summary,\n"
        "       fp      = $alert.fingerprint\n"
        "  cooldown 10m per $instance\n"
        "}\n");
}

static void test_shadowed_rules(void **state) {
  (void)state;
  EXPECT("when alert DiskFull run jenkins Prune\n"
         "when alert DiskFull labels env = \"prod\" run jenkins PruneProd\n",
         0,
         {"when", 2, 0,
          "warning: rule 't#8db4add3' can never match: the earlier rule "
          "'t#89c3361d' always matches first"},
         {"when", 1, 0, "note: shadowed by this rule"});
  EXPECT("rule first { when alert Net labels env = \"prod\" run jenkins Fix }\n"
         "rule second { when alert Net labels env = 'prod' run jenkins "
         "FixAgain }\n",
         0,
         {"rule", 2, 0,
          "warning: rule 'second' can never match: the earlier rule 'first' "
          "always matches first"},
         {"rule", 1, 0, "note: shadowed by this rule"});
  EXPECT("when alert Swap, Other run jenkins Swap1, status any\n"
         "when alert Other run jenkins Swap2\n",
         0,
         {"when", 2, 0,
          "warning: rule 't#e8063f19' can never match: the earlier rule "
          "'t#26debecd' always matches first"},
         {"when", 1, 0, "note: shadowed by this rule"});
  /* Not shadowed: continue, a window, another status, an alert name the
   * earlier rule lacks, a matcher the later rule lacks, a parameter that may
   * be absent (the earlier rule then skips the alert). */
  CLEAN("when alert MemHigh run jenkins Log, continue\n"
        "when alert MemHigh run jenkins Restart\n"
        "window nights daily 22:00-06:00\n"
        "when alert CpuHigh run jenkins Throttle, during nights\n"
        "when alert CpuHigh run jenkins Scale\n"
        "when alert Cert run jenkins Rotate\n"
        "when alert Cert status resolved run jenkins Close\n"
        "when alert Swap run jenkins Swap1\n"
        "when alert Swap, Other run jenkins Swap2\n"
        "when alert Net labels env = \"prod\" run jenkins Fix\n"
        "when alert Net labels env != \"prod\" run jenkins Fix2\n"
        "when alert Net run jenkins Fix3\n");
  EXPECT("when alert Pod run jenkins P with pod = $pod\n"
         "when alert Pod labels pod =~ \".+\" run jenkins Q with pod = $pod\n",
         0,
         {"$pod", 1, 0,
          "warning: parameter 'pod' reads label 'pod', which no matcher of "
          "this rule guarantees; add a default with ?? or a matcher"});
  /* With defaults, the earlier rule always runs. */
  EXPECT("when alert Pod run jenkins P with pod = $pod ?? $name ?? \"x\"\n"
         "when alert Pod labels pod =~ \".+\" run jenkins Q with pod = $pod\n",
         0,
         {"when", 2, 0,
          "warning: rule 't#fdbb7e28' can never match: the earlier rule "
          "'t#1f004c13' always matches first"},
         {"when", 1, 0, "note: shadowed by this rule"});
}

/* A long ?? chain is not deep nesting: no error, and the warning names the
 * last alternative. */
static void test_long_default_chain(void **state) {
  (void)state;
  enum { N = 3000 };
  size_t cap = 64 + N * 16, o = 0;
  char *src = malloc(cap);
  assert_non_null(src);
  o += (size_t)snprintf(src + o, cap - o,
                        "when alert A run jenkins Job with a = $l0");
  for (int i = 1; i < N; i++)
    o += (size_t)snprintf(src + o, cap - o, " ?? $l%d", i);
  snprintf(src + o, cap - o, "\n");
  EXPECT(src, 0,
         {"$l2999", 0, 0,
          "warning: parameter 'a' reads label 'l2999', which no matcher of "
          "this rule guarantees; add a default with ?? or a matcher"});
  free(src);
}

/* Parses and checks src, which must draw no message; the caller closes f. */
static void fx_checked(struct fx *f, const char *src) {
  fx_open(f, "t.heal", src);
  assert_int_equal(parse_source(&f->p, 0), 0);
  assert_int_equal(check_program(&f->p), 0);
  assert_string_equal(fx_output(f), "");
}

/* The result vocabulary of actions.def, as healerc reads it. */
static void test_results_table(void **state) {
  (void)state;
  assert_int_equal(results_check(), -1); /* every kind fits a mask */
  assert_int_equal(results_count(HL_ACT_JENKINS), 5);
  assert_string_equal(results_name(HL_ACT_JENKINS, 1), "UNSTABLE");
  assert_null(results_name(HL_ACT_JENKINS, 5));
  assert_int_equal(results_defaults(HL_ACT_JENKINS), 1u << 0);
  assert_int_equal(results_defaults(HL_ACT_SPINNAKER), 1u << 0 | 1u << 1);
  assert_int_equal(results_find(HL_ACT_K8S_JOB, "failed", 6), 1);
  assert_int_equal(results_find(HL_ACT_JENKINS, "failed", 6), -1);
  assert_int_equal(results_count(HL_ACT_WEBHOOK), 0);
  assert_int_equal(results_defaults(HL_ACT_K8S_CORDON), 0);
  assert_true(results_addable("unstable", 8));
  assert_true(results_addable("STOPPED", 7));
  assert_false(results_addable("SUCCESS", 7));  /* a default */
  assert_false(results_addable("SKIPPED", 7));  /* a default of spinnaker */
  assert_false(results_addable("green", 5));
}

/* `succeed on`: each step gets the names of its own kind, over the kind's
 * defaults; a step whose kind none of them names keeps 0 (defaults). */
static void test_succeed_on_steps(void **state) {
  (void)state;
  struct fx f;
  fx_checked(&f, "rule r {\n"
                 "  when alert A\n"
                 "  run jenkins J\n"
                 "  then run kubernetes cordon with node = \"n\"\n"
                 "  then run spinnaker \"p\" with application = \"a\"\n"
                 "  then run kubernetes job \"j\" with namespace = \"ns\", "
                 "image = \"i\"\n"
                 "  succeed on unstable, Stopped, SUCCESS\n"
                 "}\n"
                 "when alert B run jenkins J, succeed on SUCCESS\n"
                 "when alert C run jenkins J\n");
  const struct step *s = f.p.rules->steps;
  assert_int_equal(s->succeed_on, 1u << 0 | 1u << 1);           /* jenkins */
  assert_int_equal(s->next->succeed_on, 0);                     /* cordon */
  assert_int_equal(s->next->next->succeed_on, 0x7);             /* spinnaker */
  assert_int_equal(s->next->next->next->succeed_on, 0);         /* job */
  /* Only the defaults again: written as 0. */
  assert_int_equal(f.p.rules->next->steps->succeed_on, 0);
  assert_int_equal(f.p.rules->next->next->steps->succeed_on, 0);
  fx_close(&f);
}

static void test_succeed_on_errors(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins J, succeed on UNSTABL\n", 1,
         {"UNSTABL", 0, 0,
          "error: 'UNSTABL' is not a result of any step of this rule; did "
          "you mean 'UNSTABLE'?"});
  /* The candidates are the union over the rule's kinds, in step order. */
  EXPECT("when alert A run kubernetes job \"j\" with namespace = \"n\", image "
         "= \"i\" then run spinnaker \"p\" with application = \"a\", "
         "succeed on done\n",
         1,
         {"done", 0, 0,
          "error: 'done' is not a result of any step of this rule; expected "
          "'Complete', 'Failed', 'SUCCEEDED', 'SKIPPED', 'STOPPED', "
          "'FAILED_CONTINUE', 'TERMINAL' or 'CANCELED'"});
  EXPECT("when alert A run kubernetes job \"j\" with namespace = \"n\", image "
         "= \"i\", succeed on complet\n",
         1,
         {"complet", 0, 0,
          "error: 'complet' is not a result of any step of this rule; did "
          "you mean 'Complete'?"});
  EXPECT("when alert A run webhook \"/x\", succeed on UNSTABLE\n", 1,
         {"succeed", 0, 0,
          "error: 'succeed on' has nothing to count: 'webhook' reports no "
          "result; only 'jenkins', 'kubernetes job' and 'spinnaker' steps "
          "do"});
  EXPECT("when alert A run jenkins J, succeed on UNSTABLE, Unstable\n", 0,
         {"Unstable", 0, 0, "warning: result 'UNSTABLE' is listed twice"});
  /* An unknown kind says enough: nothing about its results. */
  EXPECT("when alert A run jenkns J, succeed on UNSTABLE\n", 1,
         {"jenkns", 0, 0,
          "error: unknown action kind 'jenkns'; did you mean 'jenkins'?"});
}

/* User text in messages: control characters escaped, long text cut. */
static void test_messages_quote_user_text(void **state) {
  (void)state;
  EXPECT("when alert A run jenkins \"x\\ty\\u{1b}[2J\" Extra\n", 1,
         {"Extra", 0, 0,
          "error: unexpected 'Extra' after job name 'x\\ty\\x1b[2J'; write a "
          "name with spaces as a string"});
  EXPECT("when alert A run jenkins Job via "
         "b0123456789012345678901234567890123456789012345678901234567890123456"
         "7890123456789012345678901234567890123456789\n",
         1,
         {"b0123", 0, 0,
          "error: undefined backend 'b"
          "0123456789012345678901234567890123456789012345678901234567890123"
          "4567890123456789012345678901234...'"});
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fills_actions_and_targets),
      cmocka_unit_test(test_fills_display_names_unique),
      cmocka_unit_test(test_fills_expression_ids),
      cmocka_unit_test(test_fills_windows_and_notify),
      cmocka_unit_test(test_hand_built_unknown_kind),
      cmocka_unit_test(test_scales_linearly),
      cmocka_unit_test(test_hand_built_limits),
      cmocka_unit_test(test_action_kind),
      cmocka_unit_test(test_action_verb),
      cmocka_unit_test(test_action_target),
      cmocka_unit_test(test_params_unknown),
      cmocka_unit_test(test_params_missing),
      cmocka_unit_test(test_params_one_of_and_duplicates),
      cmocka_unit_test(test_webhook_placeholders),
      cmocka_unit_test(test_backend_via),
      cmocka_unit_test(test_backend_declarations),
      cmocka_unit_test(test_backend_secrets),
      cmocka_unit_test(test_rule_names),
      cmocka_unit_test(test_rule_names_across_files),
      cmocka_unit_test(test_rule_identity),
      cmocka_unit_test(test_alert_names),
      cmocka_unit_test(test_matcher_values),
      cmocka_unit_test(test_regex_errors),
      cmocka_unit_test(test_regex_re2),
      cmocka_unit_test(test_expressions),
      cmocka_unit_test(test_options_duplicated),
      cmocka_unit_test(test_options_durations),
      cmocka_unit_test(test_options_counts),
      cmocka_unit_test(test_options_status_and_windows),
      cmocka_unit_test(test_notify),
      cmocka_unit_test(test_windows),
      cmocka_unit_test(test_windows_time_zones),
      cmocka_unit_test(test_unguarded_labels),
      cmocka_unit_test(test_shadowed_rules),
      cmocka_unit_test(test_long_default_chain),
      cmocka_unit_test(test_messages_quote_user_text),
      cmocka_unit_test(test_results_table),
      cmocka_unit_test(test_succeed_on_steps),
      cmocka_unit_test(test_succeed_on_errors),
  };
  return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
