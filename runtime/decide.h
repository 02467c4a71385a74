/*
 * decide.h - whether a matched remediation runs: dedupe, cooldown,
 * concurrency limit, rate budget, then the queue.
 *
 *   dedupe    the same (rule, fingerprint, startsAt, status) is remediated
 *             once, however often Alertmanager resends it. An entry lives
 *             while the alert keeps being seen: it expires dedupe_ttl after
 *             the last sighting (and never while its remediation is in
 *             flight).
 *   cooldown  after a remediation is accepted, its cooldown key is blocked
 *             for the rule's cooldown. A remediation cancelled before it
 *             started gives its cooldown back.
 *   limit     at most `limit` remediations of a rule in flight per key.
 *   budget    at most `budget` remediations of a rule accepted in any
 *             window of budget_ms.
 *
 * Policy only: decide keeps these tables and answers questions about
 * them; it does no I/O and knows nothing of the journal, the queue or the
 * store. The ledger (ledger.h) records what it decides: an admission is
 * decide_reserve() (the verdict, and every entry the acceptance needs,
 * made ready), then the ledger journals and queues it and calls
 * decide_commit(), or decide_undo() if either refuses, all under
 * decide_lock() so nobody sees half of it.
 *
 * All of it sits behind one mutex. Lock order: decide -> store -> queue,
 * and decide -> journal (the ledger calls into them while holding it;
 * none calls back). Functions marked "lock held" expect decide_lock();
 * the others take it themselves.
 *
 * Ownership: borrows the ruleset. A dedupe entry holds a reference to its
 * remediation while that is in flight.
 */
#ifndef HEALER_DECIDE_H
#define HEALER_DECIDE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "hmap.h"
#include "rem.h"

struct dd_entry;
struct cd_entry;
struct lim_entry;

struct budget_ring {
  int64_t *starts;            /* acceptance times, oldest at head; grows
                                 on demand up to the rule's budget */
  uint32_t cap, count, head;
};

struct decide {
  pthread_mutex_t mu;
  const struct hl_ruleset *rs; /* borrowed */
  struct hmap dedupe;         /* key: fp \x1f startsAt \x1f rule \x1f status */
  struct dd_entry *lru_head;  /* dedupe entries, least recently seen first */
  struct dd_entry *lru_tail;
  size_t sweep_cursor;        /* where the next partial sweep starts */
  struct hmap cooldown;       /* key: rem->cooldown_key */
  struct hmap limit;          /* key: rem->limit_key */
  struct budget_ring *budgets; /* per rule; starts NULL without a budget */
  int64_t dedupe_ttl_ms;
  size_t dedupe_max;
  size_t cooldown_max;        /* 0: no cap */
  size_t full_cursor;         /* of the sweep when the cooldown table is full */
  /* Asked after dedupe, before cooldown, limit and budget (decide lock
   * held): why the rule must not start anything now (the pause switch, a
   * breaker: safety_hold()), into why; NULL to go on. May be NULL. */
  const char *(*hold)(void *ctx, uint32_t rule, int64_t now_ms, char *why, size_t n);
  void *hold_ctx;
};

enum decide_verdict {
  DECIDE_QUEUED,              /* accepted (reserved, for decide_reserve) */
  DECIDE_DUPLICATE,           /* seen before: info.other_id */
  DECIDE_HELD,                /* d->hold said no: info.why */
  DECIDE_COOLDOWN,            /* info.wait_ms left */
  DECIDE_LIMIT,               /* info.inflight in flight already */
  DECIDE_BUDGET,              /* info.wait_ms until budget frees up */
  DECIDE_TABLE_FULL,          /* a new cooldown key, but --cooldown-max are
                                 held: not remediated (never an eviction
                                 that would let a cooled-down key run) */
  DECIDE_QUEUE_FULL,          /* the ledger's: the queue refused it */
  DECIDE_CLOSED,              /* the ledger's: draining, the queue takes
                                 nothing */
  DECIDE_JOURNAL,             /* the ledger's: the journal refused it */
  DECIDE_NOMEM
};

struct decide_info {
  uint64_t other_id;          /* the remediation of the first sighting */
  int64_t wait_ms;
  uint32_t inflight;
  uint64_t lsn;               /* DECIDE_QUEUED: journal position to sync
                                 (set by the ledger) */
  char why[256];              /* DECIDE_HELD: the hold's reason */
};

