/*
 * codegen.c - writes a checked program as the C tables of core/abi.h.
 *
 * Two phases. build() walks the checked tree once, in source order, and
 * lays out every table of struct hl_ruleset in memory (rows that point back
 * into the tree, plus the indices that tie the tables together). print_*()
 * then writes those tables as C, in the order a reader wants them: rules
 * first, then what they refer to, then the index and hl_ruleset itself.
 * Keeping the layout apart from the printing means every index is computed
 * in exactly one place.
 *
 * The output format (examples: tests/codegen/NAME.c.expected):
 *   - a banner: generator, sources, digest, how to regenerate;
 *   - `#include "abi.h"` (nothing else) and HL_ABI_CHECK(<the version this
 *     file writes>);
 *   - strings longer than C11's 4095-byte limit for a literal as arrays of
 *     character constants (a literal would trip -pedantic's
 *     -Woverlength-strings);
 *   - one static const array per table, under a comment saying what it
 *     holds: the rules as designated initializers, one block each (a rule
 *     has 24 fields; positional rows compiled only ~20% faster at 100,000
 *     rules), the other tables one positional row per line with
 *     a trailing comment "index file:line"; expressions in hl_insns under a
 *     comment quoting their source;
 *   - an empty table is left out (C has no zero-length arrays) and
 *     hl_ruleset gets a null pointer and a zero count for it;
 *   - null pointers are written 0, as abi.h is the only include.
 *
 * String literals spell out every byte that is not plain: \\ \" \n \t \r,
 * any other control or non-ASCII byte as a 3-digit octal escape (a hex
 * escape would swallow the hex digits after it), and a `?` after a `?` as
 * `\?`, so no trigraph can form in ISO C modes. Text copied into comments
 * (paths, rule names, expression source) is made safe too: one line, no
 * comment delimiters, no trigraphs.
 *
 * Determinism: output depends only on the program (tree, paths as given,
 * source bytes): no time, no pointer values (declarations are found by
 * address, but written by their index), and the index sort breaks every
 * tie by rule number.
 *
 * Ownership: codegen borrows the program; everything it allocates is freed
 * before codegen_emit() returns.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "codegen.h"
#include "duration.h"
#include "results.h"

/* The generated file claims the ABI version this file writes. When abi.h's
 * version changes, update the printers below, then this number. */
#define CODEGEN_ABI_VERSION 6
_Static_assert(CODEGEN_ABI_VERSION == HL_ABI_VERSION,
               "abi.h changed: update codegen.c to the new tables");

#ifndef HEALER_VERSION
#define HEALER_VERSION "unknown"
#endif

/* The longest string literal ISO C11 compilers must accept (5.2.4.1); gcc
 * and clang warn under -pedantic above it. Longer strings become arrays. */
#define MAX_LITERAL 4095u

/* Expression text shown in comments is cut after this many source bytes. */
#define MAX_COMMENT_EXPR 60u

/* Trailing row comments start at this column when the row is shorter. */
#define COMMENT_COLUMN 48u

/* ---- enum names, from the shared lists ------------------------------------ */

static const char *const action_names[] = {
#define HL_ACTION(id, word, verb, backend, target, open) "HL_ACT_" #id,
#include "actions.def"
};
static const char *const backend_names[] = {
#define HL_BACKEND(id, word, env) "HL_BK_" #id,
#include "backends.def"
};
static const char *const func_names[] = {
#define HL_FUNC(id, name, nargs, summary) "HL_FN_" #id,
#include "functions.def"
};
static const char *const field_names[] = {
#define HL_X(id, name) "HL_FIELD_" #id,
    HL_ALERT_FIELDS(HL_X)
#undef HL_X
};
static const char *const opcode_names[] = {
    "HL_OP_LIT",  "HL_OP_LABEL",  "HL_OP_ANNOTATION", "HL_OP_FIELD",
    "HL_OP_CALL", "HL_OP_CONCAT", "HL_OP_DEFAULT",
};
static const char *const match_on_names[] = {"HL_ON_LABEL", "HL_ON_ANNOTATION"};
static const char *const match_op_names[] = {"HL_MATCH_EQ", "HL_MATCH_NE", "HL_MATCH_RE",
                                             "HL_MATCH_NRE"};
static const char *const source_names[] = {"HL_SRC_LITERAL", "HL_SRC_ENV", "HL_SRC_FILE"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(COUNT(action_names) == HL_ACT__COUNT, "actions.def");
_Static_assert(COUNT(backend_names) == HL_BK__COUNT, "backends.def");
_Static_assert(COUNT(func_names) == HL_FN__COUNT, "functions.def");
_Static_assert(COUNT(field_names) == HL_FIELD__COUNT, "HL_ALERT_FIELDS");
_Static_assert(COUNT(opcode_names) == HL_OP_DEFAULT + 1, "enum hl_opcode");

/* ---- growable arrays ------------------------------------------------------- */

struct vec {
  void *data;
  uint32_t n, cap;
};

#define AT(v, type, i) (((type *)(v).data)[i])
#define LAST(v, type) AT(v, type, (v).n - 1)

/* ---- the layout ---------------------------------------------------------- */

struct str {                  /* a string to write as a C expression */
  const char *s;              /* NULL: a null pointer */
  size_t len;
  uint32_t big;               /* index into layout.bigs, or HL_NONE */
};

struct expr_ref {             /* an expression's range of insns */
  uint32_t first, count;
};

struct rule_row {
  const struct rule *r;
  struct str name, former_name;
  uint32_t first_alert, nalerts, first_pattern, npatterns;
  uint32_t first_matcher, nmatchers;
  uint32_t first_step, nsteps, first_notify, nnotify;
  uint32_t flags, status;
  uint64_t cooldown_ms, timeout_ms, backoff_ms, budget_ms;
  uint32_t retries, limit, budget, during, not_during;
  uint32_t breaker_failures;
  uint64_t breaker_ms;
  struct expr_ref cooldown_key, limit_key;
};

struct insn_row {
  uint8_t op, arg;
  struct str str;
};

struct insn_group {           /* one expression: a comment heads its rows */
  uint32_t first;
  const struct expr *e;
  const char *param;          /* the parameter's name, or NULL */
  const char *option;         /* else what it is: "cooldown per", "limit
                                 per", "via" */
  struct loc loc;             /* where the comment points */
};

struct param_row {
  const struct param *p;
  struct str name;
  struct expr_ref value;
};

struct step_row {
  const struct step *s;
  struct str target;
  uint32_t backend, first_param, nparams, succeed_on;
  struct expr_ref backend_expr;
};

struct notify_row {
  const struct notify *n;
  struct str target;
  uint32_t backend;
};

struct window_row {
  const struct window *w;
  struct str name, tz;
  uint8_t days;
  uint16_t months;
  uint32_t first[3], count[3]; /* spans: times, days of the month, years */
};

struct span_row {
  const struct wpart *p;
  uint32_t window;            /* row in windows */
};

struct backend_row {
  const struct backend *b;
  struct str name;
  uint32_t first_field, nfields;
};

struct field_row {
  const struct field *f;
  struct str name, value;
  uint8_t source;
};

struct alert_row {
  const struct alert_name *a;
  struct str name;
  uint32_t rule;
};

struct pattern_row {          /* one `alert =~ "RE"` */
  const struct alert_name *a;
  struct str regex;
  uint32_t rule;
};

struct matcher_row {
  const struct matcher *m;
  struct str name, value;
};

struct index_row {            /* one alert name: index_rules[first, +count) */
  struct str name;
  uint32_t first, count;
};

struct pair {                 /* (alert name, rule), before sorting */
  const char *name;
  uint32_t rule;
};

struct ptr_index {            /* a declaration's address and its row */
  uintptr_t ptr;
  uint32_t index;
};

struct frame {                /* one node of the iterative postfix walk */
  const struct expr *e;
  const struct expr *next;    /* the next child to visit */
  uint32_t pending;           /* INTERP: its values on the stack so far */
};

struct lines {                /* offsets where the lines of a source start */
  uint32_t *start;
  uint32_t n;
};

struct layout {
  const struct program *p;
  jmp_buf oom;                /* where vec_push jumps when out of memory */
  struct vec rules;           /* struct rule_row */
  struct vec alerts;          /* struct alert_row: exact names */
  struct vec name_patterns;   /* struct pattern_row, in rule order */
  struct vec matchers;        /* struct matcher_row */
  struct vec insns;           /* struct insn_row */
  struct vec groups;          /* struct insn_group */
  struct vec params;          /* struct param_row */
  struct vec steps;           /* struct step_row */
  struct vec notifies;        /* struct notify_row */
  struct vec windows;         /* struct window_row */
  struct vec spans;           /* struct span_row */
  struct vec backends;        /* struct backend_row */
  struct vec fields;          /* struct field_row */
  struct vec index;           /* struct index_row */
  struct vec index_rules;     /* uint32_t */
  struct vec bigs;            /* struct str: strings over MAX_LITERAL */
  struct vec paths;           /* struct str: the sources' paths */
  struct vec lines;           /* struct lines, one per source */
  struct vec window_map;      /* struct ptr_index, sorted by ptr */
  struct vec backend_map;     /* struct ptr_index, sorted by ptr */
  struct vec pairs;           /* struct pair: scratch for the index */
  struct vec frames;          /* struct frame: scratch for emit_expr */
};

static void layout_free(struct layout *l) {
  for (uint32_t i = 0; i < l->lines.n; i++)
    free(AT(l->lines, struct lines, i).start);
  struct vec *all[] = {&l->rules,       &l->alerts,     &l->matchers,   &l->insns,
                       &l->groups,      &l->params,     &l->steps,      &l->notifies,
                       &l->windows,     &l->backends,   &l->fields,     &l->index,
                       &l->index_rules, &l->bigs,       &l->paths,      &l->lines,
                       &l->window_map,  &l->backend_map, &l->pairs,     &l->frames,
                       &l->spans,       &l->name_patterns};
  for (size_t i = 0; i < COUNT(all); i++)
    free(all[i]->data);
}

/* Appends a zeroed element of size bytes to v and returns it; valid until
 * the next push onto v. Out of memory (or past 2^31 elements: indices stay
 * far below HL_NONE) it jumps back to codegen_emit(). */
static void *vec_push(struct layout *l, struct vec *v, size_t size) {
  if (v->n == v->cap) {
    uint32_t cap = v->cap ? v->cap * 2 : 16;
    if (v->cap >= (UINT32_C(1) << 30) || (size_t)cap > SIZE_MAX / size)
      longjmp(l->oom, 1);
    void *data = realloc(v->data, (size_t)cap * size);
    if (!data)
      longjmp(l->oom, 1);
    v->data = data;
    v->cap = cap;
  }
  char *e = (char *)v->data + (size_t)v->n++ * size;
  memset(e, 0, size);
  return e;
}

#define PUSH(l, field, type) ((type *)vec_push((l), &(l)->field, sizeof(type)))

/* An internal error: codegen was given a tree that the checker should have
 * rejected or completed. */
static _Noreturn void bug(const char *what) {
  fprintf(stderr, "healerc: internal error in codegen: %s\n", what);
  abort();
}

/* A string of n bytes; one over MAX_LITERAL is listed for an array. */
static struct str str_n(struct layout *l, const char *s, size_t n) {
  struct str r = {s, n, HL_NONE};
  if (s && n > MAX_LITERAL) {
    r.big = l->bigs.n;
    *PUSH(l, bigs, struct str) = r;
  }
  return r;
}

/* A NUL-terminated string, or NULL. */
static struct str str_c(struct layout *l, const char *s) {
  return str_n(l, s, s ? strlen(s) : 0);
}

/* ---- source lines ---------------------------------------------------------- */

static void lines_init(struct layout *l) {
  const struct program *p = l->p;
  for (uint32_t f = 0; f < p->nsources; f++) {
    const struct source *src = &p->sources[f];
    *PUSH(l, paths, struct str) = str_c(l, src->path);
    struct lines *ls = PUSH(l, lines, struct lines);
    uint32_t n = 1;
    for (size_t i = 0; i < src->len; i++)
      n += src->text[i] == '\n';
    ls->start = malloc(n * sizeof(uint32_t));
    if (!ls->start)
      longjmp(l->oom, 1);
    ls->start[ls->n++] = 0;
    for (size_t i = 0; i < src->len; i++)
      if (src->text[i] == '\n')
        ls->start[ls->n++] = (uint32_t)(i + 1);
  }
}

static void check_loc(const struct layout *l, struct loc loc) {
  if (loc.file >= l->lines.n)
    bug("location in an unknown file");
}

/* The 1-based line of a location, counting '\n' as diag does. */
static uint32_t line_of(const struct layout *l, struct loc loc) {
  check_loc(l, loc);
  const struct lines *ls = &AT(l->lines, struct lines, loc.file);
  uint32_t lo = 0, hi = ls->n; /* the last start <= begin is in [lo, hi) */
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ls->start[mid] <= loc.begin)
      lo = mid;
    else
      hi = mid;
  }
  return lo + 1;
}

