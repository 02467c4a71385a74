/*
 * match.h - finds the rules an alert triggers, from the generated tables.
 *
 * Part of core/: it needs nothing of the daemon (no threads, no I/O but the
 * zone files), so healerc can link it too.
 *
 * match_init() checks the tables (ABI version, every index in range, the
 * alert-name index sorted, expression code well formed), compiles every
 * regex matcher once, anchored as ^(?:src)$ with HL_PCRE2_FLAGS
 * (regex_compile_anchored(), and JIT when available), and loads the time
 * zone of every window. After that the
 * struct is read-only and shared by all threads.
 *
 * A regex matcher on a value that is not valid UTF-8 never matches (so `!~`
 * holds). A regex that hits PCRE2's match limit (catastrophic
 * backtracking) also counts as not matching.
 *
 * Ownership: struct rules borrows the ruleset (which lives forever) and
 * owns the compiled regexes and zones; match_free() releases them.
 * struct match_md is per-caller scratch (PCRE2 match data): one per thread
 * or per request, never shared between threads at the same time.
 */
#ifndef HEALER_MATCH_H
#define HEALER_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "alert.h"

struct tz;

struct rules {
  const struct hl_ruleset *rs; /* borrowed */
  void **re;                  /* pcre2_code * per matcher; NULL for = and != */
  bool *jit;                  /* per matcher: JIT code available */
  void **name_re;             /* pcre2_code * per alert-name pattern */
  bool *name_jit;
  void *mctx;                 /* pcre2_match_context * (match limits) */
  struct tz **tz;             /* per window */
};

struct match_md;

enum match_result {
  MATCH_OK,                   /* the rule applies */
  MATCH_STATUS,               /* the rule acts on the other status */
  MATCH_MATCHER,              /* a matcher does not hold */
  MATCH_OUTSIDE_WINDOW,       /* not inside the rule's `during` window */
  MATCH_IN_WINDOW,            /* inside the rule's `not during` window */
  MATCH_ERROR                 /* a regex could not be evaluated (the
                                 alert must not be remediated by this or
                                 any later rule: fail closed) */
};

/* 0, or -1 with a message in err. */
int match_init(struct rules *r, const struct hl_ruleset *rs, char *err,
               size_t errlen);
void match_free(struct rules *r);

struct match_md *match_md_new(void);
void match_md_free(struct match_md *md);

/* The index entry for an alert name, or NULL when no rule names it. */
const struct hl_index_entry *match_lookup(const struct rules *r,
                                          const char *alertname);

/* The rules that name an alert, in source order: the index entry of its
 * exact name merged with the rules whose alert-name pattern matches it.
 * Exact names cost one binary search; a pattern is evaluated only when the
 * walk reaches its rule, so a rule that stops evaluation early saves the
 * patterns after it.
 *
 *   struct match_iter it;
 *   match_iter_init(&it, rules, a->alertname, md);
 *   for (uint32_t ri; (ri = match_iter_next(&it)) != HL_NONE;) ...
 *
 * A pattern that cannot be evaluated (a match limit) yields its rule with
 * it.error set to the pattern's index (into rs->name_patterns), else
 * HL_NONE: the caller must fail closed, as for a matcher. */
struct match_iter {
  const struct rules *r;
  const char *alertname;
  struct match_md *md;
  const struct hl_index_entry *ie;
  uint32_t i, p;              /* next of ie's rules; next pattern */
  uint32_t last;              /* the rule given last */
  uint32_t error;             /* HL_NONE, or the pattern that failed */
};

void match_iter_init(struct match_iter *it, const struct rules *r, const char *alertname,
                     struct match_md *md);
uint32_t match_iter_next(struct match_iter *it);

/* Whether rule (an index into rs->rules) applies to a at now_ms. On
 * MATCH_MATCHER and MATCH_ERROR, *failed (if not NULL) is the index of the
 * first matcher that does not hold or could not be evaluated. */
enum match_result match_rule(const struct rules *r, uint32_t rule,
                             const struct alert *a, int64_t now_ms,
                             struct match_md *md, uint32_t *failed);

/* Whether instant now_ms is inside window w (an index into rs->windows). */
bool match_window(const struct rules *r, uint32_t w, int64_t now_ms);

/* Whether one matcher holds for a: 1 yes, 0 no, -1 when its regex could
 * not be evaluated (a match limit, a value PCRE2 refuses), which is neither:
 * a `!~` must not hold because its regex failed. match_error() then says
 * why. */
int match_matcher(const struct rules *r, uint32_t m, const struct alert *a,
                  struct match_md *md);

/* PCRE2's words for the last -1 of match_matcher() with md. */
void match_error(const struct match_md *md, char *out, size_t outlen);

#endif
