/*
 * check.c - semantic checks of a parsed program (see check.h).
 *
 * One pass over the declarations in source order (rules, backends and
 * windows merged by file and offset), after a silent pre-pass that registers
 * every backend and window name, so a rule may use a backend or window that
 * is declared later or in another file. Every problem is reported and the
 * pass goes on; fields marked "check:" in ast.h are filled as far as the
 * input allows (an unresolved name leaves -1 or NULL). Regexes are checked
 * in check_regex.c, backend and window declarations in check_decl.c.
 *
 * Costs: names are looked up in hash tables (rules, backends, windows,
 * alert names, parameters, fields, matchers), so the pass is linear in the
 * size of the program. Regexes are compiled once per distinct source text.
 * The shadowing check compares a rule with at most SHADOW_WINDOW earlier
 * rules of the same alert name, within a bounded budget of comparisons.
 *
 * Ownership: the checker borrows the program; display names are allocated
 * in the program's arena; every other allocation is freed before
 * check_program() returns.
 */
#include "check.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_int.h"
#include "duration.h"
#include "names.h"
#include "results.h"
#include "utf8.h"

/* ---- the X-macro lists, as tables ---------------------------------------- */

struct action_info {
  const char *word;   /* "kubernetes" */
  const char *verb;   /* "cordon", or NULL */
  int backend;        /* enum hl_backend_kind */
  const char *target; /* what the name after the kind words is, or NULL */
  int open;           /* undeclared parameters are passed through */
};

static const struct action_info action_table[HL_ACT__COUNT] = {
#define HL_ACTION(id, word, verb, backend, target, open)                       \
  [HL_ACT_##id] = {word, verb, HL_BK_##backend, target, open},
#include "actions.def"
};

struct param_info {
  int action; /* enum hl_action_kind; -1 ends the table */
  const char *name;
  unsigned flags; /* HL_P_* */
};

static const struct param_info param_table[] = {
#define HL_PARAM(action, name, flags) {HL_ACT_##action, name, flags},
#include "actions.def"
    {-1, NULL, 0}};

/* Kinds a notify clause may name; the words come from backends.def
 * (hl_backend_words, core/names.h). */
static const int notify_kinds[] = {HL_BK_SLACK, HL_BK_JIRA, HL_BK_PAGERDUTY};
#define NNOTIFY_KINDS (sizeof notify_kinds / sizeof notify_kinds[0])

static const unsigned status_values[] = {HL_STATUS_FIRING, HL_STATUS_RESOLVED,
                                         HL_STATUS_ANY};

static const char *const option_words[] = {
    [OPT_COOLDOWN] = "cooldown",     [OPT_TIMEOUT] = "timeout",
    [OPT_RETRY] = "retry",           [OPT_LIMIT] = "limit",
    [OPT_BUDGET] = "at most",        [OPT_DRY_RUN] = "dry-run",
    [OPT_CONTINUE] = "continue",     [OPT_DURING] = "during",
    [OPT_NOT_DURING] = "not during", [OPT_STATUS] = "status",
    [OPT_SUCCEED] = "succeed on",    [OPT_BREAKER] = "stop after"};
#define NOPTION_KINDS (sizeof option_words / sizeof option_words[0])

/* ---- allocation ---------------------------------------------------------- */

void *check_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fputs("healerc: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *check_xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fputs("healerc: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* ---- a string-keyed hash table ------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);
}

void check_map_init(struct strmap *m) {
  memset(m->small, 0, sizeof m->small);
  m->slots = m->small;
  m->cap = MAP_SMALL;
  m->n = 0;
}

void check_map_free(struct strmap *m) {
  if (m->slots != m->small)
    free(m->slots);
  m->slots = NULL;
}

static struct slot *map_slot(const struct strmap *m, const char *key,
                             size_t len) {
  size_t mask = m->cap - 1;
  size_t i = (size_t)hash_bytes(key, len) & mask;
  while (m->slots[i].key) {
    if (m->slots[i].len == len && memcmp(m->slots[i].key, key, len) == 0)
      break;
    i = (i + 1) & mask;
  }
  return &m->slots[i];
}

void *check_map_get(const struct strmap *m, const char *key, size_t len) {
  struct slot *s = map_slot(m, key, len);
  return s->key ? s->val : NULL;
}

static void map_grow(struct strmap *m) {
  struct slot *old = m->slots;
  size_t oldcap = m->cap;
  m->cap = oldcap * 2;
  m->slots = check_xmalloc(m->cap * sizeof *m->slots);
  memset(m->slots, 0, m->cap * sizeof *m->slots);
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].key)
      *map_slot(m, old[i].key, old[i].len) = old[i];
  if (old != m->small)
    free(old);
}

/* Inserts key -> val unless key is there. Returns the value already there,
 * or NULL when val was inserted. */
void *check_map_put_new(struct strmap *m, const char *key, size_t len,
                        void *val) {
  struct slot *s = map_slot(m, key, len);
  if (s->key)
    return s->val;
  if ((m->n + 1) * 2 > m->cap) {
    map_grow(m);
    s = map_slot(m, key, len);
  }
  s->key = key;
  s->len = len;
  s->val = val;
  m->n++;
  return NULL;
}

/* ---- message text -------------------------------------------------------- */

char *check_ring(struct checker *c) {
  char *b = c->ring[c->rnext++ % QRING];
  b[0] = '\0';
  return b;
}

/* User text made safe to print inside quotes in a message: control bytes
 * and invalid UTF-8 escaped, cut after QMAX bytes with "...". */
const char *check_quote_n(struct checker *c, const char *s, size_t len) {
  char *out = check_ring(c);
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    if (o >= QMAX) {
      memcpy(out + o, "...", 3);
      o += 3;
      break;
    }
    unsigned char ch = (unsigned char)s[i];
    size_t k = ch >= 0x80 ? utf8_len((const unsigned char *)s + i, len - i) : 1;
    if (ch >= 0x80 && k > 0) {
      memcpy(out + o, s + i, k);
      o += k;
      i += k;
    } else if (ch >= 0x20 && ch < 0x7f) {
      out[o++] = (char)ch;
      i++;
    } else {
      const char *esc = ch == '\n'   ? "\\n"
                        : ch == '\t' ? "\\t"
                        : ch == '\r' ? "\\r"
                                     : NULL;
      if (esc) {
        memcpy(out + o, esc, 2);
        o += 2;
      } else {
        o += (size_t)snprintf(out + o, QSIZE - o, "\\x%02x", ch);
      }
      i++;
    }
  }
  out[o] = '\0';
  return out;
}

const char *check_quote(struct checker *c, const char *s) {
  return check_quote_n(c, s ? s : "", s ? strlen(s) : 0);
}

/* "'a', 'b' or 'c'" for a NULL-terminated list. */
const char *check_list_or(struct checker *c, const char *const *names) {
  char *out = check_ring(c);
  size_t o = 0, n = 0;
  while (names[n])
    n++;
  for (size_t i = 0; i < n; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
    int w = snprintf(out + o, QSIZE - o, "%s'%s'", sep, names[i]);
    if (w < 0 || (size_t)w >= QSIZE - o)
      break;
    o += (size_t)w;
  }
  return out;
}

/* "; did you mean 'x'?", or with list "; expected 'a', 'b' or 'c'", or "".
 * Skipped once the diagnostics are muted: nobody will read it. */
