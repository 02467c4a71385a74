/*
 * worker.h - the fixed pool of threads that run remediations.
 *
 * Each worker pops a remediation, marks it running, runs its steps in
 * order through the action interface (action.h) until one does not
 * succeed or the rule's timeout passes, records the outcome, gives back
 * its decide slots and logs it. A dry-run remediation calls nothing: it is
 * recorded `dry_run` and its action logged exactly as it would be sent.
 *
 * Shutdown: after queue_close() the workers finish what is queued and
 * exit; workers_stop() makes running actions give up at their next wait
 * (cancel, then `cancelled`).
 *
 * Ownership: the pool borrows the engine. A popped remediation's queue
 * reference belongs to the worker, which drops it when done.
 */
#ifndef HEALER_WORKER_H
#define HEALER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

#define WORKER_DEFAULT_TIMEOUT_MS (15 * 60 * 1000)
#define WORKER_DEFAULT_BACKOFF_MS 1000     /* `retry N` without `backoff` */
#define WORKER_DEFAULT_RETRIES 3           /* no `retry` clause */
#define WORKER_BACKOFF_CAP_MS (5 * 60 * 1000)

struct workers {
  struct engine *e;           /* borrowed */
  pthread_t *threads;
  size_t n;                   /* started */
  atomic_bool stop;           /* give up running actions */
  atomic_size_t exited;
  pthread_mutex_t mu;         /* for the stop wake-up */
  pthread_cond_t cv;
};

/* Starts n workers. 0, or -1 (none left running). */
int workers_start(struct workers *w, struct engine *e, size_t n);

/* Asks running actions to give up (cancel) at their next wait. */
void workers_stop(struct workers *w);

/* How many workers have exited (they exit once the queue is closed and
 * empty). */
size_t workers_exited(struct workers *w);

/* Joins every worker; the queue must be closed. */
void workers_join(struct workers *w);

/* Runs one popped remediation to its outcome on the calling thread (what a
 * worker does; exposed for tests). Drops the queue's reference. */
void workers_run_one(struct workers *w, struct remediation *r);

/* The extra attempts a step of rule gets after a retryable failure: its
 * `retry N` (0 for `retry 0`), or WORKER_DEFAULT_RETRIES when the rule has
 * no `retry` clause (hl_rule.retries == HL_RETRY_DEFAULT). */
uint32_t workers_retries(const struct hl_rule *rule);

#endif