static struct str path_of(const struct layout *l, struct loc loc) {
  check_loc(l, loc);
  return AT(l->paths, struct str, loc.file);
}

/* ---- declarations: windows and backends -------------------------------------- */

static int cmp_ptr_index(const void *a, const void *b) {
  uintptr_t x = ((const struct ptr_index *)a)->ptr;
  uintptr_t y = ((const struct ptr_index *)b)->ptr;
  return x < y ? -1 : x > y;
}

/* The row of a declaration, HL_NONE for NULL. */
static uint32_t find_index(const struct vec *map, const void *ptr) {
  if (!ptr)
    return HL_NONE;
  struct ptr_index key = {(uintptr_t)ptr, 0};
  const struct ptr_index *hit =
      map->n ? bsearch(&key, map->data, map->n, sizeof key, cmp_ptr_index) : NULL;
  if (!hit)
    bug("reference to an undeclared window or backend");
  return hit->index;
}

static void build_windows(struct layout *l) {
  for (const struct window *w = l->p->windows; w; w = w->next) {
    struct ptr_index *m = PUSH(l, window_map, struct ptr_index);
    m->ptr = (uintptr_t)w;
    m->index = l->windows.n;
    struct window_row *row = PUSH(l, windows, struct window_row);
    row->w = w;
    row->name = str_c(l, w->name);
    row->tz = str_c(l, w->tz ? w->tz : "UTC"); /* LANGUAGE.md: default UTC */
    row->days = w->day_mask ? w->day_mask : 0x7f;
    row->months = w->month_mask ? w->month_mask : 0xfff;
    static const enum wpart_role roles[3] = {WR_TIME, WR_MDAY, WR_YEAR};
    for (int k = 0; k < 3; k++) {
      row->first[k] = l->spans.n;
      for (const struct wpart *p = w->parts; p; p = p->next) {
        if (p->role != roles[k])
          continue;
        if (k == 0 && (p->nlo < 0 || p->nlo >= 1440 || p->nhi < 0 ||
                       p->nhi > 1440 || p->nlo == p->nhi))
          bug("window time out of range");
        struct span_row *sp = PUSH(l, spans, struct span_row);
        sp->p = p;
        sp->window = (uint32_t)(l->windows.n - 1);
      }
      row->count[k] = l->spans.n - row->first[k];
    }
  }
  if (l->window_map.n)
    qsort(l->window_map.data, l->window_map.n, sizeof(struct ptr_index), cmp_ptr_index);
}

static void build_backends(struct layout *l) {
  for (const struct backend *b = l->p->backends; b; b = b->next) {
    if (b->backend_kind < 0 || b->backend_kind >= HL_BK__COUNT)
      bug("backend kind not resolved");
    struct ptr_index *m = PUSH(l, backend_map, struct ptr_index);
    m->ptr = (uintptr_t)b;
    m->index = l->backends.n;
    uint32_t first = l->fields.n;
    for (const struct field *f = b->fields; f; f = f->next) {
      struct field_row *row = PUSH(l, fields, struct field_row);
      const struct expr *v = f->value;
      row->f = f;
      row->name = str_c(l, f->name);
      if (v && v->kind == EXPR_STR) {
        row->source = HL_SRC_LITERAL;
        row->value = str_n(l, v->str, v->len);
      } else if (v && v->kind == EXPR_CALL && v->str && v->args && !v->args->next &&
                 v->args->kind == EXPR_STR &&
                 (strcmp(v->str, "env") == 0 || strcmp(v->str, "file") == 0)) {
        row->source = v->str[0] == 'e' ? HL_SRC_ENV : HL_SRC_FILE;
        row->value = str_n(l, v->args->str, v->args->len);
      } else {
        bug("backend field is neither a string nor env(\"X\") or file(\"p\")");
      }
    }
    struct backend_row *row = PUSH(l, backends, struct backend_row);
    row->b = b;
    row->name = str_c(l, b->name);
    row->first_field = first;
    row->nfields = l->fields.n - first;
  }
  if (l->backend_map.n)
    qsort(l->backend_map.data, l->backend_map.n, sizeof(struct ptr_index), cmp_ptr_index);
}

/* ---- expressions ------------------------------------------------------------ */

static void emit_insn(struct layout *l, enum hl_opcode op, unsigned arg, struct str s) {
  struct insn_row *row = PUSH(l, insns, struct insn_row);
  row->op = (uint8_t)op;
  row->arg = (uint8_t)arg;
  row->str = s;
}

static void frame_push(struct layout *l, const struct expr *e) {
  struct frame *f = PUSH(l, frames, struct frame);
  f->e = e;
  f->next = e->args;
}