const char *check_alts(struct checker *c, const char *word,
                       const char *const *cands, int list) {
  if (c->d->muted || !cands)
    return "";
  const char *s = diag_suggest(word, cands);
  char *out = check_ring(c);
  if (s)
    snprintf(out, QSIZE, "; did you mean '%s'?", check_quote(c, s));
  else if (list && cands[0])
    snprintf(out, QSIZE, "; expected %s", check_list_or(c, cands));
  return out;
}

/* "1d2h", "500ms", "0s", in a scratch string from the ring. */
static const char *fmt_dur(struct checker *c, uint64_t ms) {
  _Static_assert(QSIZE >= HL_DURATION_BUFSZ, "QSIZE");
  return hl_format_duration(ms, check_ring(c));
}

const char *check_plural(uint64_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

static struct loc point_after(struct loc l) {
  l.begin = l.end;
  return l;
}

/* The source bytes of l, or NULL if l is not inside its file. */
const char *check_src_at(struct checker *c, struct loc l, size_t *len) {
  if (l.file >= c->p->nsources)
    return NULL;
  const struct source *s = &c->p->sources[l.file];
  if (!s->text || l.begin > l.end || l.end > s->len)
    return NULL;
  *len = l.end - l.begin;
  return s->text + l.begin;
}

/* ---- names: backends, windows -------------------------------------------- */

/* The declared backend (window) names, first definitions only, in list
 * order and NULL-terminated: the candidates for a did-you-mean. */
static const char **names_of_backends(struct checker *c) {
  if (!c->backend_names) {
    size_t n = 0;
    for (struct backend *b = c->p->backends; b; b = b->next)
      n++;
    c->backend_names = check_xmalloc((n + 1) * sizeof *c->backend_names);
    n = 0;
    for (struct backend *b = c->p->backends; b; b = b->next)
      if (b->name && check_map_get(&c->backends, b->name, strlen(b->name)) == b)
        c->backend_names[n++] = b->name;
    c->backend_names[n] = NULL;
  }
  return c->backend_names;
}

static const char **names_of_windows(struct checker *c) {
  if (!c->window_names) {
    size_t n = 0;
    for (struct window *w = c->p->windows; w; w = w->next)
      n++;
    c->window_names = check_xmalloc((n + 1) * sizeof *c->window_names);
    n = 0;
    for (struct window *w = c->p->windows; w; w = w->next)
      if (w->name && check_map_get(&c->windows, w->name, strlen(w->name)) == w)
        c->window_names[n++] = w->name;
    c->window_names[n] = NULL;
  }
  return c->window_names;
}

static int backend_kind_of(const char *word) {
  for (int k = 0; k < HL_BK__COUNT; k++)
    if (strcmp(hl_backend_words[k], word) == 0)
      return k;
  return -1;
}

/* Registers backend and window names (first definition wins) and resolves
 * backend kinds, reporting nothing: the main pass reports in source order. */
static void prepass(struct checker *c) {
  for (struct backend *b = c->p->backends; b; b = b->next) {
    b->backend_kind = b->kind ? backend_kind_of(b->kind) : -1;
    if (b->name)
      check_map_put_new(&c->backends, b->name, strlen(b->name), b);
  }
  for (struct window *w = c->p->windows; w; w = w->next)
    if (w->name)
      check_map_put_new(&c->windows, w->name, strlen(w->name), w);
}

/* `via NAME`: the declared backend, checked against the kind the user of it
 * needs. what names the user ("'kubernetes cordon'"). */
static struct backend *resolve_via(struct checker *c, const char *via,
                                   struct loc via_loc, int want,
                                   const char *what) {
  struct backend *b = check_map_get(&c->backends, via, strlen(via));
  if (!b) {
    ERR(c, via_loc, "undefined backend '%s'%s", check_quote(c, via),
        check_alts(c, via, names_of_backends(c), 0));
    return NULL;
  }
  if (want >= 0 && b->backend_kind >= 0 && b->backend_kind != want) {
    ERR(c, via_loc, "backend '%s' is a %s backend, but %s needs a %s backend",
        check_quote(c, via), hl_backend_words[b->backend_kind], what,
        hl_backend_words[want]);
    NOTE(c, b->name_loc, "'%s' declared here", check_quote(c, via));
  }
  return b;
}

/* `via $label` / `via "${a}-${b}"`: the backend is picked per alert among
 * the declared backends of the step's kind, so there must be one. */
static void check_via_expr(struct checker *c, const struct step *s) {
  int want = action_table[s->action].backend;
  for (const struct backend *b = c->p->backends; b; b = b->next)
    if (b->backend_kind == want)
      return;
  ERR(c, s->via_loc,
      "'via' picks a %s backend by name for each alert, but no %s backend is "
      "declared; declare them with 'backend %s NAME { ... }'",
      hl_backend_words[want], hl_backend_words[want],
      hl_backend_words[want]);
}

/* ---- expressions --------------------------------------------------------- */

unsigned check_count_args(const struct expr *e) {
  unsigned n = 0;
  for (const struct expr *a = e->args; a; a = a->next)
    n++;
  return n;
}

int check_find_name(const char *const *names, const char *s) {
  for (int i = 0; names[i]; i++)
    if (strcmp(names[i], s) == 0)
      return i;
  return -1;
}

/* Resolves functions and alert fields in a rule expression (a parameter or
 * a `per` key), filling expr->id. */
static void check_expr(struct checker *c, struct expr *e, unsigned depth) {
  if (depth > MAX_DEPTH) {
    if (!c->too_deep)
      ERR(c, e->loc, "expression is nested too deeply (more than %d levels)",
          MAX_DEPTH);
    c->too_deep = 1;
    return;
  }
  switch (e->kind) {
  case EXPR_CALL: {
    const char *name = e->str ? e->str : "";
    unsigned n = check_count_args(e);
    e->id = check_find_name(hl_func_names, name);
    if (e->id < 0) {
      if (strcmp(name, "env") == 0 || strcmp(name, "file") == 0)
        ERR(c, e->loc, "function '%s' can only be used in a backend field",
            name);
      else
        ERR(c, e->loc, "unknown function '%s'%s", check_quote(c, name),
            check_alts(c, name, hl_func_names, 1));
    } else if (n != hl_func_nargs[e->id]) {
      ERR(c, e->loc, "function '%s' takes %u %s, but %u %s given", name,
          hl_func_nargs[e->id],
          check_plural(hl_func_nargs[e->id], "argument", "arguments"), n,
          check_plural(n, "was", "were"));
    }
    for (struct expr *a = e->args; a; a = a->next)
      check_expr(c, a, depth + 1);
    break;
  }
  case EXPR_FIELD: {
    const char *name = e->str ? e->str : "";
    e->id = check_find_name(hl_field_names, name);
    if (e->id < 0)
      ERR(c, e->loc, "unknown alert field '%s'%s", check_quote(c, name),
          check_alts(c, name, hl_field_names, 1));
    break;
  }
  case EXPR_DEFAULT:
    /* a ?? b ?? c is ((a ?? b) ?? c): walk the left spine without
     * recursing, so a long chain is not mistaken for deep nesting. */
    for (;;) {
      for (struct expr *a = e->args ? e->args->next : NULL; a; a = a->next)
        check_expr(c, a, depth + 1);
      if (!e->args || e->args->kind != EXPR_DEFAULT)
        break;
      e = e->args;
    }
    if (e->args)
      check_expr(c, e->args, depth + 1);
    break;
  case EXPR_INTERP:
    for (struct expr *a = e->args; a; a = a->next)
      check_expr(c, a, depth + 1);
    break;
  case EXPR_STR:
  case EXPR_LABEL:
  case EXPR_ANNOTATION:
    break;
  }
}

static void check_top_expr(struct checker *c, struct expr *e) {
  c->too_deep = 0;
  if (e)
    check_expr(c, e, 0);
}

/* Whether the rule's matchers guarantee that the label (on 0) or annotation
 * (on 1) name is present. */
static int guaranteed(const struct checker *c, int on, const char *name) {
  if (on == 0 && strcmp(name, "alertname") == 0)
    return 1;
  uintptr_t i = (uintptr_t)check_map_get(c->mnames, name, strlen(name));
  return i && c->mn[i - 1].guaranteed[on];
}

/* The first label or annotation read in e whose absence makes e absent and
 * that the rule's matchers do not guarantee; NULL if e is always present. */
static const struct expr *unguarded(const struct checker *c,
                                    const struct expr *e, unsigned depth) {
  if (depth > MAX_DEPTH)
    return NULL;
  switch (e->kind) {
  case EXPR_LABEL:
  case EXPR_ANNOTATION:
    if (!e->str || guaranteed(c, e->kind == EXPR_ANNOTATION ? 1 : 0, e->str))
      return NULL;
    return e;
  case EXPR_CALL:
  case EXPR_INTERP:
    for (const struct expr *a = e->args; a; a = a->next) {
      const struct expr *u = unguarded(c, a, depth + 1);
      if (u)
        return u;
    }
    return NULL;
  case EXPR_DEFAULT: {              /* absent only if every alternative is */
    const struct expr *last = NULL; /* of the outermost: the final default */
    for (;;) {                      /* the left spine, as in check_expr */
      for (const struct expr *a = e->args ? e->args->next : NULL; a;
           a = a->next) {
        const struct expr *u = unguarded(c, a, depth + 1);
        if (!u)
          return NULL;
        if (!last)
          last = u;
      }
      if (!e->args || e->args->kind != EXPR_DEFAULT)
        break;
      e = e->args;
    }
    if (e->args && !unguarded(c, e->args, depth + 1))
      return NULL;
    return last;
  }
  case EXPR_STR:
  case EXPR_FIELD:
    return NULL;
  }
  return NULL;
}

/* ---- rules --------------------------------------------------------------- */

static const char *stem_of(struct checker *c, uint32_t file) {
  if (!c->stems) {
    c->stems = check_xmalloc((c->p->nsources + 1) * sizeof *c->stems);
    memset(c->stems, 0, (c->p->nsources + 1) * sizeof *c->stems);
  }
  if (file >= c->p->nsources)
    return "?";
  if (!c->stems[file]) {
    const char *path = c->p->sources[file].path;
    path = path ? path : "";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".heal") == 0)
      n -= 5;
    c->stems[file] = arena_strndup(&c->p->arena, base, n);
  }
  return c->stems[file];
}

