/*
 * ledger.h - every change in a remediation's life, in one place.
 *
 * A remediation is admitted (or skipped, or seen again as a duplicate),
 * begun, followed (resume tokens), finished or cancelled. Each of those
 * is one call here, and each call does all of what the change means, in
 * one order: the journal record, the in-memory tables (decide's dedupe,
 * cooldown, limit and budget; the store's list), the counters and the log
 * line. The engine (webhooks), the workers and start-up and shutdown call
 * the ledger; none of them writes the journal, the store or the outcome
 * counters for a remediation itself.
 *
 *   admit     decide's verdict; accepted: journaled (decide), listed,
 *             counted, logged, then released to the workers
 *   seen      a resend of an accepted alert: keeps its dedupe key alive
 *             across a restart (journaled), counted, logged
 *   skip      will not run (missing label, cooldown, budget, ...): a
 *             finished record in the history, listed, counted, logged
 *   cancel    a resolved alert takes its queued remediation off the queue
 *   begin     a worker starts (or resumes) a step: journaled and synced
 *             before the trigger, so a restart knows it may have been sent
 *   progress  a step's resume token, synced
 *   finish    the outcome: journaled (synced unless a dry run), listed,
 *             slots released, counted, logged
 *
 * Today the ledger is the one door to state that decide.c, store.c and
 * the journal still hold (it borrows them from the engine); the journal's
 * own mirror of that state is the next thing to go (see docs/runtime.md,
 * "The ledger").
 *
 * Threads: any. Lock order as decide.h says (decide -> store -> queue,
 * decide -> journal); the ledger takes no lock of its own.
 */
#ifndef HEALER_LEDGER_H
#define HEALER_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "decide.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "rem.h"
#include "safety.h"
#include "store.h"

struct ledger {
  const struct hl_ruleset *rs; /* borrowed, as the rest */
  struct decide *decide;
  struct store *store;
  struct queue *queue;
  struct metrics *metrics;
  struct safety *safety;      /* the pause switch and breakers; may be NULL */
  struct journal *journal;    /* NULL: nothing is journaled */
  atomic_ullong next_id;      /* the next remediation id */
};

void ledger_init(struct ledger *l, const struct hl_ruleset *rs, struct decide *d,
                 struct store *st, struct queue *q, struct metrics *m, struct safety *sf);

/* A new remediation id. With a journal it is reserved there first (see
 * journal.h, "Ids"), so no restart hands it out again; if the journal has
 * failed it is used all the same (the webhook gets 503 anyway). */
uint64_t ledger_new_id(struct ledger *l);

/* Decides about r (new, state QUEUED) for alert a. DECIDE_QUEUED: it is
 * journaled (info->lsn to sync before answering), listed, counted, logged
 * and on the queue for a worker. Any other verdict changes nothing: the
 * caller skips it (ledger_skip) or says why it stopped. */
enum decide_verdict ledger_admit(struct ledger *l, const struct alert *a,
                                 struct remediation *r, int64_t now_ms,
                                 struct decide_info *info);

/* A resend of alert a, already remediated as other_id by rule. Returns
 * the journal position to sync before answering (0: nothing journaled):
 * the original may have been accepted by a request still waiting for its
 * sync (a second Alertmanager's copy). */
uint64_t ledger_seen(struct ledger *l, uint32_t rule, const struct alert *a,
                     uint64_t other_id, int64_t now_ms);

/* A remediation of draft d that will not run, for alert a: recorded
 * skipped with reason under id (0: a new one), counted as sup (and as a
 * skipped outcome), logged as decision. Journaled for the history only,
 * unsynced, so the webhook never waits for it (a crash within a second
 * may lose it from the history). */
void ledger_skip(struct ledger *l, const struct alert *a, const struct rem_draft *d,
                 uint64_t id, const char *decision, const char *reason,
                 enum metrics_suppress sup, int64_t now_ms);