/* Appends the postfix code of e to hl_insns and returns its range. The walk
 * keeps its own stack, so deep nesting cannot overflow the C stack. */
static struct expr_ref emit_expr(struct layout *l, const struct expr *root, const char *param,
                                 const char *option, struct loc loc) {
  struct expr_ref ref = {l->insns.n, 0};
  if (!root)
    return ref;
  struct insn_group *g = PUSH(l, groups, struct insn_group);
  g->first = l->insns.n;
  g->e = root;
  g->param = param;
  g->option = option;
  g->loc = loc;

  l->frames.n = 0;
  frame_push(l, root);
  while (l->frames.n) {
    struct frame *f = &LAST(l->frames, struct frame);
    const struct expr *e = f->e;
    switch (e->kind) {
    case EXPR_STR:
      emit_insn(l, HL_OP_LIT, 0, str_n(l, e->str, e->len));
      l->frames.n--;
      continue;
    case EXPR_LABEL:
      emit_insn(l, HL_OP_LABEL, 0, str_c(l, e->str));
      l->frames.n--;
      continue;
    case EXPR_ANNOTATION:
      emit_insn(l, HL_OP_ANNOTATION, 0, str_c(l, e->str));
      l->frames.n--;
      continue;
    case EXPR_FIELD:
      if (e->id < 0 || e->id >= HL_FIELD__COUNT)
        bug("alert field not resolved");
      emit_insn(l, HL_OP_FIELD, (unsigned)e->id, str_c(l, NULL));
      l->frames.n--;
      continue;
    case EXPR_CALL:
    case EXPR_DEFAULT:
    case EXPR_INTERP:
      break;
    default:
      bug("unknown expression kind");
    }
    if (f->next) { /* visit the next child */
      const struct expr *c = f->next;
      f->next = c->next;
      if (e->kind == EXPR_INTERP) {
        if (f->pending == 255) { /* CONCAT joins at most 255: chain them */
          emit_insn(l, HL_OP_CONCAT, 255, str_c(l, NULL));
          f->pending = 1;
        }
        f->pending++;
      }
      frame_push(l, c); /* f may move: not used again before the pop */
      continue;
    }
    if (e->kind == EXPR_CALL) {
      if (e->id < 0 || e->id >= HL_FN__COUNT)
        bug("function not resolved");
      emit_insn(l, HL_OP_CALL, (unsigned)e->id, str_c(l, NULL));
    } else if (e->kind == EXPR_DEFAULT) {
      emit_insn(l, HL_OP_DEFAULT, 0, str_c(l, NULL));
    } else if (f->pending == 0) {
      emit_insn(l, HL_OP_LIT, 0, str_n(l, "", 0)); /* "" with no parts */
    } else {
      emit_insn(l, HL_OP_CONCAT, f->pending, str_c(l, NULL));
    }
    l->frames.n--;
  }
  ref.count = l->insns.n - ref.first;
  return ref;
}

/* ---- rules ------------------------------------------------------------------ */

static void build_rule(struct layout *l, const struct rule *r) {
  uint32_t ri = l->rules.n;
  struct rule_row row = {0};
  const struct option *cooldown = NULL, *limit = NULL;
  if (!r->display_name)
    bug("rule without a display name");
  row.r = r;
  row.name = str_c(l, r->display_name);
  if (r->former_name)
    row.former_name = str_c(l, r->former_name);
  row.status = HL_STATUS_FIRING;
  row.during = row.not_during = HL_NONE;
  row.retries = HL_RETRY_DEFAULT; /* no `retry` clause */

  row.first_alert = l->alerts.n;
  row.first_pattern = l->name_patterns.n;
  for (const struct alert_name *a = r->alerts; a; a = a->next) {
    if (a->re) {
      struct pattern_row *pr = PUSH(l, name_patterns, struct pattern_row);
      pr->a = a;
      pr->regex = str_c(l, a->name);
      pr->rule = ri;
      continue;
    }
    struct alert_row *ar = PUSH(l, alerts, struct alert_row);
    ar->a = a;
    ar->name = str_c(l, a->name);
    ar->rule = ri;
  }
  row.nalerts = l->alerts.n - row.first_alert;
  row.npatterns = l->name_patterns.n - row.first_pattern;
  if (!row.npatterns)
    row.first_pattern = 0;

  row.first_matcher = l->matchers.n;
  for (const struct matcher *m = r->matchers; m; m = m->next) {
    if (!m->value || m->value->kind != EXPR_STR)
      bug("matcher value is not a literal");
    if ((unsigned)m->on >= COUNT(match_on_names) || (unsigned)m->op >= COUNT(match_op_names))
      bug("bad matcher");
    struct matcher_row *mr = PUSH(l, matchers, struct matcher_row);
    mr->m = m;
    mr->name = str_c(l, m->name);
    mr->value = str_n(l, m->value->str, m->value->len);
  }
  row.nmatchers = l->matchers.n - row.first_matcher;

  row.first_step = l->steps.n;
  for (const struct step *s = r->steps; s; s = s->next) {
    if (s->action < 0 || s->action >= HL_ACT__COUNT)
      bug("action kind not resolved");
    uint32_t first = l->params.n;
    for (const struct param *pa = s->params; pa; pa = pa->next) {
      struct expr_ref v = emit_expr(l, pa->value, pa->name, NULL, pa->name_loc);
      struct param_row *pr = PUSH(l, params, struct param_row);
      pr->p = pa;
      pr->name = str_c(l, pa->name);
      pr->value = v;
    }
    /* A backend picked per alert: its code follows the step's parameters. */
    struct expr_ref bx = {0, 0};
    if (s->via_expr) {
      if (s->backend)
        bug("a step with both a backend and a backend expression");
      bx = emit_expr(l, s->via_expr, NULL, "via", s->via_loc);
    }
    struct step_row *sr = PUSH(l, steps, struct step_row);
    sr->s = s;
    sr->target = str_c(l, s->target);
    sr->backend = find_index(&l->backend_map, s->backend);
    sr->first_param = first;
    sr->nparams = l->params.n - first;
    if (results_count(s->action) < HL_RESULTS_MAX &&
        s->succeed_on >> results_count(s->action))
      bug("'succeed on' names a result the step's kind does not report");
    sr->succeed_on = s->succeed_on;
    sr->backend_expr = bx;
  }
  row.nsteps = l->steps.n - row.first_step;

  row.first_notify = l->notifies.n;
  for (const struct notify *n = r->notifies; n; n = n->next) {
    if (n->backend_kind < 0 || n->backend_kind >= HL_BK__COUNT)
      bug("notification kind not resolved");
    struct notify_row *nr = PUSH(l, notifies, struct notify_row);
    nr->n = n;
    nr->target = str_c(l, n->target);
    nr->backend = find_index(&l->backend_map, n->backend);
  }
  row.nnotify = l->notifies.n - row.first_notify;

  /* The checker rejects a repeated option; were one to slip through, the
   * last one written would win. */
  for (const struct option *o = r->options; o; o = o->next) {
    switch (o->kind) {
    case OPT_COOLDOWN:
      row.cooldown_ms = o->ms;
      cooldown = o;
      break;
    case OPT_TIMEOUT:
      row.timeout_ms = o->ms;
      break;
    case OPT_RETRY:
      row.retries = (uint32_t)o->n;
      row.backoff_ms = o->has_ms ? o->ms : 0;
      break;
    case OPT_LIMIT:
      row.limit = (uint32_t)o->n;
      limit = o;
      break;
    case OPT_BUDGET:
      row.budget = (uint32_t)o->n;
      row.budget_ms = o->ms;
      break;
    case OPT_BREAKER:
      row.breaker_failures = (uint32_t)o->n;
      row.breaker_ms = o->ms;
      break;
    case OPT_DRY_RUN:
      row.flags |= HL_RULE_DRY_RUN;
      break;
    case OPT_CONTINUE:
      row.flags |= HL_RULE_CONTINUE;
      break;
    case OPT_DURING:
    case OPT_NOT_DURING:
      if (!o->window)
        bug("window not resolved");
      *(o->kind == OPT_DURING ? &row.during : &row.not_during) =
          find_index(&l->window_map, o->window);
      break;
    case OPT_STATUS:
      if (o->name && strcmp(o->name, "firing") == 0)
        row.status = HL_STATUS_FIRING;
      else if (o->name && strcmp(o->name, "resolved") == 0)
        row.status = HL_STATUS_RESOLVED;
      else if (o->name && strcmp(o->name, "any") == 0)
        row.status = HL_STATUS_ANY;
      else
        bug("unknown alert status");
      break;
    case OPT_SUCCEED: /* the checker put it on the steps */
      break;
    default:
      bug("unknown option kind");
    }
  }
  /* The keys' code follows the code of the rule's parameters. */
  if (cooldown && cooldown->per)
    row.cooldown_key = emit_expr(l, cooldown->per, NULL, "cooldown per", cooldown->loc);
  if (limit && limit->per)
    row.limit_key = emit_expr(l, limit->per, NULL, "limit per", limit->loc);

  *PUSH(l, rules, struct rule_row) = row;
}