/* Line and column of a byte offset; fast when offsets come in order. */
static void line_col(struct checker *c, struct loc l, unsigned *line,
                     unsigned *col) {
  if (l.file >= c->p->nsources) {
    *line = *col = 0;
    return;
  }
  const struct source *s = &c->p->sources[l.file];
  uint32_t off = l.begin <= s->len ? l.begin : (uint32_t)s->len;
  if (!c->lt_valid || c->lt_file != l.file || off < c->lt_off) {
    c->lt_valid = 1;
    c->lt_file = l.file;
    c->lt_off = 0;
    c->lt_line = 1;
    c->lt_line_start = 0;
  }
  const char *t = s->text;
  uint32_t i = c->lt_off;
  while (i < off) {
    const char *nl = memchr(t + i, '\n', off - i);
    if (!nl)
      break;
    i = (uint32_t)(nl - t) + 1;
    c->lt_line++;
    c->lt_line_start = i;
  }
  c->lt_off = off;
  *line = c->lt_line;
  *col = off - c->lt_line_start + 1;
}

/* FNV-1a over n bytes, then a separator, so that parts cannot run together. */
static uint64_t hash_part(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t hash_str(uint64_t h, const char *s) {
  return hash_part(h, s ? s : "", s ? strlen(s) : 0);
}

/* A one-line rule's identity: what it takes and what it runs, as parsed
 * (the alert names and patterns, the matchers, each step's words and
 * backend), not where it sits, its spacing, or its parameters, options
 * and notifies. Edits to those keep it; see LANGUAGE.md. */
static uint32_t rule_identity(struct checker *c, const struct rule *r) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const struct alert_name *a = r->alerts; a; a = a->next) {
    h = hash_part(h, a->re ? "=~" : "=", a->re ? 2 : 1);
    h = hash_str(h, a->name);
  }
  h = hash_part(h, "|", 1);
  for (const struct matcher *m = r->matchers; m; m = m->next) {
    unsigned char how[2] = {(unsigned char)m->on, (unsigned char)m->op};
    h = hash_part(h, how, sizeof how);
    h = hash_str(h, m->name);
    if (m->value)
      h = hash_part(h, m->value->str ? m->value->str : "", m->value->str ? m->value->len : 0);
  }
  for (const struct step *st = r->steps; st; st = st->next) {
    h = hash_part(h, "run", 3);
    for (const struct word *w = st->words; w; w = w->next)
      h = hash_str(h, w->text);
    if (st->via)
      h = hash_str(hash_part(h, "via", 3), st->via);
    else if (st->via_expr && st->via_expr->loc.file < c->p->nsources) {
      /* via "${a}-${b}": its text, as written */
      const struct source *s = &c->p->sources[st->via_expr->loc.file];
      struct loc l = st->via_expr->loc;
      if (l.end <= s->len && l.begin <= l.end)
        h = hash_part(hash_part(h, "via", 3), s->text + l.begin, l.end - l.begin);
    }
  }
  return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* Fills display_name and reports duplicate rule names. */
static void name_rule(struct checker *c, struct rule *r) {
  if (r->name) {
    r->display_name = r->name;
    struct rule *first =
        check_map_put_new(&c->rule_names, r->name, strlen(r->name), r);
    if (first) {
      ERR(c, r->name_loc, "duplicate rule name '%s'", check_quote(c, r->name));
      NOTE(c, first->name ? first->name_loc : first->loc, "first defined here");
    }
    return;
  }
  /* "<stem>#<identity>"; two one-line rules alike in all that makes the
   * identity (the later one is shadowed) get "~N" in source order. */
  const char *stem = stem_of(c, r->loc.file);
  size_t cap = strlen(stem) + 32;
  char *buf = check_xmalloc(cap);
  uint32_t id = rule_identity(c, r);
  snprintf(buf, cap, "%s#%08x", stem, (unsigned)id);
  for (unsigned k = 2; check_map_get(&c->rule_names, buf, strlen(buf)); k++)
    snprintf(buf, cap, "%s#%08x~%u", stem, (unsigned)id, k);
  r->display_name = arena_strdup(&c->p->arena, buf);
  free(buf);
  /* The former name, "<stem>:<line>" as before: not unique, only a hint
   * for binding an old journal (the first rule of the name takes it). */
  unsigned line, col;
  line_col(c, r->loc, &line, &col);
  char old[300];
  snprintf(old, sizeof old, "%s:%u", stem, line);
  r->former_name = arena_strdup(&c->p->arena, old);
  check_map_put_new(&c->rule_names, r->display_name, strlen(r->display_name),
                    r);
}

