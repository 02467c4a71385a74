/*
 * check_int.h - what the files of the semantic checker share. Private to
 * compiler/check*.c; everyone else includes check.h.
 *
 *   check.c        the pass: rules, actions, parameters, expressions,
 *                  options, notifications, shadowing; messages; hash tables
 *   check_regex.c  matcher regexes: PCRE2 as the runtime compiles them, and
 *                  what Alertmanager's RE2 would not accept
 *   check_decl.c   backend and window declarations, time zones
 *
 * Ownership: one struct checker per check_program() call; it borrows the
 * program. Strings returned by the message helpers live in a ring of
 * QRING buffers: valid until QRING more such strings are made.
 */
#ifndef HEALER_CHECK_INT_H
#define HEALER_CHECK_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "../dsl/ast.h"
#include "abi.h"
#include "names.h"
#include "diag.h"

/* Ranges (LANGUAGE.md, "Duration ranges"). */
#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define COOLDOWN_MAX (30 * DAY)
#define TIMEOUT_MIN SEC
#define TIMEOUT_MAX (7 * DAY)
#define BACKOFF_MIN 100ull
#define BACKOFF_MAX HOUR
#define BUDGET_PERIOD_MIN SEC
#define BUDGET_PERIOD_MAX (30 * DAY)
#define RETRY_MAX 10
#define COUNT_MAX 10000
#define BREAKER_MAX 100 /* failures a breaker remembers */
#define BREAKER_PERIOD_MIN MIN
#define BREAKER_PERIOD_MAX (7 * DAY)

#define MAX_DEPTH 200      /* expression nesting the checker walks */
#define SHADOW_WINDOW 64   /* earlier rules per alert name compared */
#define SHADOW_BUDGET 4096 /* element comparisons per rule */
#define SHADOW_MAX_LIST 64 /* longer alert/matcher lists are not compared */

struct slot {
  const char *key; /* borrowed; NULL: empty slot */
  size_t len;
  void *val; /* never NULL for a used slot */
};

#define MAP_SMALL 16

/* Open addressing, linear probing, at most half full. Starts in the inline
 * array so small per-list maps cost no allocation. Not movable once
 * initialised (slots may point at small). */
struct strmap {
  struct slot *slots;
  size_t cap, n;
  struct slot small[MAP_SMALL];
};

struct rule_list { /* rules naming one alert, by index, in source order */
  uint32_t *idx;
  size_t n, cap;
};

struct rinfo { /* what the shadowing check needs to know of a checked rule */
  struct rule *r;
  unsigned status; /* enum hl_status; 0: unknown */
  int always;      /* matches every alert its matchers and status allow,
                      whenever, and stops evaluation there */
};

struct mname {                 /* matchers of one rule on one name */
  struct matcher *first[2][4]; /* [on][op]: first matcher of that kind */
  unsigned char guaranteed[2]; /* [on]: a matcher guarantees presence */
};

#define QRING 8
#define QSIZE 512
#define QMAX 96 /* bytes of user text shown in a message */

struct checker {
  struct program *p;
  struct diag *d;
  unsigned errors;
  struct strmap backends;     /* name -> first struct backend */
  struct strmap windows;      /* name -> first struct window */
  struct strmap rule_names;   /* display name -> first struct rule */
  struct strmap alert_index;  /* alert name -> struct rule_list */
  struct strmap pattern_index; /* alert-name pattern -> struct rule_list */
  struct rule_list pattern_rules; /* rules with any alert-name pattern */
  struct strmap name_res;     /* pattern source -> pcre2_code * */
  struct strmap regexes;      /* source -> 1 + 2 * (matches "") */
  struct strmap zones;        /* tz name -> result of tz_lookup */
  const char **backend_names; /* NULL-terminated, built when first needed */
  const char **window_names;
  const char *action_words[HL_ACT__COUNT + 1]; /* distinct kind words */
  pcre2_match_data *md;
  /* Line tracking for display names: rules come in source order. */
  int lt_valid;
  uint32_t lt_file, lt_off, lt_line_start;
  unsigned lt_line;
  const char **stems; /* per file, built when first needed */
  /* Shadowing. */
  struct rinfo *rinfo;
  size_t nrinfo, caprinfo;
  /* Per rule: matchers by name. */
  struct strmap *mnames; /* name -> 1 + index into mn */
  struct mname *mn;
  size_t nmn, capmn;
  int too_deep; /* reported for the current expression */
  /* Scratch strings for messages. */
  char ring[QRING][QSIZE];
  unsigned rnext;
};

#define ERR(c, l, ...)                                                         \
  do {                                                                         \
    (c)->errors++;                                                             \
    diag_error((c)->d, (l), __VA_ARGS__);                                      \
  } while (0)
#define WARN(c, l, ...) diag_warning((c)->d, (l), __VA_ARGS__)
#define NOTE(c, l, ...) diag_note((c)->d, (l), __VA_ARGS__)

/* ---- check.c: allocation, hash tables ---- */

/* malloc/realloc that abort with a message when memory runs out. */
void *check_xmalloc(size_t n);
void *check_xrealloc(void *p, size_t n);

/* A map from byte strings (borrowed, not copied) to non-NULL values. */
void check_map_init(struct strmap *m);
void check_map_free(struct strmap *m);
void *check_map_get(const struct strmap *m, const char *key, size_t len);
/* Inserts key -> val unless key is there. Returns the value already there,
 * or NULL when val was inserted. */
void *check_map_put_new(struct strmap *m, const char *key, size_t len,
                        void *val);

/* ---- check.c: message text ---- */

/* An empty scratch string of QSIZE bytes from the ring. */
char *check_ring(struct checker *c);
/* User text made safe to print inside quotes (control bytes and invalid
 * UTF-8 escaped, cut after QMAX bytes). */
const char *check_quote_n(struct checker *c, const char *s, size_t len);
const char *check_quote(struct checker *c, const char *s);
/* "'a', 'b' or 'c'" for a NULL-terminated list. */
const char *check_list_or(struct checker *c, const char *const *names);
/* "; did you mean 'x'?", or (list) "; expected 'a', 'b' or 'c'", or "". */
const char *check_alts(struct checker *c, const char *word,
                       const char *const *cands, int list);
const char *check_plural(uint64_t n, const char *one, const char *many);
/* The source bytes of l, or NULL if l is not inside its file. */
const char *check_src_at(struct checker *c, struct loc l, size_t *len);

/* ---- check.c: small lookups ---- */

unsigned check_count_args(const struct expr *e);
/* Index of s in a NULL-terminated list, or -1. */
int check_find_name(const char *const *names, const char *s);
int check_in_list(const char *const *list, size_t n, const char *s);

/* ---- check_regex.c ---- */

/* Compiles the regex of matcher m (a plain literal) as the runtime will,
 * reports what is wrong and warns about what RE2 would not accept. Returns
 * 1 if it compiles, with *empty set to whether it matches "". */
int check_regex(struct checker *c, const struct expr *v, int *empty);
int check_regex_test(struct checker *c, const char *src, size_t len,
                     const char *subject);
void check_regex_free(struct checker *c); /* the regexes check_regex_test kept */

/* ---- check_decl.c ---- */

/* A backend declaration: duplicate name, kind, fields, secrets. */
void check_backend(struct checker *c, struct backend *b);
/* A window declaration: duplicate name, days (fills day_mask), time and
 * date ranges, time zone. */
void check_window(struct checker *c, struct window *w);

#endif
