/*
 * ast.h - the syntax tree of .heal files, as the parser builds it.
 *
 * Ownership: every node and every string hangs off one arena per
 * compilation (struct program.arena) and is freed with it by program_free().
 * Nothing in the tree is freed on its own.
 *
 * The parser records what was written and where; it resolves nothing.
 * Names of action kinds, functions, alert fields, backends and windows stay
 * strings here; compiler/check.c resolves them, reports what is wrong, and
 * fills the fields marked "check:" below. Codegen reads only checked trees.
 *
 * Lists are singly linked in source order (the parser appends through a
 * tail pointer).
 */
#ifndef HEALER_AST_H
#define HEALER_AST_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"

/* A byte range [begin, end) in one source file. Turned into line:column only
 * when a diagnostic is printed. */
struct loc {
  uint32_t file;              /* index into program.sources */
  uint32_t begin, end;        /* byte offsets; end == begin for a point */
};

/* ---- arena ------------------------------------------------------------- */

struct arena_block;
struct arena {
  struct arena_block *head;   /* newest block first */
};

void *arena_alloc(struct arena *a, size_t n);          /* zeroed, aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_free(struct arena *a);                      /* frees every block */

/* ---- expressions --------------------------------------------------------- */

enum expr_kind {
  EXPR_STR,                   /* a literal; str holds the unescaped text */
  EXPR_INTERP,                /* "a ${x} b": args are the parts, in order */
  EXPR_LABEL,                 /* $name or $labels.name; str = name */
  EXPR_ANNOTATION,            /* $annotations.name; str = name */
  EXPR_FIELD,                 /* $alert.name; str = name */
  EXPR_CALL,                  /* name(args); str = function name */
  EXPR_DEFAULT                /* a ?? b; args = a, then b */
};

struct expr {
  enum expr_kind kind;
  struct loc loc;             /* the whole expression */
  const char *str;            /* see expr_kind */
  size_t len;                 /* length of str (literals may hold NUL) */
  struct expr *args;          /* children, linked by next */
  struct expr *next;          /* next sibling */
  int id;                     /* check: enum hl_func or enum hl_alert_field */
};

/* ---- rules ---------------------------------------------------------------- */

/* One entry of `alert A, =~ "RE"`: an exact name, or (re set) a pattern
 * that the whole alert name must match, in the dialect of `=~` matchers.
 * For a pattern, name is the regex source and loc the string's. */
struct alert_name {
  const char *name;
  struct loc loc;
  struct expr *re;            /* the pattern's string, or NULL: exact */
  struct alert_name *next;
};

struct matcher {
  enum hl_match_on on;        /* labels or annotations section */
  enum hl_match_op op;
  const char *name;
  struct loc name_loc;
  struct expr *value;         /* must be a plain literal (check) */
  struct loc op_loc;
  struct matcher *next;
};

struct param {
  const char *name;
  struct loc name_loc;
  struct expr *value;
  struct param *next;
};

struct word {                 /* a NAME or STRING after `run` */
  const char *text;
  struct loc loc;
  int quoted;                 /* written as a string */
  struct word *next;
};

struct step {                 /* one `run` clause and its `with` params */
  struct loc loc;             /* from `run` to the last word */
  struct word *words;         /* kind [verb] [target], as written */
  const char *via;            /* backend name after `via`, or NULL */
  struct loc via_loc;         /* the name, or the expression */
  struct expr *via_expr;      /* `via $label` or `via "${a}-${b}"`: the
                                 backend's name, rendered per alert; NULL
                                 when via is a name or absent */
  struct param *params;
  struct step *next;
  int action;                 /* check: enum hl_action_kind */
  const char *target;         /* check: the job/pipeline name, or NULL */
  struct loc target_loc;      /* check */
  struct backend *backend;    /* check: resolved `via`, or NULL (default) */
  uint32_t succeed_on;        /* check: the rule's `succeed on` results of
                                 this step's kind (hl_step.succeed_on); 0:
                                 the kind's defaults */
};

enum notify_how { NOTIFY_NOTIFY, NOTIFY_PAGE };

struct notify {               /* on EVENTS notify|page KIND [TARGET] [via B] */
  struct loc loc;
  unsigned events;            /* mask of enum hl_event */
  enum notify_how how;
  const char *kind;           /* "slack", "jira", "pagerduty" as written */
  struct loc kind_loc;
  const char *target;         /* channel, project, or NULL */
  struct loc target_loc;
  const char *via;
  struct loc via_loc;
  struct notify *next;
  int backend_kind;           /* check: enum hl_backend_kind */
  struct backend *backend;    /* check: resolved `via`, or NULL (default) */
};