static const char *action_name(struct checker *c, int a) {
  char *out = check_ring(c);
  if (action_table[a].verb)
    snprintf(out, QSIZE, "%s %s", action_table[a].word, action_table[a].verb);
  else
    snprintf(out, QSIZE, "%s", action_table[a].word);
  return out;
}

/* The words after `run`: kind, verb, target. Fills action and target. */
static void resolve_action(struct checker *c, struct step *s) {
  struct word *w = s->words, *last, *next;
  s->action = -1;
  s->target = NULL;
  if (!w || !w->text)
    return;
  int known = 0, verbs = 0, plain = -1, a = -1;
  const char *verb_list[HL_ACT__COUNT + 1];
  size_t nverbs = 0;
  for (int k = 0; k < HL_ACT__COUNT; k++) {
    if (strcmp(action_table[k].word, w->text) != 0)
      continue;
    known = 1;
    if (action_table[k].verb) {
      verbs = 1;
      verb_list[nverbs++] = action_table[k].verb;
    } else {
      plain = k;
    }
  }
  verb_list[nverbs] = NULL;
  if (!known) {
    ERR(c, w->loc, "unknown action kind '%s'%s", check_quote(c, w->text),
        check_alts(c, w->text, c->action_words, 1));
    return;
  }
  last = w;
  next = w->next;
  if (verbs && next && next->text) {
    for (int k = 0; k < HL_ACT__COUNT; k++)
      if (action_table[k].verb && strcmp(action_table[k].word, w->text) == 0 &&
          strcmp(action_table[k].verb, next->text) == 0)
        a = k;
  }
  if (a >= 0) {
    last = next;
    next = next->next;
  } else if (plain >= 0) {
    a = plain;
  } else if (!next) {
    ERR(c, point_after(w->loc), "missing verb after '%s'; expected %s",
        check_quote(c, w->text), check_list_or(c, verb_list));
    return;
  } else {
    ERR(c, next->loc, "unknown %s verb '%s'%s", check_quote(c, w->text),
        check_quote(c, next->text), check_alts(c, next->text, verb_list, 1));
    return;
  }
  s->action = a;
  const struct action_info *ai = &action_table[a];
  if (ai->target) {
    if (!next) {
      ERR(c, point_after(last->loc), "missing %s name after '%s'", ai->target,
          action_name(c, a));
    } else {
      s->target = next->text;
      s->target_loc = next->loc;
      if (!next->text || !next->text[0])
        ERR(c, next->loc, "%s name must not be empty", ai->target);
      last = next;
      next = next->next;
    }
  }
  if (next) {
    if (!ai->target)
      ERR(c, next->loc,
          "unexpected '%s': '%s' takes no name; give what it acts on as a "
          "parameter",
          check_quote(c, next->text), action_name(c, a));
    else
      ERR(c, next->loc,
          "unexpected '%s' after %s name '%s'; write a name with spaces as a "
          "string",
          check_quote(c, next->text), ai->target, check_quote(c, last->text));
  }
}

static const struct param_info *find_param(int action, const char *name) {
  for (const struct param_info *pi = param_table; pi->name; pi++)
    if (pi->action == action && strcmp(pi->name, name) == 0)
      return pi;
  return NULL;
}

/* Declared parameters of an action with all of flags, NULL-terminated. */
static size_t params_with(int action, unsigned flags, const char **out) {
  size_t n = 0;
  for (const struct param_info *pi = param_table; pi->name; pi++)
    if (pi->action == action && (pi->flags & flags) == flags)
      out[n++] = pi->name;
  out[n] = NULL;
  return n;
}

#define NPARAM_TABLE (sizeof param_table / sizeof param_table[0])

int check_in_list(const char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i], s) == 0)
      return 1;
  return 0;
}

static void warn_unguarded(struct checker *c, const struct expr *u,
                           const char *what) {
  WARN(c, u->loc,
       "%s reads %s '%s', which no matcher of this rule guarantees; add a "
       "default with ?? or a matcher",
       what, u->kind == EXPR_ANNOTATION ? "annotation" : "label",
       check_quote(c, u->str));
}

/* "a, b, c": the names of the step's parameters, in order. */
static const char *param_names(struct checker *c, const struct step *s) {
  char *out = check_ring(c);
  size_t o = 0;
  out[0] = '\0';
  for (const struct param *p = s->params; p; p = p->next) {
    int w = snprintf(out + o, QSIZE - o, "%s%s", o ? ", " : "",
                     check_quote(c, p->name ? p->name : ""));
    if (w < 0 || (size_t)w >= QSIZE - o)
      break;
    o += (size_t)w;
  }
  return out;
}

/* A target that is a path (actions.def: a webhook's) may hold {name}
 * placeholders, each replaced at run time by that parameter's value: each
 * must name a parameter of the step (seen: name -> param). */
static void check_placeholders(struct checker *c, const struct step *s,
                               const struct strmap *seen) {
  const char *t = s->target;
  if (!t || !action_table[s->action].target ||
      strcmp(action_table[s->action].target, "path") != 0)
    return;
  /* Carets point into the path when it was written without escapes. */
  size_t srclen, tlen = strlen(t);
  const char *src = check_src_at(c, s->target_loc, &srclen);
  int exact = src && srclen == tlen + 2 && memcmp(src + 1, t, tlen) == 0;
  for (const char *open = strchr(t, '{'); open; open = strchr(open + 1, '{')) {
    const char *close = strchr(open + 1, '}');
    if (!close)
      break;
    const char *inner = strchr(open + 1, '{');
    if (inner && inner < close)
      continue; /* "{{x}": the placeholder is the inner one */
    size_t n = (size_t)(close - open - 1);
    if (!check_map_get(seen, open + 1, n)) {
      struct loc at = s->target_loc;
      if (exact) {
        at.begin = s->target_loc.begin + 1 + (uint32_t)(open - t);
        at.end = at.begin + (uint32_t)n + 2;
      }
      if (s->params)
        ERR(c, at,
            "placeholder {%s} in the %s path names no parameter; the step "
            "has: %s",
            check_quote_n(c, open + 1, n), action_name(c, s->action),
            param_names(c, s));
      else
        ERR(c, at,
            "placeholder {%s} in the %s path names no parameter; the step "
            "has none",
            check_quote_n(c, open + 1, n), action_name(c, s->action));
    }
    open = close;
  }
}

/* Parameters of one step: names against the action, expressions, labels
 * read. Returns 1 if some parameter may be absent. */