static int cmp_pair(const void *a, const void *b) {
  const struct pair *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* The index: every (alert name, rule) pair sorted by name (strcmp) and,
 * within a name, by rule, i.e. in source order. The rule number breaks
 * ties, so qsort's instability cannot show. A rule that names the same
 * alert twice is listed once. */
static void build_index(struct layout *l) {
  for (uint32_t i = 0; i < l->alerts.n; i++) {
    const struct alert_row *a = &AT(l->alerts, struct alert_row, i);
    struct pair *pr = PUSH(l, pairs, struct pair);
    pr->name = a->a->name;
    pr->rule = a->rule;
  }
  if (l->pairs.n)
    qsort(l->pairs.data, l->pairs.n, sizeof(struct pair), cmp_pair);
  for (uint32_t i = 0; i < l->pairs.n; i++) {
    const struct pair *pr = &AT(l->pairs, struct pair, i);
    const struct pair *prev = i ? pr - 1 : NULL;
    if (!prev || strcmp(pr->name, prev->name) != 0) {
      struct index_row *ir = PUSH(l, index, struct index_row);
      ir->name = str_c(l, pr->name);
      ir->first = l->index_rules.n;
    } else if (pr->rule == prev->rule) {
      continue;
    }
    *PUSH(l, index_rules, uint32_t) = pr->rule;
    LAST(l->index, struct index_row).count++;
  }
}

static void build(struct layout *l) {
  lines_init(l);
  build_windows(l);
  build_backends(l);
  for (const struct rule *r = l->p->rules; r; r = r->next)
    build_rule(l, r);
  build_index(l);
}

/* ---- output ------------------------------------------------------------------ */

struct out {
  FILE *f;                    /* NULL: only count (to measure a width) */
  size_t col;                 /* bytes written since the last newline */
};

static void o_write(struct out *o, const char *s, size_t n) {
  if (o->f)
    fwrite(s, 1, n, o->f);
  for (size_t i = 0; i < n; i++)
    o->col = s[i] == '\n' ? 0 : o->col + 1;
}

static void o_puts(struct out *o, const char *s) { o_write(o, s, strlen(s)); }

static void o_putc(struct out *o, char c) {
  if (o->f)
    putc(c, o->f);
  o->col = c == '\n' ? 0 : o->col + 1;
}

__attribute__((format(printf, 2, 3))) static void o_printf(struct out *o, const char *fmt,
                                                           ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf)
    bug("o_printf overflow");
  o_write(o, buf, (size_t)n);
}

/* Pads with spaces to the comment column, or writes one space past it. */
static void o_tab(struct out *o) {
  do
    o_putc(o, ' ');
  while (o->col < COMMENT_COLUMN);
}

/* Writes the bytes of s as the inside of a C string literal. */
static void o_cbody(struct out *o, const char *s, size_t n) {
  char buf[1024];
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (k > sizeof buf - 8) {
      o_write(o, buf, k);
      k = 0;
    }
    const char *esc = c == '\\' ? "\\\\"
                      : c == '"'  ? "\\\""
                      : c == '\n' ? "\\n"
                      : c == '\t' ? "\\t"
                      : c == '\r' ? "\\r"
                                  : NULL;
    if (esc) {
      buf[k++] = esc[0];
      buf[k++] = esc[1];
    } else if (c == '?' && i > 0 && s[i - 1] == '?') { /* no ??x trigraph */
      buf[k++] = '\\';
      buf[k++] = '?';
    } else if (c < 0x20 || c >= 0x7f) { /* 3 digits: nothing after joins */
      buf[k++] = '\\';
      buf[k++] = (char)('0' + (c >> 6));
      buf[k++] = (char)('0' + ((c >> 3) & 7));
      buf[k++] = (char)('0' + (c & 7));
    } else {
      buf[k++] = (char)c;
    }
  }
  if (k)
    o_write(o, buf, k);
}

/* Writes sep, then c as a character constant and a comma: 'a', '\'',
 * '\303'. (A bare number would not do: 195 overflows a signed char.) */
static void o_cchar(struct out *o, char ch, const char *sep) {
  unsigned char c = (unsigned char)ch;
  o_puts(o, sep);
  if (c == '\'' || c == '\\')
    o_printf(o, "'\\%c',", c);
  else if (c >= 0x20 && c < 0x7f)
    o_printf(o, "'%c',", c);
  else
    o_printf(o, "'\\%03o',", c);
}

/* Writes a string as a C expression: a literal, the name of its array, or
 * 0 for a null pointer. */
static void o_str(struct out *o, struct str s) {
  if (!s.s) {
    o_putc(o, '0');
  } else if (s.big != HL_NONE) {
    o_printf(o, "hl_string_%" PRIu32, s.big);
  } else {
    o_putc(o, '"');
    o_cbody(o, s.s, s.len);
    o_putc(o, '"');
  }
}

/* Writes text into a comment: printable ASCII as is, each run of white
 * space as one space, other bytes as \ooo. A backslash breaks "/" "*",
 * "*" "/" and trigraphs, so the text can neither open nor close a comment
 * nor, with ??/ at the end of a line, splice it. */
static void o_ctext(struct out *o, const char *s, size_t n) {
  int space = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = 1;
      continue;
    }
    if (space)
      o_putc(o, ' ');
    space = 0;
    int next = i + 1 < n ? s[i + 1] : 0;
    if ((c == '/' && next == '*') || (c == '*' && next == '/')) {
      o_putc(o, (char)c);
      o_putc(o, '\\');
    } else if (c == '?' && i > 0 && s[i - 1] == '?' && next && strchr("()<>=/'!-", next)) {
      o_puts(o, "\\?"); /* would be a trigraph, even in a comment */
    } else if (c < 0x20 || c >= 0x7f) {
      o_printf(o, "\\%03o", c);
    } else {
      o_putc(o, (char)c);
    }
  }
  if (space)
    o_putc(o, ' ');
}

static void o_cstr(struct out *o, const char *s) { o_ctext(o, s, strlen(s)); }

/* "file:line" of a location, inside a comment. */
static void o_where(struct out *o, const struct layout *l, struct loc loc) {
  struct str path = path_of(l, loc);
  o_ctext(o, path.s, path.len);
  o_printf(o, ":%" PRIu32, line_of(l, loc));
}

/* Opens a trailing row comment: the row's index and file:line. The caller
 * may add more and closes it. */
static void o_rowc(struct out *o, const struct layout *l, uint32_t i, struct loc loc) {
  o_tab(o);
  o_printf(o, "/* %" PRIu32 " ", i);
  o_where(o, l, loc);
}

/* The source text of an expression, shortened, inside a comment. */
static void o_exprtext(struct out *o, const struct layout *l, const struct expr *e) {
  check_loc(l, e->loc);
  const struct source *src = &l->p->sources[e->loc.file];
  if (e->loc.end <= e->loc.begin || e->loc.end > src->len)
    return;
  size_t n = e->loc.end - e->loc.begin;
  o_ctext(o, src->text + e->loc.begin, n > MAX_COMMENT_EXPR ? MAX_COMMENT_EXPR : n);
  if (n > MAX_COMMENT_EXPR)
    o_puts(o, "...");
}


/* A designated duration field, with the duration spelled out. */
static void o_ms(struct out *o, const char *field, uint64_t ms) {
  o_printf(o, ".%s = %" PRIu64, field, ms);
  if (ms) {
    char d[HL_DURATION_BUFSZ];
    o_printf(o, " /* %s */", hl_format_duration(ms, d));
  }
}

static void o_index(struct out *o, uint32_t i) {
  if (i == HL_NONE)
    o_puts(o, "HL_NONE");
  else
    o_printf(o, "%" PRIu32, i);
}

static void o_time(struct out *o, unsigned min) {
  o_printf(o, "%02u:%02u", min / 60, min % 60);
}

/* ---- the file, part by part -------------------------------------------------- */

/* A path as one shell word, for the command in the banner. */
static void o_shell_word(struct out *o, const char *s) {
  static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_./+-,:=@%";
  if (*s && strspn(s, plain) == strlen(s)) {
    o_cstr(o, s);
    return;
  }
  /* '...' with each ' as '\''; the pieces go through o_ctext whole, so it
   * sees every "*" "/" and "??" inside one. */
  o_putc(o, '\'');
  for (;;) {
    size_t n = strcspn(s, "'");
    o_ctext(o, s, n);
    if (!s[n])
      break;
    o_puts(o, "'\\''");
    s += n + 1;
  }
  o_putc(o, '\'');
}