/* A resolved alert a: if the firing remediation of (rule, fingerprint,
 * startsAt) is still queued, takes it off the queue, records it cancelled
 * (its cooldown given back), counts and logs it. Returns 1 when it did,
 * 0 when nothing was queued, -1 when it did but the journal failed; *lsn
 * rises to the record's position. */
int ledger_cancel_queued(struct ledger *l, uint32_t rule, const struct alert *a,
                         int64_t now_ms, uint64_t *lsn);

/* A worker takes r: false when it was cancelled meanwhile (its slots are
 * released; the caller drops its reference). */
bool ledger_take(struct ledger *l, struct remediation *r, int64_t now_ms);

/* r is running step, with its resume token (NULL: none yet): journaled
 * and durable on return. 0, or -1 when the journal has failed (nothing
 * was written: call again once journal_failure() says it is back).
 * Without a journal, 0. */
int ledger_begin(struct ledger *l, const struct remediation *r, uint32_t step,
                 const char *token);

/* What the API shows for r meanwhile (state and reason), not journaled:
 * a worker waiting for the journal shows queued. */
void ledger_show(struct ledger *l, struct remediation *r, enum rem_state st,
                 const char *reason);

/* flags of ledger_finish() */
#define LEDGER_JOURNAL 1u     /* append the outcome to the journal */
#define LEDGER_SYNC    2u     /* and wait until it is durable */
#define LEDGER_UNSENT  4u     /* nothing of it reached a remote side: its
                                 cooldown and dedupe key are given back, so
                                 the alert's next resend runs it again */

/* r ends in state st (final) with reason: journaled as flags say, listed,
 * its slots released, counted and logged ("dry_run" or "remediation"). */
void ledger_finish(struct ledger *l, struct remediation *r, enum rem_state st,
                   const char *reason, int64_t now_ms, unsigned flags);

/* Logs a remediation in one line: id, rule, alert, state, reason and its
 * steps (with their parameters if params). For what changes nothing
 * (left running at shutdown, resumed after a restart). */
void ledger_log_remediation(const struct ledger *l, const struct remediation *r,
                            const char *msg, enum rem_state st, const char *reason,
                            bool params);

/* Logs a decision about alert a that changes no remediation (no match,
 * queue full, draining): rule -1 when none; r may be NULL. */
void ledger_log_decision(const struct ledger *l, const struct alert *a, int32_t rule,
                         const char *decision, const struct remediation *r,
                         const char *reason);

/* Rebuilds what j replayed: the pause switch and the breakers; dedupe
 * keys, cooldowns and budgets in decide; the remediations in flight in
 * the store and on the queue (a running one is marked for the worker to
 * resume: rem->resumed; one the queue cannot take fails); the finished
 * ones of the journal's history in the store only, as they ended. Ids
 * continue from next_id; a queued one may start start_delay_ms after it
 * was created. Before the workers start. 0, or -1 with err. */
int ledger_restore(struct ledger *l, struct journal *j, uint64_t next_id,
                   int64_t start_delay_ms, char *err, size_t errlen);

/* A new remediation (one reference, see rem_new()) from jr, in jr's state
 * and reason, with created/updated times restored and names borrowed from
 * rs as rem.h wants. NULL when out of memory. The resume tokens and step are
 * not part of struct remediation: the caller keeps them. */
struct remediation *ledger_rem_of(const struct hl_ruleset *rs, const struct journal_rem *jr);

/* A new remediation (one reference) from a finished jr (visitor.finished),
 * in its final state, reason and times, owning all its names (rule, targets,
 * parameter names: the rule may have changed or gone); a backend no longer
 * declared shows as the default. Never to be queued or decided on. NULL
 * when out of memory. */
struct remediation *ledger_history_of(const struct hl_ruleset *rs,
                                      const struct journal_rem *jr);

/* The alert's fields of a log line: alertname, fingerprint, startsAt,
 * status. */
void ledger_log_alert(struct log_line *ll, const struct alert *a);

#endif