static int check_params(struct checker *c, struct step *s) {
  struct strmap seen;
  struct param *one_of = NULL;
  const char *names[NPARAM_TABLE];
  const char *suggested[NPARAM_TABLE]; /* for unknown names: no cascade */
  size_t nsuggested = 0;
  int may_skip = 0;
  check_map_init(&seen);
  for (struct param *p = s->params; p; p = p->next) {
    const char *name = p->name ? p->name : "";
    struct param *prev = check_map_put_new(&seen, name, strlen(name), p);
    if (!name[0]) {
      ERR(c, p->name_loc, "parameter name must not be empty");
    } else if (prev) {
      ERR(c, p->name_loc, "duplicate parameter '%s'", check_quote(c, name));
      NOTE(c, prev->name_loc, "first given here");
    } else if (s->action >= 0) {
      const struct param_info *pi = find_param(s->action, name);
      if (!pi && !action_table[s->action].open) {
        params_with(s->action, 0, names);
        const char *sug = diag_suggest(name, names);
        if (sug && nsuggested < NPARAM_TABLE)
          suggested[nsuggested++] = sug;
        ERR(c, p->name_loc, "unknown parameter '%s' for '%s'%s",
            check_quote(c, name), action_name(c, s->action),
            check_alts(c, name, names, 1));
      } else if (pi && (pi->flags & HL_P_ONE_OF)) {
        if (one_of) {
          params_with(s->action, HL_P_ONE_OF, names);
          ERR(c, p->name_loc,
              "parameter '%s' conflicts with '%s': '%s' takes exactly one of "
              "%s",
              check_quote(c, name), check_quote(c, one_of->name),
              action_name(c, s->action), check_list_or(c, names));
          NOTE(c, one_of->name_loc, "'%s' given here",
               check_quote(c, one_of->name));
        } else {
          one_of = p;
        }
      }
    }
    /* A webhook's body is JSON that healer fills in: alert values go in
     * through {{name}}, each as a JSON string, never spliced in as text,
     * where a label value could add fields of its own. */
    if (p->value && s->action == HL_ACT_WEBHOOK && strcmp(name, "body") == 0 &&
        p->value->kind != EXPR_STR)
      ERR(c, p->value->loc,
          "the webhook body must be a literal JSON template: put alert values "
          "in as {{name}}, for a parameter of the step, which healer writes "
          "as a JSON string");
    if (p->value) {
      check_top_expr(c, p->value);
      const struct expr *u = unguarded(c, p->value, 0);
      if (u) {
        char what[QSIZE];
        snprintf(what, sizeof what, "parameter '%s'", check_quote(c, name));
        warn_unguarded(c, u, what);
        may_skip = 1;
      }
    }
  }
  if (s->action >= 0) {
    /* A missing name that an unknown one was taken for is not reported
     * again: the did-you-mean already says it. */
    params_with(s->action, HL_P_REQUIRED, names);
    for (size_t i = 0; names[i]; i++)
      if (!check_map_get(&seen, names[i], strlen(names[i])) &&
          !check_in_list(suggested, nsuggested, names[i]))
        ERR(c, s->loc, "missing required parameter '%s' for '%s'", names[i],
            action_name(c, s->action));
    size_t n1 = params_with(s->action, HL_P_ONE_OF, names);
    int taken = 0;
    for (size_t i = 0; i < n1; i++)
      taken |= check_in_list(suggested, nsuggested, names[i]);
    if (n1 && !one_of && !taken)
      ERR(c, s->loc, "missing parameter for '%s': give exactly one of %s",
          action_name(c, s->action), check_list_or(c, names));
    check_placeholders(c, s, &seen);
  }
  check_map_free(&seen);
  return may_skip;
}

static void check_notify(struct checker *c, struct notify *n) {
  const char *kinds[NNOTIFY_KINDS + 1];
  const char *kind = n->kind ? n->kind : "";
  n->backend_kind = -1;
  n->backend = NULL;
  for (size_t i = 0; i < NNOTIFY_KINDS; i++) {
    kinds[i] = hl_backend_words[notify_kinds[i]];
    if (strcmp(kinds[i], kind) == 0)
      n->backend_kind = notify_kinds[i];
  }
  kinds[NNOTIFY_KINDS] = NULL;
  if (n->backend_kind < 0) {
    ERR(c, n->kind_loc, "unknown notification kind '%s'%s",
        check_quote(c, kind), check_alts(c, kind, kinds, 1));
  } else if (n->how == NOTIFY_PAGE && n->backend_kind != HL_BK_PAGERDUTY) {
    ERR(c, n->kind_loc, "only pagerduty can page; use 'notify %s'", kind);
  }
  if (n->target && n->backend_kind == HL_BK_PAGERDUTY)
    ERR(c, n->target_loc,
        "pagerduty takes no target; the routing key of its backend selects "
        "the service");
  else if (n->target && !n->target[0])
    ERR(c, n->target_loc, "notification target must not be empty");
  if (n->via) {
    char what[QSIZE];
    snprintf(what, sizeof what, "'%s %s'",
             n->how == NOTIFY_PAGE ? "page" : "notify", check_quote(c, kind));
    n->backend = resolve_via(c, n->via, n->via_loc, n->backend_kind, what);
  }
}

static void check_duration(struct checker *c, const char *what, uint64_t ms,
                           struct loc l, uint64_t min, uint64_t max) {
  if (ms == 0)
    ERR(c, l, "%s must not be zero", what);
  else if (ms < min)
    ERR(c, l, "%s of %s is shorter than the minimum of %s", what,
        fmt_dur(c, ms), fmt_dur(c, min));
  else if (ms > max)
    ERR(c, l, "%s of %s is longer than the maximum of %s", what, fmt_dur(c, ms),
        fmt_dur(c, max));
}

static void check_count(struct checker *c, const char *what, uint64_t n,
                        struct loc l, uint64_t min, uint64_t max) {
  if (n < min)
    ERR(c, l, "%s of %llu is less than the minimum of %llu", what,
        (unsigned long long)n, (unsigned long long)min);
  else if (n > max)
    ERR(c, l, "%s of %llu is more than the maximum of %llu", what,
        (unsigned long long)n, (unsigned long long)max);
}

/* "'a'", "'a' and 'b'", "'a', 'b' and 'c'" for n names. */
static const char *list_and(struct checker *c, const char *const *names,
                            size_t n) {
  char *out = check_ring(c);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
    int w = snprintf(out + o, QSIZE - o, "%s'%s'", sep, names[i]);
    if (w < 0 || (size_t)w >= QSIZE - o)
      break;
    o += (size_t)w;
  }
  return out;
}

/* s in lower case (ASCII), cut to fit n bytes, into out; returns out. */
static char *lower_copy(char *out, const char *s, size_t n) {
  size_t i = 0;
  for (; s[i] && i + 1 < n; i++)
    out[i] = (char)tolower((unsigned char)s[i]);
  out[i] = '\0';
  return out;
}

/* "; did you mean 'X'?" for the result name among names closest to word
 * in any case, else "; expected 'a', 'b' or 'c'". */
static const char *result_alts(struct checker *c, const char *word,
                               const char *const *names, size_t n) {
  enum { W = 65 };
  char fold[W], folded[HL_ACT__COUNT * HL_RESULTS_MAX][W];
  const char *cands[HL_ACT__COUNT * HL_RESULTS_MAX + 1];
  if (c->d->muted || strlen(word) >= W)
    return "";
  lower_copy(fold, word, W);
  for (size_t k = 0; k < n; k++)
    cands[k] = lower_copy(folded[k], names[k], W);
  cands[n] = NULL;
  const char *s = diag_suggest(fold, cands);
  size_t k = 0;
  while (s && cands[k] != s)
    k++;
  char *out = check_ring(c);
  if (s)
    snprintf(out, QSIZE, "; did you mean '%s'?", check_quote(c, names[k]));
  else
    snprintf(out, QSIZE, "; expected %s", check_list_or(c, names));
  return out;
}

/* `succeed on R, ...`: each R (any case) a result of the kind of at least
 * one of the rule's steps (results_*, from actions.def). Each step gets the
 * bits of the names its own kind reports, over the kind's defaults, in
 * s->succeed_on (0 when that adds nothing). */