/* A verdict that skips the remediation, in the words the daemon logs and
 * the tools print: returns the decision ("cooldown", "limit", "budget",
 * "paused", "breaker_open", "cooldown_full") and writes why ("cooldown:
 * 25m left") into why. NULL for a verdict that is no skip (QUEUED,
 * DUPLICATE, and the ledger's own refusals). */
const char *decide_skip_words(enum decide_verdict v, const struct hl_rule *rule,
                              const struct decide_info *info, char *why, size_t n);

/* Whether the cooldown table holds --cooldown-max keys (for /readyz). */
bool decide_cooldown_full(struct decide *d);

int decide_init(struct decide *d, const struct hl_ruleset *rs, int64_t dedupe_ttl_ms,
                size_t dedupe_max, size_t cooldown_max);
void decide_free(struct decide *d);

void decide_lock(struct decide *d);
void decide_unlock(struct decide *d);

/* What decide_reserve() made ready for an acceptance. */
struct decide_ticket {
  struct dd_entry *dd;
  struct cd_entry *cd;        /* NULL: no cooldown */
  struct lim_entry *lim;      /* NULL: no limit */
  struct budget_ring *budget; /* NULL: no budget */
  int64_t cooldown_until_ms;  /* 0: no cooldown; journaled with it */
};

/* Lock held. Whether r (state QUEUED, not yet shared) may run: dedupe,
 * the hold, cooldown, limit, budget. DECIDE_QUEUED: t holds what the
 * acceptance needs (nothing can fail after this); end it with
 * decide_commit() or decide_undo() before unlocking. Any other verdict
 * leaves nothing behind. */
enum decide_verdict decide_reserve(struct decide *d, const struct remediation *r,
                                   int64_t now_ms, struct decide_info *info,
                                   struct decide_ticket *t);
/* Lock held. r is accepted as reserved: its dedupe entry references it,
 * its cooldown starts, it holds a concurrency and a budget slot. */
void decide_commit(struct decide *d, struct remediation *r, int64_t now_ms,
                   struct decide_ticket *t);
/* Lock held. Forgets a reservation (the queue or the journal refused). */
void decide_undo(struct decide *d, struct decide_ticket *t);

/* Lock held. The firing remediation of (rule, fingerprint, startsAt) in
 * flight (borrowed), its key seen now; NULL when none. */
struct remediation *decide_in_flight(struct decide *d, uint32_t rule,
                                     const char *fingerprint, const char *starts_at,
                                     int64_t now_ms);
/* Lock held. r will never run (cancelled before it started): releases
 * its slots and gives back its cooldown. */
void decide_release(struct decide *d, struct remediation *r);

/* r has finished (or will never run): releases its concurrency slot and its
 * dedupe entry's reference. Idempotent. */
void decide_finished(struct decide *d, struct remediation *r);

/* r has finished without anything of it reaching a remote side (see
 * worker.c): as decide_finished(), and it also gives back its cooldown and
 * forgets its dedupe key, so the alert's next resend is admitted again.
 * Its budget slot stays used. */
void decide_forget(struct decide *d, struct remediation *r);

/* Restoring from the journal at start-up (before any other thread runs).
 * decide_restore_rem: r (in flight, not yet queued) holds its dedupe key
 * (seen last at last_seen_ms), its cooldown until cooldown_until_ms (0:
 * none), a concurrency slot and a budget slot; the dedupe entry takes a
 * reference. decide_restore_seen: a finished remediation's dedupe key and
 * budget slot. decide_restore_cooldown: a cooldown whose owner finished.
 * 0, or -1 when out of memory. */
int decide_restore_rem(struct decide *d, struct remediation *r,
                       int64_t last_seen_ms, int64_t cooldown_until_ms);
int decide_restore_seen(struct decide *d, uint32_t rule, const char *fingerprint,
                        const char *starts_at, uint8_t status, uint64_t id,
                        int64_t created_ms, int64_t last_seen_ms);
int decide_restore_cooldown(struct decide *d, const char *key, int64_t until_ms,
                            uint64_t owner_id);

/* Drops expired entries. Call periodically. */
void decide_sweep(struct decide *d, int64_t now_ms);

struct decide_stats {
  size_t dedupe, cooldown, limit;
};
void decide_stats(struct decide *d, struct decide_stats *out);

#endif
