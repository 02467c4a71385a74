/*
 * sim.h - the daemon's decisions on a virtual clock, for healerc's rule
 * tools (test, explain, replay).
 *
 * A simulation owns what the daemon's engine owns for deciding: the
 * compiled matchers (core/match), the decide tables (dedupe, cooldown,
 * limit, budget: runtime/decide.c) and an id counter. Each alert is
 * planned by plan_alert() and every step that would run is put to
 * decide_reserve()/decide_commit(), exactly as the ledger does, with the
 * time the caller gives instead of the wall clock. Nothing runs: a
 * remediation that is admitted is in flight for run_ms of virtual time
 * (0: it finishes at once, successfully), then it is finished as a worker
 * would finish it.
 *
 * Left out, on purpose: the pause switch and circuit breakers (nothing
 * fails in a simulation), the queue's capacity, the journal and the
 * --start-delay. Those decide on the daemon's health, not on the rules.
 *
 * Ownership: borrows the ruleset, which must outlive the simulation. An
 * outcome, and everything its plan step points to, lives until the next
 * sim_alert() call.
 */
#ifndef HEALER_SIM_H
#define HEALER_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "bump.h"
#include "decide.h"
#include "match.h"
#include "plan.h"

/* What happened to one rule that took the alert past its matchers. */
enum sim_kind {
  SIM_RUN,                    /* admitted: it would run */
  SIM_SKIP                    /* matched, not remediated: skip says why */
};

struct sim_outcome {
  enum sim_kind kind;
  uint32_t rule;
  const struct plan_step *step; /* the plan's step (NULL for none) */
  const char *skip;           /* SKIP: "cooldown", "budget", "limit",
                                 "duplicate", "outside window", "in window",
                                 "missing_label", "no_backend", "error",
                                 "table_full" */
  char why[256];              /* SKIP: in words, as the daemon logs it */
};

struct sim_running {          /* an admitted remediation, until it ends */
  struct remediation *r;
  int64_t end_ms;
};

struct sim {
  const struct hl_ruleset *rs;
  struct rules rules;
  struct decide decide;
  struct match_md *md;
  struct bump arena;          /* one alert's plan; reset per alert */
  uint64_t next_id;
  int64_t run_ms;             /* how long an admitted remediation runs */
  struct sim_running *running;
  size_t nrunning, caprunning;
  struct plan plan;           /* the last alert's */
  struct sim_outcome *out;    /* the last alert's outcomes */
  size_t nout, capout;
};

/* 0, or -1 with a message in err (a regex the runtime cannot compile, a
 * time zone this machine lacks, out of memory). */
int sim_init(struct sim *s, const struct hl_ruleset *rs, char *err, size_t errlen);
void sim_free(struct sim *s);

/* Decides alert a at now_ms (not before the previous call's): first ends
 * the remediations whose run is over, then plans and admits. Fills
 * s->plan and s->out[0, s->nout): the rules that ran or were skipped, in
 * the order tried (a rule whose matchers failed is no outcome; see
 * s->plan for those: it is planned with PLAN_MISSES). Returns 0, or -1 when out of memory. */
int sim_alert(struct sim *s, const struct alert *a, int64_t now_ms);

/* Ends every remediation still in flight (at the end of a case). */
void sim_drain(struct sim *s);

#endif