static void check_succeed(struct checker *c, struct rule *r,
                          struct option *o) {
  /* Kind names are copied out of the message ring, which is small. */
  enum { KW = 48 };
  int kinds[HL_ACT__COUNT];
  char kind_text[HL_ACT__COUNT][KW], with_text[HL_ACT__COUNT][KW];
  const char *kind_names[HL_ACT__COUNT], *with[HL_ACT__COUNT];
  size_t nkinds = 0;
  for (const struct step *s = r->steps; s; s = s->next) {
    if (s->action < 0)
      return; /* reported already; its results are unknown */
    size_t k = 0;
    while (k < nkinds && kinds[k] != s->action)
      k++;
    if (k == nkinds) {
      snprintf(kind_text[nkinds], KW, "%s", action_name(c, s->action));
      kind_names[nkinds] = kind_text[nkinds];
      kinds[nkinds++] = s->action;
    }
  }
  if (!nkinds)
    return; /* no 'run' clause: reported already */

  /* The candidates: every result of the rule's kinds, each once. */
  const char *names[HL_ACT__COUNT * HL_RESULTS_MAX + 1];
  size_t nnames = 0;
  for (size_t k = 0; k < nkinds; k++)
    for (unsigned i = 0; i < results_count(kinds[k]); i++) {
      const char *name = results_name(kinds[k], i);
      size_t j = 0;
      while (j < nnames && strcasecmp(names[j], name) != 0)
        j++;
      if (j == nnames)
        names[nnames++] = name;
    }
  names[nnames] = NULL;
  if (!nnames) {
    size_t nwith = 0;
    for (int a = 0; a < HL_ACT__COUNT; a++)
      if (results_count(a)) {
        snprintf(with_text[nwith], KW, "%s", action_name(c, a));
        with[nwith] = with_text[nwith];
        nwith++;
      }
    ERR(c, o->loc,
        "'succeed on' has nothing to count: %s %s no result; only %s steps do",
        list_and(c, kind_names, nkinds), nkinds == 1 ? "reports" : "report",
        list_and(c, with, nwith));
    return;
  }

  uint32_t add[HL_ACT__COUNT] = {0};
  unsigned char listed[HL_ACT__COUNT * HL_RESULTS_MAX] = {0};
  for (const struct word *w = o->words; w; w = w->next) {
    size_t len = strlen(w->text);
    size_t j = 0;
    while (j < nnames && !(strlen(names[j]) == len &&
                           strncasecmp(names[j], w->text, len) == 0))
      j++;
    if (j == nnames) {
      ERR(c, w->loc, "'%s' is not a result of any step of this rule%s",
          check_quote(c, w->text), result_alts(c, w->text, names, nnames));
      continue;
    }
    if (listed[j]) {
      WARN(c, w->loc, "result '%s' is listed twice", names[j]);
      continue;
    }
    listed[j] = 1;
    for (size_t k = 0; k < nkinds; k++) {
      int i = results_find(kinds[k], w->text, len);
      if (i >= 0)
        add[kinds[k]] |= UINT32_C(1) << i;
    }
  }
  for (struct step *s = r->steps; s; s = s->next) {
    uint32_t mask = results_defaults(s->action) | add[s->action];
    s->succeed_on = mask == results_defaults(s->action) ? 0 : mask;
  }
}

/* Options of a rule. Returns the rule's status (0 if unknown) and sets
 * *flags: 1 continue, 2 a window, 4 a key that may be absent. */
static unsigned check_options(struct checker *c, struct rule *r,
                              unsigned *flags) {
  struct option *first[NOPTION_KINDS] = {0};
  unsigned status = HL_STATUS_FIRING;
  *flags = 0;
  for (struct option *o = r->options; o; o = o->next) {
    o->window = NULL;
    if ((size_t)o->kind >= NOPTION_KINDS)
      continue;
    if (first[o->kind]) {
      ERR(c, o->loc, "duplicate option '%s'", option_words[o->kind]);
      NOTE(c, first[o->kind]->loc, "first given here");
    } else {
      first[o->kind] = o;
    }
    switch (o->kind) {
    case OPT_COOLDOWN:
      check_duration(c, "cooldown", o->ms, o->ms_loc, 1, COOLDOWN_MAX);
      break;
    case OPT_TIMEOUT:
      check_duration(c, "timeout", o->ms, o->ms_loc, TIMEOUT_MIN, TIMEOUT_MAX);
      break;
    case OPT_RETRY:
      check_count(c, "retry count", o->n, o->n_loc, 0, RETRY_MAX);
      if (o->has_ms)
        check_duration(c, "backoff", o->ms, o->ms_loc, BACKOFF_MIN,
                       BACKOFF_MAX);
      break;
    case OPT_LIMIT:
      check_count(c, "limit", o->n, o->n_loc, 1, COUNT_MAX);
      break;
    case OPT_BUDGET:
      check_count(c, "'at most' count", o->n, o->n_loc, 1, COUNT_MAX);
      check_duration(c, "'at most' period", o->ms, o->ms_loc, BUDGET_PERIOD_MIN,
                     BUDGET_PERIOD_MAX);
      break;
    case OPT_DURING:
    case OPT_NOT_DURING:
      *flags |= 2;
      if (o->name) {
        o->window = check_map_get(&c->windows, o->name, strlen(o->name));
        if (!o->window)
          ERR(c, o->name_loc, "undefined window '%s'%s",
              check_quote(c, o->name),
              check_alts(c, o->name, names_of_windows(c), 0));
      }
      break;
    case OPT_STATUS: {
      int i = o->name ? check_find_name(hl_status_words, o->name) : -1;
      if (i < 0) {
        ERR(c, o->name_loc, "unknown status '%s'%s", check_quote(c, o->name),
            check_alts(c, o->name ? o->name : "", hl_status_words, 1));
        status = 0;
      } else if (first[OPT_STATUS] == o) {
        status = status_values[i];
      }
      break;
    }
    case OPT_CONTINUE:
      *flags |= 1;
      break;
    case OPT_DRY_RUN:
      break;
    case OPT_SUCCEED:
      check_succeed(c, r, o);
      break;
    case OPT_BREAKER:
      check_count(c, "'stop after' count", o->n, o->n_loc, 1, BREAKER_MAX);
      check_duration(c, "'stop after' period", o->ms, o->ms_loc,
                     BREAKER_PERIOD_MIN, BREAKER_PERIOD_MAX);
      break;
    }
    if (o->per && (o->kind == OPT_COOLDOWN || o->kind == OPT_LIMIT)) {
      check_top_expr(c, o->per);
      const struct expr *u = unguarded(c, o->per, 0);
      if (u) {
        char what[QSIZE];
        snprintf(what, sizeof what, "'per' key of %s", option_words[o->kind]);
        warn_unguarded(c, u, what);
        *flags |= 4;
      }
    } else if (o->per) {
      check_top_expr(c, o->per);
    }
  }
  struct option *in = first[OPT_DURING], *out = first[OPT_NOT_DURING];
  if (in && out && in->window && in->window == out->window)
    WARN(c, out->loc,
         "rule can never run: it is both during and not during window '%s'",
         check_quote(c, in->window->name));
  return status;
}

/* Matchers of a rule: values, regexes, duplicates; fills c->mn with what
 * each name guarantees. Returns 0 if a value is not a plain literal. */