enum option_kind {
  OPT_COOLDOWN,               /* cooldown DUR [per EXPR]: ms, per */
  OPT_TIMEOUT,                /* timeout DUR: ms */
  OPT_RETRY,                  /* retry N [backoff DUR]: n, ms (0 if absent) */
  OPT_LIMIT,                  /* limit N concurrent [per EXPR]: n, per */
  OPT_BUDGET,                 /* at most N per DUR: n, ms */
  OPT_DRY_RUN,                /* dry-run */
  OPT_CONTINUE,               /* continue */
  OPT_DURING,                 /* during WINDOW: name */
  OPT_NOT_DURING,             /* not during WINDOW: name */
  OPT_STATUS,                 /* status firing|resolved|any: name */
  OPT_SUCCEED,                /* succeed on RESULT, ...: words */
  OPT_BREAKER                 /* stop after N failures in DUR: n, ms */
};

struct option {
  enum option_kind kind;
  struct loc loc;             /* the whole option */
  uint64_t n;                 /* count, as written */
  struct loc n_loc;
  uint64_t ms;                /* duration in milliseconds */
  struct loc ms_loc;
  int has_ms;                 /* a duration was written (retry's backoff) */
  struct expr *per;           /* key expression, or NULL */
  const char *name;           /* window or status name */
  struct loc name_loc;
  struct word *words;         /* succeed on: the result names, as written */
  struct option *next;
  struct window *window;      /* check: resolved window */
};

struct rule {
  const char *name;           /* given after `rule`, or NULL (one-line) */
  struct loc name_loc;
  struct loc loc;             /* `rule`/`when` keyword: where rows point */
  struct alert_name *alerts;
  struct matcher *matchers;
  struct step *steps;
  struct notify *notifies;
  struct option *options;
  struct rule *next;
  int recovered;              /* the parser recovered from a syntax error
                                 inside this rule: parts may be missing, so
                                 check skips whole-rule checks (no `run`,
                                 missing parameters, shadowing) for it */
  const char *display_name;   /* check: name, or "<file-stem>#<identity>" */
  const char *former_name;    /* check, one-line rules: "<file-stem>:<line>",
                                 what healers before rule identities called
                                 it (for their journals only) */
};

/* ---- declarations -------------------------------------------------------------- */

struct field {                /* name = value inside a backend block */
  const char *name;
  struct loc name_loc;
  struct expr *value;         /* STRING, or CALL env("X") / file("p") */
  struct field *next;
};

struct backend {              /* backend KIND NAME { fields } */
  const char *kind;
  struct loc kind_loc;
  const char *name;
  struct loc name_loc;
  struct field *fields;
  struct backend *next;
  int backend_kind;           /* check: enum hl_backend_kind */
};

enum wpart_kind {
  WP_NAME,                    /* a day, month or group name, a range of two
                                 (lo..hi), or `days` / `years` */
  WP_NUMBER,                  /* a number or a range (lo..hi), signed */
  WP_TIME                     /* HH:MM-HH:MM: nlo, nhi in minutes */
};

enum wpart_role {             /* what check made of a part */
  WR_NONE,                    /* in error */
  WR_DAYS,                    /* weekdays: day_mask */
  WR_MONTHS,                  /* months: month_mask */
  WR_SELECTOR,                /* `days` or `years`: what numbers mean */
  WR_MDAY,                    /* days of the month: nlo..nhi */
  WR_YEAR,                    /* years: nlo..nhi */
  WR_TIME                     /* a time range: nlo, nhi */
};

struct wpart {                /* one item of a window, in source order */
  enum wpart_kind kind;
  const char *lo, *hi;        /* WP_NAME: as written; hi NULL for one */
  int64_t nlo, nhi;           /* WP_NUMBER (nhi = nlo for one), WP_TIME */
  int range;                  /* written as lo..hi */
  struct loc loc, lo_loc, hi_loc;
  struct wpart *next;
  enum wpart_role role;       /* check */
};

/* window NAME { days | months | days N.. | years N.. | HH:MM-HH:MM |
 * DATE..DATE | in TZ } */
struct window {
  const char *name;
  struct loc name_loc;
  struct wpart *parts;        /* days, months, numbers, time ranges */
  uint32_t from_day, to_day;  /* YYYYMMDD as written, 0 if absent */
  struct loc date_loc;
  const char *tz;             /* NULL: UTC */
  struct loc tz_loc;
  struct window *next;
  uint8_t day_mask;           /* check: bit 0 = Sunday; 0x7f if none */
  uint16_t month_mask;        /* check: bit 0 = January; 0xfff if none */
};

/* ---- a compilation ---------------------------------------------------------- */

struct source {
  const char *path;           /* as given on the command line */
  const char *text;           /* whole file, NUL-terminated (may hold NULs) */
  size_t len;
};

struct diag;

struct program {
  struct arena arena;
  struct diag *diag;          /* borrowed */
  struct source *sources;     /* arena-owned array */
  uint32_t nsources;
  struct rule *rules, **rules_tail;
  struct backend *backends, **backends_tail;
  struct window *windows, **windows_tail;
};

void program_init(struct program *p, struct diag *d);
void program_free(struct program *p);

/* Parses one source file (already in p->sources[file]) and appends its
 * declarations to p. Reports every lexical and syntax error through
 * p->diag and keeps going; returns the number of errors it reported. */
int parse_source(struct program *p, uint32_t file);

#endif
