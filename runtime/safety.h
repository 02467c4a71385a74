/*
 * safety.h - the two levers an SRE reaches for first: stop everything (the
 * pause switch) and stop one rule that keeps failing (its breaker).
 *
 * Pause: `--pause` at start-up, POST /api/v1/pause and /api/v1/resume.
 * While paused, every remediation that would be accepted is recorded
 * skipped with reason "paused"; remediations already queued or running
 * finish. A resend of an alert already remediated stays a duplicate (the
 * hold comes after dedupe), and one held while paused is remediated by a
 * resend after the resume (a held alert leaves no dedupe key, cooldown or
 * budget behind).
 *
 * Breaker: a rule with `stop after N failures in DUR` (hl_rule.breaker_*)
 * opens its breaker when its Nth failed or timed-out remediation within
 * DUR finishes. While open, the rule's remediations are recorded skipped
 * with reason "breaker open ..."; it closes DUR after it opened, or on
 * POST /api/v1/rules/NAME/reset. The caller pages a human once per
 * opening (safety_finished() says when).
 *
 * Both are journaled as control values (journal.h, "Controls": keys
 * "pause" and "breaker/<rule name>") and restored at start-up, so a
 * restart neither resumes a paused healer nor forgets an open breaker.
 * Breakers are keyed by rule name: a rule renamed starts closed.
 *
 * Threads: one mutex; every function may be called from any thread. Lock
 * order: decide -> safety (safety_hold() is called under the decide lock)
 * -> journal.
 *
 * Ownership: borrows the ruleset and the journal.
 */
#ifndef HEALER_SAFETY_H
#define HEALER_SAFETY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "journal.h"
#include "rem.h"

#define SAFETY_WHO_MAX 64
#define SAFETY_WHY_MAX 200

struct breaker {
  int64_t *fails;             /* end times of the last failures, a ring of
                                 hl_rule.breaker_failures */
  uint32_t n, head;
  int64_t opened_ms;          /* 0: closed */
  int64_t until_ms;           /* closes by itself then */
};

struct safety {
  pthread_mutex_t mu;
  const struct hl_ruleset *rs; /* borrowed */
  struct journal *journal;    /* borrowed; NULL: not journaled */
  bool paused;
  char by[SAFETY_WHO_MAX];    /* who paused */
  char why[SAFETY_WHY_MAX];
  int64_t since_ms;
  struct breaker *breakers;   /* [rule]; fails NULL: the rule has none */
};

int safety_init(struct safety *s, const struct hl_ruleset *rs);
void safety_free(struct safety *s);
void safety_set_journal(struct safety *s, struct journal *j);

/* Pauses (on) or resumes, recording who and why (truncated to fit). The
 * change is journaled; *lsn (may be NULL) is what to sync before saying
 * it is done. Returns 1 when it changed the state, 0 when it was already
 * so, -1 when the journal refused it (the state is unchanged). */
int safety_pause(struct safety *s, bool on, const char *by, const char *why,
                 int64_t now_ms, uint64_t *lsn);

struct safety_pause_info {
  bool paused;
  char by[SAFETY_WHO_MAX];
  char why[SAFETY_WHY_MAX];
  int64_t since_ms;
};
void safety_pause_state(struct safety *s, struct safety_pause_info *out);

/* Why rule must not start a remediation now: "paused", or "breaker open
 * (...)", into why (n bytes); NULL when nothing holds it. A breaker whose
 * window has passed closes here. */
const char *safety_hold(struct safety *s, uint32_t rule, int64_t now_ms,
                        char *why, size_t n);

/* A remediation of rule ended in st at now_ms. Returns true when this
 * failure opened the rule's breaker (then why, n bytes, says so): the
 * caller pages once. */
bool safety_finished(struct safety *s, uint32_t rule, enum rem_state st,
                     int64_t now_ms, char *why, size_t n);

/* Closes the breaker of the rule named name (POST /api/v1/rules/NAME/
 * reset). 1 when it was open, 0 when closed, -1 when no rule has that
 * name or a breaker, -2 when the journal refused it. */
int safety_reset(struct safety *s, const char *name, const char *by,
                 int64_t now_ms, uint64_t *lsn);

/* Whether rule's breaker is open (for /metrics and /api/v1/rules). */
bool safety_breaker_open(struct safety *s, uint32_t rule, int64_t now_ms);

/* Restores one control value replayed from the journal (visitor.control);
 * keys it does not own are ignored. 0, or -1 when out of memory. */
int safety_restore(struct safety *s, const char *key, const char *value);

#endif