static int check_matchers(struct checker *c, struct rule *r) {
  int plain = 1;
  c->nmn = 0;
  for (struct matcher *m = r->matchers; m; m = m->next) {
    const char *name = m->name ? m->name : "";
    size_t nlen = strlen(name);
    int on = m->on == HL_ON_ANNOTATION ? 1 : 0;
    int op = (unsigned)m->op < 4 ? (int)m->op : 0;
    uintptr_t i = (uintptr_t)check_map_get(c->mnames, name, nlen);
    if (!name[0])
      ERR(c, m->name_loc, "%s name must not be empty",
          on ? "annotation" : "label");
    if (!i) {
      if (c->nmn == c->capmn) {
        c->capmn = c->capmn ? c->capmn * 2 : 16;
        c->mn = check_xrealloc(c->mn, c->capmn * sizeof *c->mn);
      }
      memset(&c->mn[c->nmn], 0, sizeof c->mn[c->nmn]);
      i = ++c->nmn;
      check_map_put_new(c->mnames, name, nlen, (void *)i);
    }
    struct expr *v = m->value;
    if (!v) {
      plain = 0;
      continue;
    }
    if (v->kind != EXPR_STR) {
      ERR(c, v->loc,
          "matcher value must be a plain string, without variables or "
          "interpolation");
      plain = 0;
      continue;
    }
    int ok = 1, empty = 0;
    if (m->op == HL_MATCH_RE || m->op == HL_MATCH_NRE)
      ok = check_regex(c, m->value, &empty);
    struct mname *x = &c->mn[i - 1];
    struct matcher *prev = x->first[on][op];
    if (prev) {
      WARN(c, m->name_loc, "%s '%s' already has a '%s' matcher; both must hold",
           on ? "annotation" : "label", check_quote(c, name), hl_match_op_words[op]);
      NOTE(c, prev->name_loc, "previous matcher is here");
    } else {
      x->first[on][op] = m;
    }
    /* An invalid regex is reported already: take it as meant to guarantee
     * its label, so no follow-on warning names the label again. */
    if (!ok ||
        ((m->op == HL_MATCH_EQ && v->len > 0) ||
         (m->op == HL_MATCH_NE && v->len == 0) ||
         (m->op == HL_MATCH_RE && !empty) || (m->op == HL_MATCH_NRE && empty)))
      x->guaranteed[on] = 1;
  }
  return plain;
}

static int same_matcher(const struct matcher *a, const struct matcher *b) {
  if (!a->value || !b->value || a->value->kind != EXPR_STR ||
      b->value->kind != EXPR_STR || !a->value->str || !b->value->str)
    return 0;
  return a->on == b->on && a->op == b->op && a->name && b->name &&
         strcmp(a->name, b->name) == 0 && a->value->len == b->value->len &&
         memcmp(a->value->str, b->value->str, a->value->len) == 0;
}

/* Whether alert-list entry x takes every alert name entry y takes: the same
 * name, the same pattern, or a pattern that matches name y. Whether one
 * pattern contains another is not decided (0). */
static int takes_name(struct checker *c, const struct alert_name *x,
                      const struct alert_name *y) {
  if (!x->name || !y->name)
    return 0;
  if (!x->re != !y->re)
    return x->re && check_regex_test(c, x->name, strlen(x->name), y->name) == 1;
  return strcmp(x->name, y->name) == 0;
}

static void list_add(struct rule_list *l, size_t i) {
  if (l->n && l->idx[l->n - 1] == i)
    return;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 4;
    l->idx = check_xrealloc(l->idx, l->cap * sizeof *l->idx);
  }
  l->idx[l->n++] = (uint32_t)i;
}

/* The list of key in map, made empty when first asked for. */
static struct rule_list *list_of(struct strmap *map, const char *key) {
  size_t len = strlen(key);
  struct rule_list *l = check_map_get(map, key, len);
  if (!l) {
    l = check_xmalloc(sizeof *l);
    memset(l, 0, sizeof *l);
    check_map_put_new(map, key, len, l);
  }
  return l;
}

/* Whether earlier rule a always takes every alert later rule b matches:
 * a stops evaluation, covers b's alert names and status, and each matcher
 * of a appears identically in b. Gives up (0) past *budget comparisons. */
static int covers(struct checker *c, const struct rinfo *a,
                  const struct rinfo *b, unsigned *budget) {
  if (!a->always || (a->status & b->status) != b->status)
    return 0;
  size_t na = 0, nb = 0, ma = 0, mb = 0;
  for (const struct alert_name *x = a->r->alerts; x; x = x->next)
    na++;
  for (const struct alert_name *x = b->r->alerts; x; x = x->next)
    nb++;
  for (const struct matcher *x = a->r->matchers; x; x = x->next)
    ma++;
  for (const struct matcher *x = b->r->matchers; x; x = x->next)
    mb++;
  if (na > SHADOW_MAX_LIST || nb > SHADOW_MAX_LIST || ma > SHADOW_MAX_LIST ||
      mb > SHADOW_MAX_LIST || ma > mb)
    return 0;
  for (const struct alert_name *y = b->r->alerts; y; y = y->next) {
    const struct alert_name *x = a->r->alerts;
    for (; x; x = x->next) {
      if (!*budget)
        return 0;
      --*budget;
      if (takes_name(c, x, y))
        break;
    }
    if (!x)
      return 0;
  }
  for (const struct matcher *x = a->r->matchers; x; x = x->next) {
    const struct matcher *y = b->r->matchers;
    for (; y; y = y->next) {
      if (!*budget)
        return 0;
      --*budget;
      if (same_matcher(x, y))
        break;
    }
    if (!y)
      return 0;
  }
  return 1;
}

/* The first of the last SHADOW_WINDOW rules of l that covers b, or NULL. */
static struct rinfo *first_cover(struct checker *c, const struct rule_list *l,
                                 const struct rinfo *b, unsigned *budget) {
  size_t k = l && l->n > SHADOW_WINDOW ? l->n - SHADOW_WINDOW : 0;
  for (; l && k < l->n; k++)
    if (covers(c, &c->rinfo[l->idx[k]], b, budget))
      return &c->rinfo[l->idx[k]];
  return NULL;
}

/* Warns if an earlier rule takes every alert of the rule at index bi, then
 * records the rule under each of its alert names. */
static void check_shadowing(struct checker *c, size_t bi) {
  struct rinfo *b = &c->rinfo[bi];
  struct alert_name *an = b->r->alerts;
  if (b->status && an && an->name) {
    /* A rule that covers b takes b's first entry: it names that alert (or
     * has that pattern), or, for a name, it may take it by a pattern. */
    unsigned budget = SHADOW_BUDGET;
    struct rinfo *a = NULL;
    if (an->re) {
      a = first_cover(c, check_map_get(&c->pattern_index, an->name, strlen(an->name)), b,
                      &budget);
    } else {
      a = first_cover(c, check_map_get(&c->alert_index, an->name, strlen(an->name)), b,
                      &budget);
      struct rinfo *p = first_cover(c, &c->pattern_rules, b, &budget);
      if (p && (!a || p < a))
        a = p;
    }
    if (a) {
      WARN(c, b->r->loc,
           "rule '%s' can never match: the earlier rule '%s' always "
           "matches first",
           check_quote(c, b->r->display_name),
           check_quote(c, a->r->display_name));
      NOTE(c, a->r->loc, "shadowed by this rule");
    }
  }
  int patterns = 0;
  for (; an; an = an->next) {
    if (!an->name)
      continue;
    patterns |= an->re != NULL;
    list_add(list_of(an->re ? &c->pattern_index : &c->alert_index, an->name), bi);
  }
  if (patterns)
    list_add(&c->pattern_rules, bi);
}

