/*
 * render.h - evaluates the postfix expressions of the rule tables.
 *
 * An expression (struct hl_expr) is a range of hl_insn run on a stack of
 * strings; a value may be absent (a label the alert lacks). Functions and
 * concatenation of an absent value are absent, `??` (HL_OP_DEFAULT)
 * replaces an absent value. See core/abi.h and dsl/LANGUAGE.md. Part of
 * core/, like match.h.
 *
 * Ownership: results are NUL-terminated strings borrowed from the alert,
 * from the tables, or allocated in the caller's arena; valid until the
 * arena is reset. The evaluator itself allocates nothing else.
 *
 * render_check() validates an expression's code once at start-up (operands
 * in range, stack discipline, function arity); render_expr() trusts code
 * that passed it.
 */
#ifndef HEALER_RENDER_H
#define HEALER_RENDER_H

#include <stddef.h>

#include "abi.h"
#include "alert.h"
#include "buf.h"
#include "bump.h"

#define RENDER_STACK 256

enum render_status {
  RENDER_OK = 0,              /* *out is the value */
  RENDER_ABSENT = 1,          /* the value is absent; *missing says why */
  RENDER_NOMEM = -1
};

/* What made a value absent: the first absent label (or annotation) read. */
struct render_missing {
  const char *kind;           /* "label" or "annotation" */
  const char *name;
};

enum render_status render_expr(const struct hl_ruleset *rs, struct hl_expr e,
                               const struct alert *a, struct bump *arena,
                               const char **out,
                               struct render_missing *missing);

/* 0, or -1 with a message in err. An empty expression (count 0) is valid. */
int render_check(const struct hl_ruleset *rs, struct hl_expr e, char *err,
                 size_t errlen);

/* The expression in the rule language's syntax, e.g.
 * host($instance) ?? "node-${cluster}", appended to out. */
void render_source(const struct hl_ruleset *rs, struct hl_expr e,
                   struct buf *out);

/* The functions, exposed for tests: each returns a new arena string, or
 * NULL when out of memory. */
char *render_host(struct bump *a, const char *s);
char *render_replace(struct bump *a, const char *s, const char *from,
                     const char *to);

#endif