static void print_banner(struct out *o, const struct layout *l, const char *digest) {
  const struct program *p = l->p;
  o_puts(o, "/*\n"
            " * Remediation rules for healer, as the constant tables of core/abi.h.\n"
            " * Generated by healerc " HEALER_VERSION " from:\n");
  for (uint32_t i = 0; i < p->nsources; i++) {
    o_puts(o, " *   ");
    o_cstr(o, p->sources[i].path);
    o_putc(o, '\n');
  }
  o_printf(o, " * Digest of the sources (FNV-1a 64): %s\n", digest);
  o_puts(o, " *\n"
            " * Do not edit: change the rules and regenerate with\n"
            " *   healerc compile");
  for (uint32_t i = 0; i < p->nsources; i++) { /* wrapped at 78 columns */
    struct out dry = {NULL, 0};
    o_shell_word(&dry, p->sources[i].path);
    if (o->col > 20 && o->col + 1 + dry.col > 78)
      o_puts(o, "\n *    ");
    o_putc(o, ' ');
    o_shell_word(o, p->sources[i].path);
  }
  o_puts(o, o->col + 10 > 78 ? "\n *     -o FILE.c\n" : " -o FILE.c\n");
  o_puts(o, " *\n"
            " * Tables refer to one another by index (HL_NONE: none); the comment\n"
            " * after a row gives its index and the file:line it comes from.\n"
            " */\n"
            "#include \"abi.h\"\n"
            "\n");
  o_printf(o, "HL_ABI_CHECK(%d);\n", CODEGEN_ABI_VERSION);
}

static void print_bigs(struct out *o, const struct layout *l) {
  for (uint32_t i = 0; i < l->bigs.n; i++) {
    const struct str *s = &AT(l->bigs, struct str, i);
    o_printf(o,
             "\n/* A string of %zu bytes, longer than C11 allows a literal to be,\n"
             " * beginning \"",
             s->len);
    o_ctext(o, s->s, 40);
    o_printf(o, "...\" */\nstatic const char hl_string_%" PRIu32 "[] = {", i);
    for (size_t k = 0; k < s->len; k++)
      o_cchar(o, s->s[k], k % 12 ? " " : "\n  ");
    o_puts(o, "\n  0\n};\n");
  }
}

static const char *status_name(uint32_t status) {
  return status == HL_STATUS_FIRING     ? "HL_STATUS_FIRING"
         : status == HL_STATUS_RESOLVED ? "HL_STATUS_RESOLVED"
                                        : "HL_STATUS_ANY";
}

static const char *flags_name(uint32_t flags) {
  static const char *const names[] = {"0", "HL_RULE_DRY_RUN", "HL_RULE_CONTINUE",
                                      "HL_RULE_DRY_RUN | HL_RULE_CONTINUE"};
  return names[flags & 3];
}

static void print_rules(struct out *o, const struct layout *l) {
  if (!l->rules.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Rules, in source order (files in the order given). A rule owns the\n"
            " * rows [first_X, first_X + nX) of the tables below; during and\n"
            " * not_during are rows of hl_windows; the keys are code in hl_insns\n"
            " * ({first, count}; count 0: the default key).\n"
            " */\n"
            "static const struct hl_rule hl_rules[] = {\n");
  for (uint32_t i = 0; i < l->rules.n; i++) {
    const struct rule_row *r = &AT(l->rules, struct rule_row, i);
    o_printf(o, "  /* %" PRIu32 " ", i);
    o_where(o, l, r->r->loc);
    if (r->r->name) {
      o_putc(o, ' ');
      o_cstr(o, r->r->name);
    }
    o_puts(o, " */\n  {\n    .name = ");
    o_str(o, r->name);
    o_puts(o, ", .file = ");
    o_str(o, path_of(l, r->r->loc));
    o_printf(o, ", .line = %" PRIu32 ",\n", line_of(l, r->r->loc));
    if (r->r->former_name) {
      o_puts(o, "    .former_name = ");
      o_str(o, r->former_name);
      o_puts(o, ",\n");
    }
    o_printf(o,
             "    .flags = %s, .status = %s,\n"
             "    .first_alert = %" PRIu32 ", .nalerts = %" PRIu32 ",\n"
             "    .first_matcher = %" PRIu32 ", .nmatchers = %" PRIu32 ",\n"
             "    .first_step = %" PRIu32 ", .nsteps = %" PRIu32 ",\n"
             "    .first_notify = %" PRIu32 ", .nnotify = %" PRIu32 ",\n    ",
             flags_name(r->flags), status_name(r->status), r->first_alert, r->nalerts,
             r->first_matcher, r->nmatchers, r->first_step, r->nsteps, r->first_notify,
             r->nnotify);
    if (r->npatterns)
      o_printf(o, ".first_pattern = %" PRIu32 ", .npatterns = %" PRIu32 ",\n    ",
               r->first_pattern, r->npatterns);
    o_ms(o, "cooldown_ms", r->cooldown_ms);
    o_printf(o, ", .cooldown_key = {%" PRIu32 ", %" PRIu32 "},\n    ", r->cooldown_key.first,
             r->cooldown_key.count);
    o_ms(o, "timeout_ms", r->timeout_ms);
    if (r->retries == HL_RETRY_DEFAULT)
      o_puts(o, ", .retries = HL_RETRY_DEFAULT, ");
    else
      o_printf(o, ", .retries = %" PRIu32 ", ", r->retries);
    o_ms(o, "backoff_ms", r->backoff_ms);
    o_printf(o,
             ",\n    .limit = %" PRIu32 ", .limit_key = {%" PRIu32 ", %" PRIu32 "},"
             " .budget = %" PRIu32 ", ",
             r->limit, r->limit_key.first, r->limit_key.count, r->budget);
    o_ms(o, "budget_ms", r->budget_ms);
    o_puts(o, ",\n    .during = ");
    o_index(o, r->during);
    o_puts(o, ", .not_during = ");
    o_index(o, r->not_during);
    if (r->breaker_failures) {
      o_printf(o, ",\n    .breaker_failures = %" PRIu32 ", ", r->breaker_failures);
      o_ms(o, "breaker_ms", r->breaker_ms);
    }
    o_puts(o, ",\n  },\n");
  }
  o_puts(o, "};\n");
}

