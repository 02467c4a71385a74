/*
 * queue.h - the bounded work queue between the HTTP threads and the workers.
 *
 * An intrusive FIFO (the item is embedded in what is queued) behind a mutex
 * and a condition variable. Pushing never blocks: a full queue is an answer
 * (503 to Alertmanager, which retries). An item can be taken out of the
 * middle (a resolved alert cancels its queued remediation) in O(1).
 *
 * Items may carry a "not before" time (the --start-delay hold-off): pop
 * waits until the oldest item is ready. Items are pushed in time order, so
 * the oldest is always the first ready. Once closed, pop ignores it.
 *
 * Ownership: a pushed item belongs to the queue until queue_pop() or
 * queue_remove() hands it back to the caller. The queue never frees items.
 * Lock order: callers may hold their own locks while calling in; the queue
 * calls nothing while holding its lock.
 */
#ifndef HEALER_QUEUE_H
#define HEALER_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue_item {
  struct queue_item *prev, *next; /* links while queued */
  bool queued;                /* on the queue now (queue lock) */
  int64_t ready_ms;           /* not popped before this wall-clock time
                                 (0: at once); set before pushing */
  bool held;                  /* pushed with queue_push_held(), not yet
                                 released: not popped (queue lock) */
};

struct queue_waiter;

struct queue {
  pthread_mutex_t mu;
  pthread_cond_t cv;          /* unused by poppers (each waits on its own) */
  struct queue_item head;     /* sentinel: head.next is the oldest */
  size_t len, cap;
  struct queue_waiter *idle;  /* blocked poppers, most recently idle first:
                                 work goes to the warmest one, and a light
                                 load keeps one worker busy instead of
                                 bouncing between all of them */
  bool closed;                /* no more pushes; pops drain what is left */
};

enum queue_status { QUEUE_OK = 0, QUEUE_FULL = -1, QUEUE_CLOSED = -2 };

int queue_init(struct queue *q, size_t cap);
void queue_destroy(struct queue *q);  /* the queue must be empty */

enum queue_status queue_push(struct queue *q, struct queue_item *it);

/* Like queue_push(), but the item is not popped until queue_release(): the
 * pusher finishes what must come first (its log line) without racing the
 * worker. It keeps its place; items behind it wait (briefly). */
enum queue_status queue_push_held(struct queue *q, struct queue_item *it);
void queue_release(struct queue *q, struct queue_item *it);

/* The oldest item, once ready; blocks while the queue is empty (or its
 * oldest item not ready) and open. NULL once the queue is closed and
 * empty. */
struct queue_item *queue_pop(struct queue *q);

/* The oldest item, or NULL at once when empty. */
struct queue_item *queue_try_pop(struct queue *q);

/* Takes it out if it is still queued: true, and the caller owns it again;
 * false if a worker already popped it. */
bool queue_remove(struct queue *q, struct queue_item *it);

void queue_close(struct queue *q);
size_t queue_len(struct queue *q);

#endif
