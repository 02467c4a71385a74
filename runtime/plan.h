/*
 * plan.h - what the rules would do with one alert: a pure function.
 *
 * plan_alert() tries the rules naming an alert in source order and says,
 * for each, what happened: it matched and rendered (the remediation it
 * would run: steps, parameters, backends picked per alert, cooldown and
 * limit keys), it matched but could not render (a label is missing, a
 * picked backend is not declared), it did not match (which matcher,
 * window or status), or a regex could not be evaluated (fail closed:
 * nothing later runs). It stops at the first rule that renders unless
 * that rule says `continue`.
 *
 * No locks, no I/O, no clock but now_ms, no journal, queue or metrics:
 * the daemon (engine.c) walks a plan and decides (dedupe, cooldown,
 * limit, budget, the pause switch); tools can call it on the generated
 * tables with a virtual clock and get the daemon's answer.
 *
 * Ownership: everything a plan points to is allocated from the arena it
 * was given (or borrowed from the tables and the alert); it lives as long
 * as they do. The match data is per-thread scratch (match.h).
 */
#ifndef HEALER_PLAN_H
#define HEALER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "bump.h"
#include "match.h"
#include "rem.h"

enum plan_kind {
  PLAN_RUN,                   /* matched and rendered: d is what would run */
  PLAN_SKIP,                  /* matched, not rendered: why; try the next */
  PLAN_MISS,                  /* did not match: mr, failed (only with
                                 PLAN_MISSES) */
  PLAN_ERROR                  /* a regex failed: why; the plan ends */
};

enum plan_skip {
  PLAN_SKIP_MISSING,          /* "missing label cluster" */
  PLAN_SKIP_NO_BACKEND        /* "no kubernetes backend 'eu-9'" */
};

#define PLAN_WHY_MAX 400

struct plan_step {
  enum plan_kind kind;
  uint32_t rule;
  struct rem_draft d;         /* RUN; SKIP: what did render */
  enum plan_skip skip;        /* SKIP */
  enum match_result mr;       /* MISS: MATCH_STATUS, _MATCHER or a window */
  uint32_t failed;            /* MISS with MATCH_MATCHER: the matcher */
  const char *why;            /* SKIP, ERROR: in the arena */
};

struct plan {
  const struct alert *alert;
  struct plan_step *steps;    /* in the order tried */
  size_t nsteps;
  uint32_t named;             /* rules naming the alert */
  uint32_t tried;             /* of those, on the alert's status */
  bool matched;               /* a PLAN_RUN step */
};

/* flags */
#define PLAN_DRY_RUN 1u       /* --dry-run: every draft says REM_DRY_GLOBAL */
#define PLAN_MISSES  2u       /* keep the rules that did not match as steps */

/* Plans alert a at now_ms into *out. Returns 0, or -1 when the arena is
 * out of memory. */
int plan_alert(const struct rules *r, const struct alert *a, int64_t now_ms,
               unsigned flags, struct bump *arena, struct match_md *md,
               struct plan *out);

/* Why a PLAN_MISS step did not match, in words ("label env=\"prod\" does
 * not hold", "outside window year_end_freeze"), written into buf. */
const char *plan_miss_reason(const struct hl_ruleset *rs,
                             const struct plan_step *st, char *buf, size_t n);

/* Why nothing matched a firing alert, after the plan: "no rule for alert
 * X" or "none of N rules for X matched", written into buf. */
const char *plan_no_match(const struct plan *p, char *buf, size_t n);

#endif