static void print_alertnames(struct out *o, const struct layout *l) {
  if (!l->alerts.n)
    return;
  o_puts(o, "\n"
            "/* The alert names of each rule (hl_rule.first_alert, nalerts). */\n"
            "static const char *const hl_alertnames[] = {\n");
  for (uint32_t i = 0; i < l->alerts.n; i++) {
    const struct alert_row *a = &AT(l->alerts, struct alert_row, i);
    o_puts(o, "  ");
    o_str(o, a->name);
    o_putc(o, ',');
    o_rowc(o, l, i, a->a->loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_name_patterns(struct out *o, const struct layout *l) {
  if (!l->name_patterns.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Alert-name patterns (hl_rule.first_pattern, npatterns), in rule order:\n"
            " * rule, regex. The runtime anchors the regex as a matcher's.\n"
            " */\n"
            "static const struct hl_name_pattern hl_name_patterns[] = {\n");
  for (uint32_t i = 0; i < l->name_patterns.n; i++) {
    const struct pattern_row *p = &AT(l->name_patterns, struct pattern_row, i);
    o_printf(o, "  {%" PRIu32 ", ", p->rule);
    o_str(o, p->regex);
    o_puts(o, "},");
    o_rowc(o, l, i, p->a->loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_matchers(struct out *o, const struct layout *l) {
  if (!l->matchers.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Matchers (hl_rule.first_matcher, nmatchers): on, op, name, value.\n"
            " * A regex is the source as written; the runtime anchors it.\n"
            " */\n"
            "static const struct hl_matcher hl_matchers[] = {\n");
  for (uint32_t i = 0; i < l->matchers.n; i++) {
    const struct matcher_row *m = &AT(l->matchers, struct matcher_row, i);
    o_printf(o, "  {%s, %s, ", match_on_names[m->m->on], match_op_names[m->m->op]);
    o_str(o, m->name);
    o_puts(o, ", ");
    o_str(o, m->value);
    o_puts(o, "},");
    o_rowc(o, l, i, m->m->name_loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_steps(struct out *o, const struct layout *l) {
  if (!l->steps.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Steps, run in order (hl_rule.first_step, nsteps): action, backend\n"
            " * (HL_NONE: the kind's default), target, first_param, nparams,\n"
            " * succeed_on (bit i: the kind's i-th HL_RESULT in actions.def; 0: the\n"
            " * kind's defaults; the comment names the results), backend_expr (code\n"
            " * in hl_insns naming a declared backend per alert; count 0: backend).\n"
            " */\n"
            "static const struct hl_step hl_steps[] = {\n");
  for (uint32_t i = 0; i < l->steps.n; i++) {
    const struct step_row *s = &AT(l->steps, struct step_row, i);
    o_printf(o, "  {%s, ", action_names[s->s->action]);
    o_index(o, s->backend);
    o_puts(o, ", ");
    o_str(o, s->target);
    o_printf(o, ", %" PRIu32 ", %" PRIu32 ", ", s->first_param, s->nparams);
    o_printf(o, s->succeed_on ? "0x%" PRIx32 ", " : "%" PRIu32 ", ", s->succeed_on);
    o_printf(o, "{%" PRIu32 ", %" PRIu32 "}},", s->backend_expr.first, s->backend_expr.count);
    o_rowc(o, l, i, s->s->loc);
    if (s->backend != HL_NONE) {
      o_puts(o, " via ");
      o_cstr(o, AT(l->backends, struct backend_row, s->backend).b->name);
    } else if (s->s->via_expr) {
      o_puts(o, " via ");
      o_exprtext(o, l, s->s->via_expr);
    }
    const char *sep = " succeed on ";
    for (unsigned k = 0; s->succeed_on >> k; k++)
      if (s->succeed_on & UINT32_C(1) << k) {
        o_puts(o, sep);
        o_cstr(o, results_name(s->s->action, k));
        sep = ", ";
      }
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_params(struct out *o, const struct layout *l) {
  if (!l->params.n)
    return;
  o_puts(o, "\n"
            "/* Parameters of each step (hl_step.first_param, nparams): name, and the\n"
            " * value as code in hl_insns {first, count}. */\n"
            "static const struct hl_param hl_params[] = {\n");
  for (uint32_t i = 0; i < l->params.n; i++) {
    const struct param_row *pr = &AT(l->params, struct param_row, i);
    o_puts(o, "  {");
    o_str(o, pr->name);
    o_printf(o, ", {%" PRIu32 ", %" PRIu32 "}},", pr->value.first, pr->value.count);
    o_rowc(o, l, i, pr->p->name_loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_insns(struct out *o, const struct layout *l) {
  if (!l->insns.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Expressions as postfix code on a stack of strings: op, arg, str.\n"
            " * LIT pushes str; LABEL and ANNOTATION push that label or annotation\n"
            " * (or absent); FIELD pushes an alert field; CALL applies a function to\n"
            " * its arguments; CONCAT joins arg values; DEFAULT pops d and v and\n"
            " * pushes v, or d if v is absent. A comment heads each expression.\n"
            " */\n"
            "static const struct hl_insn hl_insns[] = {\n");
  uint32_t g = 0;
  for (uint32_t i = 0; i < l->insns.n; i++) {
    while (g < l->groups.n && AT(l->groups, struct insn_group, g).first == i) {
      const struct insn_group *gr = &AT(l->groups, struct insn_group, g++);
      o_printf(o, "  /* %" PRIu32 " ", i);
      o_where(o, l, gr->loc);
      o_putc(o, ' ');
      if (gr->param) {
        o_cstr(o, gr->param);
        o_puts(o, " = ");
      } else {
        o_puts(o, gr->option);
        o_putc(o, ' ');
      }
      o_exprtext(o, l, gr->e);
      o_puts(o, " */\n");
    }
    const struct insn_row *in = &AT(l->insns, struct insn_row, i);
    o_printf(o, "  {%s, ", opcode_names[in->op]);
    if (in->op == HL_OP_FIELD)
      o_puts(o, field_names[in->arg]);
    else if (in->op == HL_OP_CALL)
      o_puts(o, func_names[in->arg]);
    else
      o_printf(o, "%u", in->arg);
    o_puts(o, ", ");
    o_str(o, in->str);
    o_puts(o, "},\n");
  }
  o_puts(o, "};\n");
}

static void print_notifies(struct out *o, const struct layout *l) {
  if (!l->notifies.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Notifications (hl_rule.first_notify, nnotify): events, kind,\n"
            " * backend (HL_NONE: the kind's default), target.\n"
            " */\n"
            "static const struct hl_notify hl_notifies[] = {\n");
  static const struct {
    unsigned bit;
    const char *name;
  } events[] = {{HL_EV_SUCCESS, "HL_EV_SUCCESS"},
                {HL_EV_FAILURE, "HL_EV_FAILURE"},
                {HL_EV_TIMEOUT, "HL_EV_TIMEOUT"}};
  for (uint32_t i = 0; i < l->notifies.n; i++) {
    const struct notify_row *nr = &AT(l->notifies, struct notify_row, i);
    const char *sep = "";
    o_puts(o, "  {");
    for (size_t k = 0; k < COUNT(events); k++)
      if (nr->n->events & events[k].bit) {
        o_printf(o, "%s%s", sep, events[k].name);
        sep = " | ";
      }
    if (!*sep)
      o_putc(o, '0');
    o_printf(o, ", %s, ", backend_names[nr->n->backend_kind]);
    o_index(o, nr->backend);
    o_puts(o, ", ");
    o_str(o, nr->target);
    o_puts(o, "},");
    o_rowc(o, l, i, nr->n->loc);
    o_puts(o, nr->n->how == NOTIFY_PAGE ? " page" : " notify");
    if (nr->backend != HL_NONE) {
      o_puts(o, " via ");
      o_cstr(o, AT(l->backends, struct backend_row, nr->backend).b->name);
    }
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

/* The bits of mask (n of them, named by names) as "mon..fri,sun". */
static void o_mask(struct out *o, unsigned mask, int n, const char *const *names) {
  const char *sep = "";
  for (int i = 0; i < n; i++) {
    if (!(mask & (1u << i)) || (i > 0 && (mask & (1u << (i - 1)))))
      continue;
    int j = i;
    while (j + 1 < n && (mask & (1u << (j + 1))))
      j++;
    o_printf(o, "%s%s", sep, names[i]);
    if (j > i)
      o_printf(o, "%s%s", j > i + 1 ? ".." : ",", names[j]);
    sep = ",";
  }
}

static void o_span(struct out *o, const struct wpart *p) {
  if (p->role == WR_TIME) {
    o_time(o, (unsigned)p->nlo);
    o_putc(o, '-');
    o_time(o, (unsigned)p->nhi);
  } else if (p->nlo == p->nhi) {
    o_printf(o, "%lld", (long long)p->nlo);
  } else {
    o_printf(o, "%lld..%lld", (long long)p->nlo, (long long)p->nhi);
  }
}

static void print_windows(struct out *o, const struct layout *l) {
  static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
  if (!l->windows.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Time windows for during / not during: name, tz, days (bit 0 =\n"
            " * Sunday), months (bit 0 = January), then first and count in\n"
            " * hl_spans of the time ranges, the days of the month and the years,\n"
            " * from_day, to_day (YYYYMMDD, 0: open), file, line.\n"
            " */\n"
            "static const struct hl_window hl_windows[] = {\n");
  for (uint32_t i = 0; i < l->windows.n; i++) {
    const struct window_row *w = &AT(l->windows, struct window_row, i);
    o_puts(o, "  {");
    o_str(o, w->name);
    o_puts(o, ", ");
    o_str(o, w->tz);
    o_printf(o, ", 0x%02x, 0x%03x, %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", %" PRIu32
                ", %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", %" PRIu32 ", ",
             w->days, w->months, w->first[0], w->count[0], w->first[1], w->count[1],
             w->first[2], w->count[2], w->w->from_day, w->w->to_day);
    o_str(o, path_of(l, w->w->name_loc));
    o_printf(o, ", %" PRIu32 "},", line_of(l, w->w->name_loc));
    o_rowc(o, l, i, w->w->name_loc);
    o_putc(o, ' ');
    if (w->days == 0x7f)
      o_puts(o, "daily");
    else
      o_mask(o, w->days, 7, days);
    if (w->months != 0xfff) {
      o_putc(o, ' ');
      o_mask(o, w->months, 12, months);
    }
    static const char *const what[3] = {"", "days ", "years "};
    static const int order[3] = {1, 2, 0}; /* as written: days, then times */
    for (int o_k = 0; o_k < 3; o_k++)
      for (uint32_t j = 0, k = (uint32_t)order[o_k]; j < w->count[k]; j++) {
        o_puts(o, j ? "," : " ");
        if (!j)
          o_puts(o, what[k]);
        o_span(o, AT(l->spans, struct span_row, w->first[k] + j).p);
      }
    if (!w->count[0])
      o_puts(o, " 00:00-24:00");
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_spans(struct out *o, const struct layout *l) {
  if (!l->spans.n)
    return;
  o_puts(o, "\n"
            "/* Ranges of the windows: lo, hi; time ranges in minutes [lo, hi),\n"
            " * days of the month and years inclusive. */\n"
            "static const struct hl_span hl_spans[] = {\n");
  for (uint32_t i = 0; i < l->spans.n; i++) {
    const struct span_row *sp = &AT(l->spans, struct span_row, i);
    const struct window_row *w = &AT(l->windows, struct window_row, sp->window);
    o_printf(o, "  {%lld, %lld}, /* %" PRIu32 " ", (long long)sp->p->nlo,
             (long long)sp->p->nhi, i);
    o_cstr(o, w->w->name);
    o_puts(o, sp->p->role == WR_MDAY ? ": days " : sp->p->role == WR_YEAR ? ": years " : ": ");
    o_span(o, sp->p);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_backends(struct out *o, const struct layout *l) {
  if (!l->backends.n)
    return;
  o_puts(o, "\n"
            "/* Backends declared in the rules: name, kind, first_field, nfields, file,\n"
            " * line. */\n"
            "static const struct hl_backend hl_backends[] = {\n");
  for (uint32_t i = 0; i < l->backends.n; i++) {
    const struct backend_row *b = &AT(l->backends, struct backend_row, i);
    o_puts(o, "  {");
    o_str(o, b->name);
    o_printf(o, ", %s, %" PRIu32 ", %" PRIu32 ", ", backend_names[b->b->backend_kind],
             b->first_field, b->nfields);
    o_str(o, path_of(l, b->b->name_loc));
    o_printf(o, ", %" PRIu32 "},", line_of(l, b->b->name_loc));
    o_rowc(o, l, i, b->b->name_loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_fields(struct out *o, const struct layout *l) {
  if (!l->fields.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * Backend fields (hl_backend.first_field, nfields): name, source,\n"
            " * value. HL_SRC_ENV and HL_SRC_FILE name where the runtime reads the\n"
            " * value at start-up; secrets never appear here.\n"
            " */\n"
            "static const struct hl_backend_field hl_fields[] = {\n");
  for (uint32_t i = 0; i < l->fields.n; i++) {
    const struct field_row *f = &AT(l->fields, struct field_row, i);
    o_puts(o, "  {");
    o_str(o, f->name);
    o_printf(o, ", %s, ", source_names[f->source]);
    o_str(o, f->value);
    o_puts(o, "},");
    o_rowc(o, l, i, f->f->name_loc);
    o_puts(o, " */\n");
  }
  o_puts(o, "};\n");
}

static void print_index(struct out *o, const struct layout *l) {
  if (!l->index.n)
    return;
  o_puts(o, "\n"
            "/*\n"
            " * The index: each alert name once, sorted by strcmp for binary search,\n"
            " * with its rules as rows [first, first + count) of hl_index_rules.\n"
            " */\n"
            "static const struct hl_index_entry hl_index[] = {\n");
  for (uint32_t i = 0; i < l->index.n; i++) {
    const struct index_row *ir = &AT(l->index, struct index_row, i);
    o_puts(o, "  {");
    o_str(o, ir->name);
    o_printf(o, ", %" PRIu32 ", %" PRIu32 "},", ir->first, ir->count);
    o_tab(o);
    o_printf(o, "/* %" PRIu32 " */\n", i);
  }
  o_puts(o, "};\n");

  o_puts(o, "\n"
            "/* The rules of each alert name, in source order: rows of hl_rules. */\n"
            "static const uint32_t hl_index_rules[] = {\n");
  for (uint32_t i = 0; i < l->index.n; i++) {
    const struct index_row *ir = &AT(l->index, struct index_row, i);
    o_printf(o, "  /* %" PRIu32 " ", ir->first);
    o_ctext(o, ir->name.s, ir->name.len);
    o_puts(o, " */\n");
    for (uint32_t k = ir->first; k < ir->first + ir->count; k++) {
      uint32_t ri = AT(l->index_rules, uint32_t, k);
      const struct rule_row *r = &AT(l->rules, struct rule_row, ri);
      o_printf(o, "  %" PRIu32 ",", ri);
      o_tab(o);
      o_puts(o, "/* ");
      o_where(o, l, r->r->loc);
      if (r->r->name) {
        o_putc(o, ' ');
        o_cstr(o, r->r->name);
      }
      o_puts(o, " */\n");
    }
  }
  o_puts(o, "};\n");
}

static void print_ruleset(struct out *o, const struct layout *l, const char *digest) {
  static const struct {
    const char *field, *count, *array;
    size_t offset;
  } tables[] = {
#define T(field, count, array) {#field, #count, #array, offsetof(struct layout, field)}
      T(rules, nrules, hl_rules),
      T(alerts, nalertnames, hl_alertnames),
      T(matchers, nmatchers, hl_matchers),
      T(insns, ninsns, hl_insns),
      T(params, nparams, hl_params),
      T(steps, nsteps, hl_steps),
      T(notifies, nnotifies, hl_notifies),
      T(windows, nwindows, hl_windows),
      T(spans, nspans, hl_spans),
      T(backends, nbackends, hl_backends),
      T(fields, nfields, hl_fields),
      T(index, nindex, hl_index),
      T(index_rules, nindex_rules, hl_index_rules),
      T(name_patterns, nname_patterns, hl_name_patterns),
#undef T
  };
  o_printf(o, "\n"
              "/* What the runtime links. */\n"
              "const struct hl_ruleset hl_ruleset = {\n"
              "  .abi_version = %d,\n"
              "  .generator = \"healerc %s\",\n"
              "  .digest = \"%s\",\n",
              CODEGEN_ABI_VERSION, HEALER_VERSION, digest);
  for (size_t i = 0; i < COUNT(tables); i++) {
    const struct vec *v = (const struct vec *)((const char *)l + tables[i].offset);
    /* The ruleset's pointer fields are named as the layout's vectors,
     * except alertnames. */
    const char *field = strcmp(tables[i].field, "alerts") == 0 ? "alertnames" : tables[i].field;
    o_printf(o, "  .%s = %s, .%s = %" PRIu32 ",\n", field, v->n ? tables[i].array : "0",
             tables[i].count, v->n);
  }
  o_puts(o, "};\n");
}

/* ---- entry points --------------------------------------------------------------- */

void codegen_digest(const struct program *p, char out[17]) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (uint32_t i = 0; i < p->nsources; i++) {
    const struct source *src = &p->sources[i];
    const unsigned char *parts[2] = {(const unsigned char *)src->path,
                                     (const unsigned char *)src->text};
    size_t lens[2] = {strlen(src->path), src->len};
    for (int k = 0; k < 2; k++) {
      for (size_t j = 0; j < lens[k]; j++) {
        h ^= parts[k][j];
        h *= UINT64_C(0x100000001b3);
      }
      h *= UINT64_C(0x100000001b3); /* the NUL after each part: h ^= 0 */
    }
  }
  snprintf(out, 17, "%016" PRIx64, h);
}

/* ---- in memory --------------------------------------------------------------- */

/* A copy of s as a C string in the arena, or NULL. */
static const char *t_str(struct codegen_tables *t, struct layout *l, struct str s) {
  if (!s.s)
    return NULL;
  char *c = arena_strndup(&t->arena, s.s, s.len);
  if (!c)
    longjmp(l->oom, 1);
  return c;
}

/* n zeroed rows of size bytes from the arena, or NULL for none. */
static void *t_rows(struct codegen_tables *t, struct layout *l, uint32_t n, size_t size) {
  if (!n)
    return NULL;
  void *rows = arena_alloc(&t->arena, (size_t)n * size);
  if (!rows)
    longjmp(l->oom, 1);
  return rows;
}

#define T_ROWS(t, l, field, type) \
  ((type *)t_rows((t), (l), (l)->field.n, sizeof(type)))

static void tables_rules(struct codegen_tables *t, struct layout *l) {
  struct hl_rule *rules = T_ROWS(t, l, rules, struct hl_rule);
  for (uint32_t i = 0; i < l->rules.n; i++) {
    const struct rule_row *r = &AT(l->rules, struct rule_row, i);
    rules[i] = (struct hl_rule){
        .name = t_str(t, l, r->name),
        .former_name = t_str(t, l, r->former_name),
        .file = t_str(t, l, path_of(l, r->r->loc)),
        .line = line_of(l, r->r->loc),
        .flags = r->flags,
        .status = (uint8_t)r->status,
        .first_alert = r->first_alert, .nalerts = r->nalerts,
        .first_pattern = r->first_pattern, .npatterns = r->npatterns,
        .first_matcher = r->first_matcher, .nmatchers = r->nmatchers,
        .first_step = r->first_step, .nsteps = r->nsteps,
        .first_notify = r->first_notify, .nnotify = r->nnotify,
        .cooldown_ms = r->cooldown_ms,
        .cooldown_key = {r->cooldown_key.first, r->cooldown_key.count},
        .timeout_ms = r->timeout_ms,
        .retries = r->retries,
        .backoff_ms = r->backoff_ms,
        .limit = r->limit,
        .limit_key = {r->limit_key.first, r->limit_key.count},
        .budget = r->budget, .budget_ms = r->budget_ms,
        .during = r->during, .not_during = r->not_during,
        .breaker_failures = r->breaker_failures, .breaker_ms = r->breaker_ms,
    };
  }
  t->rs.rules = rules;
  t->rs.nrules = l->rules.n;
}

static void tables_matching(struct codegen_tables *t, struct layout *l) {
  const char **names = T_ROWS(t, l, alerts, const char *);
  for (uint32_t i = 0; i < l->alerts.n; i++)
    names[i] = t_str(t, l, AT(l->alerts, struct alert_row, i).name);
  t->rs.alertnames = names;
  t->rs.nalertnames = l->alerts.n;

  struct hl_name_pattern *pats = T_ROWS(t, l, name_patterns, struct hl_name_pattern);
  for (uint32_t i = 0; i < l->name_patterns.n; i++) {
    const struct pattern_row *pr = &AT(l->name_patterns, struct pattern_row, i);
    pats[i] = (struct hl_name_pattern){pr->rule, t_str(t, l, pr->regex)};
  }
  t->rs.name_patterns = pats;
  t->rs.nname_patterns = l->name_patterns.n;

  struct hl_matcher *ms = T_ROWS(t, l, matchers, struct hl_matcher);
  for (uint32_t i = 0; i < l->matchers.n; i++) {
    const struct matcher_row *m = &AT(l->matchers, struct matcher_row, i);
    ms[i] = (struct hl_matcher){(uint8_t)m->m->on, (uint8_t)m->m->op, t_str(t, l, m->name),
                                t_str(t, l, m->value)};
  }
  t->rs.matchers = ms;
  t->rs.nmatchers = l->matchers.n;

  struct hl_index_entry *ix = T_ROWS(t, l, index, struct hl_index_entry);
  for (uint32_t i = 0; i < l->index.n; i++) {
    const struct index_row *ir = &AT(l->index, struct index_row, i);
    ix[i] = (struct hl_index_entry){t_str(t, l, ir->name), ir->first, ir->count};
  }
  t->rs.index = ix;
  t->rs.nindex = l->index.n;
  uint32_t *ir = T_ROWS(t, l, index_rules, uint32_t);
  if (ir)
    memcpy(ir, l->index_rules.data, l->index_rules.n * sizeof *ir);
  t->rs.index_rules = ir;
  t->rs.nindex_rules = l->index_rules.n;
}

static void tables_actions(struct codegen_tables *t, struct layout *l) {
  struct hl_insn *in = T_ROWS(t, l, insns, struct hl_insn);
  for (uint32_t i = 0; i < l->insns.n; i++) {
    const struct insn_row *r = &AT(l->insns, struct insn_row, i);
    in[i] = (struct hl_insn){r->op, r->arg, t_str(t, l, r->str)};
  }
  t->rs.insns = in;
  t->rs.ninsns = l->insns.n;

  struct hl_param *ps = T_ROWS(t, l, params, struct hl_param);
  for (uint32_t i = 0; i < l->params.n; i++) {
    const struct param_row *r = &AT(l->params, struct param_row, i);
    ps[i] = (struct hl_param){t_str(t, l, r->name), {r->value.first, r->value.count}};
  }
  t->rs.params = ps;
  t->rs.nparams = l->params.n;

  struct hl_step *st = T_ROWS(t, l, steps, struct hl_step);
  for (uint32_t i = 0; i < l->steps.n; i++) {
    const struct step_row *r = &AT(l->steps, struct step_row, i);
    st[i] = (struct hl_step){
        .action = (uint8_t)r->s->action, .backend = r->backend,
        .target = t_str(t, l, r->target),
        .first_param = r->first_param, .nparams = r->nparams,
        .succeed_on = r->succeed_on,
        .backend_expr = {r->backend_expr.first, r->backend_expr.count},
    };
  }
  t->rs.steps = st;
  t->rs.nsteps = l->steps.n;

  struct hl_notify *ns = T_ROWS(t, l, notifies, struct hl_notify);
  for (uint32_t i = 0; i < l->notifies.n; i++) {
    const struct notify_row *r = &AT(l->notifies, struct notify_row, i);
    ns[i] = (struct hl_notify){(uint8_t)r->n->events, (uint8_t)r->n->backend_kind, r->backend,
                               t_str(t, l, r->target)};
  }
  t->rs.notifies = ns;
  t->rs.nnotifies = l->notifies.n;
}

static void tables_declarations(struct codegen_tables *t, struct layout *l) {
  struct hl_window *ws = T_ROWS(t, l, windows, struct hl_window);
  for (uint32_t i = 0; i < l->windows.n; i++) {
    const struct window_row *w = &AT(l->windows, struct window_row, i);
    ws[i] = (struct hl_window){
        .name = t_str(t, l, w->name), .tz = t_str(t, l, w->tz),
        .days = w->days, .months = w->months,
        .first_time = w->first[0], .ntimes = w->count[0],
        .first_mday = w->first[1], .nmdays = w->count[1],
        .first_year = w->first[2], .nyears = w->count[2],
        .from_day = w->w->from_day, .to_day = w->w->to_day,
        .file = t_str(t, l, path_of(l, w->w->name_loc)),
        .line = line_of(l, w->w->name_loc),
    };
  }
  t->rs.windows = ws;
  t->rs.nwindows = l->windows.n;

  struct hl_span *sp = T_ROWS(t, l, spans, struct hl_span);
  for (uint32_t i = 0; i < l->spans.n; i++) {
    const struct span_row *r = &AT(l->spans, struct span_row, i);
    sp[i] = (struct hl_span){(int32_t)r->p->nlo, (int32_t)r->p->nhi};
  }
  t->rs.spans = sp;
  t->rs.nspans = l->spans.n;

  struct hl_backend *bs = T_ROWS(t, l, backends, struct hl_backend);
  for (uint32_t i = 0; i < l->backends.n; i++) {
    const struct backend_row *b = &AT(l->backends, struct backend_row, i);
    bs[i] = (struct hl_backend){t_str(t, l, b->name), (uint8_t)b->b->backend_kind,
                                b->first_field, b->nfields,
                                t_str(t, l, path_of(l, b->b->name_loc)),
                                line_of(l, b->b->name_loc)};
  }
  t->rs.backends = bs;
  t->rs.nbackends = l->backends.n;

  struct hl_backend_field *fs = T_ROWS(t, l, fields, struct hl_backend_field);
  for (uint32_t i = 0; i < l->fields.n; i++) {
    const struct field_row *f = &AT(l->fields, struct field_row, i);
    fs[i] = (struct hl_backend_field){t_str(t, l, f->name), f->source, t_str(t, l, f->value)};
  }
  t->rs.fields = fs;
  t->rs.nfields = l->fields.n;
}

int codegen_tables(const struct program *p, struct codegen_tables *out) {
  memset(out, 0, sizeof *out);
  struct layout *l = calloc(1, sizeof *l);
  if (!l) {
    errno = ENOMEM;
    return -1;
  }
  l->p = p;
  if (setjmp(l->oom)) {
    layout_free(l);
    free(l);
    codegen_tables_free(out);
    errno = ENOMEM;
    return -1;
  }
  build(l);
  codegen_digest(p, out->digest);
  snprintf(out->generator, sizeof out->generator, "healerc %s", HEALER_VERSION);
  out->rs.abi_version = CODEGEN_ABI_VERSION;
  out->rs.generator = out->generator;
  out->rs.digest = out->digest;
  tables_rules(out, l);
  tables_matching(out, l);
  tables_actions(out, l);
  tables_declarations(out, l);
  layout_free(l);
  free(l);
  return 0;
}

void codegen_tables_free(struct codegen_tables *t) {
  arena_free(&t->arena);
  memset(t, 0, sizeof *t);
}

int codegen_emit(const struct program *p, FILE *out) {
  struct layout *l = calloc(1, sizeof *l);
  if (!l) {
    errno = ENOMEM;
    return -1;
  }
  l->p = p;
  if (setjmp(l->oom)) {
    layout_free(l);
    free(l);
    errno = ENOMEM;
    return -1;
  }
  build(l);

  char digest[17];
  codegen_digest(p, digest);
  struct out o = {out, 0};
  print_banner(&o, l, digest);
  print_bigs(&o, l);
  print_rules(&o, l);
  print_alertnames(&o, l);
  print_name_patterns(&o, l);
  print_matchers(&o, l);
  print_steps(&o, l);
  print_params(&o, l);
  print_insns(&o, l);
  print_notifies(&o, l);
  print_windows(&o, l);
  print_spans(&o, l);
  print_backends(&o, l);
  print_fields(&o, l);
  print_index(&o, l);
  print_ruleset(&o, l, digest);

  layout_free(l);
  free(l);
  return ferror(out) ? -1 : 0;
}