/* Whether a quoted alert name reads as a regex: it holds a quantifier, an
 * alternation, a class or an anchor. Parentheses or a backslash alone are
 * not enough: "Disk Full (legacy)" is a name people give alerts. */
static int looks_like_regex(const char *s) {
  return strpbrk(s, "*+?|[]{}^$") != NULL;
}

/* The entries of a rule's `alert` list: names, patterns, repeats. */
static void check_alert_names(struct checker *c, struct rule *r) {
  struct strmap names, patterns;
  check_map_init(&names);
  check_map_init(&patterns);
  for (struct alert_name *a = r->alerts; a; a = a->next) {
    const char *name = a->name ? a->name : "";
    if (a->re) {
      int empty = 0;
      if (a->re->kind == EXPR_STR && check_regex(c, a->re, &empty) && empty)
        WARN(c, a->loc, "alert-name pattern '%s' also matches an empty name",
             check_quote(c, name));
      struct alert_name *prev = check_map_put_new(&patterns, name, strlen(name), a);
      if (prev) {
        WARN(c, a->loc, "alert-name pattern '%s' is listed twice", check_quote(c, name));
        NOTE(c, prev->loc, "first listed here");
      }
      continue;
    }
    if (!name[0]) {
      ERR(c, a->loc, "alert name must not be empty");
      continue;
    }
    struct alert_name *prev = check_map_put_new(&names, name, strlen(name), a);
    if (prev) {
      WARN(c, a->loc, "alert '%s' is listed twice", check_quote(c, name));
      NOTE(c, prev->loc, "first listed here");
      continue;
    }
    size_t n;
    const char *src = check_src_at(c, a->loc, &n);
    if (src && n && (src[0] == '"' || src[0] == '\'') && looks_like_regex(name))
      WARN(c, a->loc,
           "alert name '%s' looks like a regex, but alert names are matched "
           "exactly; to match names by pattern write =~ %.*s",
           check_quote(c, name), (int)(n > QMAX ? QMAX : n), src);
  }
  /* A name that a pattern of the same rule already takes. */
  for (struct alert_name *a = r->alerts; a; a = a->next) {
    if (a->re || !a->name || !a->name[0])
      continue;
    for (struct alert_name *p = r->alerts; p; p = p->next) {
      if (!p->re || !p->name || p->re->kind != EXPR_STR)
        continue;
      if (check_regex_test(c, p->name, strlen(p->name), a->name) == 1) {
        WARN(c, a->loc, "alert '%s' is also matched by the pattern '%s'",
             check_quote(c, a->name), check_quote(c, p->name));
        NOTE(c, p->loc, "pattern given here");
        break;
      }
    }
  }
  check_map_free(&patterns);
  check_map_free(&names);
}

static void check_rule(struct checker *c, struct rule *r) {
  struct strmap names;
  unsigned flags;
  int may_skip = 0;

  name_rule(c, r);
  if (!r->steps) {
    if (r->name)
      ERR(c, r->loc, "rule '%s' has no 'run' clause", check_quote(c, r->name));
    else
      ERR(c, r->loc, "rule has no 'run' clause");
  }

  check_alert_names(c, r);

  check_map_init(&names);
  c->mnames = &names;
  int plain = check_matchers(c, r);

  for (struct step *s = r->steps; s; s = s->next) {
    s->backend = NULL;
    resolve_action(c, s);
    if (s->via) {
      char what[QSIZE];
      snprintf(what, sizeof what, "'%s'",
               s->action >= 0 ? action_name(c, s->action) : "");
      s->backend = resolve_via(
          c, s->via, s->via_loc,
          s->action >= 0 ? action_table[s->action].backend : -1, what);
    } else if (s->via_expr) {
      /* An absent label skips the alert, as for a parameter: no warning,
       * but the rule may pass an alert on (shadowing). */
      check_top_expr(c, s->via_expr);
      may_skip |= unguarded(c, s->via_expr, 0) != NULL;
      if (s->action >= 0)
        check_via_expr(c, s);
    }
    may_skip |= check_params(c, s);
  }
  for (struct notify *n = r->notifies; n; n = n->next)
    check_notify(c, n);
  unsigned status = check_options(c, r, &flags);
  c->mnames = NULL;
  check_map_free(&names);

  if (c->nrinfo == c->caprinfo) {
    c->caprinfo = c->caprinfo ? c->caprinfo * 2 : 64;
    c->rinfo = check_xrealloc(c->rinfo, c->caprinfo * sizeof *c->rinfo);
  }
  struct rinfo *ri = &c->rinfo[c->nrinfo++];
  ri->r = r;
  ri->status = status;
  ri->always = status && plain && !may_skip && !(flags & 7);
  check_shadowing(c, c->nrinfo - 1);
}

/* ---- the program --------------------------------------------------------- */

static uint64_t order_key(uint32_t file, uint32_t begin) {
  return (uint64_t)file << 32 | begin;
}

unsigned check_program(struct program *p) {
  struct checker *c = check_xmalloc(sizeof *c);
  memset(c, 0, sizeof *c);
  c->p = p;
  c->d = p->diag;
  check_map_init(&c->backends);
  check_map_init(&c->windows);
  check_map_init(&c->rule_names);
  check_map_init(&c->alert_index);
  check_map_init(&c->pattern_index);
  check_map_init(&c->name_res);
  check_map_init(&c->regexes);
  check_map_init(&c->zones);
  size_t nw = 0;
  for (int a = 0; a < HL_ACT__COUNT; a++)
    if (check_find_name(c->action_words, action_table[a].word) < 0)
      c->action_words[nw++] = action_table[a].word, c->action_words[nw] = NULL;
  c->md = pcre2_match_data_create(1, NULL);
  if (!c->md) {
    fputs("healerc: out of memory\n", stderr);
    abort();
  }

  prepass(c);

  /* Declarations in source order: the three lists merged by position. */
  struct rule *r = p->rules;
  struct backend *b = p->backends;
  struct window *w = p->windows;
  while (r || b || w) {
    uint64_t kr = r ? order_key(r->loc.file, r->loc.begin) : UINT64_MAX;
    uint64_t kb =
        b ? order_key(b->kind_loc.file, b->kind_loc.begin) : UINT64_MAX;
    uint64_t kw =
        w ? order_key(w->name_loc.file, w->name_loc.begin) : UINT64_MAX;
    if (r && kr <= kb && kr <= kw) {
      check_rule(c, r);
      r = r->next;
    } else if (b && kb <= kw) {
      check_backend(c, b);
      b = b->next;
    } else {
      check_window(c, w);
      w = w->next;
    }
  }

  unsigned errors = c->errors;
  struct strmap *lists[] = {&c->alert_index, &c->pattern_index};
  for (size_t m = 0; m < 2; m++)
    for (size_t i = 0; i < lists[m]->cap; i++) {
      struct rule_list *l = lists[m]->slots[i].key ? lists[m]->slots[i].val : NULL;
      if (l) {
        free(l->idx);
        free(l);
      }
    }
  free(c->pattern_rules.idx);
  check_map_free(&c->pattern_index);
  check_regex_free(c);
  check_map_free(&c->backends);
  check_map_free(&c->windows);
  check_map_free(&c->rule_names);
  check_map_free(&c->alert_index);
  check_map_free(&c->regexes);
  check_map_free(&c->zones);
  pcre2_match_data_free(c->md);
  free(c->backend_names);
  free(c->window_names);
  free(c->stems);
  free(c->rinfo);
  free(c->mn);
  free(c);
  return errors;
}
